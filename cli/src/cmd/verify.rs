//! `modelseal verify`: check a model against a signature (a bundle; with
//! `--policy`, bundles under a trust policy; with `--checksums` or
//! `--raw-signature`, a checksums file or raw signature).

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use clap::Args;
use modelseal_manifest::HashOptions;
use modelseal_verifier::{CheckName, Signer, TsaTimestamps};
use modelseal_verifier::{Options, Outcome};
use serde_json::{Value, json};

use super::verify_checksums::{self, DetachedArgs};
use super::verify_policy;
use crate::args::{CommonArgs, Evidence, ModelArgs, TrustArgs};
use crate::audit_log::{Facts, record_decision, signed_by_details, signer_details, tsa_timestamp};
use crate::files::signature_hint;
use crate::metrics::{self, MetricsArgs};
use crate::output::{CliError, Doc, Exit, model_error};
use crate::progress::Bar;
use crate::render::{accepted_signature, checks_json, no_signature, signer_json};

/// Arguments of `modelseal verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) target: ModelArgs,
    /// Trust policy (JSON) that supplies roots, identities, levels,
    /// algorithm and revocation rules; see `modelseal policy`.
    #[arg(long, value_name = "POLICY.json", conflicts_with_all = ["trust_roots", "public_key", "identity", "checksums", "raw_signature", "certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer", "certificate_oidc_issuer_regexp", "trusted_root"])]
    pub(crate) policy: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// A path inside the model to leave out of the check (as
    /// model_signing's `--ignore-paths`); repeatable. Files the signer left
    /// out must be ignored here too, or they count as extra.
    #[arg(long = "ignore", value_name = "PATH", conflicts_with_all = ["policy", "checksums", "raw_signature"])]
    pub(crate) ignore: Vec<PathBuf>,
    /// PEM file of trusted RFC 3161 time-stamping authority roots;
    /// repeatable. Every timestamp the bundle carries must then verify
    /// (TSA chain and timeStamping EKU at genTime, imprint over the
    /// signature), and the earliest genTime becomes the time the signing
    /// certificate must have been valid at, instead of now (or --at).
    /// With --policy, the policy's `timestamps` section names the TSA
    /// roots instead.
    #[arg(long = "tsa-root", value_name = "TSA_ROOT.pem", conflicts_with_all = ["checksums", "raw_signature"])]
    pub(crate) tsa_roots: Vec<PathBuf>,
    /// The model's signed name (the statement's subject name, by default
    /// the signed directory's name) must be NAME: another model signed by
    /// the same signer in this one's place is rejected (exit 1). Under a
    /// policy, a scope's `modelNames` pins names instead.
    #[arg(long = "model-name", value_name = "NAME", conflicts_with_all = ["policy", "checksums", "raw_signature"])]
    pub(crate) model_name: Option<String>,
    /// Checksums files and raw OpenSSL signatures instead of a bundle.
    #[command(flatten)]
    pub(crate) detached: DetachedArgs,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    #[command(flatten)]
    pub(crate) metrics: MetricsArgs,
}

/// Run `modelseal verify`, recording the decision in the audit log.
pub(crate) fn run(args: &VerifyArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    args.common.audit.validate()?;
    let started = (Instant::now(), SystemTime::now());
    // Every mode fills the same fields (docs/json.md); these are the
    // values when nothing was established.
    doc.set("model", args.target.model.display().to_string());
    no_signature(doc);
    doc.set("checksums", Value::Null);
    let mut facts = Facts {
        model: Some(args.target.model.clone()),
        ..Facts::default()
    };
    let result = if let Some(policy) = &args.policy {
        doc.set("mode", "policy");
        if !args.tsa_roots.is_empty() {
            return Err(CliError::usage(
                "--tsa-root cannot be used with --policy: a policy names the TSA roots it trusts \
                 in its `timestamps` section (`\"timestamps\": {\"trustStores\": [...], \"required\": true}`)",
            ));
        }
        verify_policy::run(
            &args.target.model,
            &args.target.signatures(),
            policy,
            &args.trust,
            &args.common.output,
            &args.common.hashing,
            doc,
            &mut facts,
        )
    } else if args.detached.active() {
        verify_checksums::run(
            &args.target.model,
            &args.detached,
            &args.trust,
            &args.common.output,
            &args.common.hashing,
            doc,
            &mut facts,
        )
    } else {
        doc.set("mode", "bundle");
        bundle(args, doc, &mut facts)
    };
    let result = record_decision(&args.common.audit, "model.verify", result, &facts);
    metrics::record(
        &args.metrics,
        &metrics::Decision::new("verify", result.as_ref().copied(), &facts, started),
    );
    result
}

/// The TSA roots of `--tsa-root`, as an evidence source (none without).
fn tsa_timestamps(roots: &[PathBuf]) -> Result<Option<TsaTimestamps>, CliError> {
    let mut trust: Option<modelseal_timestamp::TsaTrust> = None;
    for path in roots {
        let pem = crate::files::read_small("TSA root", path)?;
        let t = modelseal_timestamp::TsaTrust::from_pem(&pem).map_err(|e| {
            CliError::error(
                "invalid_certificate",
                format!("TSA root {}: {e}", path.display()),
            )
        })?;
        match &mut trust {
            Some(all) => all.extend(t),
            None => trust = Some(t),
        }
    }
    Ok(trust.map(TsaTimestamps::new))
}

