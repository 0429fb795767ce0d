//! The policy's view of one signature: the verifier gathers the facts
//! ([`modelseal_verifier::gather`], every step on its own, so a
//! `log` check can be reported even when another fails), and this module
//! only reads them, adding the policy's own rules where the policy says
//! more than the verifier knows:
//!
//! - **bundle**: a bare-key bundle fails (policies trust certificate
//!   chains only); certificates that do not parse are malformed input.
//! - **signature**, **statement**, **chain**, **expiry**: the verifier's
//!   findings (the chain fact is authentic-at-some-valid-instant; expiry is
//!   every certificate of the path valid at the validity time).
//! - **algorithm**: the policy's algorithm and key-size rules over the
//!   signature algorithm and the keys of the path.
//! - **identity**: which of the policy's trusted identities the leaf
//!   matches (reported even when the chain failed, to say who signed).
//! - **revocation**: the policy's deny list over the path, then the
//!   verifier's CRL finding.
//!
//! The files check needs the model; [`crate::enforce`] fills it in.

use modelseal_verifier::{
    CertInfo, CrlCheck, EvidenceSource, Finding, MaterialKind, PublicKey, SignatureFacts, Status,
};
use modelseal_verifier::{IdentityRequirement, Inputs};

use crate::document::{Policy, Selection};
use crate::evaluate::{Fact, SignatureFacts as PolicyFacts};
use crate::level::Action;
use crate::sigstore::{PolicyTrust, tlog_fact};

/// A verifier finding as a policy fact.
fn fact(f: &Finding) -> Fact {
    Fact {
        status: f.status(),
        detail: f.detail().to_owned(),
        input_error: f.is_input_error(),
    }
}

/// What gathering found besides the facts.
#[derive(Debug)]
pub(crate) struct Found {
    /// The verifier's facts.
    pub(crate) facts: SignatureFacts,
    /// The trusted identities the leaf matched, written out.
    pub(crate) identities: Vec<String>,
}

impl Found {
    /// The signing certificate.
    pub(crate) fn leaf(&self) -> Option<&CertInfo> {
        self.facts.leaf()
    }
}

/// Gather the facts about the bundle `bytes` under the selected policy at
/// `now`; the selecting scope's `modelNames` bind the signed subject name.
pub(crate) fn gather(
    selection: &Selection<'_>,
    label: &str,
    bytes: &[u8],
    now: std::time::SystemTime,
) -> (PolicyFacts, Found) {
    let policy = selection.policy;
    let rules = policy.revocation();
    let trust = PolicyTrust {
        anchors: policy.anchors(),
        sigstore: policy.sigstore(),
    };
    let mut sources: Vec<&dyn EvidenceSource> = policy
        .sigstore()
        .map(|s| s as &dyn EvidenceSource)
        .into_iter()
        .collect();
    // The policy's TSA roots (crate::timestamps).
    sources.extend(
        policy
            .timestamps()
            .map(|t| t.evidence() as &dyn EvidenceSource),
    );
    // The policy writes `*` explicitly (Identity::Any); a policy that lists
    // no identity decides that itself (its identity fact is skipped).
    let identity = match policy.identities() {
        [] => IdentityRequirement::Any,
        ids => IdentityRequirement::OneOf(ids),
    };
    let mut inputs = Inputs::new(
        trust
            .any()
            .then_some(&trust as &dyn modelseal_verifier::TrustSource),
        identity,
        now,
    );
    inputs.model_names = selection.scope.model_names();
    inputs.evidence = &sources;
    if policy.actions().revocation != Action::Skip && !rules.crls().is_empty() {
        inputs.crls = Some(CrlCheck {
            crls: rules.crls(),
            coverage: rules.coverage(),
        });
    }
    let v = modelseal_verifier::gather(bytes, &inputs);
    let f = decide_facts(policy, label, &v);
    let identities = v
        .matched()
        .iter()
        .filter_map(|i| policy.identities().get(*i))
        .map(ToString::to_string)
        .collect();
    (
        f,
        Found {
            facts: v,
            identities,
        },
    )
}

