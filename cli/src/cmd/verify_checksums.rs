//! `modelseal verify --checksums` / `--raw-signature`: checksums files and
//! OpenSSL-style detached signatures, for teams that ship them today.
//!
//! - `verify MODEL --checksums SUMS`: integrity only.
//! - `verify MODEL --checksums SUMS --raw-signature SIG (--public-key PUB |
//!   --cert LEAF --trust-root ROOT)`: authenticity of the signed checksums,
//!   which vouch for every file.
//! - `verify FILE --raw-signature SIG (...)`: authenticity of one file.

use std::path::{Path, PathBuf};

use clap::Args;
use modelseal_manifest::HashAlgorithm;
use modelseal_manifest::detached::{DetachedPadding, DetachedScheme, MessageHash};
use modelseal_manifest::engine::HashOptions;
use modelseal_verifier::checksums::{self, ChecksumsOptions, Guarantee};
use modelseal_verifier::detached::{self, DetachedOptions, DetachedSigner};
use modelseal_verifier::{Error, Identity, PublicKey, Report, Signer, Trust, TrustAnchors};
use serde_json::json;

use super::sign::{PaddingArg, RsaHashArg};
use super::verify::{VerifyArgs, parse_time, signer_json};
use crate::exit::{CliError, Exit};
use crate::files::read_small;
use crate::progress::Bar;

/// The options `modelseal verify` takes for checksums files and raw
/// signatures (flattened into its arguments).
#[derive(Debug, Args)]
pub(crate) struct DetachedArgs {
    /// Verify against a checksums file (sha256sum/sha512sum/shasum output,
    /// BSD tags or `openssl dgst` output) instead of a bundle. Names are
    /// relative to MODEL_PATH; every file of the model must be listed.
    #[arg(long, value_name = "SUMS", conflicts_with = "signatures")]
    pub(crate) checksums: Option<PathBuf>,
    /// An OpenSSL-style detached signature (`openssl dgst -sign`, `openssl
    /// pkeyutl -sign -rawin`): over SUMS with --checksums, else over
    /// MODEL_PATH, which must then be one file.
    #[arg(long, value_name = "SIG", conflicts_with = "signatures")]
    pub(crate) raw_signature: Option<PathBuf>,
    /// The raw signature's signer certificate (PEM, intermediates may
    /// follow the leaf), checked against --trust-root.
    #[arg(
        long,
        visible_alias = "raw-cert",
        value_name = "LEAF.pem",
        requires = "raw_signature"
    )]
    pub(crate) cert: Option<PathBuf>,
    /// Digest of the raw signature. RSA: default sha256. ECDSA: the curve's
    /// (P-256 sha256, P-384 sha384). Ed25519: none.
    #[arg(long, value_enum, value_name = "HASH", requires = "raw_signature")]
    pub(crate) digest: Option<RsaHashArg>,
    /// RSA padding of the raw signature: pkcs1v15 (default, as `openssl
    /// dgst -sign`) or pss (`-sigopt rsa_padding_mode:pss`, any salt length).
    #[arg(long, value_enum, requires = "raw_signature")]
    pub(crate) rsa_padding: Option<PaddingArg>,
}

impl DetachedArgs {
    /// Whether this verification is about checksums or a raw signature
    /// rather than a bundle.
    pub(crate) fn active(&self) -> bool {
        self.checksums.is_some() || self.raw_signature.is_some()
    }
}

/// The scheme named by `--digest` and `--rsa-padding`.
pub(crate) fn scheme(digest: Option<RsaHashArg>, padding: Option<PaddingArg>) -> DetachedScheme {
    DetachedScheme {
        digest: digest.map(|d| match d {
            RsaHashArg::Sha256 => MessageHash::Sha256,
            RsaHashArg::Sha384 => MessageHash::Sha384,
            RsaHashArg::Sha512 => MessageHash::Sha512,
        }),
        rsa_padding: padding.map(|p| match p {
            PaddingArg::Pss => DetachedPadding::Pss,
            PaddingArg::Pkcs1v15 => DetachedPadding::Pkcs1v15,
        }),
    }
}

