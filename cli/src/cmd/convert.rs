//! `modelseal convert`: from a checksums file (and its raw signature) to a
//! full OMS bundle signed with the user's key, in one step.
//!
//! Nothing is signed that was not checked: the model is verified against
//! the checksums (and the checksums against their signature, if given)
//! exactly as `modelseal verify --checksums` does, and the bundle's manifest
//! is the one that verification hashed. For SHA-256 checksums it is the
//! checked digests themselves. For SHA-512 checksums (OMS has no SHA-512
//! manifest) the engine computes the SHA-256 digests in the same read of
//! every byte that matched the SHA-512 checksums, so the bundle covers
//! exactly the bytes that were checked; nothing is read twice.

use std::path::{Path, PathBuf};

use clap::Args;
use modelseal_manifest::engine::HashOptions;
use modelseal_manifest::{Checksums, HashAlgorithm};
use modelseal_signer::{load_key_file, sign_manifest};
use modelseal_verifier::checksums::{self, ChecksumsOptions, Guarantee};
use modelseal_verifier::detached::DetachedOptions;
use serde_json::json;
use zeroize::Zeroizing;

use super::sign::{PaddingArg, RsaHashArg, read_certificates, rsa_scheme};
use super::verify::{parse_time, signer_json};
use super::verify_checksums::{cli_error, identities, load_detached_trust, scheme};
use crate::exit::{CliError, Exit};
use crate::files::write_atomic;
use crate::progress::Bar;

/// Arguments of `modelseal convert`.
#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// The model directory (or single file) the checksums describe.
    pub(crate) model: PathBuf,
    /// The checksums file (sha256sum/sha512sum/shasum/BSD tag/openssl dgst).
    #[arg(long, value_name = "SUMS")]
    pub(crate) checksums: PathBuf,
    /// Raw OpenSSL-style signature over SUMS, verified before anything is
    /// signed.
    #[arg(long, value_name = "SIG")]
    pub(crate) raw_signature: Option<PathBuf>,
    /// Public key of the raw signature.
    #[arg(
        long = "public-key",
        value_name = "PUB.pem",
        requires = "raw_signature",
        conflicts_with = "trust_roots"
    )]
    pub(crate) public_key: Option<PathBuf>,
    /// Trusted root for the raw signature's certificate; repeatable.
    #[arg(long = "trust-root", value_name = "ROOT.pem", requires = "raw_cert")]
    pub(crate) trust_roots: Vec<PathBuf>,
    /// The raw signature's signer certificate (PEM), checked against
    /// --trust-root.
    #[arg(long, value_name = "LEAF.pem", requires = "raw_signature")]
    pub(crate) raw_cert: Option<PathBuf>,
    /// Required identity of the raw signature's signer (with --raw-cert).
    #[arg(long, value_name = "ID")]
    pub(crate) identity: Vec<String>,
    /// Check certificate validity at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) at: Option<String>,
    /// Digest of the raw signature (as for `verify --raw-signature`).
    #[arg(long, value_enum, value_name = "HASH", requires = "raw_signature")]
    pub(crate) digest: Option<RsaHashArg>,
    /// RSA padding of the raw signature [default: pkcs1v15].
    #[arg(long, value_enum, requires = "raw_signature")]
    pub(crate) rsa_padding: Option<PaddingArg>,
    /// Your private key for the bundle (PEM; refused if group/world-readable).
    #[arg(long, value_name = "KEY.pem")]
    pub(crate) key: PathBuf,
    /// Your certificate for the bundle (PEM); without it a key bundle.
    #[arg(long, value_name = "LEAF.pem")]
    pub(crate) cert: Option<PathBuf>,
    /// Intermediate certificates for the bundle; repeatable.
    #[arg(long, value_name = "CHAIN.pem", requires = "cert")]
    pub(crate) chain: Vec<PathBuf>,
    /// Where to write the bundle.
    #[arg(long, short = 's', default_value = "model.sig")]
    pub(crate) signature: PathBuf,
    /// Environment variable holding the passphrase of an encrypted key.
    #[arg(long, value_name = "VAR", default_value = "MODELSEAL_KEY_PASSPHRASE")]
    pub(crate) passphrase_env: String,
    #[command(flatten)]
    pub(crate) common: super::Common,
}

