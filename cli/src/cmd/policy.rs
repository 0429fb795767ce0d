//! `modelseal policy check|explain` and `modelseal verify --policy`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use modelseal_manifest::bundle::DEFAULT_MAX_BUNDLE_BYTES;
use modelseal_manifest::engine::HashOptions;
use modelseal_policies::rules::coverage_name;
use modelseal_policies::{
    Category, Error as PolicyError, Policy, PolicyOutcome, PolicySet, SignatureInput, VerifyOptions,
};
use modelseal_verifier::CertInfo;
use modelseal_verifier::report::rfc3339;
use modelseal_verifier::verify::read_bundle;
use serde_json::{Value, json};

use super::verify::{VerifyArgs, parse_time};
use crate::exit::{CliError, Exit};
use crate::progress::Bar;

/// Trust policy subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Validate a policy file: exit 0 when valid, 2 with every problem.
    Check(CheckArgs),
    /// Show which policy applies to a model and what it requires.
    Explain(ExplainArgs),
}

impl PolicyCommand {
    /// Whether `--json` output was asked for.
    pub(crate) fn json(&self) -> bool {
        match self {
            PolicyCommand::Check(a) => a.json,
            PolicyCommand::Explain(a) => a.json,
        }
    }
}

/// Arguments of `modelseal policy check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The policy file.
    #[arg(value_name = "POLICY.json")]
    pub(crate) policy: PathBuf,
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Arguments of `modelseal policy explain`.
#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The policy file.
    #[arg(value_name = "POLICY.json")]
    pub(crate) policy: PathBuf,
    /// The model directory or file.
    #[arg(value_name = "MODEL_PATH")]
    pub(crate) model: PathBuf,
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Run a policy subcommand.
pub(crate) fn run(cmd: PolicyCommand) -> Result<Exit, CliError> {
    match cmd {
        PolicyCommand::Check(args) => check(&args),
        PolicyCommand::Explain(args) => explain(&args),
    }
}

/// The CLI error for a policy that did not load (exit 2).
fn load_error(e: &PolicyError) -> CliError {
    CliError::error(e.kind(), e.to_string())
}

fn check(args: &CheckArgs) -> Result<Exit, CliError> {
    let loaded = PolicySet::load(&args.policy);
    let shown = args.policy.display().to_string();
    match (&loaded, args.json) {
        (Ok(set), true) => outln!(
            "{:#}",
            json!({
                "valid": true,
                "policy": shown,
                "policies": set.policies().iter().map(|p| p.name()).collect::<Vec<_>>(),
                "trust_stores": set.trust_stores().iter().map(|s| s.name()).collect::<Vec<_>>(),
                "problems": [],
            })
        ),
        (Ok(set), false) => {
            outln!(
                "valid: {shown} ({} polic{}, {} trust store{})",
                set.policies().len(),
                if set.policies().len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                set.trust_stores().len(),
                if set.trust_stores().len() == 1 {
                    ""
                } else {
                    "s"
                },
            );
            for p in set.policies() {
                let scopes: Vec<&str> = p.scopes().iter().map(|s| s.text()).collect();
                outln!("  {}: {} for {}", p.name(), p.level(), scopes.join(", "));
            }
        }
        (Err(PolicyError::Invalid { problems, .. }), true) => outln!(
            "{:#}",
            json!({ "valid": false, "policy": shown, "problems": problems })
        ),
        (Err(PolicyError::Invalid { problems, .. }), false) => {
            errln!("modelseal: invalid policy {shown}:");
            for p in problems {
                errln!("  {p}");
            }
        }
        (Err(e), json) => {
            let err = load_error(e);
            if json {
                outln!(
                    "{:#}",
                    json!({
                        "valid": false,
                        "policy": shown,
                        "problems": [],
                        "error": { "kind": err.kind, "message": err.message },
                    })
                );
                return Err(err.reported());
            }
            return Err(err);
        }
    }
    Ok(if loaded.is_ok() {
        Exit::Success
    } else {
        Exit::Error
    })
}

