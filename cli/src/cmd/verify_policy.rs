//! `modelseal verify MODEL --policy POLICY --signature SIG [--signature ...]`:
//! bundles verified under a trust policy.

use std::path::{Path, PathBuf};

use modelseal_manifest::HashOptions;
use modelseal_policies::{Level, PolicySet, VerifyOptions};

use crate::args::{HashingArgs, OutputArgs, TrustArgs};
use crate::audit_log::{Facts, earliest_not_after, policy_facts};
use crate::files::PolicyBundles;
use crate::output::{CliError, Doc, Exit, policy_error};
use crate::progress::Bar;
use crate::render::{logged_note, policy_outcome};

/// Verify `model` against `signatures` under the policy file `policy`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    model: &Path,
    signatures: &[PathBuf],
    policy: &Path,
    trust: &TrustArgs,
    output: &OutputArgs,
    hashing: &HashingArgs,
    doc: &mut Doc,
    facts: &mut Facts,
) -> Result<Exit, CliError> {
    let time = trust.time()?;
    let set = PolicySet::load(policy).map_err(|e| policy_error(&e))?;
    // Which policy applies decides whether bundles are read at all: a skip
    // policy reads none (there may be none), and a model no policy covers is
    // rejected whatever its bundles.
    let skip = match set.select_path(model) {
        Ok((_, s)) => s.policy.level() == Level::Skip,
        Err(e) => return Err(policy_error(&e)),
    };
    let bundles = PolicyBundles::read(
        model,
        signatures.iter().filter(|_| !skip).map(PathBuf::as_path),
    )?;
    let inputs = bundles.inputs();
    let bar = Bar::new(output.quiet || output.json, "verifying");
    let mut opts = VerifyOptions::new(time);
    opts.hash = HashOptions {
        threads: hashing.threads(),
        progress: bar.as_ref().map(|b| b as _),
        ..HashOptions::default()
    };
    let outcome = modelseal_policies::verify(&set, model, &inputs, &opts);
    drop(bar);
    let o = outcome.map_err(|e| policy_error(&e))?;
    policy_outcome(&o, doc);
    policy_facts(&o, facts);
    facts.note = logged_note(&o);
    facts.signer_not_after = earliest_not_after(&o);
    facts.bytes = o
        .approval()
        .and_then(|a| a.verified().first())
        .map(|v| v.bytes());
    let d = &o.decision;
    if !d.accepted {
        let reason = d.reason.clone().unwrap_or_default();
        let msg = format!("verification failed under policy {:?}: {reason}", o.policy);
        return Err(if d.undecided {
            CliError::error("malformed_input", msg)
        } else {
            CliError::failed("policy_rejected", msg)
        });
    }
    facts.reason = format!(
        "accepted under policy {:?} ({}): {} of {} required signers",
        o.policy, o.level, d.signers, o.required
    );
    facts.digest = o
        .signatures
        .iter()
        .find(|s| s.accepted)
        .and_then(|s| s.subject_digest.as_ref())
        .map(|d| format!("sha256:{d}"));
    if !output.json && !output.quiet {
        outln!("verified: {}", model.display());
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
        if o.level != Level::Skip {
            outln!("  signers:   {} of {} required", d.signers, o.required);
        }
    }
    Ok(Exit::Success)
}
