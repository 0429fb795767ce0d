//! `modelseal verify --checksums` / `--raw-signature`: checksums files and
//! OpenSSL-style detached signatures, for teams that ship them today.
//!
//! - `verify MODEL --checksums SUMS`: integrity only.
//! - `verify MODEL --checksums SUMS --raw-signature SIG (--public-key PUB |
//!   --raw-cert LEAF --trust-root ROOT)`: authenticity of the signed
//!   checksums, which vouch for every file.
//! - `verify FILE --raw-signature SIG (...)`: authenticity of one file.

use std::path::{Path, PathBuf};

use clap::Args;
use modelseal_manifest::HashAlgorithm;
use modelseal_manifest::HashOptions;
use modelseal_verifier::{ChecksumsOptions, Guarantee};
use modelseal_verifier::{DetachedOptions, IdentityRequirement, SignedBy};
use modelseal_verifier::{Error, PublicKey, Report, Signer, Trust};
use serde_json::{Value, json};

use crate::args::{
    DetachedTrust, HashingArgs, OutputArgs, SchemeArgs, TrustArgs, load_detached_trust,
};
use crate::audit_log::{Facts, signed_by_details};
use crate::output::{CliError, Doc, Exit, verifier_error};
use crate::progress::Bar;
use crate::render::{checks_json, signer_json};

/// The options `modelseal verify` takes for checksums files and raw
/// signatures (flattened into its arguments).
#[derive(Debug, Args)]
pub(crate) struct DetachedArgs {
    /// Verify against a checksums file (sha256sum/sha512sum/shasum output,
    /// BSD tags or `openssl dgst` output) instead of a bundle. Names are
    /// relative to MODEL; every file of the model must be listed.
    #[arg(long, value_name = "SUMS", conflicts_with = "signatures")]
    pub(crate) checksums: Option<PathBuf>,
    /// An OpenSSL-style detached signature (`openssl dgst -sign`, `openssl
    /// pkeyutl -sign -rawin`): over SUMS with --checksums, else over
    /// MODEL, which must then be one file.
    #[arg(long, value_name = "SIG", conflicts_with = "signatures")]
    pub(crate) raw_signature: Option<PathBuf>,
    /// The raw signature's signer certificate (PEM, intermediates may
    /// follow the leaf), checked against --trust-root.
    #[arg(
        long,
        alias = "cert",
        value_name = "LEAF.pem",
        requires = "raw_signature"
    )]
    pub(crate) raw_cert: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) scheme: SchemeArgs,
}

impl DetachedArgs {
    /// Whether this verification is about checksums or a raw signature
    /// rather than a bundle.
    pub(crate) fn active(&self) -> bool {
        self.checksums.is_some() || self.raw_signature.is_some()
    }
}

/// What one run checked, for the output.
struct Summary<'a> {
    guarantee: Guarantee,
    report: &'a Report,
    signed: Option<&'a SignedBy>,
    /// Algorithm, lines listed, files checked.
    checksums: Option<(HashAlgorithm, usize, usize)>,
    bytes: Option<u64>,
    error: Option<&'a Error>,
    /// An RSA key checked with a default padding or digest: the algorithm
    /// used, named when the signature fails (it may have been made with
    /// other options).
    rsa_defaulted: Option<modelseal_manifest::SignatureAlgorithm>,
}

