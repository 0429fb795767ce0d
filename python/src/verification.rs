//! `modelseal.verify`: the whole verification (signature, trust, identity
//! or policy, every file and digest) with the GIL released, and its result
//! as a `Verification`.

use std::collections::BTreeMap;

use modelseal_manifest::HashOptions;
use modelseal_policies::{Action, PolicyOutcome, PolicySet, SignatureFile, VerifyOptions};
use modelseal_verifier::{Authenticated, Verified};
use modelseal_verifier::{Report, Status};
use pyo3::prelude::*;

use crate::errors::{Failure, Raise};
use crate::inputs::{self, Request, Source};

/// One check of a verification and how it went.
#[pyclass(frozen, get_all, module = "modelseal._native")]
#[derive(Debug, Clone)]
pub(crate) struct Check {
    /// Which check (`bundle`, `trust`, `signature`, `statement`,
    /// `identity`, `files`, `digests`; under a policy also `chain`,
    /// `algorithm`, `expiry`, `revocation`, `quorum`).
    pub(crate) name: String,
    /// `pass`, `fail`, `skipped` or `not run`.
    pub(crate) status: String,
    /// What held, or why not.
    pub(crate) detail: String,
    /// Under a policy: the index of the signature it is about.
    pub(crate) signature: Option<usize>,
}

#[pymethods]
impl Check {
    fn __repr__(&self) -> String {
        format!("<Check {} {}: {}>", self.name, self.status, self.detail)
    }
}

impl From<&modelseal_verifier::Check> for Check {
    fn from(c: &modelseal_verifier::Check) -> Self {
        Check {
            name: c.name.as_str().to_owned(),
            status: c.status.to_string(),
            detail: c.detail.clone(),
            signature: None,
        }
    }
}

impl From<&modelseal_policies::CheckResult> for Check {
    fn from(c: &modelseal_policies::CheckResult) -> Self {
        Check {
            name: c.name.as_str().to_owned(),
            status: c.outcome.to_string(),
            detail: if c.level == Action::Enforce {
                c.detail.clone()
            } else {
                format!("{} ({} only)", c.detail, c.level)
            },
            signature: c.signature,
        }
    }
}

/// A model that verified: who signed it, with what, and every file.
#[pyclass(frozen, get_all, module = "modelseal._native")]
#[derive(Debug, Clone)]
pub(crate) struct Verification {
    /// The model path as given.
    pub(crate) path: String,
    /// `certificate`, `key`, `keyless` (Sigstore) or `policy`.
    pub(crate) signer_kind: String,
    /// Who signed: the certificate subject and SANs, the key's SHA-256, or
    /// the signers a policy accepted.
    pub(crate) signer: String,
    /// The required identity the signer matched, if one was required.
    pub(crate) identity: Option<String>,
    /// The signature algorithm (`ecdsa-p256-sha256`, ...); under a policy,
    /// that of the first accepted signature.
    pub(crate) algorithm: Option<String>,
    /// The policy that accepted the model, under a policy.
    pub(crate) policy: Option<String>,
    /// The signed manifest's subject digest (`sha256:...`).
    pub(crate) subject_digest: Option<String>,
    /// Every signed resource (a file, or `file:start:end` for a shard) and
    /// its digest (`sha256:...`).
    pub(crate) files: BTreeMap<String, String>,
    /// Bytes hashed; `None` under a policy (its decision does not count
    /// them) and for `open_model`, which hashes each file as it is read.
    pub(crate) bytes: Option<u64>,
    /// Every check, in order.
    pub(crate) checks: Vec<Check>,
}

#[pymethods]
impl Verification {
    fn __repr__(&self) -> String {
        format!(
            "<Verification {} signer={:?} files={}>",
            self.path,
            self.signer,
            self.files.len()
        )
    }
}

impl Verification {
    /// From the verifier's proof and report.
    pub(crate) fn from_verified(path: &std::path::Path, v: &Verified, report: &Report) -> Self {
        let mut out = Self::from_authenticated(path, v.authenticated(), report);
        out.bytes = Some(v.bytes());
        out
    }

    /// From an authenticated manifest (the files not hashed yet).
    pub(crate) fn from_authenticated(
        path: &std::path::Path,
        a: &Authenticated,
        report: &Report,
    ) -> Self {
        Verification {
            path: path.display().to_string(),
            signer_kind: a.signed_by().signer().kind().into(),
            signer: a.signed_by().signer().describe(),
            identity: a.signed_by().identity().map(ToString::to_string),
            algorithm: Some(a.signed_by().algorithm().to_string()),
            policy: None,
            subject_digest: Some(a.manifest().subject_digest().to_string()),
            files: a
                .manifest()
                .resources()
                .map(|(k, d)| (k.name(), d.to_string()))
                .collect(),
            bytes: None,
            checks: report.checks.iter().map(Check::from).collect(),
        }
    }