/// An error of the verifier as the command line reports it.
pub(crate) fn cli_error(e: &Error, prefix: &str) -> CliError {
    let msg = format!("{prefix}: {e}");
    if e.is_rejection() {
        CliError::failed(e.kind(), msg)
    } else {
        CliError::error(e.kind(), msg)
    }
}

/// Who must have made a raw signature: a public key, or roots plus the
/// signer's certificate chain.
pub(crate) struct DetachedTrust {
    pub(crate) trust: Trust,
    pub(crate) certificates: Vec<Vec<u8>>,
}

/// Load `--public-key` or `--trust-root` + `--cert` for a raw signature.
pub(crate) fn load_detached_trust(
    public_key: Option<&Path>,
    roots: &[PathBuf],
    cert: Option<&Path>,
) -> Result<DetachedTrust, CliError> {
    let config =
        |e: &dyn std::fmt::Display| CliError::error("invalid_configuration", e.to_string());
    match (public_key, roots, cert) {
        (Some(path), [], None) => {
            let pem = read_small("public key", path)?;
            let key = PublicKey::from_pem(&pem)
                .map_err(|e| config(&format_args!("{}: {e}", path.display())))?;
            Ok(DetachedTrust {
                trust: Trust::PublicKey(key),
                certificates: Vec::new(),
            })
        }
        (None, [first, rest @ ..], Some(leaf)) => {
            let load = |p: &PathBuf| {
                TrustAnchors::from_pem(&read_small("trust root", p)?)
                    .map_err(|e| config(&format_args!("{}: {e}", p.display())))
            };
            let mut anchors = load(first)?;
            for p in rest {
                anchors.extend(load(p)?);
            }
            let certificates =
                modelseal_verifier::chain::certificates_from_pem(&read_small("certificate", leaf)?)
                    .map_err(|e| config(&format_args!("{}: {e}", leaf.display())))?;
            Ok(DetachedTrust {
                trust: Trust::Roots(anchors),
                certificates,
            })
        }
        (Some(_), _, Some(_)) => Err(CliError::error(
            "usage",
            "--cert goes with --trust-root; with --public-key no certificate is needed",
        )),
        (None, [_, ..], None) => Err(CliError::error(
            "usage",
            "a raw signature carries no certificate: give the signer's certificate with --cert LEAF.pem",
        )),
        _ => Err(CliError::error(
            "usage",
            "a raw signature needs --public-key PUB.pem, or --cert LEAF.pem with --trust-root ROOT.pem",
        )),
    }
}

/// Parse `--identity` values.
pub(crate) fn identities(values: &[String]) -> Result<Vec<Identity>, CliError> {
    values
        .iter()
        .map(|s| Identity::parse(s).map_err(|e| CliError::error("usage", e.to_string())))
        .collect()
}

/// What one run checked, for the output.
struct Summary<'a> {
    guarantee: Guarantee,
    report: &'a Report,
    signed: Option<&'a DetachedSigner>,
    /// Algorithm, lines listed, files checked.
    checksums: Option<(HashAlgorithm, usize, usize)>,
    bytes: Option<u64>,
    error: Option<&'a Error>,
    /// An RSA key checked with a default padding or digest: the algorithm
    /// used, named when the signature fails (it may have been made with
    /// other options).
    rsa_defaulted: Option<modelseal_manifest::SignatureAlgorithm>,
}

/// A verification's result with what an audit record needs.
pub(crate) struct Decision {
    /// The command's result.
    pub(crate) result: Result<Exit, CliError>,
    /// One line: the guarantee verified and by whom (empty on failure).
    pub(crate) reason: String,
    /// The OMS subject digest of SHA-256 checksums that verified (the value
    /// a bundle of the same files carries), as `sha256:HEX`.
    pub(crate) digest: Option<String>,
}

/// Run `modelseal verify` with `--checksums` and/or `--raw-signature`,
/// keeping what an audit log records.
pub(crate) fn decide(args: &VerifyArgs) -> Decision {
    decide_inner(args).unwrap_or_else(|e| Decision {
        result: Err(e),
        reason: String::new(),
        digest: None,
    })
}

/// A success line for the audit log.
fn verified_reason(guarantee: Guarantee, signed: Option<&DetachedSigner>) -> String {
    match signed {
        Some(s) => format!(
            "verified: {} by {} ({})",
            guarantee.describe(),
            s.signer().describe(),
            s.algorithm()
        ),
        None => format!("verified: {}", guarantee.describe()),
    }
}

