//! `modelseal policy check|explain` and `modelseal verify --policy`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use modelseal_policies::{Category, Error as PolicyError, Policy, PolicySet};
use modelseal_verifier::rfc3339;
use serde_json::{Value, json};

use crate::output::{CliError, Doc, Exit, policy_error};

/// Trust policy subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Validate a policy file: exit 0 when valid, 2 with every problem.
    Check(CheckArgs),
    /// Show which policy applies to a model and what it requires.
    Explain(ExplainArgs),
}

impl PolicyCommand {
    /// The name in the JSON envelope, and whether `--json` was asked for.
    pub(crate) fn describe(&self) -> (&'static str, bool) {
        match self {
            PolicyCommand::Check(a) => ("policy check", a.json),
            PolicyCommand::Explain(a) => ("policy explain", a.json),
        }
    }
}

/// Arguments of `modelseal policy check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The policy file.
    #[arg(value_name = "POLICY.json")]
    pub(crate) policy: PathBuf,
    /// Print one JSON document on stdout instead of text.
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
    #[arg(value_name = "MODEL")]
    pub(crate) model: PathBuf,
    /// Print one JSON document on stdout instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Run a policy subcommand.
pub(crate) fn run(cmd: &PolicyCommand, doc: &mut Doc) -> Result<Exit, CliError> {
    match cmd {
        PolicyCommand::Check(args) => check(args, doc),
        PolicyCommand::Explain(args) => explain(args, doc),
    }
}

fn check(args: &CheckArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    let shown = args.policy.display().to_string();
    doc.set("policy", shown.clone());
    doc.set("policies", json!([]));
    doc.set("trust_stores", json!([]));
    doc.set("problems", json!([]));
    let set = match PolicySet::load(&args.policy) {
        Ok(set) => set,
        Err(PolicyError::Invalid { problems, .. }) => {
            doc.set("problems", json!(problems));
            let listed: Vec<String> = problems.iter().map(|p| format!("\n  {p}")).collect();
            return Err(CliError::error(
                "invalid_policy",
                format!("invalid policy {shown}:{}", listed.concat()),
            ));
        }
        Err(e) => return Err(policy_error(&e)),
    };
    doc.set(
        "policies",
        set.policies().iter().map(|p| p.name()).collect::<Vec<_>>(),
    );
    doc.set(
        "trust_stores",
        set.trust_stores()
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>(),
    );
    if !args.json {
        let n = set.policies().len();
        let t = set.trust_stores().len();
        outln!(
            "valid: {shown} ({n} polic{}, {t} trust store{})",
            if n == 1 { "y" } else { "ies" },
            if t == 1 { "" } else { "s" },
        );
        for p in set.policies() {
            let scopes: Vec<&str> = p.scopes().iter().map(|s| s.text()).collect();
            outln!("  {}: {} for {}", p.name(), p.level(), scopes.join(", "));
        }
    }
    Ok(Exit::Success)
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
                "sigstore": s.sigstore().map(|r| r.root().label.clone()),
                "files": s.sources().iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let actions = policy.actions();
    let rev = policy.revocation();
    let timestamps = policy.timestamps().map(|t| {
        let stores: Vec<Value> = set
            .trust_stores()
            .iter()
            .filter(|s| t.trust_store_names().iter().any(|n| n == s.name()))
            .map(|s| {
                json!({
                    "name": s.name(),
                    "roots": s.roots().iter().map(|r| r.subject.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({ "trust_stores": stores, "required": t.required() })
    });
    json!({
        "name": policy.name(),
        "pointer": policy.pointer(),
        "level": policy.level(),
        "checks": crate::render::policy_checks(&actions),
        "trust_stores": stores,
        "trusted_identities": policy.identities().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "required_signatures": policy.required_signatures(),
        "transparency_log": if policy.requires_transparency_log() { "required" } else { "optional" },
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
            "crl_coverage": modelseal_verifier::coverage_name(rev.coverage()),
            "deny_entries": rev.deny().len(),
        },
        "timestamps": timestamps,
    })
}

fn explain(args: &ExplainArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    doc.set("model", args.model.display().to_string());
    doc.set("scope", Value::Null);
    doc.set("pattern", Value::Null);
    doc.set("policy", Value::Null);
    doc.set("less_specific_matches", json!([]));
    let set = PolicySet::load(&args.policy).map_err(|e| policy_error(&e))?;
    let (model, selection) = set.select_path(&args.model).map_err(|e| policy_error(&e))?;
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
    doc.set("model", model.to_string());
    doc.set("scope", selection.scope.text());
    doc.set("pattern", selection.scope.pattern());
    doc.set("model_names", selection.scope.model_names());
    doc.set("policy", req.clone());
    doc.set("less_specific_matches", shadowed.clone());
    if args.json {
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
    if !selection.scope.model_names().is_empty() {
        outln!(
            "names:      the signed model name must be one of: {}",
            selection.scope.model_names().join(", ")
        );
    }
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
    let mut checks: Vec<String> = Category::ALL
        .iter()
        .map(|c| format!("{c} {}", actions.get(*c)))
        .collect();
    checks.push(format!("timestamp {}", actions.timestamp));
    outln!("checks:     {}", checks.join(", "));
    for store in req["trust_stores"].as_array().into_iter().flatten() {
        if let Some(root) = store["sigstore"].as_str() {
            outln!(
                "trust:      {}: Sigstore trusted root {root} (keyless signers; transparency log {})",
                store["name"].as_str().unwrap_or_default(),
                req["transparency_log"].as_str().unwrap_or_default()
            );
            continue;
        }
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
    if let Some(t) = policy.timestamps() {
        outln!(
            "timestamps: {} from a TSA of {} ({} root{})",
            if t.required() { "required" } else { "optional" },
            t.trust_store_names().join(", "),
            t.root_count(),
            if t.root_count() == 1 { "" } else { "s" }
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
        modelseal_verifier::coverage_name(rev.coverage()),
        rev.deny().len(),
        if rev.deny().len() == 1 { "y" } else { "ies" }
    );
    Ok(Exit::Success)
}