/// Run `modelseal convert`.
pub(crate) fn run(args: ConvertArgs) -> Result<Exit, CliError> {
    // Everything that can fail without reading the model fails first.
    let passphrase =
        std::env::var_os(&args.passphrase_env).map(|v| Zeroizing::new(v.into_encoded_bytes()));
    let key = load_key_file(
        &args.key,
        passphrase.as_ref().map(|p| p.as_slice()),
        rsa_scheme(PaddingArg::Pss, RsaHashArg::Sha256),
    )
    .map_err(|e| CliError::error("invalid_key", e.to_string()))?;
    let certs = read_certificates(args.cert.as_ref(), &args.chain)?;
    let time = parse_time(args.at.as_deref())?;
    let ids = identities(&args.identity)?;
    if args.raw_signature.is_none() && !ids.is_empty() {
        return Err(CliError::error(
            "usage",
            "--identity checks the raw signature's signer: add --raw-signature",
        ));
    }
    let trust = match &args.raw_signature {
        Some(_) => Some(load_detached_trust(
            args.public_key.as_deref(),
            &args.trust_roots,
            args.raw_cert.as_deref(),
        )?),
        None => None,
    };
    let detached_opts = trust.as_ref().map(|t| DetachedOptions {
        trust: &t.trust,
        certificates: &t.certificates,
        identities: &ids,
        time,
        scheme: scheme(args.digest, args.rsa_padding),
    });
    let signature = match &args.raw_signature {
        Some(path) => Some(
            modelseal_verifier::detached::read_signature(path)
                .map_err(|e| cli_error(&e, "conversion refused"))?,
        ),
        None => None,
    };
    let sums = checksums::read_checksums_default(&args.checksums)
        .map_err(|e| cli_error(&e, "conversion refused"))?;
    // SHA-512 checksums: the SHA-256 OMS digests come from the same read.
    let sha512 = Checksums::parse(&sums).is_ok_and(|c| c.algorithm() == HashAlgorithm::Sha512);

    // Verify, hashing every byte once.
    let bar = Bar::new(args.common.quiet || args.common.json, "verifying");
    let mut ignore: Vec<&Path> = vec![&args.signature];
    if let Some(p) = &args.raw_signature {
        ignore.push(p);
    }
    let outcome = checksums::verify(
        &args.model,
        &sums,
        &ChecksumsOptions {
            checksums_file: &args.checksums,
            signature: signature.as_deref().zip(detached_opts.as_ref()),
            also_ignore: &ignore,
            also_hash: sha512.then_some(HashAlgorithm::Sha256),
            hash: HashOptions {
                threads: args.common.threads(),
                progress: bar.as_ref().map(|b| b as _),
                ..HashOptions::default()
            },
        },
    );
    drop(bar);
    let verified = match outcome.result {
        Ok(v) => v,
        Err(e) => {
            let err = cli_error(&e, "conversion refused: verification failed");
            if args.common.json {
                let doc = json!({
                    "verdict": if e.is_rejection() { "rejected" } else { "error" },
                    "model": args.model.display().to_string(),
                    "checksums": args.checksums.display().to_string(),
                    "checks": outcome.report.checks,
                    "error": { "kind": e.kind(), "message": e.to_string() },
                });
                outln!("{doc:#}");
                return Err(err.reported());
            }
            return Err(err);
        }
    };
    let manifest = match (verified.manifest().serialization().hash, verified.also()) {
        (HashAlgorithm::Sha256, _) => verified.manifest().clone(),
        (_, Some(sha256)) => sha256.clone(),
        (other, None) => {
            return Err(CliError::error(
                "internal",
                format!("no SHA-256 manifest was computed for {other} checksums"),
            ));
        }
    };

    // Sign exactly what was verified.
    let signed = sign_manifest(manifest, &key, &certs)
        .map_err(|e| CliError::error(e.kind(), format!("signing failed: {e}")))?;
    write_atomic(&args.signature, &signed.bundle.to_json())?;

    let guarantee = verified.guarantee();
    let subject = signed.manifest.subject_digest().to_hex();
    let sums_alg = verified.checksums().algorithm();
    if args.common.json {
        let doc = json!({
            "verdict": "converted",
            "model": args.model.display().to_string(),
            "checksums": args.checksums.display().to_string(),
            "checksums_algorithm": sums_alg.name(),
            "guarantee": guarantee.as_str(),
            "guarantee_detail": guarantee.describe(),
            "checksums_signer": verified.signed().map(|s| signer_json(s.signer())),
            "checksums_signature_algorithm": verified.signed().map(|s| s.algorithm().name()),
            "checks": outcome.report.checks,
            "signature": args.signature.display().to_string(),
            "algorithm": key.algorithm().name(),
            "material": if certs.is_empty() { "key" } else { "certificate" },
            "resources": signed.manifest.len(),
            "subject_digest": subject,
        });
        outln!("{doc:#}");
    } else if !args.common.quiet {
        outln!(
            "converted: {} -> {}",
            args.model.display(),
            args.signature.display()
        );
        outln!("  checked:   {}", guarantee.describe());
        if let Some(s) = verified.signed() {
            outln!(
                "  checksums: {} ({sums_alg}), signed by {} ({})",
                args.checksums.display(),
                s.signer().describe(),
                s.algorithm()
            );
        } else {
            outln!(
                "  checksums: {} ({sums_alg}), unsigned",
                args.checksums.display()
            );
        }
        outln!(
            "  bundle:    {}, {} resources (sha256), {} material",
            key.algorithm(),
            signed.manifest.len(),
            if certs.is_empty() {
                "key"
            } else {
                "certificate"
            }
        );
        outln!("  subject:   sha256:{subject}");
        if guarantee == Guarantee::IntegrityOnly {
            outln!(
                "  note:      the checksums were not signed: this bundle vouches for the files on your key's authority alone"
            );
        }
    }
    Ok(Exit::Success)
}