fn decide_inner(args: &VerifyArgs) -> Result<Decision, CliError> {
    let d = &args.detached;
    let time = parse_time(args.at.as_deref())?;
    let ids = identities(&args.identity)?;
    let trust = match &d.raw_signature {
        Some(_) => Some(load_detached_trust(
            args.public_key.as_deref(),
            &args.trust_roots,
            d.cert.as_deref(),
        )?),
        None => {
            if args.public_key.is_some() || !args.trust_roots.is_empty() || !ids.is_empty() {
                return Err(CliError::error(
                    "usage",
                    "--public-key, --trust-root and --identity check a raw signature: add --raw-signature SIG (unsigned checksums prove integrity only)",
                ));
            }
            None
        }
    };
    let rsa_defaulted = ((d.rsa_padding.is_none() || d.digest.is_none())
        && rsa_key(trust.as_ref()))
    .then(|| {
        scheme(d.digest, d.rsa_padding)
            .algorithm(modelseal_manifest::KeyKind::Rsa { bits: 0 })
            .ok()
    })
    .flatten();
    let detached_opts = trust.as_ref().map(|t| DetachedOptions {
        trust: &t.trust,
        certificates: &t.certificates,
        identities: &ids,
        time,
        scheme: scheme(d.digest, d.rsa_padding),
    });
    let signature = match &d.raw_signature {
        Some(path) => {
            Some(detached::read_signature(path).map_err(|e| cli_error(&e, "verification failed"))?)
        }
        None => None,
    };
    let bar = Bar::new(args.common.quiet || args.common.json, "verifying");
    let hash = HashOptions {
        threads: args.common.threads(),
        progress: bar.as_ref().map(|b| b as _),
        ..HashOptions::default()
    };

    match (&d.checksums, signature.as_deref(), detached_opts.as_ref()) {
        (Some(sums_path), sig, opts) => {
            let bytes = checksums::read_checksums_default(sums_path)
                .map_err(|e| cli_error(&e, "verification failed"))?;
            let raw_sig_path: Vec<&Path> = d.raw_signature.iter().map(PathBuf::as_path).collect();
            let outcome = checksums::verify(
                &args.model,
                &bytes,
                &ChecksumsOptions {
                    checksums_file: sums_path,
                    signature: sig.zip(opts),
                    also_ignore: &raw_sig_path,
                    also_hash: None,
                    hash,
                },
            );
            drop(bar);
            let verified = outcome.result.as_ref().ok();
            let guarantee = if sig.is_some() {
                Guarantee::SignedChecksums
            } else {
                Guarantee::IntegrityOnly
            };
            let result = report(
                args,
                &Summary {
                    guarantee,
                    report: &outcome.report,
                    signed: verified.and_then(|v| v.signed()),
                    checksums: verified.map(|v| {
                        let c = v.checksums();
                        (c.algorithm(), c.len(), v.manifest().len())
                    }),
                    bytes: verified.map(|v| v.bytes()),
                    error: outcome.result.as_ref().err(),
                    rsa_defaulted,
                },
            );
            Ok(Decision {
                result,
                reason: verified
                    .map(|v| verified_reason(guarantee, v.signed()))
                    .unwrap_or_default(),
                digest: verified
                    .filter(|v| v.checksums().algorithm() == HashAlgorithm::Sha256)
                    .map(|v| format!("sha256:{}", v.manifest().subject_digest().to_hex())),
            })
        }
        (None, Some(sig), Some(opts)) => {
            if args.model.is_dir() {
                return Err(CliError::error(
                    "usage",
                    format!(
                        "{} is a directory: a raw signature covers one file; sign a checksums file and pass it with --checksums",
                        args.model.display()
                    ),
                ));
            }
            let outcome = detached::verify_file(&args.model, sig, opts);
            drop(bar);
            let verified = outcome.result.as_ref().ok();
            let result = report(
                args,
                &Summary {
                    guarantee: Guarantee::SignedFile,
                    report: &outcome.report,
                    signed: verified.map(|v| v.signed()),
                    checksums: None,
                    bytes: verified.map(|v| v.bytes()),
                    error: outcome.result.as_ref().err(),
                    rsa_defaulted,
                },
            );
            Ok(Decision {
                result,
                reason: verified
                    .map(|v| verified_reason(Guarantee::SignedFile, Some(v.signed())))
                    .unwrap_or_default(),
                digest: None,
            })
        }
        _ => Err(CliError::error(
            "usage",
            "give --checksums SUMS and/or --raw-signature SIG",
        )),
    }
}

