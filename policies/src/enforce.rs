//! Verifying a model under a policy set.
//!
//! 1. **select**: the model's canonical path picks one policy (the most
//!    specific scope); none: rejected ([`Error::NoPolicy`]).
//! 2. **skip**: a `skip` policy accepts without reading any signature.
//! 3. **facts**: the verifier gathers the facts about each bundle
//!    ([`modelseal_verifier::facts`]: every step on its own, so a logged one
//!    is reported even when another fails); the policy reads them.
//! 4. **files**: for each signature that passes every other enforced check,
//!    the model is checked against its signed manifest (hashed once per
//!    distinct manifest) by the verifier ([`check_model_with`], or the
//!    gate), which returns its [`Verified`] proof.
//! 5. **decide**: [`crate::evaluate::decide`], a pure function of the facts.
//!
//! Success is an [`Approval`], which only this module makes, holding the
//! verifier's [`Verified`] proofs of the files.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use modelseal_manifest::WalkOptions;
use modelseal_manifest::{HashOptions, Inspect};
use modelseal_manifest::{Manifest, SignatureAlgorithm};
use modelseal_scan::ContentCheck;
use modelseal_verifier::{Authenticated, CertInfo, Report, Verified};
use modelseal_verifier::{check_model_with, walk_options};

use crate::content::{ContentRules, ContentVerdict};
use crate::document::PolicySet;
use crate::error::Error;
use crate::evaluate::{self, CheckName, CheckResult, Decision, Fact, SignatureFacts};
use crate::facts::{self, Found};
use crate::level::{Actions, Category, Level};
use crate::scope::ModelPath;

/// One signature to check.
#[derive(Debug, Clone, Copy)]
pub struct SignatureInput<'a> {
    /// Its name in reports (usually the file path).
    pub label: &'a str,
    /// Its file, left out of the model when it lies inside it.
    pub path: Option<&'a Path>,
    /// The bundle bytes.
    pub bytes: &'a [u8],
}

/// A signature bundle read from its file and owned: what a caller keeps
/// while [`verify`] borrows it as a [`SignatureInput`] named by its path.
#[derive(Debug, Clone)]
pub struct SignatureFile {
    label: String,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl SignatureFile {
    /// The bundle `bytes` read from `path`; reports name it by the path.
    pub fn new(path: PathBuf, bytes: Vec<u8>) -> Self {
        Self {
            label: path.display().to_string(),
            path,
            bytes,
        }
    }

    /// As [`verify`] takes it: labelled by its path, and left out of the
    /// model when it lies inside it.
    pub fn input(&self) -> SignatureInput<'_> {
        SignatureInput {
            label: &self.label,
            path: Some(&self.path),
            bytes: &self.bytes,
        }
    }
}

/// How to verify. Build with [`VerifyOptions::new`].
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct VerifyOptions<'a> {
    /// The verification time (certificate validity, CRL freshness); the
    /// caller reads the clock.
    pub time: SystemTime,
    /// Hashing threads, buffer, progress.
    pub hash: HashOptions<'a>,
}

impl<'a> VerifyOptions<'a> {
    /// Verify at `time` with default hashing.
    pub fn new(time: SystemTime) -> VerifyOptions<'a> {
        VerifyOptions {
            time,
            hash: HashOptions::default(),
        }
    }
}

/// What one signature turned out to be.
#[derive(Debug, Clone)]
pub struct SignatureSummary {
    /// Its label.
    pub label: String,
    /// The signing certificate, if the bundle carried one that parsed.
    pub leaf: Option<CertInfo>,
    /// The root the chain validated to.
    pub root: Option<String>,
    /// The signature algorithm, if it could be determined.
    pub algorithm: Option<SignatureAlgorithm>,
    /// The trusted identities the signer matched.
    pub identities: Vec<String>,
    /// The subject digest of its signed manifest (hex): present whenever
    /// the signature verified with the signer's own key and its statement
    /// parsed, whether or not the policy accepted it.
    pub subject_digest: Option<String>,
    /// Whether it passed every enforced check.
    pub accepted: bool,
    /// The time verified evidence (a timestamp from a TSA the policy
    /// trusts) proves the signature existed at, which certificate validity
    /// was checked at; `None`: checked at the verification time.
    pub signed_at: Option<modelseal_verifier::VerifiedTime>,
}

/// Proof that a model was accepted under a policy. Only [`verify`] and
/// [`verify_with`] make one, and only from the verifier's own [`Verified`]
/// proofs of the model's files.
///
/// ```compile_fail,E0451
/// // An approval cannot be made outside this crate.
/// let forged = modelseal_policies::Approval { policy: String::new(), verified: Vec::new() };
/// ```
#[derive(Debug, Clone)]
pub struct Approval {
    policy: String,
    verified: Vec<Verified>,
}

impl Approval {
    /// The policy that accepted the model.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// The verifier's proofs that the model's files matched each accepted
    /// manifest (none under a `skip` policy).
    pub fn verified(&self) -> &[Verified] {
        &self.verified
    }
}