/// The policy's facts over the verifier's.
fn decide_facts(policy: &Policy, label: &str, v: &SignatureFacts) -> PolicyFacts {
    let mut f = PolicyFacts::unknown(label, "an earlier check failed");
    f.files = Fact::not_run("the signature was not accepted");

    // bundle
    let Some(parsed) = v.parsed() else {
        f.bundle = Fact::input(v.bundle().detail());
        return f;
    };
    if parsed.material() == MaterialKind::PublicKey {
        f.bundle = Fact::fail(
            "the bundle is signed by a bare key: policies trust certificate chains only",
        );
        return f;
    }
    let certs = match parsed.certificates() {
        Ok(c) => c,
        Err(e) => {
            f.bundle = Fact::input(format!("certificate: {e}"));
            return f;
        }
    };
    let Some(leaf) = certs.first() else {
        return f;
    };
    f.bundle = Fact::pass(format!(
        "OMS bundle with a chain of {} certificate{}",
        certs.len(),
        if certs.len() == 1 { "" } else { "s" }
    ));
    f.signer_key = Some(leaf.spki_sha256.clone());

    f.signature = fact(v.signature());
    f.statement = fact(v.statement());
    let trust = v.trust();
    f.chain = if policy.anchors().is_some() || policy.sigstore().is_some() {
        fact(&trust.chain)
    } else {
        Fact::not_run("the policy has no trust store")
    };
    f.tlog = tlog_fact(
        v,
        policy.requires_transparency_log(),
        policy.sigstore().is_some(),
    );
    f.expiry = fact(&trust.expiry);
    f.timestamp = crate::timestamps::fact(policy.timestamps(), v);

    // algorithm
    f.algorithm = match (v.algorithm(), v.key_kind()) {
        (Some(alg), Some(kind)) => {
            let mut keys = Vec::new();
            let mut bad = None;
            for c in trust.path.iter().skip(1) {
                match PublicKey::from_spki_der(&c.spki_der) {
                    Ok(pk) => keys.push((format!("{}", c.subject), pk.key_kind())),
                    Err(e) => bad = Some(format!("{}: {e}", c.subject)),
                }
            }
            match bad {
                Some(why) => Fact::fail(why),
                None => match policy.algorithms().check(alg, kind, &keys) {
                    Ok(d) => Fact::pass(d),
                    Err(why) => Fact::fail(why.to_string()),
                },
            }
        }
        _ => Fact::fail(v.signature().detail().to_owned()),
    };

    // identity
    f.matched = v.matched().to_vec();
    f.identity = identity(policy, leaf, v, f.chain.status);

    // revocation
    f.revocation = if policy.actions().revocation == Action::Skip {
        Fact::skipped("skipped by the policy")
    } else {
        revocation(policy, &trust.path, &trust.revocation)
    };
    f
}

/// The identity fact: the verifier's match, worded for the policy.
fn identity(policy: &Policy, leaf: &CertInfo, v: &SignatureFacts, chain: Status) -> Fact {
    let ids = policy.identities();
    if ids.is_empty() {
        return Fact::skipped("the policy lists no trusted identity");
    }
    let untrusted = if chain == Status::Pass {
        ""
    } else {
        " (but the chain is not trusted)"
    };
    if v.matched().is_empty() {
        let err = modelseal_verifier::check_identity(leaf, ids)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        return Fact::fail(format!("{err}{untrusted}"));
    }
    let names: Vec<String> = v
        .matched()
        .iter()
        .filter_map(|i| ids.get(*i))
        .map(ToString::to_string)
        .collect();
    Fact::pass(format!("signer matches {}{untrusted}", names.join(", ")))
}

/// The deny list over the path, then the verifier's CRL finding.
fn revocation(policy: &Policy, path: &[CertInfo], crls: &Finding) -> Fact {
    let rules = policy.revocation();
    if rules.is_empty() {
        return Fact::skipped("the policy gives no CRL or deny list");
    }
    if let Some(why) = path.iter().find_map(|c| rules.deny().denies(c)) {
        return Fact::fail(why);
    }
    let mut done = Vec::new();
    if !rules.deny().is_empty() {
        done.push(format!(
            "no certificate on the deny list of {} entries",
            rules.deny().len()
        ));
    }
    if !rules.crls().is_empty() {
        if !crls.passed() {
            return fact(crls);
        }
        done.push(crls.detail().to_owned());
    }
    Fact::pass(done.join("; "))
}
