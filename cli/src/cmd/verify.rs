//! `modelseal verify`: check a model against a signature.

use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;
use modelseal_manifest::engine::HashOptions;
use modelseal_verifier::verify::{self, Options, Outcome};
use modelseal_verifier::{Identity, PublicKey, Signer, Trust, TrustAnchors};
use serde_json::json;

use crate::exit::{CliError, Exit};
use crate::files::read_small;
use crate::progress::Bar;

/// Arguments of `modelseal verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The model directory (or single file) to verify.
    pub(crate) model: PathBuf,
    /// The bundle to check against; repeatable with --policy (k-of-n).
    #[arg(
        long = "signature",
        short = 's',
        value_name = "SIG",
        default_value = "model.sig"
    )]
    pub(crate) signatures: Vec<PathBuf>,
    /// Trust policy (JSON) that supplies roots, identities, levels,
    /// algorithm and revocation rules; see `modelseal policy`.
    #[arg(long, value_name = "POLICY.json", conflicts_with_all = ["trust_roots", "public_key", "identity", "checksums", "raw_signature"])]
    pub(crate) policy: Option<PathBuf>,
    /// PEM file of trusted root certificates (certificate mode); repeatable.
    #[arg(
        long = "trust-root",
        value_name = "ROOT.pem",
        conflicts_with = "public_key"
    )]
    pub(crate) trust_roots: Vec<PathBuf>,
    /// PEM public key the model must be signed with (key mode).
    #[arg(long = "public-key", value_name = "PUB.pem")]
    pub(crate) public_key: Option<PathBuf>,
    /// Required signer identity: a SAN (`email:`, `uri:`, `dns:`, `ip:` or a
    /// bare value) or a subject DN (`CN=...,O=...`); repeatable, any matches.
    #[arg(long, value_name = "ID")]
    pub(crate) identity: Vec<String>,
    /// Check certificate validity at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) at: Option<String>,
    /// Checksums files and raw OpenSSL signatures instead of a bundle.
    #[command(flatten)]
    pub(crate) detached: super::verify_checksums::DetachedArgs,
    #[command(flatten)]
    pub(crate) common: super::Common,
    #[command(flatten)]
    pub(crate) audit: crate::audit_hook::AuditArgs,
}

/// Parse `--at`.
pub(crate) fn parse_time(at: Option<&str>) -> Result<SystemTime, CliError> {
    let Some(s) = at else {
        return Ok(SystemTime::now());
    };
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| CliError::error("usage", format!("--at {s:?}: not an RFC 3339 time: {e}")))?;
    Ok(SystemTime::from(t))
}

/// The trust `--public-key` or `--trust-root` (exactly one kind) give.
pub(crate) fn load_trust(
    public_key: Option<&PathBuf>,
    trust_roots: &[PathBuf],
) -> Result<Trust, CliError> {
    let config =
        |e: &dyn std::fmt::Display| CliError::error("invalid_configuration", e.to_string());
    match (public_key, trust_roots) {
        (Some(path), []) => {
            let pem = read_small("public key", path)?;
            let key = PublicKey::from_pem(&pem)
                .map_err(|e| config(&format_args!("{}: {e}", path.display())))?;
            Ok(Trust::PublicKey(key))
        }
        (None, [first, rest @ ..]) => {
            let load = |p: &PathBuf| {
                TrustAnchors::from_pem(&read_small("trust root", p)?)
                    .map_err(|e| config(&format_args!("{}: {e}", p.display())))
            };
            let mut anchors = load(first)?;
            for p in rest {
                anchors.extend(load(p)?);
            }
            Ok(Trust::Roots(anchors))
        }
        _ => Err(CliError::error(
            "usage",
            "give --trust-root ROOT.pem (certificate mode) or --public-key PUB.pem (key mode)",
        )),
    }
}

impl VerifyArgs {
    /// The one bundle of the plain (policy-less) path.
    fn signature(&self) -> &std::path::Path {
        self.signatures
            .first()
            .map_or(std::path::Path::new("model.sig"), PathBuf::as_path)
    }
}

/// Parse `--identity` values.
pub(crate) fn parse_identities(ids: &[String]) -> Result<Vec<Identity>, CliError> {
    ids.iter()
        .map(|s| Identity::parse(s).map_err(|e| CliError::error("usage", e.to_string())))
        .collect()
}

