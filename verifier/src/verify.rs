//! Verifying a model against an OMS bundle.
//!
//! The checks, in order (the numbers are reused below):
//! 1. **bundle**: the bundle parses strictly ([`Bundle::from_json`]).
//! 2. **trust**: the signing key is trusted. Certificate mode: the chain
//!    validates to one of the given roots at the verification time, for code
//!    signing ([`crate::chain`]). Key mode: the bundle is for the given key
//!    (its key hint, when present, must name that key).
//! 3. **signature**: the DSSE signature verifies over the PAE of the exact
//!    payload bytes, with the algorithm the bundle names (or the one the key
//!    implies).
//! 4. **statement**: the payload is a well-formed OMS v1.0 statement whose
//!    subject digest matches its resources.
//! 5. **identity**: the leaf certificate is one of the required identities.
//! 6. **files**: the model holds exactly the signed files (no missing, no
//!    extra, nothing renamed), under the signed serialization rules.
//! 7. **digests**: every file (or shard) hashes to its signed digest.
//!
//! Each step runs only if every earlier one passed. Success is a
//! [`Verified`] value, which only this module can make.

use std::path::Path;
use std::time::SystemTime;

use modelseal_manifest::{
    Bundle, HashOptions, Manifest, ManifestDiff, Method, ModelFiles, ResourceKey, ResourcePath,
    SignatureAlgorithm, WalkOptions,
};

use crate::cert::CertInfo;
use crate::error::Error;
use crate::evidence::{Evidence, EvidenceKind, EvidenceSource};
use crate::facts::{self, Finding, Inputs, ParsedBundle, SignatureFacts};
use crate::identity::{Identity, IdentityRequirement};
use crate::report::{CheckName, Report, Status};
use crate::trust::TrustSource;

/// How to verify. Build with [`Options::new`], then set what differs.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Options<'a> {
    /// Who is trusted: roots, a key, or another [`TrustSource`].
    pub trust: &'a dyn TrustSource,
    /// Sources of timestamps and transparency-log evidence (none by
    /// default).
    pub evidence: &'a [&'a dyn EvidenceSource],
    /// Which signers are accepted: chosen by the caller, never implied.
    pub identity: IdentityRequirement<'a>,
    /// The verification time: certificates must be valid at it unless
    /// verified evidence establishes an earlier signing time.
    pub time: SystemTime,
    /// The signature file, left out of the model if it lies inside it.
    pub signature_file: Option<&'a Path>,
    /// The subject names the signed statement may carry (any of them);
    /// empty allows any. A model signed under another name is rejected:
    /// without this, one signed model can stand in for another signed by
    /// the same signer.
    pub model_names: &'a [String],
    /// The name of the file verified, when the model is one file (see
    /// [`Inputs::artifact`]).
    pub artifact: Option<&'a str>,
    /// More paths inside the model left out of the check (`verify
    /// --ignore`, model_signing's `--ignore-paths`): files the signer left
    /// out must be left out here too, or they count as extra.
    pub ignore: &'a [ResourcePath],
    /// Hashing threads, buffer, progress.
    pub hash: HashOptions<'a>,
}

impl<'a> Options<'a> {
    /// Verify against `trust`, accepting the signers `identity` names, at
    /// `time`; no evidence, default hashing.
    pub fn new(
        trust: &'a dyn TrustSource,
        identity: IdentityRequirement<'a>,
        time: SystemTime,
    ) -> Options<'a> {
        Options {
            trust,
            evidence: &[],
            identity,
            time,
            signature_file: None,
            model_names: &[],
            artifact: None,
            ignore: &[],
            hash: HashOptions::default(),
        }
    }

    /// The walk options for `auth`'s model at `model`: the signed rules,
    /// the signature file and [`Options::ignore`] left out.
    pub fn walk(&self, auth: &Authenticated, model: &Path) -> WalkOptions {
        let mut walk = walk_options(&auth.manifest, model, self.signature_file);
        walk.ignore_paths.extend(self.ignore.iter().cloned());
        walk
    }

    /// The pipeline inputs these options give.
    pub fn inputs(&self) -> Inputs<'a> {
        let mut inputs = Inputs::new(Some(self.trust), self.identity, self.time);
        inputs.evidence = self.evidence;
        inputs.model_names = self.model_names;
        inputs.artifact = self.artifact;
        inputs
    }
}