    /// From a policy decision that accepted the model.
    pub(crate) fn from_policy(path: &std::path::Path, o: &PolicyOutcome) -> Self {
        let accepted: Vec<_> = o.signatures.iter().filter(|s| s.accepted).collect();
        let signers: Vec<String> = accepted
            .iter()
            .map(|s| {
                let who = s
                    .leaf
                    .as_ref()
                    .map_or_else(|| s.label.clone(), |leaf| leaf.subject.to_string());
                if s.identities.is_empty() {
                    who
                } else {
                    format!("{who} ({})", s.identities.join(", "))
                }
            })
            .collect();
        let verified = o.approval().and_then(|a| a.verified().first());
        let manifest = verified.map(|v| v.authenticated().manifest());
        Verification {
            path: path.display().to_string(),
            signer_kind: "policy".into(),
            signer: format!(
                "policy {:?} ({}): {} of {} required signers [{}]",
                o.policy,
                o.level,
                o.decision.signers,
                o.required,
                signers.join("; ")
            ),
            identity: accepted
                .iter()
                .flat_map(|s| s.identities.first())
                .next()
                .cloned(),
            algorithm: accepted
                .iter()
                .find_map(|s| s.algorithm)
                .map(|a| a.to_string()),
            policy: Some(o.policy.clone()),
            subject_digest: manifest.map(|m| m.subject_digest().to_string()),
            files: manifest
                .map(|m| {
                    m.resources()
                        .map(|(k, d)| (k.name(), d.to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            bytes: verified.map(Verified::bytes),
            checks: o.decision.checks.iter().map(Check::from).collect(),
        }
    }
}

/// The hashing options for a request.
pub(crate) fn hash_options(req: &Request) -> HashOptions<'static> {
    HashOptions {
        threads: req.threads,
        ..HashOptions::default()
    }
}

/// Verify without the GIL.
fn run(req: &Request) -> Result<Verification, Failure> {
    let time = req.time()?;
    match req.source()? {
        Source::Bundle(trust) => {
            let signature = req.signature();
            let evidence = inputs::evidence(&trust);
            let opts = inputs::options(
                &trust,
                &evidence,
                time,
                signature,
                &req.model_names,
                hash_options(req),
            );
            let mut report = Report::default();
            let bundle = inputs::bundle(signature, &mut report)?;
            let outcome = modelseal_verifier::verify(&req.model, &bundle, &opts);
            match &outcome.result {
                Ok(v) => Ok(Verification::from_verified(&req.model, v, &outcome.report)),
                Err(e) => Err(Failure::from_verifier(e, &outcome.report)),
            }
        }
        Source::Policy(path) => run_policy(req, &path, time),
    }
}

/// The bundles a policy verification reads.
pub(crate) fn read_bundles(req: &Request) -> Result<Vec<SignatureFile>, Failure> {
    req.signatures
        .iter()
        .map(|path| {
            let mut report = Report::default();
            Ok(SignatureFile::new(
                path.clone(),
                inputs::bundle(path, &mut report)?,
            ))
        })
        .collect()
}

/// Why a policy did not accept the model.
pub(crate) fn policy_failure(outcome: &PolicyOutcome) -> Failure {
    let d = &outcome.decision;
    let check = d
        .checks
        .iter()
        .find(|c| c.outcome == Status::Fail && c.level == Action::Enforce)
        .map_or("quorum", |c| c.name.as_str());
    Failure {
        class: if d.undecided {
            crate::errors::Class::Input
        } else {
            crate::errors::Class::Verification
        },
        kind: if d.undecided {
            "malformed_input"
        } else {
            "policy_rejected"
        },
        check: Some(check.to_owned()),
        reason: format!(
            "rejected under policy {:?}: {}",
            outcome.policy,
            d.reason.clone().unwrap_or_default()
        ),
        checks: d.checks.iter().map(Check::from).collect(),
    }
}

fn run_policy(
    req: &Request,
    policy: &std::path::Path,
    time: std::time::SystemTime,
) -> Result<Verification, Failure> {
    let set = PolicySet::load(policy).map_err(|e| Failure::from_policy(&e))?;
    let bundles = read_bundles(req)?;
    let signatures: Vec<_> = bundles.iter().map(SignatureFile::input).collect();
    let mut opts = VerifyOptions::new(time);
    opts.hash = hash_options(req);
    let outcome = modelseal_policies::verify(&set, &req.model, &signatures, &opts)
        .map_err(|e| Failure::from_policy(&e))?;
    if outcome.decision.accepted {
        Ok(Verification::from_policy(&req.model, &outcome))
    } else {
        Err(policy_failure(&outcome))
    }
}

/// `_native.verify(request)`: see `modelseal.verify`.
#[pyfunction]
pub(crate) fn verify(py: Python<'_>, request: Request) -> PyResult<Verification> {
    py.detach(|| run(&request)).raise(py)
}