/// Run `modelseal verify`.
pub(crate) fn run(args: VerifyArgs) -> Result<Exit, CliError> {
    args.audit.validate()?;
    if let Some(policy) = &args.policy {
        let mut note = super::policy::AuditNote::default();
        let result = super::policy::verify(&args, policy, &mut note);
        return crate::audit_hook::record_decision_noted(
            &args.audit,
            "model.verify",
            result,
            Some(&args.model.display().to_string()),
            note.digest.as_deref(),
            &note.reason,
            &note.note,
        );
    }
    if args.detached.active() {
        let d = super::verify_checksums::decide(&args);
        return crate::audit_hook::record_decision(
            &args.audit,
            "model.verify",
            d.result,
            Some(&args.model.display().to_string()),
            d.digest.as_deref(),
            &d.reason,
        );
    }
    if args.signatures.len() > 1 {
        return Err(CliError::error(
            "usage",
            "several --signature bundles need --policy (which says how many distinct signers are required)",
        ));
    }
    let time = parse_time(args.at.as_deref())?;
    let trust = load_trust(args.public_key.as_ref(), &args.trust_roots)?;
    let identities = parse_identities(&args.identity)?;
    let bundle = verify::read_bundle(
        args.signature(),
        modelseal_manifest::bundle::DEFAULT_MAX_BUNDLE_BYTES,
    );
    let bar = Bar::new(args.common.quiet || args.common.json, "verifying");
    let mut opts = Options::new(&trust, time);
    opts.identities = &identities;
    opts.signature_file = Some(args.signature());
    opts.hash = HashOptions {
        threads: args.common.threads(),
        progress: bar.as_ref().map(|b| b as _),
        ..HashOptions::default()
    };
    let outcome = match bundle {
        Ok(bytes) => verify::verify(&args.model, &bytes, &opts),
        Err(e) => Outcome::failed(modelseal_verifier::CheckName::Bundle, e),
    };
    drop(bar);
    let result = report(&args, &outcome);
    let digest = outcome.result.as_ref().ok().map(|v| {
        format!(
            "sha256:{}",
            v.authenticated().manifest().subject_digest().to_hex()
        )
    });
    let reason = match &outcome.result {
        Ok(v) => format!(
            "verified: signed by {} ({})",
            v.authenticated().signer().describe(),
            v.authenticated().algorithm()
        ),
        Err(_) => String::new(),
    };
    crate::audit_hook::record_decision(
        &args.audit,
        "model.verify",
        result,
        Some(&args.model.display().to_string()),
        digest.as_deref(),
        &reason,
    )
}

/// A JSON description of a signer.
pub(crate) fn signer_json(signer: &Signer) -> serde_json::Value {
    match signer {
        Signer::Certificate {
            leaf,
            intermediates,
            root_subject,
        } => json!({
            "kind": "certificate",
            "subject": leaf.subject.to_string(),
            "sans": leaf.sans.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "serial": leaf.serial,
            "sha256": leaf.sha256,
            "not_after": modelseal_verifier::report::rfc3339(leaf.not_after),
            "intermediates": intermediates.iter().map(|c| c.subject.to_string()).collect::<Vec<_>>(),
            "root": root_subject,
        }),
        Signer::Key { spki_sha256 } => json!({ "kind": "key", "spki_sha256": spki_sha256 }),
        _ => json!({ "kind": "other", "description": signer.describe() }),
    }
}

fn report(args: &VerifyArgs, outcome: &Outcome) -> Result<Exit, CliError> {
    let verified = outcome.result.as_ref().ok();
    if args.common.json {
        let auth = verified.map(|v| v.authenticated());
        let error = outcome.result.as_ref().err();
        let doc = json!({
            "verdict": match &outcome.result {
                Ok(_) => "verified",
                Err(e) if e.is_rejection() => "rejected",
                Err(_) => "error",
            },
            "model": args.model.display().to_string(),
            "signature": args.signature().display().to_string(),
            "signer": auth.map(|a| signer_json(a.signer())),
            "algorithm": auth.map(|a| a.algorithm().name()),
            "identity": auth.and_then(|a| a.identity()).map(ToString::to_string),
            "subject_digest": auth.map(|a| a.manifest().subject_digest().to_hex()),
            "checks": outcome.report.checks,
            "error": error.map(|e| json!({ "kind": e.kind(), "message": e.to_string() })),
        });
        outln!("{doc:#}");
    }
    match &outcome.result {
        Ok(v) => {
            if !args.common.json && !args.common.quiet {
                let a = v.authenticated();
                outln!("verified: {}", args.model.display());
                outln!("  signer:    {}", a.signer().describe());
                if let Signer::Certificate { root_subject, .. } = a.signer() {
                    outln!("  root:      {root_subject}");
                }
                outln!("  algorithm: {}", a.algorithm());
                outln!(
                    "  files:     {} resources, {} bytes",
                    a.manifest().len(),
                    v.bytes()
                );
            }
            Ok(Exit::Success)
        }
        Err(e) => {
            let msg = format!("verification failed: {e}");
            let err = if e.is_rejection() {
                CliError::failed(e.kind(), msg)
            } else {
                CliError::error(e.kind(), msg)
            };
            Err(if args.common.json {
                err.reported()
            } else {
                err
            })
        }
    }
}