/// Who signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signer {
    /// A certificate (that chains to a trusted root when the signature is
    /// trusted, see [`Authenticated::is_trusted`]).
    Certificate {
        /// The signing certificate.
        leaf: Box<CertInfo>,
        /// Intermediates used to reach the root (those the bundle carries
        /// when no chain validated).
        intermediates: Vec<CertInfo>,
        /// The root's subject; empty when no chain validated.
        root_subject: String,
    },
    /// The given public key.
    Key {
        /// SHA-256 of its SubjectPublicKeyInfo DER, hex.
        spki_sha256: String,
    },
    /// A Sigstore keyless signer: a short-lived Fulcio certificate that
    /// chains to a Fulcio CA of the trusted root at every verified time.
    Keyless(KeylessSigner),
}

/// A Sigstore keyless signer ([`Signer::Keyless`]). Only the verifier
/// makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeylessSigner {
    /// The Fulcio certificate.
    pub leaf: Box<CertInfo>,
    /// Its OIDC issuer and identities.
    pub identity: modelseal_sigstore::CertIdentity,
    /// The Fulcio CA it chains to (its URI in the trusted root).
    pub ca: String,
    /// The CT log whose SCT verified.
    pub ct_log: String,
    /// The trusted root's label (`public-good` or the file given).
    pub trusted_root: String,
}

impl Signer {
    /// The kind of signer, as `--json` output and the Python package name
    /// it: `certificate`, `key` or `keyless`.
    pub fn kind(&self) -> &'static str {
        match self {
            Signer::Certificate { .. } => "certificate",
            Signer::Key { .. } => "key",
            Signer::Keyless(_) => "keyless",
        }
    }

    /// A one-line description: the leaf's subject and SANs, or the key hash.
    pub fn describe(&self) -> String {
        match self {
            Signer::Certificate { leaf, .. } => {
                let sans: Vec<String> = leaf.sans.iter().map(ToString::to_string).collect();
                if sans.is_empty() {
                    leaf.subject.to_string()
                } else {
                    format!("{} ({})", leaf.subject, sans.join(", "))
                }
            }
            Signer::Key { spki_sha256 } => format!("public key sha256:{spki_sha256}"),
            Signer::Keyless(k) => format!("keyless {}", k.identity),
        }
    }

    /// Why this signer is trusted, for the report's `trust` check.
    pub fn trust_detail(&self) -> String {
        match self {
            Signer::Certificate {
                leaf, root_subject, ..
            } => format!(
                "certificate {} chains to trusted root {root_subject}, valid until {}",
                leaf.subject,
                crate::report::rfc3339(leaf.not_after)
            ),
            Signer::Key { spki_sha256 } => {
                format!("signed by the given public key (sha256:{spki_sha256})")
            }
            Signer::Keyless(k) => format!(
                "keyless certificate for {} chains to Fulcio CA {} of trusted root {} at every verified time (valid {} to {}); SCT from {}",
                k.identity,
                k.ca,
                k.trusted_root,
                crate::report::rfc3339(k.leaf.not_before),
                crate::report::rfc3339(k.leaf.not_after),
                k.ct_log
            ),
        }
    }

    /// The leaf certificate, in certificate mode.
    pub fn leaf(&self) -> Option<&CertInfo> {
        match self {
            Signer::Certificate { leaf, .. } => Some(leaf),
            Signer::Keyless(k) => Some(&k.leaf),
            Signer::Key { .. } => None,
        }
    }
}

/// Who made a signature that verified, with which algorithm, and the
/// required identity they matched: for a bundle ([`Authenticated`]) and for
/// a raw signature ([`crate::DetachedVerified`], [`crate::ChecksumsVerified`])
/// alike. Only this crate makes one.
#[derive(Debug, Clone)]
pub struct SignedBy {
    pub(crate) signer: Signer,
    pub(crate) algorithm: SignatureAlgorithm,
    pub(crate) identity: Option<Identity>,
}

impl SignedBy {
    /// Who signed.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The required identity the signer matched, if one was required.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }
}

/// On what grounds an [`Authenticated`] manifest was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    /// Every step of the verifier passed: trust, signature, statement,
    /// identity.
    Verifier,
    /// The signature verified with the signer's own key; trust is for a
    /// policy to decide over the facts.
    SignatureOnly,
}

