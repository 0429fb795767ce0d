//! The decision: a pure function of the policy's actions, the number of
//! signers it requires, and the facts gathered about each signature.
//!
//! 1. Each check of each signature gets its category's action. `skip`: the
//!    outcome is `skipped`, whatever was found. `log` and `enforce`: the
//!    outcome is what was found.
//! 2. A signature is **accepted** when every `enforce` check passed. A check
//!    that could not run (`not_run`) or was skipped for lack of data does
//!    not pass: enforcement fails closed.
//! 3. **Quorum** (authenticity): among accepted signatures whose chain and
//!    identity passed, signing keys are grouped (one key is one signer,
//!    however many bundles it made), and each signer may fill one trusted
//!    identity it matches. The count is the largest such assignment (a
//!    bipartite matching), so one signer never fills two identities and two
//!    signers of one identity count once.
//! 4. The verdict is **accept** when at least one signature is accepted
//!    (integrity always needs a valid signature over these files) and the
//!    quorum passed, unless authenticity is `log` (the shortfall is
//!    reported) or `skip`.
//!
//! Signatures that are not accepted never veto: with several bundles, a
//! revoked or foreign one is reported and ignored, and the others must
//! still reach the quorum.

use modelseal_verifier::Status;
use serde::Serialize;

use crate::level::{Action, Actions, Category};

/// The checks of a policy verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckName {
    /// The bundle parses.
    Bundle,
    /// The DSSE signature verifies with the signing certificate's key.
    Signature,
    /// The signed payload is a well-formed OMS statement.
    Statement,
    /// The algorithm and key sizes meet the policy.
    Algorithm,
    /// The chain leads to a root of the policy's trust stores.
    Chain,
    /// Every transparency-log entry the bundle carries verified against
    /// the policy's Sigstore trusted root, and one is there when the policy
    /// requires it (`transparencyLog`).
    Tlog,
    /// The signer matches a trusted identity.
    Identity,
    /// Every RFC 3161 timestamp the bundle carries verifies against the
    /// policy's TSA roots, and one is there when the policy requires it
    /// ([`crate::TimestampRules`]).
    Timestamp,
    /// Every certificate is valid at the verification time.
    Expiry,
    /// No certificate is revoked or denied.
    Revocation,
    /// The model's files match the signed manifest.
    Files,
    /// Enough distinct trusted signers (whole verification).
    Quorum,
    /// The model's content is safe to load and in an allowed format
    /// (whole model; only under a policy with a `content` section).
    Content,
}

impl CheckName {
    /// The checks made for each signature, in order.
    pub const PER_SIGNATURE: [CheckName; 11] = [
        CheckName::Bundle,
        CheckName::Signature,
        CheckName::Statement,
        CheckName::Algorithm,
        CheckName::Chain,
        CheckName::Tlog,
        CheckName::Identity,
        CheckName::Timestamp,
        CheckName::Expiry,
        CheckName::Revocation,
        CheckName::Files,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Bundle => "bundle",
            CheckName::Signature => "signature",
            CheckName::Statement => "statement",
            CheckName::Algorithm => "algorithm",
            CheckName::Chain => "chain",
            CheckName::Tlog => "tlog",
            CheckName::Identity => "identity",
            CheckName::Timestamp => "timestamp",
            CheckName::Expiry => "expiry",
            CheckName::Revocation => "revocation",
            CheckName::Files => "files",
            CheckName::Quorum => "quorum",
            CheckName::Content => "content",
        }
    }

    /// The category whose action governs it.
    pub fn category(self) -> Category {
        match self {
            CheckName::Bundle
            | CheckName::Signature
            | CheckName::Statement
            | CheckName::Algorithm
            | CheckName::Files
            | CheckName::Content => Category::Integrity,
            CheckName::Chain
            | CheckName::Tlog
            | CheckName::Identity
            | CheckName::Timestamp
            | CheckName::Quorum => Category::Authenticity,
            CheckName::Expiry => Category::Expiry,
            CheckName::Revocation => Category::Revocation,
        }
    }
}

/// What was found for one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fact {
    /// Pass, fail, not run (a prerequisite failed) or skipped (nothing to
    /// check against).
    pub status: Status,
    /// One line: what held, or why not.
    pub detail: String,
    /// The failure is about unreadable or malformed input rather than a
    /// definite "no".
    pub input_error: bool,
}

impl Fact {
    /// The check held.
    pub(crate) fn pass(detail: impl Into<String>) -> Fact {
        Fact::new(Status::Pass, detail)
    }

    /// The check failed.
    pub(crate) fn fail(detail: impl Into<String>) -> Fact {
        Fact::new(Status::Fail, detail)
    }

    /// The check failed on unreadable or malformed input.
    pub(crate) fn input(detail: impl Into<String>) -> Fact {
        Fact {
            input_error: true,
            ..Fact::new(Status::Fail, detail)
        }
    }

