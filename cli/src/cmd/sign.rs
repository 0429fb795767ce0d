//! `modelseal sign`: hash a model and write an OMS bundle.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use clap::{Args, ValueEnum};
use modelseal_manifest::HashOptions;
use modelseal_manifest::{HashAlgorithm, Method, ResourcePath};
use modelseal_signer::{Destination, SignOptions, timestamp_bundle};
use modelseal_verifier::CertInfo;
use serde_json::json;

use super::sign_raw;
use crate::args::{CommonArgs, PaddingArg, SchemeArgs, SigningArgs};
use crate::audit_log::{Facts, record_decision, sha256_hex, x509};
use crate::metrics::{self, MetricsArgs};
use crate::output::{CliError, Doc, Exit, signer_hint};
use crate::progress::Bar;

/// Content hash choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum HashArg {
    /// SHA-256: the OMS default, verifiable by every OMS tool.
    Sha256,
    /// BLAKE3: several times faster; verifiable by modelseal and model_signing's API, not its CLI.
    Blake3,
}

/// Arguments of `modelseal sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The model directory (or single file) to sign.
    #[arg(value_name = "MODEL")]
    pub(crate) model: PathBuf,
    #[command(flatten)]
    pub(crate) signing: SigningArgs,
    /// Cut files into shards of this many bytes (OMS `shards`), hashed in
    /// parallel; default: one digest per file (OMS `files`).
    #[arg(long, value_name = "BYTES")]
    pub(crate) shard_size: Option<u64>,
    /// Content hash.
    #[arg(long, value_enum, default_value = "sha256")]
    pub(crate) hash: HashArg,
    #[command(flatten)]
    pub(crate) scheme: SchemeArgs,
    /// Write an OpenSSL-style detached signature over MODEL (one file, e.g.
    /// a checksums file) to SIG instead of a bundle: what `openssl dgst
    /// -sha256 -sign` (RSA, ECDSA) or `openssl pkeyutl -sign -rawin`
    /// (Ed25519) writes. RSA padding defaults to pkcs1v15 here.
    #[arg(
        long,
        value_name = "SIG",
        conflicts_with_all = ["signature", "cert", "chain", "shard_size", "hash", "ignore", "allow_symlinks", "update"]
    )]
    pub(crate) raw_signature: Option<PathBuf>,
    /// A path (relative to the model) to leave out; repeatable. `.git*`
    /// metadata and the signature file are always left out.
    #[arg(long, value_name = "PATH")]
    pub(crate) ignore: Vec<String>,
    /// Follow symbolic links to files inside the model (refused by default).
    #[arg(long)]
    pub(crate) allow_symlinks: bool,
    /// Incremental re-signing: reuse the digests of files unchanged (device,
    /// inode, size, mtime, ctime) since the last `--update` run, kept in the
    /// cache file; hash only the rest. The bundle is the same as a full
    /// re-sign. Verification never uses the cache.
    #[arg(long)]
    pub(crate) update: bool,
    /// Digest cache file for --update, outside the model [default:
    /// SIGNATURE.cache, or MODEL.cache when the signature is inside the model].
    #[arg(long, value_name = "FILE", requires = "update")]
    pub(crate) cache: Option<PathBuf>,
    /// Ask this RFC 3161 time-stamping authority (http:// URL) to timestamp
    /// the signature, so that it verifies after the certificate expires;
    /// repeatable (every TSA must answer, or nothing is written).
    #[arg(long, value_name = "URL")]
    pub(crate) tsa: Vec<String>,
    /// Seconds to wait for each TSA.
    #[arg(long, value_name = "SECS", default_value = "30", requires = "tsa")]
    pub(crate) tsa_timeout: u64,
    /// Replace an existing file at SIG that is not a signature bundle
    /// (never the key, a certificate or a file of the model).
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    #[command(flatten)]
    pub(crate) metrics: MetricsArgs,
}

/// Run `modelseal sign`, recording the decision in the audit log.
pub(crate) fn run(args: &SignArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    args.common.audit.validate()?;
    let started = (Instant::now(), SystemTime::now());
    let mut facts = Facts {
        model: Some(args.model.clone()),
        ..Facts::default()
    };
    let result = match &args.raw_signature {
        Some(out) => {
            facts.reason = format!(
                "raw signature over {} into {}",
                args.model.display(),
                out.display()
            );
            facts.bundle = Some(out.clone());
            sign_raw::run(
                &args.model,
                out,
                &args.signing.key,
                &args.scheme,
                &args.common.output,
                doc,
            )
        }
        None => {
            facts.reason = format!(
                "signed {} into {}",
                args.model.display(),
                args.signing.signature.display()
            );
            facts.bundle = Some(args.signing.signature.clone());
            sign(args, doc, &mut facts)
        }
    };
    let result = record_decision(&args.common.audit, "model.sign", result, &facts);
    metrics::record(
        &args.metrics,
        &metrics::Decision::new("sign", result.as_ref().copied(), &facts, started),
    );
    result
}