/// A manifest whose signature verified (steps 1–5, or for a trust policy
/// the signature and statement with trust left to its decision). The model
/// on disk has not been checked yet: pass it to [`check_model`] (or the
/// gate) before using any file. Only this crate makes one.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub(crate) manifest: Manifest,
    pub(crate) signed_by: SignedBy,
    pub(crate) basis: Basis,
    pub(crate) signed_at: Option<crate::evidence::VerifiedTime>,
}

impl Authenticated {
    /// The signed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Who signed, how, and the required identity they matched.
    pub fn signed_by(&self) -> &SignedBy {
        &self.signed_by
    }

    /// Whether every step of the verifier passed (trust and identity
    /// included). False for a manifest handed to a trust policy whose
    /// signer's trust is the policy's to decide
    /// ([`SignatureFacts::signed`]).
    pub fn is_trusted(&self) -> bool {
        self.basis == Basis::Verifier
    }

    /// The time verified evidence (an RFC 3161 timestamp, a transparency
    /// log's integrated time) proves the signature existed at, which the
    /// signing certificate's validity was checked at; `None` when it was
    /// checked at the verification time.
    pub fn signed_at(&self) -> Option<&crate::evidence::VerifiedTime> {
        self.signed_at.as_ref()
    }
}

/// A model whose files all matched an authenticated manifest (steps 1–7).
/// Only this crate makes one: [`verify`], [`check_model`] and the gate.
#[derive(Debug, Clone)]
pub struct Verified {
    authenticated: Authenticated,
    bytes: u64,
}

impl Verified {
    /// Only the verifier's own steps (here and in [`crate::gate`]) make one.
    pub(crate) fn new(authenticated: Authenticated, bytes: u64) -> Self {
        Self {
            authenticated,
            bytes,
        }
    }

    /// The authenticated manifest and signer.
    pub fn authenticated(&self) -> &Authenticated {
        &self.authenticated
    }

    /// Bytes hashed.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The result of [`verify`]: every check with its status, and the verdict.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// What was checked.
    pub report: Report,
    /// [`Verified`] only if every check passed.
    pub result: Result<Verified, Error>,
    /// Who signed, when the signature verified with the signer's own key,
    /// also when a later check failed (an untrusted chain, another
    /// identity, a changed file): for audit records of a refusal. `None`
    /// when the signature did not verify.
    pub signer: Option<Signer>,
}

impl Outcome {
    /// The outcome of a verification that stopped at `error` before any
    /// check passed (e.g. an unreadable bundle file): `check` failed, the
    /// rest not run.
    pub fn failed(check: CheckName, error: Error) -> Outcome {
        let mut report = Report::default();
        report.record(check, Status::Fail, error.to_string());
        report.finish();
        Outcome {
            report,
            result: Err(error),
            signer: None,
        }
    }
}

/// Read a bundle file, refusing files larger than `limit` bytes without
/// reading them whole.
///
/// # Errors
/// [`Error::Read`] for I/O errors, [`Error::Format`] when too large.
pub fn read_bundle(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let read_err = |source| Error::Read {
        what: "signature",
        path: path.to_owned(),
        source,
    };
    let file = modelseal_manifest::open_regular(path).map_err(read_err)?;
    // The size on file, so an oversized bundle is reported as it is, not as
    // the limit + 1 bytes read; the read stays bounded if it grows.
    let too_large = |size: u64| -> Error {
        modelseal_manifest::FormatError::TooLarge {
            what: "bundle",
            size,
            limit,
        }
        .into()
    };
    let size = file.metadata().map_err(read_err)?.len();
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, limit.saturating_add(1)),
        &mut bytes,
    )
    .map_err(read_err)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Verify the model at `model` against `bundle_bytes` (steps 1–7).
pub fn verify(model: &Path, bundle_bytes: &[u8], opts: &Options<'_>) -> Outcome {
    let mut report = Report::default();
    let facts = facts::gather(bundle_bytes, &opts.inputs());
    let signer = facts.verified_signer();
    let result = authenticate_facts(facts, &mut report)
        .and_then(|auth| check_model(auth, model, opts, &mut report));
    report.finish();
    Outcome {
        report,
        result,
        signer,
    }
}

