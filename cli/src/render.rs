//! Library results as the JSON fields and text lines of the output contract
//! (docs/json.md): signers, check lists and what a policy logged. One shape
//! per thing, whichever command or mode produced it.

use modelseal_policies::{Action, Category, PolicyOutcome};
use modelseal_verifier::rfc3339;
use modelseal_verifier::{Authenticated, CertInfo, Report, Signer};
use serde_json::{Value, json};

use crate::output::Doc;

/// A certificate signer.
fn certificate_json(leaf: &CertInfo, intermediates: &[CertInfo], root: Option<&str>) -> Value {
    json!({
        "kind": "certificate",
        "subject": leaf.subject.to_string(),
        "sans": leaf.sans.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "serial": leaf.serial,
        "sha256": leaf.sha256,
        "not_after": rfc3339(leaf.not_after),
        "intermediates": intermediates.iter().map(|c| c.subject.to_string()).collect::<Vec<_>>(),
        "root": root,
    })
}

/// A verifier's signer.
pub(crate) fn signer_json(signer: &Signer) -> Value {
    match signer {
        Signer::Certificate {
            leaf,
            intermediates,
            root_subject,
        } => certificate_json(leaf, intermediates, Some(root_subject)),
        Signer::Key { spki_sha256 } => json!({ "kind": signer.kind(), "spki_sha256": spki_sha256 }),
        Signer::Keyless(k) => json!({
            "kind": signer.kind(),
            "identities": k.identity.sans,
            "oidc_issuer": k.identity.issuer,
            "serial": k.leaf.serial,
            "sha256": k.leaf.sha256,
            "not_before": rfc3339(k.leaf.not_before),
            "not_after": rfc3339(k.leaf.not_after),
            "ca": k.ca,
            "ct_log": k.ct_log,
            "trusted_root": k.trusted_root,
        }),
        _ => json!({ "kind": "other", "description": signer.describe() }),
    }
}

/// A policy signature's signer, if its certificate parsed.
pub(crate) fn policy_signer_json(leaf: Option<&CertInfo>, root: Option<&str>) -> Value {
    leaf.map_or(Value::Null, |l| certificate_json(l, &[], root))
}

/// The verifier's check list, in the one check shape (`signature` names
/// the bundle or signature file; `category` and `level` are a policy's).
pub(crate) fn checks_json(report: &Report, signature: Option<&str>) -> Value {
    report
        .checks
        .iter()
        .map(|c| {
            json!({
                "name": c.name.as_str(),
                "status": c.status,
                "detail": c.detail,
                "signature": signature,
                "category": null,
                "level": "enforce",
            })
        })
        .collect()
}

/// A policy decision's check list, in the same shape.
pub(crate) fn policy_checks_json(o: &PolicyOutcome) -> Value {
    let label = |i: Option<usize>| i.and_then(|i| o.signatures.get(i)).map(|s| s.label.clone());
    o.decision
        .checks
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "status": c.outcome,
                "detail": c.detail,
                "signature": label(c.signature),
                "category": c.category,
                "level": c.level,
            })
        })
        .collect()
}

/// Checks the policy logged without enforcing them and that did not pass,
/// as `"SIG: name status: detail"`.
pub(crate) fn logged(o: &PolicyOutcome) -> Vec<String> {
    o.decision
        .checks
        .iter()
        .filter(|c| c.level == Action::Log && c.outcome != modelseal_verifier::Status::Pass)
        .map(|c| {
            let who = c
                .signature
                .and_then(|i| o.signatures.get(i))
                .map(|s| format!("{}: ", s.label))
                .unwrap_or_default();
            format!("{who}{} {}: {}", c.name.as_str(), c.outcome, c.detail)
        })
        .collect()
}

/// `"; logged, not enforced: ..."` for the audit record, or empty.
pub(crate) fn logged_note(o: &PolicyOutcome) -> String {
    let items = logged(o);
    if items.is_empty() {
        String::new()
    } else {
        format!("; logged, not enforced: {}", items.join("; "))
    }
}

/// The fields of a policy decision, and its logged-but-failed checks as
/// warnings.
pub(crate) fn policy_outcome(o: &PolicyOutcome, doc: &mut Doc) {
    for w in logged(o) {
        doc.warn(format!("logged, not enforced: {w}"));
    }
    let signatures: Vec<Value> = o
        .signatures
        .iter()
        .map(|s| {
            json!({
                "file": s.label,
                "accepted": s.accepted,
                "signer": policy_signer_json(s.leaf.as_ref(), s.root.as_deref()),
                "algorithm": s.algorithm.map(|a| a.name()),
                "identities": s.identities,
                "subject_digest": s.subject_digest,
            })
        })
        .collect();
    if let Some(first) = signatures.iter().find(|s| s["accepted"] == true) {
        doc.set("signer", first["signer"].clone());
        doc.set("algorithm", first["algorithm"].clone());
        doc.set("identity", first["identities"][0].clone());
        doc.set("subject_digest", first["subject_digest"].clone());
    }
    doc.set("signatures", signatures);
    doc.set("checks", policy_checks_json(o));
    if let Some(c) = &o.content {
        doc.set(
            "content",
            json!({
                "level": c.action,
                "files": c.files,
                "violations": c.violations,
            }),
        );
    }
    doc.set(
        "policy",
        json!({
            "name": o.policy,
            "scope": o.scope,
            "level": o.level,
            "checks": policy_checks(&o.actions),
            "required_signatures": o.required,
            "signers": o.decision.signers,
        }),
    );
}

/// What a policy does with each category of checks, and with the
/// `timestamp` check (set by its `timestamps` section), as JSON.
pub(crate) fn policy_checks(actions: &modelseal_policies::Actions) -> Value {
    let mut map: serde_json::Map<String, Value> = Category::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), json!(actions.get(*c))))
        .collect();
    map.insert("timestamp".to_owned(), json!(actions.timestamp));
    Value::Object(map)
}

/// Puts the fields [`accepted_signature`] fills, and `checks` and `policy`,
/// into `doc` as they are while nothing is established (plain verify and
/// the gate).
pub(crate) fn no_signature(doc: &mut Doc) {
    doc.set("signer", Value::Null);
    doc.set("algorithm", Value::Null);
    doc.set("identity", Value::Null);
    doc.set("subject_digest", Value::Null);
    doc.set("signatures", json!([]));
    doc.set("checks", json!([]));
    doc.set("policy", Value::Null);
}

/// Puts an accepted bundle's signer, algorithm, identity, subject digest and
/// its one-entry `signatures` list into `doc` (plain verify and the gate).
pub(crate) fn accepted_signature(doc: &mut Doc, label: &str, a: &Authenticated) {
    let digest = a.manifest().subject_digest().to_hex();
    let identity = a.signed_by().identity().map(ToString::to_string);
    doc.set("signer", signer_json(a.signed_by().signer()));
    doc.set("algorithm", a.signed_by().algorithm().name());
    doc.set("identity", identity.clone());
    doc.set("subject_digest", digest.clone());
    doc.set(
        "signatures",
        json!([{
            "file": label,
            "accepted": true,
            "signer": signer_json(a.signed_by().signer()),
            "algorithm": a.signed_by().algorithm().name(),
            "identities": identity.into_iter().collect::<Vec<_>>(),
            "subject_digest": digest,
        }]),
    );
}