/// Everything a policy verification found.
#[derive(Debug, Clone)]
pub struct PolicyOutcome {
    /// The canonical model path.
    pub model: ModelPath,
    /// The policy applied.
    pub policy: String,
    /// The scope that selected it, as written.
    pub scope: String,
    /// The policy's level.
    pub level: Level,
    /// The action for each category.
    pub actions: Actions,
    /// Distinct trusted signers required.
    pub required: usize,
    /// Each signature, in the order given.
    pub signatures: Vec<SignatureSummary>,
    /// The decision and every check behind it.
    pub decision: Decision,
    /// What the policy's content rules concluded (none without a
    /// `content` section).
    pub content: Option<ContentVerdict>,
    approval: Option<Approval>,
}

impl PolicyOutcome {
    /// The approval, if the model was accepted.
    pub fn approval(&self) -> Option<&Approval> {
        self.approval.as_ref()
    }
}

/// Verify the model at `model` against `signatures` under `set` (steps
/// 1–5).
///
/// # Errors
/// [`Error::ModelPath`] when the model path cannot be resolved,
/// [`Error::NoPolicy`] when no policy applies (a rejection). Everything
/// else, including unreadable model files, is in the outcome.
pub fn verify(
    set: &PolicySet,
    model: &Path,
    signatures: &[SignatureInput<'_>],
    opts: &VerifyOptions<'_>,
) -> Result<PolicyOutcome, Error> {
    let mut check = |auth: Authenticated, walk: &WalkOptions, inspect: Option<&dyn Inspect>| {
        let mut report = Report::default();
        let hash = HashOptions {
            inspect,
            ..opts.hash
        };
        check_model_with(auth, model, walk, &hash, &mut report)
    };
    verify_with(set, model, signatures, opts, &mut check)
}

/// Checks a model's files against one manifest whose signature the
/// verifier checked (steps 6–7), given the walk options to list it with
/// and, under a policy with a `content` section, the content check to run
/// in the same read ([`HashOptions::inspect`]); returns the verifier's
/// [`Verified`] proof. A proof for another manifest is refused.
pub type FilesCheck<'c> = dyn FnMut(
        Authenticated,
        &WalkOptions,
        Option<&dyn Inspect>,
    ) -> Result<Verified, modelseal_verifier::Error>
    + 'c;