/// Steps 1–5 from the bundle's bytes: gather the facts
/// ([`facts::gather`]) and require every step to pass. Nothing of the
/// model is read.
///
/// # Errors
/// The first check that fails, also recorded in `report`.
pub fn authenticate_bytes(
    bundle_bytes: &[u8],
    opts: &Options<'_>,
    report: &mut Report,
) -> Result<Authenticated, Error> {
    authenticate_facts(facts::gather(bundle_bytes, &opts.inputs()), report)
}

/// Steps 2–5 for a parsed bundle.
///
/// # Errors
/// The first check that fails, also recorded in `report`.
pub fn authenticate(
    bundle: &Bundle,
    opts: &Options<'_>,
    report: &mut Report,
) -> Result<Authenticated, Error> {
    let parsed = ParsedBundle::new(bundle.clone());
    authenticate_facts(facts::gather_parsed(parsed, &opts.inputs()), report)
}

/// The strict verdict over gathered facts: bundle, trust, signature,
/// statement and identity must each pass (identity may be skipped when none
/// is required), in that order; the first that does not is the error. Each
/// is recorded in `report` until the first failure.
///
/// # Errors
/// The first step that did not pass.
pub fn authenticate_facts(
    facts: SignatureFacts,
    report: &mut Report,
) -> Result<Authenticated, Error> {
    let signed = facts.signed();
    let at = facts.validity_time().at;
    let SignatureFacts {
        bundle,
        evidence,
        trust,
        signature,
        statement,
        identity,
        ..
    } = facts;
    report.record(CheckName::Bundle, bundle.status(), bundle.detail());
    bundle.into_result()?;
    let (tlog, stamps): (Vec<Evidence>, Vec<Evidence>) = evidence
        .into_iter()
        .filter(|e| {
            matches!(
                e.kind,
                EvidenceKind::TransparencyLog | EvidenceKind::Timestamp
            )
        })
        .partition(|e| e.kind == EvidenceKind::TransparencyLog);
    for (name, items, what) in [
        (CheckName::Tlog, tlog, None),
        (CheckName::Timestamp, stamps, Some(at)),
    ] {
        if let Some(finding) = evidence_finding(items, what) {
            report.record(name, finding.status(), finding.detail());
            finding.into_result()?;
        }
    }
    let steps: [(CheckName, Finding); 4] = [
        (CheckName::Trust, trust.trust),
        (CheckName::Signature, signature),
        (CheckName::Statement, statement),
        (CheckName::Identity, identity),
    ];
    for (name, finding) in steps {
        report.record(name, finding.status(), finding.detail());
        finding.into_result()?;
    }
    match signed {
        Some(auth) if auth.is_trusted() => Ok(auth),
        _ => Err(Error::NotRun {
            reason: "the signed manifest was not established".into(),
        }),
    }
}

/// The strict verdict over one kind of evidence: `None` when the bundle
/// carries none; else every item must have verified (a bundle carrying an
/// entry or timestamp that does not verify is refused, though a valid one
/// elsewhere would have sufficed). For timestamps (`validity_time` given)
/// the detail names the time certificate validity was checked at.
fn evidence_finding(items: Vec<Evidence>, validity_time: Option<SystemTime>) -> Option<Finding> {
    if items.is_empty() {
        return None;
    }
    let details: Vec<String> = items
        .iter()
        .map(|e| e.finding.detail().to_owned())
        .collect();
    if let Some(bad) = items.into_iter().find(|e| !e.finding.passed()) {
        return Some(bad.finding);
    }
    let mut detail = details.join("; ");
    if let Some(at) = validity_time {
        detail.push_str(&format!(
            "; certificate validity checked at {}",
            crate::report::rfc3339(crate::trust::unix(at))
        ));
    }
    Some(Finding::pass(detail))
}

pub(crate) fn method_name(m: modelseal_manifest::Method) -> String {
    match m {
        modelseal_manifest::Method::Files => "files".into(),
        modelseal_manifest::Method::Shards { shard_size } => {
            format!("shards of {shard_size} bytes")
        }
        m => format!("{m:?}"),
    }
}

/// The walk options a signed manifest implies for the model at `model`:
/// its ignore paths and symlink rule, plus the signature file if it lies
/// inside the model.
pub fn walk_options(
    manifest: &Manifest,
    model: &Path,
    signature_file: Option<&Path>,
) -> WalkOptions {
    let ser = manifest.serialization();
    let mut ignore_paths = ser.ignore_paths.clone();
    if let Some(rel) = signature_file.and_then(|s| modelseal_manifest::relative_inside(model, s)) {
        ignore_paths.push(rel);
    }
    WalkOptions {
        ignore_paths,
        allow_symlinks: ser.allow_symlinks,
        ..WalkOptions::default()
    }
}

