//! `modelseal sign`: hash a model and write an OMS bundle.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use modelseal_manifest::engine::HashOptions;
use modelseal_manifest::{HashAlgorithm, Method, ResourcePath};
use modelseal_signer::key::{RsaHash, RsaPadding, RsaScheme};
use modelseal_signer::{SignOptions, load_key_file};
use serde_json::json;
use zeroize::Zeroizing;

use crate::exit::{CliError, Exit};
use crate::files::{read_small, write_atomic};
use crate::progress::Bar;

/// Content hash choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum HashArg {
    /// SHA-256: the OMS default, verifiable by every OMS tool.
    Sha256,
    /// BLAKE3: several times faster; verifiable by modelseal and model_signing's API, not its CLI.
    Blake3,
}

/// RSA padding choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PaddingArg {
    /// RSASSA-PSS (default for bundles).
    Pss,
    /// RSASSA-PKCS1-v1_5 (default for raw signatures, as `openssl dgst -sign`).
    Pkcs1v15,
}

/// RSA hash choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RsaHashArg {
    /// SHA-256 (default).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// Arguments of `modelseal sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The model directory (or single file) to sign.
    pub(crate) model: PathBuf,
    /// PEM private key: PKCS#8, PKCS#1 (RSA), SEC1 (EC) or encrypted PKCS#8.
    #[arg(long, value_name = "KEY.pem")]
    pub(crate) key: PathBuf,
    /// The signer's certificate (PEM); without it a key bundle is written.
    #[arg(long, value_name = "LEAF.pem")]
    pub(crate) cert: Option<PathBuf>,
    /// Intermediate certificates (PEM) to carry after the leaf; repeatable.
    #[arg(long, value_name = "CHAIN.pem", requires = "cert")]
    pub(crate) chain: Vec<PathBuf>,
    /// Where to write the bundle.
    #[arg(long, short = 's', default_value = "model.sig")]
    pub(crate) signature: PathBuf,
    /// Cut files into shards of this many bytes (OMS `shards`), hashed in
    /// parallel; default: one digest per file (OMS `files`).
    #[arg(long, value_name = "BYTES")]
    pub(crate) shard_size: Option<u64>,
    /// Content hash.
    #[arg(long, value_enum, default_value = "sha256")]
    pub(crate) hash: HashArg,
    /// RSA padding [default: pss; pkcs1v15 with --raw-signature].
    #[arg(long, value_enum)]
    pub(crate) rsa_padding: Option<PaddingArg>,
    /// RSA hash [default: sha256]; with --raw-signature, the digest signed
    /// (ECDSA keys: must be their curve's).
    #[arg(long, value_enum, visible_alias = "digest")]
    pub(crate) rsa_hash: Option<RsaHashArg>,
    /// Write an OpenSSL-style detached signature over MODEL_PATH (one
    /// file, e.g. a checksums file) to SIG instead of a bundle: what
    /// `openssl dgst -sha256 -sign` (RSA, ECDSA) or `openssl pkeyutl -sign
    /// -rawin` (Ed25519) writes.
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
    /// Environment variable holding the passphrase of an encrypted key.
    #[arg(long, value_name = "VAR", default_value = "MODELSEAL_KEY_PASSPHRASE")]
    pub(crate) passphrase_env: String,
    #[command(flatten)]
    pub(crate) common: super::Common,
    #[command(flatten)]
    pub(crate) audit: crate::audit_hook::AuditArgs,
}

/// The signer's RSA scheme from the options.
pub(crate) fn rsa_scheme(padding: PaddingArg, hash: RsaHashArg) -> RsaScheme {
    RsaScheme::new(
        match padding {
            PaddingArg::Pss => RsaPadding::Pss,
            PaddingArg::Pkcs1v15 => RsaPadding::Pkcs1v15,
        },
        match hash {
            RsaHashArg::Sha256 => RsaHash::Sha256,
            RsaHashArg::Sha384 => RsaHash::Sha384,
            RsaHashArg::Sha512 => RsaHash::Sha512,
        },
    )
}