/// A success line for the audit log.
fn verified_reason(guarantee: Guarantee, signed: Option<&SignedBy>) -> String {
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

/// Run `modelseal verify` with `--checksums` and/or `--raw-signature`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    model: &Path,
    d: &DetachedArgs,
    trust_args: &TrustArgs,
    output: &OutputArgs,
    hashing: &HashingArgs,
    doc: &mut Doc,
    facts: &mut Facts,
) -> Result<Exit, CliError> {
    doc.set(
        "mode",
        match (&d.checksums, &d.raw_signature) {
            (Some(_), None) => "checksums",
            (Some(_), Some(_)) => "signed-checksums",
            (None, _) => "signed-file",
        },
    );
    let time = trust_args.time()?;
    let trust = match &d.raw_signature {
        Some(_) => Some(load_detached_trust(trust_args, d.raw_cert.as_deref())?),
        None => {
            if trust_args.public_key.is_some()
                || !trust_args.trust_roots.is_empty()
                || !trust_args.identity.is_empty()
            {
                return Err(CliError::usage(
                    "--public-key, --trust-root and --identity check a raw signature: add --raw-signature SIG (unsigned checksums prove integrity only)",
                ));
            }
            if d.scheme.any() {
                return Err(CliError::usage(
                    "--digest and --rsa-padding describe a raw signature: add --raw-signature SIG",
                ));
            }
            None
        }
    };
    let ids = trust_args.identities(doc)?;
    let scheme = d.scheme.detached();
    let rsa_defaulted = ((d.scheme.rsa_padding.is_none() || d.scheme.digest.is_none())
        && rsa_key(trust.as_ref()))
    .then(|| {
        scheme
            .algorithm(modelseal_manifest::KeyKind::Rsa { bits: 0 })
            .ok()
    })
    .flatten();
    let detached_opts = trust.as_ref().map(|t| DetachedOptions {
        trust: &t.trust,
        certificates: &t.certificates,
        identity: IdentityRequirement::from_choice(ids.as_deref()),
        time,
        scheme,
    });
    let signature = match &d.raw_signature {
        Some(path) => Some(
            modelseal_verifier::read_signature(path)
                .map_err(|e| verifier_error(&e, "verification failed"))?,
        ),
        None => None,
    };
    let bar = Bar::new(output.quiet || output.json, "verifying");
    let hash = HashOptions {
        threads: hashing.threads(),
        progress: bar.as_ref().map(|b| b as _),
        ..HashOptions::default()
    };

    match (&d.checksums, signature.as_deref(), detached_opts.as_ref()) {
        (Some(sums_path), sig, opts) => {
            let bytes = modelseal_verifier::read_checksums_default(sums_path)
                .map_err(|e| verifier_error(&e, "verification failed"))?;
            let raw_sig_path: Vec<&Path> = d.raw_signature.iter().map(PathBuf::as_path).collect();
            let outcome = modelseal_verifier::verify_checksums(
                model,
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
            facts.bundle = Some(d.raw_signature.clone().unwrap_or_else(|| sums_path.clone()));
            if let Some(v) = verified {
                facts.reason = verified_reason(guarantee, v.signed_by());
                if let Some(s) = v.signed_by() {
                    facts.details = signed_by_details(s);
                }
                facts.digest = (v.checksums().algorithm() == HashAlgorithm::Sha256)
                    .then(|| format!("sha256:{}", v.manifest().subject_digest().to_hex()));
                facts.bytes = Some(v.bytes());
            }
            report(
                model,
                d,
                output,
                doc,
                &Summary {
                    guarantee,
                    report: &outcome.report,
                    signed: verified.and_then(|v| v.signed_by()),
                    checksums: verified.map(|v| {
                        let c = v.checksums();
                        (c.algorithm(), c.len(), v.manifest().len())
                    }),
                    bytes: verified.map(|v| v.bytes()),
                    error: outcome.result.as_ref().err(),
                    rsa_defaulted,
                },
            )
        }
        (None, Some(sig), Some(opts)) => {
            if model.is_dir() {
                return Err(CliError::usage(format!(
                    "{} is a directory: a raw signature covers one file; sign a checksums file and pass it with --checksums",
                    model.display()
                )));
            }
            let outcome = modelseal_verifier::verify_detached_file(model, sig, opts);
            drop(bar);
            let verified = outcome.result.as_ref().ok();
            facts.bundle = d.raw_signature.clone();
            if let Some(v) = verified {
                facts.reason = verified_reason(Guarantee::SignedFile, Some(v.signed_by()));
                facts.details = signed_by_details(v.signed_by());
                facts.bytes = Some(v.bytes());
            }
            report(
                model,
                d,
                output,
                doc,
                &Summary {
                    guarantee: Guarantee::SignedFile,
                    report: &outcome.report,
                    signed: verified.map(|v| v.signed_by()),
                    checksums: None,
                    bytes: verified.map(|v| v.bytes()),
                    error: outcome.result.as_ref().err(),
                    rsa_defaulted,
                },
            )
        }
        _ => Err(CliError::usage(
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

fn report(
    model: &Path,
    d: &DetachedArgs,
    output: &OutputArgs,
    doc: &mut Doc,
    s: &Summary<'_>,
) -> Result<Exit, CliError> {
    let label = d.raw_signature.as_ref().map(|p| p.display().to_string());
    let signer = s.signed.map(|v| signer_json(v.signer()));
    let identity = s.signed.and_then(|v| v.identity()).map(ToString::to_string);
    let algorithm = s.signed.map(|v| v.algorithm().name());
    doc.set("signer", signer.clone());
    doc.set("algorithm", algorithm);
    doc.set("identity", identity.clone());
    if let Some(file) = &label {
        doc.set(
            "signatures",
            json!([{
                "file": file,
                "accepted": s.error.is_none(),
                "signer": signer,
                "algorithm": algorithm,
                "identities": identity.into_iter().collect::<Vec<_>>(),
                "subject_digest": Value::Null,
            }]),
        );
    }
    let check_label = label
        .clone()
        .or_else(|| d.checksums.as_ref().map(|p| p.display().to_string()));
    doc.set("checks", checks_json(s.report, check_label.as_deref()));
    doc.set(
        "checksums",
        json!({
            "file": d.checksums.as_ref().map(|p| p.display().to_string()),
            "raw_signature": label,
            "algorithm": s.checksums.map(|(a, _, _)| a.name()),
            "listed": s.checksums.map(|(_, n, _)| n),
            "files": s.checksums.map(|(_, _, n)| n),
            "bytes": s.bytes,
            "guarantee": s.guarantee.as_str(),
            "guarantee_detail": s.guarantee.describe(),
        }),
    );
    if let Some(e) = s.error {
        let mut err = verifier_error(e, "verification failed");
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
        return Err(err);
    }
    if s.guarantee == Guarantee::IntegrityOnly {
        doc.warn("unsigned checksums prove the files are intact, not who made them");
    }
    if !output.json && !output.quiet {
        outln!("verified: {}", model.display());
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
    }
    Ok(Exit::Success)
}