/// Step 6 without the report: list `model` under the signed rules and check
/// it holds exactly the signed resources (nothing missing, nothing extra).
///
/// In `shards` mode each file's size is compared with the size its signed
/// shards imply before any shard range of it is listed: a hostile file of
/// any size costs a bounded amount of memory (at most one extra range per
/// file). Empty files are compared with the manifest's record of them; a
/// bundle without that record (written by `model_signing`, which leaves
/// empty files out of shard manifests) cannot vouch for any empty file, so
/// those are left out of the returned list: nothing downstream (the gate
/// included) ever hands one out.
///
/// An ignore entry the manifest marks as hiding only a regular file
/// ([`Manifest::ignored_files`]) hides exactly that: the walk descends into
/// a directory of that name, and whatever is below it is extra.
///
/// # Errors
/// [`Error::Model`] when the model cannot be listed under the signed rules,
/// [`Error::Integrity`] when resources are missing or extra.
pub(crate) fn signed_files(
    signed: &Manifest,
    model: &Path,
    walk: &WalkOptions,
) -> Result<ModelFiles, Error> {
    let only_files = signed.ignored_files();
    let mut files = if only_files.is_empty() {
        modelseal_manifest::walk(model, walk)?
    } else {
        let narrowed = WalkOptions {
            ignore_paths: walk
                .ignore_paths
                .iter()
                .filter(|p| only_files.binary_search(p).is_err())
                .cloned()
                .collect(),
            ..walk.clone()
        };
        let mut files = modelseal_manifest::walk(model, &narrowed)?;
        files.retain(|f| only_files.binary_search(&f.path).is_err());
        files
    };
    let method = signed.serialization().method;
    let diff = if let Method::Shards { shard_size } = method {
        let diff = shard_diff(signed, &files, shard_size);
        if signed.empty_files().is_none() {
            files.retain(|f| f.size > 0);
        }
        diff
    } else {
        let want: Vec<_> = signed.resources().map(|(k, _)| k.clone()).collect();
        let have = modelseal_manifest::resource_keys(&files, method);
        ManifestDiff {
            missing: want
                .iter()
                .filter(|k| have.binary_search(k).is_err())
                .cloned()
                .collect(),
            extra: have
                .iter()
                .filter(|k| want.binary_search(k).is_err())
                .cloned()
                .collect(),
            changed: Vec::new(),
        }
    };
    if diff.is_empty() {
        Ok(files)
    } else {
        Err(Error::Integrity(diff))
    }
}

/// Compare the model's files with a `shards` manifest, path by path, in one
/// pass over both (each sorted by path). For a file, only as many shard
/// ranges are produced as the manifest signed for its path, plus one key
/// covering whatever lies beyond them; empty files are compared with the
/// manifest's record of them when it has one.
fn shard_diff(signed: &Manifest, files: &ModelFiles, shard_size: u64) -> ManifestDiff {
    let mut diff = ManifestDiff::default();
    let empty = signed.empty_files();
    let mut want = signed.resources().map(|(k, _)| k).peekable();
    let mut signed_empty = empty.unwrap_or_default().iter().peekable();
    for file in files.files() {
        // Signed paths before this one are missing.
        while let Some(k) = want.next_if(|k| k.path < file.path) {
            diff.missing.push(k.clone());
        }
        while let Some(p) = signed_empty.next_if(|p| **p < file.path) {
            diff.missing.push(ResourceKey::file(p.clone()));
        }
        let vouched_empty = signed_empty.next_if(|p| **p == file.path).is_some();
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        while let Some(k) = want.next_if(|k| k.path == file.path) {
            if let Some(r) = k.range {
                ranges.push(r);
            }
        }
        if file.size == 0 {
            if empty.is_some() && !vouched_empty {
                diff.extra.push(ResourceKey::file(file.path.clone()));
            }
            diff.missing.extend(
                ranges
                    .iter()
                    .map(|&(s, e)| ResourceKey::shard(file.path.clone(), s, e)),
            );
            continue;
        }
        if vouched_empty {
            diff.missing.push(ResourceKey::file(file.path.clone()));
        }
        compare_ranges(&file.path, file.size, shard_size, &ranges, &mut diff);
    }
    diff.missing.extend(want.cloned());
    diff.missing
        .extend(signed_empty.map(|p| ResourceKey::file(p.clone())));
    diff
}