    /// The check could not run.
    pub(crate) fn not_run(detail: impl Into<String>) -> Fact {
        Fact::new(Status::NotRun, detail)
    }

    /// There was nothing to check.
    pub(crate) fn skipped(detail: impl Into<String>) -> Fact {
        Fact::new(Status::Skipped, detail)
    }

    fn new(status: Status, detail: impl Into<String>) -> Fact {
        Fact {
            status,
            detail: detail.into(),
            input_error: false,
        }
    }
}

/// The facts about one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureFacts {
    /// Which signature (its file name, for reports).
    pub label: String,
    /// [`CheckName::Bundle`].
    pub bundle: Fact,
    /// [`CheckName::Signature`].
    pub signature: Fact,
    /// [`CheckName::Statement`].
    pub statement: Fact,
    /// [`CheckName::Algorithm`].
    pub algorithm: Fact,
    /// [`CheckName::Chain`].
    pub chain: Fact,
    /// [`CheckName::Tlog`].
    pub tlog: Fact,
    /// [`CheckName::Identity`].
    pub identity: Fact,
    /// [`CheckName::Timestamp`].
    pub timestamp: Fact,
    /// [`CheckName::Expiry`].
    pub expiry: Fact,
    /// [`CheckName::Revocation`].
    pub revocation: Fact,
    /// [`CheckName::Files`].
    pub files: Fact,
    /// Indices of the policy's trusted identities the signer matches.
    pub matched: Vec<usize>,
    /// The signing key (SPKI SHA-256), which makes one signer.
    pub signer_key: Option<String>,
}

impl SignatureFacts {
    /// Facts for a signature of which nothing is known yet: every check
    /// `not_run` with `why`.
    pub(crate) fn unknown(label: impl Into<String>, why: &str) -> SignatureFacts {
        let n = || Fact::not_run(why);
        SignatureFacts {
            label: label.into(),
            bundle: n(),
            signature: n(),
            statement: n(),
            algorithm: n(),
            chain: n(),
            tlog: n(),
            identity: n(),
            timestamp: n(),
            expiry: n(),
            revocation: n(),
            files: n(),
            matched: Vec::new(),
            signer_key: None,
        }
    }

    /// The fact for a per-signature check ([`CheckName::Quorum`] has none).
    pub(crate) fn get(&self, name: CheckName) -> Option<&Fact> {
        Some(match name {
            CheckName::Bundle => &self.bundle,
            CheckName::Signature => &self.signature,
            CheckName::Statement => &self.statement,
            CheckName::Algorithm => &self.algorithm,
            CheckName::Chain => &self.chain,
            CheckName::Tlog => &self.tlog,
            CheckName::Identity => &self.identity,
            CheckName::Timestamp => &self.timestamp,
            CheckName::Expiry => &self.expiry,
            CheckName::Revocation => &self.revocation,
            CheckName::Files => &self.files,
            CheckName::Quorum | CheckName::Content => return None,
        })
    }
}

/// One check as decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Which check.
    pub name: CheckName,
    /// The signature it is about (its index), or none for the quorum.
    pub signature: Option<usize>,
    /// Its category.
    pub category: Category,
    /// What the policy does with it.
    pub level: Action,
    /// How it went (`skipped` when the policy skips it).
    pub outcome: Status,
    /// What held, or why not.
    pub detail: String,
}

/// The verdict and every check behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the model is accepted.
    pub accepted: bool,
    /// For each signature: whether it was accepted.
    pub signatures: Vec<bool>,
    /// Distinct trusted signers counted.
    pub signers: usize,
    /// Every check, signature by signature, then the quorum.
    pub checks: Vec<CheckResult>,
    /// Why the model was rejected.
    pub reason: Option<String>,
    /// Rejected only for unreadable or malformed input: no decision.
    pub undecided: bool,
}

/// What the policy does with check `name`: its category's action, except
/// for the timestamp check, whose action the policy's `timestamps` section
/// sets ([`Actions::timestamp`]).
pub(crate) fn action(actions: &Actions, name: CheckName) -> Action {
    match name {
        CheckName::Timestamp => actions.timestamp,
        _ => actions.get(name.category()),
    }
}

/// Whether signature `facts` passes every enforced check, leaving out
/// [`CheckName::Files`] (which needs the model, and is only worth checking
/// for these candidates).
pub(crate) fn candidate(actions: &Actions, facts: &SignatureFacts) -> bool {
    first_failure(actions, facts, true).is_none()
}

/// The first enforced check of `facts` that did not pass.
fn first_failure<'a>(
    actions: &Actions,
    facts: &'a SignatureFacts,
    without_files: bool,
) -> Option<(CheckName, &'a Fact)> {
    CheckName::PER_SIGNATURE
        .into_iter()
        .filter(|n| !(without_files && *n == CheckName::Files))
        .filter(|n| action(actions, *n) == Action::Enforce)
        .filter_map(|n| facts.get(n).map(|f| (n, f)))
        .find(|(_, f)| f.status != Status::Pass)
}