/// [`verify`] with the file check supplied by the caller: the gate passes
/// one that hashes each file once while sealing its bytes, so a model
/// verified under a policy is also read only once. `check` runs once per
/// distinct manifest that could count towards the decision.
///
/// # Errors
/// As [`verify`].
pub fn verify_with(
    set: &PolicySet,
    model: &Path,
    signatures: &[SignatureInput<'_>],
    opts: &VerifyOptions<'_>,
    check: &mut FilesCheck<'_>,
) -> Result<PolicyOutcome, Error> {
    // 1. select
    let (resolved, selection) = set.select_path(model)?;
    let policy = selection.policy;
    let actions = policy.actions();
    let mut outcome = PolicyOutcome {
        model: resolved,
        policy: policy.name().to_owned(),
        scope: selection.scope.text().to_owned(),
        level: policy.level(),
        actions,
        required: policy.required_signatures(),
        signatures: Vec::new(),
        decision: evaluate::decide(&actions, 0, &[]),
        content: None,
        approval: None,
    };

    // 2. skip
    if policy.level() == Level::Skip {
        outcome.decision = evaluate::decide(&actions, 0, &[]);
        outcome.decision.accepted = true;
        outcome.decision.reason = None;
        outcome.approval = Some(Approval {
            policy: policy.name().to_owned(),
            verified: Vec::new(),
        });
        return Ok(outcome);
    }

    // 3. facts
    let now = opts.time;
    let mut all: Vec<(SignatureFacts, Found)> = signatures
        .iter()
        .map(|s| facts::gather(&selection, s.label, s.bytes, now))
        .collect();

    // 4. files, once per distinct manifest; content in the same read
    let content = policy
        .content()
        .map(|rules| (rules, ContentCheck::new(rules.scan_config())));
    let mut scanned: Option<modelseal_scan::Report> = None;
    let mut checked: Vec<(Manifest, Fact, Option<Verified>)> = Vec::new();
    for (f, found) in &mut all {
        if !evaluate::candidate(&actions, f) {
            continue;
        }
        let Some(signed) = found.facts.signed() else {
            continue;
        };
        if let Some((_, fact, _)) = checked.iter().find(|(m, ..)| m == signed.manifest()) {
            f.files = fact.clone();
            continue;
        }
        let manifest = signed.manifest().clone();
        let inspect = content.as_ref().map(|(_, c)| c as &dyn Inspect);
        let (fact, verified) = files(signed, model, signatures, check, inspect);
        if let Some((_, c)) = &content {
            // The content facts are those of the read that verified.
            let report = c.take_report();
            if verified.is_some() && scanned.is_none() {
                scanned = Some(report);
            }
        }
        f.files = fact.clone();
        checked.push((manifest, fact, verified));
    }

    // 5. decide
    let facts: Vec<SignatureFacts> = all.iter().map(|(f, _)| f.clone()).collect();
    let mut decision = evaluate::decide(&actions, policy.required_signatures(), &facts);
    if let Some((rules, _)) = &content {
        outcome.content = judge_content(rules, scanned.as_ref(), &mut decision);
    }
    outcome.signatures = all
        .into_iter()
        .zip(&decision.signatures)
        .map(|((f, found), accepted)| SignatureSummary {
            label: f.label,
            leaf: found.leaf().cloned(),
            root: found.facts.trust().root.clone(),
            algorithm: found.facts.algorithm(),
            subject_digest: found.facts.manifest().map(|m| m.subject_digest().to_hex()),
            signed_at: crate::timestamps::signed_at(&found.facts),
            identities: found.identities,
            accepted: *accepted,
        })
        .collect();
    if decision.accepted {
        outcome.approval = Some(Approval {
            policy: policy.name().to_owned(),
            verified: checked
                .into_iter()
                .filter(|(_, fact, _)| fact.status == modelseal_verifier::Status::Pass)
                .filter_map(|(_, _, v)| v)
                .collect(),
        });
    }
    outcome.decision = decision;
    Ok(outcome)
}

/// Violations listed in a check's detail at most.
const MAX_LISTED: usize = 20;

/// The content check: decided over the scan of the verified read, added
/// to the decision's checks; under `enforce` a violation rejects.
fn judge_content(
    rules: &ContentRules,
    report: Option<&modelseal_scan::Report>,
    decision: &mut Decision,
) -> Option<ContentVerdict> {
    use modelseal_verifier::Status;
    let Some(report) = report else {
        // No file check verified: there is no content to judge, and the
        // model is already rejected for it.
        decision.checks.push(CheckResult {
            name: CheckName::Content,
            signature: None,
            category: Category::Integrity,
            level: rules.action(),
            outcome: Status::Skipped,
            detail: "not scanned: no signed manifest's files were verified".into(),
        });
        return None;
    };
    let verdict = rules.judge(report);
    let n = verdict.violations.len();
    let (outcome, detail) = if n == 0 {
        let allowed = rules.formats().map_or_else(String::new, |f| {
            let names: Vec<&str> = f.iter().map(|f| f.name()).collect();
            format!(", only allowed formats ({})", names.join(", "))
        });
        (
            Status::Pass,
            format!("{} files scanned: nothing unsafe{allowed}", verdict.files),
        )
    } else {
        let mut listed: Vec<&str> = verdict
            .violations
            .iter()
            .take(MAX_LISTED)
            .map(String::as_str)
            .collect();
        let more = n.saturating_sub(MAX_LISTED);
        let tail = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        listed.dedup();
        (
            Status::Fail,
            format!("{n} unsafe: {}{tail}", listed.join("; ")),
        )
    };
    if verdict.rejects() && decision.accepted {
        decision.accepted = false;
        decision.reason = Some(format!("unsafe content: {detail}"));
    }
    decision.checks.push(CheckResult {
        name: CheckName::Content,
        signature: None,
        category: Category::Integrity,
        level: rules.action(),
        outcome,
        detail,
    });
    Some(verdict)
}

/// Step 4 for one manifest: the verifier's proof, or why not.
fn files(
    signed: Authenticated,
    model: &Path,
    signatures: &[SignatureInput<'_>],
    check: &mut FilesCheck<'_>,
    inspect: Option<&dyn Inspect>,
) -> (Fact, Option<Verified>) {
    let manifest = signed.manifest().clone();
    let mut walk = walk_options(&manifest, model, None);
    for s in signatures {
        if let Some(rel) = s
            .path
            .and_then(|p| modelseal_manifest::relative_inside(model, p))
        {
            walk.ignore_paths.push(rel);
        }
    }
    match check(signed, &walk, inspect) {
        Ok(v) if v.authenticated().manifest() == &manifest => (
            Fact::pass(format!(
                "{} resources, {} bytes: exactly the signed files, every digest matches",
                manifest.len(),
                v.bytes()
            )),
            Some(v),
        ),
        Ok(_) => (
            Fact::input("the file check returned a proof for another manifest"),
            None,
        ),
        Err(e) if e.is_rejection() => (Fact::fail(e.to_string()), None),
        Err(e) => (Fact::input(e.to_string()), None),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::SignatureFile;

    #[test]
    fn a_signature_file_is_named_and_left_out_by_its_path() {
        let file = SignatureFile::new(PathBuf::from("models/demo/model.sig"), b"{}".to_vec());
        let input = file.input();
        assert_eq!(input.label, "models/demo/model.sig");
        assert_eq!(input.path, Some(Path::new("models/demo/model.sig")));
        assert_eq!(input.bytes, b"{}");
    }
}
