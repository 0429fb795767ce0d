//! A policy's RFC 3161 timestamp rules: which timestamp authorities it
//! trusts, and whether a signature must carry a verified timestamp.
//!
//! ```jsonc
//! "timestamps": {
//!   "trustStores": ["tsa"],   // names from the document's trustStores: the TSA roots
//!   "required": true          // default false
//! }
//! ```
//!
//! With a `timestamps` section, the verifier examines every timestamp a
//! bundle carries against these roots ([`modelseal_verifier::TsaTimestamps`]:
//! message imprint over the signature, the token's signature, the TSA's
//! chain and timeStamping EKU at genTime). A verified genTime becomes the
//! time the signing certificate's validity is checked at, so the `expiry`
//! check of a signature timestamped while its certificate was valid passes
//! after the certificate expired. This module only reads what the verifier
//! found ([`modelseal_verifier::SignatureFacts::evidence`]) into the
//! `timestamp` check:
//!
//! - **pass**: at least one timestamp, and every one verified;
//! - **fail**: a timestamp did not verify (untrusted TSA, tampered token,
//!   a token over another signature), or none is carried and one is
//!   required;
//! - **skipped**: none carried, none required.
//!
//! What the check does ([`TimestampRules::action`]): `required` makes it
//! part of authenticity (`enforce` under `strict` and `permissive`, `log`
//! under `audit`); an optional timestamp is only logged: a token that does
//! not verify then establishes no time, and validity stays at the
//! verification time. Without a `timestamps` section the check is skipped
//! and timestamps in bundles are not examined.
//!
//! The TSA roots are read from the same named trust stores as the code
//! signing roots, but one store cannot serve both in one policy: a TSA's
//! CA trusted for code signing (or the other way round) is a
//! misconfiguration the loader refuses.

use modelseal_verifier::{EvidenceKind, SignatureFacts, TimeSource, TsaTimestamps};
use serde_json::Value;

use crate::evaluate::Fact;
use crate::level::{Action, Actions};
use crate::read::{self, Problems, Ptr};
use crate::store::TrustStore;

/// A policy's timestamp rules (its `timestamps` section).
#[derive(Debug, Clone)]
pub struct TimestampRules {
    stores: Vec<String>,
    required: bool,
    source: TsaTimestamps,
    roots: usize,
}

impl TimestampRules {
    /// Names of the trust stores holding the trusted TSA roots.
    pub fn trust_store_names(&self) -> &[String] {
        &self.stores
    }

    /// Whether every signature must carry a verified timestamp.
    pub fn required(&self) -> bool {
        self.required
    }

    /// How many TSA root certificates are trusted.
    pub fn root_count(&self) -> usize {
        self.roots
    }

    /// The TSA roots as the verifier's evidence source.
    pub fn evidence(&self) -> &TsaTimestamps {
        &self.source
    }

    /// What the `timestamp` check does under `actions` (see the module
    /// doc); `None` rules: skip.
    pub fn action(rules: Option<&TimestampRules>, actions: &Actions) -> Action {
        match rules {
            None => Action::Skip,
            Some(r) if r.required => actions.authenticity,
            Some(_) if actions.authenticity == Action::Skip => Action::Skip,
            Some(_) => Action::Log,
        }
    }
}

/// Load the `timestamps` section `v` at `ptr`. `signing_stores` are the
/// stores the policy trusts for code signing (a store may not be both).
pub(crate) fn load(
    v: &Value,
    ptr: &Ptr,
    stores: &[TrustStore],
    store_names: &[String],
    signing_stores: &[String],
    p: &mut Problems,
) -> Option<TimestampRules> {
    let before = p.len();
    let map = read::object(
        v,
        ptr,
        &["description", "trustStores", "required"],
        &["trustStores"],
        p,
    )?;
    if let Some(d) = map.get("description") {
        read::string(d, &ptr.key("description"), p);
    }
    let required = match map.get("required") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            p.add(&ptr.key("required"), "expected true or false");
            false
        }
    };
    let tptr = ptr.key("trustStores");
    let mut names = Vec::new();
    let mut ders: Vec<Vec<u8>> = Vec::new();
    if let Some(list) = map.get("trustStores") {
        for (ptr, name) in read::strings(list, &tptr, true, p).unwrap_or_default() {
            if signing_stores.iter().any(|s| s == name) {
                p.add(
                    &ptr,
                    format!(
                        "trust store {name:?} is also one of this policy's code-signing trust \
                         stores: keep TSA roots in a store of their own"
                    ),
                );
                continue;
            }
            match stores.iter().find(|s| s.name() == name) {
                Some(store) if store.sigstore().is_some() => p.add(
                    &ptr,
                    format!(
                        "trust store {name:?} is a Sigstore trusted root: name stores of TSA \
                         root certificates"
                    ),
                ),
                Some(store) => {
                    names.push(name.to_owned());
                    ders.extend(store.certificates_der().iter().cloned());
                }
                // A store that exists but failed to load was reported there.
                None if store_names.iter().any(|n| n == name) => {}
                None => p.add(
                    &ptr,
                    format!("no trust store named {name:?} in /trustStores"),
                ),
            }
        }
    }
    if p.len() > before {
        return None;
    }
    match modelseal_timestamp::TsaTrust::from_der(&ders) {
        Ok(trust) => Some(TimestampRules {
            stores: names,
            required,
            roots: ders.len(),
            source: TsaTimestamps::new(trust),
        }),
        Err(e) => {
            p.add(&tptr, format!("unusable TSA root certificate: {e}"));
            None
        }
    }
}

/// The `timestamp` fact for one signature (see the module doc).
pub(crate) fn fact(rules: Option<&TimestampRules>, v: &SignatureFacts) -> Fact {
    let Some(rules) = rules else {
        return Fact::skipped("the policy trusts no timestamp authority");
    };
    if v.parsed().is_none() {
        return Fact::not_run("the bundle could not be parsed");
    }
    let stamps: Vec<_> = v
        .evidence()
        .iter()
        .filter(|e| e.kind == EvidenceKind::Timestamp)
        .collect();
    if let Some(bad) = stamps.iter().find(|e| !e.finding.passed()) {
        return Fact::fail(bad.finding.detail());
    }
    if stamps.is_empty() {
        return if rules.required {
            Fact::fail(
                "the policy requires an RFC 3161 timestamp from a trusted TSA; the bundle carries none",
            )
        } else {
            Fact::skipped("the bundle carries no RFC 3161 timestamp (none required)")
        };
    }
    let details: Vec<&str> = stamps.iter().map(|e| e.finding.detail()).collect();
    let at = match &v.validity_time().source {
        TimeSource::Evidence { .. } => "; certificate validity checked at the earliest genTime",
        _ => "",
    };
    Fact::pass(format!("{}{at}", details.join("; ")))
}

/// The time verified evidence proves the signature existed at, when it
/// moved certificate validity away from the verification time.
pub(crate) fn signed_at(v: &SignatureFacts) -> Option<modelseal_verifier::VerifiedTime> {
    let t = v.validity_time();
    matches!(t.source, TimeSource::Evidence { .. }).then(|| t.clone())
}