/// The shard ranges of a file of `size` bytes against the `signed` ones
/// (sorted): at most `signed.len() + 1` actual ranges are produced; the
/// rest of the file, if any, is one extra key `path:start:size`.
fn compare_ranges(
    path: &modelseal_manifest::ResourcePath,
    size: u64,
    shard_size: u64,
    signed: &[(u64, u64)],
    diff: &mut ManifestDiff,
) {
    let key = |(s, e): (u64, u64)| ResourceKey::shard(path.clone(), s, e);
    let mut actual = modelseal_manifest::shard_ranges(size, shard_size).peekable();
    let mut produced = 0usize;
    let mut want = signed.iter().copied().peekable();
    loop {
        if produced > signed.len() {
            if let Some((start, _)) = actual.next() {
                diff.extra.push(key((start, size)));
            }
            break;
        }
        match (actual.peek().copied(), want.peek().copied()) {
            (None, None) => break,
            (Some(a), None) => {
                diff.extra.push(key((a.0, size)));
                break;
            }
            (None, Some(w)) => {
                diff.missing.push(key(w));
                want.next();
            }
            (Some(a), Some(w)) => {
                if a == w {
                    actual.next();
                    want.next();
                    produced += 1;
                } else if a < w {
                    diff.extra.push(key(a));
                    actual.next();
                    produced += 1;
                } else {
                    diff.missing.push(key(w));
                    want.next();
                }
            }
        }
    }
}

/// Steps 6–7: the model on disk holds exactly the authenticated files, each
/// with its signed digest.
///
/// # Errors
/// [`Error::Model`] when the model cannot be read under the signed rules,
/// [`Error::Integrity`] when files are missing, extra or changed.
pub fn check_model(
    auth: Authenticated,
    model: &Path,
    opts: &Options<'_>,
    report: &mut Report,
) -> Result<Verified, Error> {
    let walk = opts.walk(&auth, model);
    check_model_with(auth, model, &walk, &opts.hash, report)
}

/// [`check_model`] with explicit walk options (a trust policy leaves out
/// several signature files; see [`walk_options`]).
///
/// # Errors
/// As [`check_model`].
pub fn check_model_with(
    auth: Authenticated,
    model: &Path,
    walk: &WalkOptions,
    hash: &HashOptions<'_>,
    report: &mut Report,
) -> Result<Verified, Error> {
    let bytes = check_files(&auth.manifest, model, walk, hash, report)?;
    Ok(Verified::new(auth, bytes))
}

/// Steps 6–7 against a manifest: the model holds exactly its files (6),
/// each with its digest (7); returns the bytes hashed. `walk` should come
/// from [`walk_options`] for this manifest.
///
/// # Errors
/// As [`check_model`].
pub(crate) fn check_files(
    signed: &Manifest,
    model: &Path,
    walk: &WalkOptions,
    hash: &HashOptions<'_>,
    report: &mut Report,
) -> Result<u64, Error> {
    // 6. files
    let files = report.track(CheckName::Files, signed_files(signed, model, walk), |f| {
        format!("{} files, exactly those signed", f.files().len())
    })?;

    // 7. digests
    let bytes = files.total_bytes();
    report.track(
        CheckName::Digests,
        modelseal_manifest::hash_model(&files, signed.serialization(), hash)
            .map_err(Error::from)
            .and_then(|actual| {
                let diff = signed.diff(&actual);
                if diff.is_empty() {
                    Ok(())
                } else {
                    Err(Error::Integrity(diff))
                }
            }),
        |()| {
            format!(
                "{} resources, {bytes} bytes: every digest matches",
                signed.len()
            )
        },
    )?;
    Ok(bytes)
}

/// The identity step on its own (raw signatures): skipped when any signer
/// is accepted, refused for a bare key, else the leaf must match one of the
/// identities.
pub(crate) fn check_identity(
    signer: &Signer,
    requirement: IdentityRequirement<'_>,
    report: &mut Report,
) -> Result<Option<Identity>, Error> {
    let (finding, _, matched) = facts::identify(signer.leaf(), requirement);
    report.record(CheckName::Identity, finding.status(), finding.detail());
    finding.into_result().map(|()| matched)
}