/// What a policy requires, as JSON.
fn requirements(set: &PolicySet, policy: &Policy) -> Value {
    let stores: Vec<Value> = set
        .trust_stores()
        .iter()
        .filter(|s| policy.trust_store_names().iter().any(|n| n == s.name()))
        .map(|s| {
            json!({
                "name": s.name(),
                "roots": s.roots().iter().map(|r| r.subject.to_string()).collect::<Vec<_>>(),
                "files": s.sources().iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let actions = policy.actions();
    let rev = policy.revocation();
    json!({
        "name": policy.name(),
        "pointer": policy.pointer(),
        "level": policy.level(),
        "checks": Category::ALL.iter().map(|c| (c.as_str().to_owned(), json!(actions.get(*c)))).collect::<serde_json::Map<_, _>>(),
        "trust_stores": stores,
        "trusted_identities": policy.identities().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "required_signatures": policy.required_signatures(),
        "algorithms": {
            "allowed": policy.algorithms().allowed().iter().map(|a| a.name()).collect::<Vec<_>>(),
            "rsa_min_bits": policy.algorithms().rsa_min_bits(),
        },
        "revocation": {
            "crls": rev.crls().iter().map(|c| json!({
                "issuer": c.issuer().to_string(),
                "revoked": c.revoked_count(),
                "next_update": rfc3339(c.next_update()),
            })).collect::<Vec<_>>(),
            "crl_files": rev.crl_files().iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "crl_coverage": coverage_name(rev.coverage()),
            "deny_entries": rev.deny().len(),
        },
    })
}

fn explain(args: &ExplainArgs) -> Result<Exit, CliError> {
    let set = PolicySet::load(&args.policy).map_err(|e| load_error(&e))?;
    let (model, selection) = match set.select_path(&args.model) {
        Ok(found) => found,
        Err(e) if e.is_rejection() => {
            let err = CliError::failed(e.kind(), e.to_string());
            if args.json {
                outln!(
                    "{:#}",
                    json!({
                        "model": args.model.display().to_string(),
                        "policy": null,
                        "verdict": "rejected",
                        "error": { "kind": err.kind, "message": err.message },
                    })
                );
                return Err(err.reported());
            }
            return Err(err);
        }
        Err(e) => return Err(load_error(&e)),
    };
    let policy = selection.policy;
    // Scopes of other policies that also cover the model, but lose.
    let shadowed: Vec<Value> = set
        .policies()
        .iter()
        .filter(|p| !std::ptr::eq(*p, policy))
        .flat_map(|p| {
            p.scopes()
                .iter()
                .filter(|s| s.matches(&model))
                .map(move |s| json!({ "policy": p.name(), "scope": s.text() }))
        })
        .collect();
    let req = requirements(&set, policy);
    if args.json {
        outln!(
            "{:#}",
            json!({
                "model": model.to_string(),
                "scope": selection.scope.text(),
                "pattern": selection.scope.pattern(),
                "policy": req,
                "less_specific_matches": shadowed,
            })
        );
        return Ok(Exit::Success);
    }
    outln!("model:      {model}");
    outln!(
        "policy:     {} ({}), scope {:?} = {}",
        policy.name(),
        policy.pointer(),
        selection.scope.text(),
        selection.scope.pattern()
    );
    for s in &shadowed {
        outln!(
            "            (also matched, less specific: {} via {})",
            s["policy"].as_str().unwrap_or_default(),
            s["scope"]
        );
    }
    let actions = policy.actions();
    outln!("level:      {}", policy.level());
    if policy.level() == modelseal_policies::Level::Skip {
        outln!("requires:   nothing: the model is accepted without any signature");
        return Ok(Exit::Success);
    }
    let checks: Vec<String> = Category::ALL
        .iter()
        .map(|c| format!("{c} {}", actions.get(*c)))
        .collect();
    outln!("checks:     {}", checks.join(", "));
    for store in req["trust_stores"].as_array().into_iter().flatten() {
        outln!(
            "trust:      {}: {}",
            store["name"].as_str().unwrap_or_default(),
            store["roots"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let ids: Vec<String> = policy
        .identities()
        .iter()
        .map(ToString::to_string)
        .collect();
    outln!(
        "signers:    {} distinct of: {}",
        policy.required_signatures(),
        if ids.is_empty() {
            "(identity not checked)".to_owned()
        } else {
            ids.join(", ")
        }
    );
    let algs: Vec<&str> = policy
        .algorithms()
        .allowed()
        .iter()
        .map(|a| a.name())
        .collect();
    outln!(
        "algorithms: {}; RSA keys of at least {} bits",
        algs.join(", "),
        policy.algorithms().rsa_min_bits()
    );
    let rev = policy.revocation();
    let crls: Vec<String> = rev
        .crls()
        .iter()
        .map(|c| format!("{} (until {})", c.issuer(), rfc3339(c.next_update())))
        .collect();
    outln!(
        "revocation: {} CRL{}{}; coverage {}; deny list of {} entr{}",
        crls.len(),
        if crls.len() == 1 { "" } else { "s" },
        if crls.is_empty() {
            String::new()
        } else {
            format!(" from {}", crls.join(", "))
        },
        coverage_name(rev.coverage()),
        rev.deny().len(),
        if rev.deny().len() == 1 { "y" } else { "ies" }
    );
    Ok(Exit::Success)
}

fn leaf_json(leaf: &CertInfo, root: Option<&str>) -> Value {
    json!({
        "subject": leaf.subject.to_string(),
        "sans": leaf.sans.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "serial": leaf.serial,
        "sha256": leaf.sha256,
        "not_after": rfc3339(leaf.not_after),
        "root": root,
    })
}

/// `modelseal verify MODEL --policy POLICY --signature SIG [--signature ...]`.
/// What the audit record of a `verify --policy` decision says beyond the
/// verdict.
#[derive(Debug, Default)]
pub(crate) struct AuditNote {
    /// Success reason: the policy and the signers that satisfied it.
    pub(crate) reason: String,
    /// Checks logged but not enforced, appended to the reason.
    pub(crate) note: String,
    /// The accepted manifest's subject digest.
    pub(crate) digest: Option<String>,
}

/// `modelseal verify --policy`, filling `audit` for the audit record.
pub(crate) fn verify(
    args: &VerifyArgs,
    policy: &Path,
    audit: &mut AuditNote,
) -> Result<Exit, CliError> {
    let time = parse_time(args.at.as_deref())?;
    let set = PolicySet::load(policy).map_err(|e| load_error(&e))?;
    let refused = |e: PolicyError| {
        let err = if e.is_rejection() {
            CliError::failed(e.kind(), format!("verification failed: {e}"))
        } else {
            CliError::error(e.kind(), e.to_string())
        };
        if !args.common.json {
            return err;
        }
        outln!(
            "{:#}",
            json!({
                "verdict": if e.is_rejection() { "rejected" } else { "error" },
                "model": args.model.display().to_string(),
                "policy": null,
                "signatures": [],
                "checks": [],
                "error": { "kind": err.kind, "message": err.message },
            })
        );
        err.reported()
    };
    // Which policy applies decides whether bundles are read at all: a skip
    // policy reads none (there may be none), and a model no policy covers is
    // rejected whatever its bundles.
    let skip = match set.select_path(&args.model) {
        Ok((_, s)) => s.policy.level() == modelseal_policies::Level::Skip,
        Err(e) => return Err(refused(e)),
    };
    let mut bundles = Vec::with_capacity(args.signatures.len());
    for path in args.signatures.iter().filter(|_| !skip) {
        let bytes = read_bundle(path, DEFAULT_MAX_BUNDLE_BYTES)
            .map_err(|e| CliError::error(e.kind(), e.to_string()))?;
        bundles.push((path.display().to_string(), path.as_path(), bytes));
    }
    let inputs: Vec<SignatureInput<'_>> = bundles
        .iter()
        .map(|(label, path, bytes)| SignatureInput {
            label,
            path: Some(path),
            bytes,
        })
        .collect();
    let bar = Bar::new(args.common.quiet || args.common.json, "verifying");
    let mut opts = VerifyOptions::new(time);
    opts.hash = HashOptions {
        threads: args.common.threads(),
        progress: bar.as_ref().map(|b| b as _),
        ..HashOptions::default()
    };
    let outcome = modelseal_policies::verify(&set, &args.model, &inputs, &opts);
    drop(bar);
    let outcome = outcome.map_err(refused)?;
    let d = &outcome.decision;
    audit.reason = format!(
        "accepted under policy {:?} ({}): {} of {} required signers",
        outcome.policy, outcome.level, d.signers, outcome.required
    );
    let logged: Vec<String> = d
        .checks
        .iter()
        .filter(|c| {
            c.level == modelseal_policies::Action::Log
                && c.outcome != modelseal_verifier::Status::Pass
        })
        .map(|c| format!("{} {}: {}", c.name.as_str(), c.outcome, c.detail))
        .collect();
    if !logged.is_empty() {
        audit.note = format!("; logged, not enforced: {}", logged.join("; "));
    }
    audit.digest = outcome
        .signatures
        .iter()
        .find(|s| s.accepted)
        .and_then(|s| s.subject_digest.as_ref())
        .map(|d| format!("sha256:{d}"));
    report(args, &outcome)
}

/// Checks the policy logged without enforcing them and that did not pass.
fn logged(o: &PolicyOutcome) -> impl Iterator<Item = (String, &modelseal_policies::CheckResult)> {
    o.decision
        .checks
        .iter()
        .filter(|c| {
            c.level == modelseal_policies::Action::Log
                && c.outcome != modelseal_verifier::Status::Pass
        })
        .map(|c| {
            let who = c
                .signature
                .and_then(|i| o.signatures.get(i))
                .map(|s| format!("{}: ", s.label))
                .unwrap_or_default();
            (who, c)
        })
}

/// `"; logged, not enforced: ..."` for the audit record, or empty.
pub(crate) fn logged_note(o: &PolicyOutcome) -> String {
    let items: Vec<String> = logged(o)
        .map(|(who, c)| format!("{who}{} {}: {}", c.name.as_str(), c.outcome, c.detail))
        .collect();
    if items.is_empty() {
        String::new()
    } else {
        format!("; logged, not enforced: {}", items.join("; "))
    }
}

/// Print logged-but-failed checks as warnings on stderr.
pub(crate) fn print_logged(o: &PolicyOutcome) {
    for (who, c) in logged(o) {
        errln!(
            "modelseal: warning (logged, not enforced): {who}{} {}: {}",
            c.name.as_str(),
            c.outcome,
            c.detail
        );
    }
}

fn report(args: &VerifyArgs, o: &PolicyOutcome) -> Result<Exit, CliError> {
    let d = &o.decision;
    let label = |i: Option<usize>| i.and_then(|i| o.signatures.get(i)).map(|s| s.label.clone());
    let error = (!d.accepted).then(|| {
        let reason = d.reason.clone().unwrap_or_default();
        let msg = format!("verification failed under policy {:?}: {reason}", o.policy);
        if d.undecided {
            CliError::error("malformed_input", msg)
        } else {
            CliError::failed("policy_rejected", msg)
        }
    });
    if args.common.json {
        let doc = json!({
            "verdict": match (&error, d.undecided) {
                (None, _) => "verified",
                (Some(_), false) => "rejected",
                (Some(_), true) => "error",
            },
            "model": o.model.to_string(),
            "policy": {
                "name": o.policy,
                "scope": o.scope,
                "level": o.level,
                "checks": Category::ALL.iter().map(|c| (c.as_str().to_owned(), json!(o.actions.get(*c)))).collect::<serde_json::Map<_, _>>(),
                "required_signatures": o.required,
            },
            "signers": d.signers,
            "signatures": o.signatures.iter().map(|s| json!({
                "file": s.label,
                "accepted": s.accepted,
                "signer": s.leaf.as_ref().map(|l| leaf_json(l, s.root.as_deref())),
                "algorithm": s.algorithm.map(|a| a.name()),
                "identities": s.identities,
                "subject_digest": s.subject_digest,
            })).collect::<Vec<_>>(),
            "checks": d.checks.iter().map(|c| json!({
                "name": c.name,
                "signature": label(c.signature),
                "category": c.category,
                "level": c.level,
                "outcome": c.outcome,
                "detail": c.detail,
            })).collect::<Vec<_>>(),
            "error": error.as_ref().map(|e| json!({ "kind": e.kind, "message": e.message })),
        });
        outln!("{doc:#}");
    } else {
        // Logged failures are warnings, whatever the verdict.
        print_logged(o);
        if error.is_none() && !args.common.quiet {
            outln!("verified: {}", args.model.display());
            outln!(
                "  policy:    {} ({}) via scope {:?}",
                o.policy,
                o.level,
                o.scope
            );
            for s in o.signatures.iter().filter(|s| s.accepted) {
                let who = s.leaf.as_ref().map_or_else(String::new, |l| {
                    let sans: Vec<String> = l.sans.iter().map(ToString::to_string).collect();
                    format!("{} ({})", l.subject, sans.join(", "))
                });
                outln!(
                    "  signer:    {who} [{}{}]",
                    s.label,
                    s.algorithm.map(|a| format!(", {a}")).unwrap_or_default()
                );
            }
            if o.level != modelseal_policies::Level::Skip {
                outln!("  signers:   {} of {} required", d.signers, o.required);
            }
        }
    }
    match error {
        None => Ok(Exit::Success),
        Some(e) if args.common.json => Err(e.reported()),
        Some(e) => Err(e),
    }
}
