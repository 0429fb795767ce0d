//! Verifying a model under a policy set.
//!
//! 1. **select**: the model's canonical path picks one policy (the most
//!    specific scope); none: rejected ([`Error::NoPolicy`]).
//! 2. **skip**: a `skip` policy accepts without reading any signature.
//! 3. **facts**: each bundle is checked on its own (see `facts.rs`: every
//!    check runs independently, so a logged one is reported even when
//!    another fails).
//! 4. **files**: for each signature that passes every other enforced check,
//!    the model is checked against its signed manifest (hashed once per
//!    distinct manifest) with the verifier's [`check_files`].
//! 5. **decide**: [`crate::evaluate::decide`], a pure function of the facts.
//!
//! Success is an [`Approval`], which only this module makes.

use std::path::Path;
use std::time::SystemTime;

use modelseal_manifest::engine::HashOptions;
use modelseal_manifest::walk::{self, WalkOptions};
use modelseal_manifest::{Manifest, SignatureAlgorithm};
use modelseal_verifier::verify::{check_files, walk_options};
use modelseal_verifier::{CertInfo, Report};

use crate::document::PolicySet;
use crate::error::Error;
use crate::evaluate::{self, Decision, Fact, SignatureFacts};
use crate::facts::{self, Found};
use crate::level::{Actions, Level};
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

/// How to verify.
#[derive(Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// The verification time (certificate validity, CRL freshness).
    pub time: Option<SystemTime>,
    /// Hashing threads, buffer, progress.
    pub hash: HashOptions<'a>,
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
    /// The subject digest of its verified manifest (hex).
    pub subject_digest: Option<String>,
    /// Whether it passed every enforced check.
    pub accepted: bool,
}

/// Proof that a model was accepted under a policy. Only
/// [`verify`] makes one.
#[derive(Debug, Clone)]
pub struct Approval {
    policy: String,
    manifests: Vec<Manifest>,
}

impl Approval {
    /// The policy that accepted the model.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// The manifests the model's files matched (none under a `skip`
    /// policy).
    pub fn manifests(&self) -> &[Manifest] {
        &self.manifests
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
    let mut check = |manifest: &Manifest, walk: &WalkOptions, _: Option<SignatureAlgorithm>| {
        let mut report = Report::default();
        check_files(manifest, model, walk, &opts.hash, &mut report)
    };
    verify_with(set, model, signatures, opts, &mut check)
}

/// Checks a model's files against one authenticated manifest (steps 6–7),
/// given the walk options to list it with and the algorithm of a signature
/// over that manifest; returns the bytes hashed.
pub type FilesCheck<'c> = dyn FnMut(
        &Manifest,
        &WalkOptions,
        Option<SignatureAlgorithm>,
    ) -> Result<u64, modelseal_verifier::Error>
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
        approval: None,
    };

    // 2. skip
    if policy.level() == Level::Skip {
        outcome.decision = evaluate::decide(&actions, 0, &[]);
        outcome.decision.accepted = true;
        outcome.decision.reason = None;
        outcome.approval = Some(Approval {
            policy: policy.name().to_owned(),
            manifests: Vec::new(),
        });
        return Ok(outcome);
    }

    // 3. facts
    let now = opts.time.unwrap_or_else(SystemTime::now);
    let mut all: Vec<(SignatureFacts, Found)> = signatures
        .iter()
        .map(|s| facts::gather(policy, s.label, s.bytes, now))
        .collect();

    // 4. files, once per distinct manifest
    let mut checked: Vec<(Manifest, Fact)> = Vec::new();
    for (f, found) in &mut all {
        if !evaluate::candidate(&actions, f) {
            continue;
        }
        let Some(manifest) = &found.manifest else {
            continue;
        };
        if let Some((_, fact)) = checked.iter().find(|(m, _)| m == manifest) {
            f.files = fact.clone();
            continue;
        }
        let fact = files(manifest, model, signatures, found.algorithm, check);
        f.files = fact.clone();
        checked.push((manifest.clone(), fact));
    }

    // 5. decide
    let facts: Vec<SignatureFacts> = all.iter().map(|(f, _)| f.clone()).collect();
    let decision = evaluate::decide(&actions, policy.required_signatures(), &facts);
    outcome.signatures = all
        .into_iter()
        .zip(&decision.signatures)
        .map(|((f, found), accepted)| SignatureSummary {
            label: f.label,
            leaf: found.leaf,
            root: found.root,
            algorithm: found.algorithm,
            identities: found.identities,
            subject_digest: found.manifest.as_ref().map(|m| m.subject_digest().to_hex()),
            accepted: *accepted,
        })
        .collect();
    if decision.accepted {
        outcome.approval = Some(Approval {
            policy: policy.name().to_owned(),
            manifests: checked
                .into_iter()
                .filter(|(_, fact)| fact.status == modelseal_verifier::Status::Pass)
                .map(|(m, _)| m)
                .collect(),
        });
    }
    outcome.decision = decision;
    Ok(outcome)
}

/// Step 4 for one manifest.
fn files(
    manifest: &Manifest,
    model: &Path,
    signatures: &[SignatureInput<'_>],
    algorithm: Option<SignatureAlgorithm>,
    check: &mut FilesCheck<'_>,
) -> Fact {
    let mut walk = walk_options(manifest, model, None);
    for s in signatures {
        if let Some(rel) = s.path.and_then(|p| walk::relative_inside(model, p)) {
            walk.ignore_paths.push(rel);
        }
    }
    match check(manifest, &walk, algorithm) {
        Ok(bytes) => Fact::pass(format!(
            "{} resources, {bytes} bytes: exactly the signed files, every digest matches",
            manifest.len()
        )),
        Err(e) if e.is_rejection() => Fact::fail(e.to_string()),
        Err(e) => Fact::input(e.to_string()),
    }
}