/// Decide (see the module doc).
pub(crate) fn decide(actions: &Actions, required: usize, facts: &[SignatureFacts]) -> Decision {
    let mut checks = Vec::new();
    let mut accepted = Vec::with_capacity(facts.len());
    for (i, f) in facts.iter().enumerate() {
        for name in CheckName::PER_SIGNATURE {
            let level = action(actions, name);
            let fact = f.get(name);
            let (outcome, detail) = match (level, fact) {
                (Action::Skip, _) => (Status::Skipped, "skipped by the policy".to_owned()),
                (_, Some(fact)) => (fact.status, fact.detail.clone()),
                (_, None) => (Status::NotRun, String::new()),
            };
            checks.push(CheckResult {
                name,
                signature: Some(i),
                category: name.category(),
                level,
                outcome,
                detail,
            });
        }
        accepted.push(first_failure(actions, f, false).is_none());
    }

    // Quorum.
    let auth = actions.authenticity;
    let mut keys: Vec<(Option<&str>, Vec<usize>, Vec<&str>)> = Vec::new();
    for (f, ok) in facts.iter().zip(&accepted) {
        if !*ok || f.chain.status != Status::Pass || f.identity.status != Status::Pass {
            continue;
        }
        let key = f.signer_key.as_deref();
        // Without a key fingerprint a signature is its own signer.
        match keys.iter_mut().find(|(k, ..)| key.is_some() && *k == key) {
            Some((_, ids, labels)) => {
                ids.extend(&f.matched);
                labels.push(&f.label);
            }
            None => keys.push((key, f.matched.clone(), vec![&f.label])),
        }
    }
    let edges: Vec<Vec<usize>> = keys.iter().map(|(_, ids, _)| ids.clone()).collect();
    let signers = max_matching(&edges);
    let quorum_met = signers >= required;
    let (outcome, detail) = if auth == Action::Skip {
        (Status::Skipped, "skipped by the policy".to_owned())
    } else {
        let who: Vec<String> = keys.iter().map(|(_, _, l)| l.join("+")).collect();
        (
            if quorum_met {
                Status::Pass
            } else {
                Status::Fail
            },
            format!(
                "{signers} of {required} required distinct trusted signer{} ({})",
                if required == 1 { "" } else { "s" },
                if who.is_empty() {
                    "none".to_owned()
                } else {
                    who.join(", ")
                }
            ),
        )
    };
    checks.push(CheckResult {
        name: CheckName::Quorum,
        signature: None,
        category: Category::Authenticity,
        level: auth,
        outcome,
        detail: detail.clone(),
    });

    let any = accepted.iter().any(|a| *a);
    let ok = any && (quorum_met || auth != Action::Enforce);
    // Why each signature that was not accepted failed.
    let failures: Vec<(String, bool)> = facts
        .iter()
        .filter_map(|f| {
            first_failure(actions, f, false).map(|(n, fact)| {
                (
                    format!("{}: {} failed: {}", f.label, n.as_str(), fact.detail),
                    fact.input_error,
                )
            })
        })
        .collect();
    let listed = failures
        .iter()
        .map(|(s, _)| s.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let mut undecided = false;
    let reason = if ok {
        None
    } else if facts.is_empty() {
        Some("no signature was given".to_owned())
    } else if !any {
        undecided = !failures.is_empty() && failures.iter().all(|(_, input)| *input);
        Some(format!("no signature satisfies the policy ({listed})"))
    } else if failures.is_empty() {
        Some(format!("quorum not met: {detail}"))
    } else {
        Some(format!("quorum not met: {detail}; not counted: {listed}"))
    };
    Decision {
        accepted: ok,
        signatures: accepted,
        signers,
        checks,
        reason,
        undecided,
    }
}

/// The size of a maximum matching of signers (rows, each listing the
/// identity indices it may fill) to identities (Kuhn's augmenting paths).
pub(crate) fn max_matching(rows: &[Vec<usize>]) -> usize {
    let width = rows.iter().flatten().max().map_or(0, |m| m + 1);
    let mut owner: Vec<Option<usize>> = vec![None; width];
    let mut count = 0;
    for row in 0..rows.len() {
        let mut seen = vec![false; width];
        if augment(row, rows, &mut owner, &mut seen) {
            count += 1;
        }
    }
    count
}

fn augment(
    row: usize,
    rows: &[Vec<usize>],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &col in rows.get(row).map_or(&[][..], Vec::as_slice) {
        if seen.get(col).copied().unwrap_or(true) {
            continue;
        }
        if let Some(s) = seen.get_mut(col) {
            *s = true;
        }
        let current = owner.get(col).copied().flatten();
        let free = match current {
            None => true,
            Some(other) => augment(other, rows, owner, seen),
        };
        if free {
            if let Some(o) = owner.get_mut(col) {
                *o = Some(row);
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests;