fn sign(args: &SignArgs, doc: &mut Doc, facts: &mut Facts) -> Result<Exit, CliError> {
    doc.set("kind", "bundle");
    doc.set("model", args.model.display().to_string());
    doc.set("signature", args.signing.signature.display().to_string());
    let key = args
        .signing
        .key
        .load(args.scheme.rsa_scheme(PaddingArg::Pss))?;
    facts.details.key_sha256 = Some(sha256_hex(&key.public_key_der()));
    let certs = args.signing.certs.read()?;
    facts.details.x509 = certs
        .first()
        .and_then(|der| CertInfo::from_der(der).ok())
        .map(|leaf| x509(&leaf));
    let fingerprint = format!("sha256:{}", key.fingerprint());
    doc.set("key_fingerprint", fingerprint.clone());
    // Nothing is hashed before the destination is known to be safe.
    let mut protected: Vec<&Path> = vec![&args.signing.key.key];
    protected.extend(args.signing.certs.cert.as_deref());
    protected.extend(args.signing.certs.chain.iter().map(PathBuf::as_path));
    let destination = Destination {
        path: &args.signing.signature,
        model: &args.model,
        protected: &protected,
        force: args.force,
    };
    let signer_err = |e: modelseal_signer::Error| {
        CliError::error(e.kind(), format!("signing failed: {e}{}", signer_hint(&e)))
    };
    destination.check().map_err(signer_err)?;
    let ignore = args
        .ignore
        .iter()
        .map(|p| {
            ResourcePath::new(p.trim_end_matches('/'))
                .map_err(|e| CliError::usage(format!("--ignore {p:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cache_path = args.update.then(|| {
        args.cache.clone().unwrap_or_else(|| {
            modelseal_signer::default_cache_path(&args.model, &args.signing.signature)
        })
    });
    let bar = Bar::new(
        args.common.output.quiet || args.common.output.json,
        "signing",
    );
    let opts = SignOptions {
        key: &key,
        certificates: &certs,
        method: args
            .shard_size
            .map_or(Method::Files, |shard_size| Method::Shards { shard_size }),
        hash: match args.hash {
            HashArg::Sha256 => HashAlgorithm::Sha256,
            HashArg::Blake3 => HashAlgorithm::Blake3,
        },
        allow_symlinks: args.allow_symlinks,
        ignore_paths: &ignore,
        signature_file: Some(&args.signing.signature),
        hash_options: HashOptions {
            threads: args.common.hashing.threads(),
            progress: bar.as_ref().map(|b| b as _),
            ..HashOptions::default()
        },
        cache: cache_path.as_deref(),
        time: Some(SystemTime::now()),
    };
    let mut signed = modelseal_signer::sign(&args.model, &opts).map_err(signer_err)?;
    drop(bar);
    let stamps = timestamp_bundle(
        &mut signed.bundle,
        &args.tsa,
        Duration::from_secs(args.tsa_timeout),
    )
    .map_err(signer_err)?;
    destination
        .write(&signed.bundle.to_json())
        .map_err(signer_err)?;
    if let Some(err) = signed.cache.as_ref().and_then(|c| c.store_error.as_ref()) {
        doc.warn(format!("digest cache not written: {err}"));
    }
    let subject = signed.manifest.subject_digest().to_hex();
    facts.digest = Some(format!("sha256:{subject}"));
    // The key (modelseal.signer.key_sha256), certificate (file.x509.*) and
    // first timestamp (modelseal.timestamp.*) are recorded as fields; every
    // timestamp in the reason.
    facts.details.timestamp = stamps.first().map(|t| modelseal_audit::TsaTimestamp {
        gen_time: rfc3339(t.gen_time),
        tsa_name: None,
        tsa_url: Some(t.url.clone()),
    });
    for t in &stamps {
        facts.reason.push_str(&format!(
            "; timestamp genTime {} from TSA {}",
            rfc3339(t.gen_time),
            t.url
        ));
    }
    facts.bytes = Some(signed.bytes_hashed);
    facts.signer_not_after = certs
        .first()
        .and_then(|der| CertInfo::from_der(der).ok())
        .map(|leaf| leaf.not_after);
    let material = if certs.is_empty() {
        "key"
    } else {
        "certificate"
    };
    doc.set("algorithm", key.algorithm().name());
    doc.set("material", material);
    doc.set("resources", signed.manifest.len());
    doc.set("subject_digest", subject.clone());
    doc.set(
        "timestamps",
        stamps
            .iter()
            .map(|t| {
                json!({
                    "tsa": t.url,
                    "gen_time": rfc3339(t.gen_time),
                    "serial": t.serial,
                })
            })
            .collect::<Vec<_>>(),
    );
    doc.set(
        "cache",
        signed
            .cache
            .as_ref()
            .map(|c| json!({ "reused": c.reused, "hashed": c.hashed })),
    );
    if !args.common.output.json && !args.common.output.quiet {
        outln!(
            "signed: {} -> {}",
            args.model.display(),
            args.signing.signature.display()
        );
        outln!("  algorithm: {}", key.algorithm());
        outln!(
            "  resources: {} ({material} material)",
            signed.manifest.len()
        );
        outln!("  subject:   sha256:{subject}");
        outln!("  key:       {fingerprint}");
        for t in &stamps {
            outln!("  timestamp: {} ({})", rfc3339(t.gen_time), t.url);
        }
        if let Some(c) = &signed.cache {
            outln!(
                "  cache:     {} files reused, {} hashed",
                c.reused,
                c.hashed
            );
        }
    }
    Ok(Exit::Success)
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