/// Whether the raw signature's key is RSA (the one family whose padding
/// the user may have to name).
fn rsa_key(trust: Option<&DetachedTrust>) -> bool {
    let key = match trust {
        Some(DetachedTrust {
            trust: Trust::PublicKey(k),
            ..
        }) => Some(k.clone()),
        Some(DetachedTrust { certificates, .. }) => certificates
            .first()
            .and_then(|der| modelseal_verifier::CertInfo::from_der(der).ok())
            .and_then(|c| PublicKey::from_spki_der(&c.spki_der).ok()),
        None => None,
    };
    key.is_some_and(|k| matches!(k.key_kind(), modelseal_manifest::KeyKind::Rsa { .. }))
}

fn report(args: &VerifyArgs, s: &Summary<'_>) -> Result<Exit, CliError> {
    let d = &args.detached;
    if args.common.json {
        let doc = json!({
            "verdict": match s.error {
                None => "verified",
                Some(e) if e.is_rejection() => "rejected",
                Some(_) => "error",
            },
            "mode": match s.guarantee {
                Guarantee::IntegrityOnly => "checksums",
                Guarantee::SignedChecksums => "signed-checksums",
                Guarantee::SignedFile => "signed-file",
            },
            "guarantee": s.guarantee.as_str(),
            "guarantee_detail": s.guarantee.describe(),
            "model": args.model.display().to_string(),
            "checksums": d.checksums.as_ref().map(|p| p.display().to_string()),
            "raw_signature": d.raw_signature.as_ref().map(|p| p.display().to_string()),
            "checksums_algorithm": s.checksums.map(|(a, _, _)| a.name()),
            "listed": s.checksums.map(|(_, n, _)| n),
            "files": s.checksums.map(|(_, _, n)| n),
            "bytes": s.bytes,
            "signer": s.signed.map(|v| signer_json(v.signer())),
            "algorithm": s.signed.map(|v| v.algorithm().name()),
            "identity": s.signed.and_then(|v| v.identity()).map(ToString::to_string),
            "checks": s.report.checks,
            "error": s.error.map(|e| json!({ "kind": e.kind(), "message": e.to_string() })),
        });
        outln!("{doc:#}");
    }
    if let Some(e) = s.error {
        let mut err = cli_error(e, "verification failed");
        if let Some(alg) = s.rsa_defaulted
            && matches!(
                e,
                Error::Signature(modelseal_verifier::SignatureError::InvalidSignature)
            )
        {
            err.message.push_str(&format!(
                " (checked as {alg}; a signature made with other openssl options needs --rsa-padding pss and/or --digest)"
            ));
        }
        return Err(if args.common.json {
            err.reported()
        } else {
            err
        });
    }
    if !args.common.json && !args.common.quiet {
        outln!("verified: {}", args.model.display());
        outln!("  guarantee: {}", s.guarantee.describe());
        if let Some(v) = s.signed {
            outln!("  signer:    {}", v.signer().describe());
            if let Signer::Certificate { root_subject, .. } = v.signer() {
                outln!("  root:      {root_subject}");
            }
            outln!("  algorithm: {} (raw signature)", v.algorithm());
        }
        if let (Some(path), Some((alg, listed, files))) = (&d.checksums, s.checksums) {
            outln!("  checksums: {} ({alg}, {listed} lines)", path.display());
            let bytes = s.bytes.unwrap_or(0);
            outln!("  files:     {files} files, {bytes} bytes: every {alg} digest matches");
        } else if let Some(bytes) = s.bytes {
            outln!("  file:      {bytes} bytes, signed as they are");
        }
        if s.guarantee == Guarantee::IntegrityOnly {
            outln!("  warning:   unsigned checksums prove the files are intact, not who made them");
        }
    }
    Ok(Exit::Success)
}