/// Read a leaf certificate and its chain (PEM files) as DER, leaf first.
pub(crate) fn read_certificates(
    leaf: Option<&PathBuf>,
    chain: &[PathBuf],
) -> Result<Vec<Vec<u8>>, CliError> {
    let Some(leaf) = leaf else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for path in std::iter::once(leaf).chain(chain) {
        let pem = read_small("certificate", path)?;
        let ders = modelseal_verifier::chain::certificates_from_pem(&pem).map_err(|e| {
            CliError::error("invalid_certificate", format!("{}: {e}", path.display()))
        })?;
        out.extend(ders);
    }
    Ok(out)
}

fn certificates(args: &SignArgs) -> Result<Vec<Vec<u8>>, CliError> {
    read_certificates(args.cert.as_ref(), &args.chain)
}

/// Run `modelseal sign`, recording the decision in the audit log.
pub(crate) fn run(args: SignArgs) -> Result<Exit, CliError> {
    args.audit.validate()?;
    let mut subject = None;
    let (result, reason) = match &args.raw_signature {
        Some(out) => (
            super::sign_raw::run(&args, out),
            format!(
                "raw signature over {} into {}",
                args.model.display(),
                out.display()
            ),
        ),
        None => (
            sign(&args, &mut subject),
            format!(
                "signed {} into {}",
                args.model.display(),
                args.signature.display()
            ),
        ),
    };
    crate::audit_hook::record_decision(
        &args.audit,
        "model.sign",
        result,
        Some(&args.model.display().to_string()),
        subject.as_deref(),
        &reason,
    )
}

fn sign(args: &SignArgs, subject_out: &mut Option<String>) -> Result<Exit, CliError> {
    let passphrase =
        std::env::var_os(&args.passphrase_env).map(|v| Zeroizing::new(v.into_encoded_bytes()));
    let scheme = rsa_scheme(
        args.rsa_padding.unwrap_or(PaddingArg::Pss),
        args.rsa_hash.unwrap_or(RsaHashArg::Sha256),
    );
    let key = load_key_file(&args.key, passphrase.as_ref().map(|p| p.as_slice()), scheme)
        .map_err(|e| CliError::error("invalid_key", e.to_string()))?;
    let certs = certificates(args)?;
    let ignore = args
        .ignore
        .iter()
        .map(|p| {
            ResourcePath::new(p.trim_end_matches('/'))
                .map_err(|e| CliError::error("usage", format!("--ignore {p:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cache_path = args.update.then(|| {
        args.cache
            .clone()
            .unwrap_or_else(|| modelseal_signer::cache::default_path(&args.model, &args.signature))
    });
    let bar = Bar::new(args.common.quiet || args.common.json, "signing");
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
        signature_file: Some(&args.signature),
        hash_options: HashOptions {
            threads: args.common.threads(),
            progress: bar.as_ref().map(|b| b as _),
            ..HashOptions::default()
        },
        cache: cache_path.as_deref(),
    };
    let signed = modelseal_signer::sign(&args.model, &opts).map_err(|e| {
        let kind = e.kind();
        CliError::error(kind, format!("signing failed: {e}"))
    })?;
    drop(bar);
    write_atomic(&args.signature, &signed.bundle.to_json())?;
    if let Some(err) = signed.cache.as_ref().and_then(|c| c.store_error.as_ref()) {
        errln!("modelseal: warning: digest cache not written: {err}");
    }
    let subject = signed.manifest.subject_digest().to_hex();
    *subject_out = Some(format!("sha256:{subject}"));
    if args.common.json {
        let doc = json!({
            "verdict": "signed",
            "model": args.model.display().to_string(),
            "signature": args.signature.display().to_string(),
            "algorithm": key.algorithm().name(),
            "material": if certs.is_empty() { "key" } else { "certificate" },
            "resources": signed.manifest.len(),
            "subject_digest": subject,
            "cache": signed.cache.as_ref().map(|c| json!({ "reused": c.reused, "hashed": c.hashed })),
        });
        outln!("{doc:#}");
    } else if !args.common.quiet {
        outln!(
            "signed: {} -> {}",
            args.model.display(),
            args.signature.display()
        );
        outln!("  algorithm: {}", key.algorithm());
        outln!(
            "  resources: {} ({} material)",
            signed.manifest.len(),
            if certs.is_empty() {
                "key"
            } else {
                "certificate"
            }
        );
        outln!("  subject:   sha256:{subject}");
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