/// `--ignore` paths, relative to the model.
fn ignore_paths(
    model: &std::path::Path,
    paths: &[PathBuf],
) -> Result<Vec<modelseal_manifest::ResourcePath>, CliError> {
    paths
        .iter()
        .map(|p| {
            modelseal_manifest::relative_inside(model, p).ok_or_else(|| {
                CliError::usage(format!(
                    "--ignore {}: not a path inside the model {}",
                    p.display(),
                    model.display()
                ))
            })
        })
        .collect()
}

fn bundle(args: &VerifyArgs, doc: &mut Doc, facts: &mut Facts) -> Result<Exit, CliError> {
    let signature = args.target.signature()?;
    let time = args.trust.time()?;
    let trust = args.trust.bundle_trust(doc)?;
    let ignore = ignore_paths(&args.target.model, &args.ignore)?;
    let label = signature.display().to_string();
    facts.bundle = Some(signature.clone());
    let bar = Bar::new(
        args.common.output.quiet || args.common.output.json,
        "verifying",
    );
    let evidence = Evidence::new(&trust, tsa_timestamps(&args.tsa_roots)?);
    let sources = evidence.sources();
    let mut opts = Options::new(trust.source(), trust.requirement(), time);
    opts.model_names = args.model_name.as_slice();
    opts.evidence = &sources;
    opts.signature_file = Some(&signature);
    opts.ignore = &ignore;
    // One file: its name picks its subject in a statement about several.
    let artifact = std::fs::metadata(&args.target.model)
        .is_ok_and(|m| m.is_file())
        .then(|| args.target.model.file_name().and_then(|n| n.to_str()))
        .flatten();
    opts.artifact = artifact;
    opts.hash = HashOptions {
        threads: args.common.hashing.threads(),
        progress: bar.as_ref().map(|b| b as _),
        ..HashOptions::default()
    };
    let outcome = match modelseal_verifier::read_bundle(
        &signature,
        modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES,
    ) {
        Ok(bytes) => modelseal_verifier::verify(&args.target.model, &bytes, &opts),
        Err(e) => Outcome::failed(CheckName::Bundle, e),
    };
    drop(bar);
    doc.set("checks", checks_json(&outcome.report, Some(&label)));
    let v = match &outcome.result {
        Ok(v) => v,
        Err(e) => {
            // The signature verified but a later check refused: the audit
            // record still names who signed.
            if let Some(signer) = &outcome.signer {
                facts.details = signer_details(signer, None);
            }
            // JSON names the signer too when its signature verified.
            let signer = outcome.signer.as_ref().map(signer_json);
            doc.set(
                "signatures",
                json!([{ "file": label, "accepted": false, "signer": signer, "algorithm": null, "identities": [], "subject_digest": null }]),
            );
            let mut err = model_error(e, "verification failed", &args.target.model);
            if let Some(hint) = signature_hint(&args.target.model, &signature) {
                err.message.push_str(&hint);
            }
            return Err(err);
        }
    };
    let a = v.authenticated();
    accepted_signature(doc, &label, a);
    facts.digest = Some(format!("sha256:{}", a.manifest().subject_digest().to_hex()));
    facts.details = signed_by_details(a.signed_by());
    facts.details.timestamp = tsa_timestamp(a.signed_at());
    facts.bytes = Some(v.bytes());
    if let Signer::Certificate { leaf, .. } = a.signed_by().signer() {
        facts.signer_not_after = Some(leaf.not_after);
    }
    facts.reason = format!(
        "verified: signed by {} ({})",
        a.signed_by().signer().describe(),
        a.signed_by().algorithm()
    );
    if !args.common.output.json && !args.common.output.quiet {
        outln!("verified: {}", args.target.model.display());
        outln!("  signer:    {}", a.signed_by().signer().describe());
        match a.signed_by().signer() {
            Signer::Certificate { root_subject, .. } => outln!("  root:      {root_subject}"),
            Signer::Keyless(k) => outln!(
                "  root:      Fulcio CA {} (trusted root {})",
                k.ca,
                k.trusted_root
            ),
            _ => {}
        }
        outln!("  algorithm: {}", a.signed_by().algorithm());
        for (name, label) in [
            (CheckName::Tlog, "  tlog:     "),
            (CheckName::Timestamp, "  timestamp:"),
        ] {
            if let Some(c) = outcome.report.checks.iter().find(|c| c.name == name) {
                // Log URLs and TSA subjects come from the bundle or a
                // certificate: no terminal controls.
                let detail: String = c
                    .detail
                    .chars()
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect();
                outln!("{label} {detail}");
            }
        }
        outln!(
            "  files:     {} resources, {} bytes",
            a.manifest().len(),
            v.bytes()
        );
    }
    Ok(Exit::Success)
}
