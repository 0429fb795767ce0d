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

use modelseal_manifest::bundle::key_hint;
use modelseal_manifest::engine::{self, HashOptions};
use modelseal_manifest::walk::{self, WalkOptions};
use modelseal_manifest::{
    Bundle, Manifest, ManifestDiff, SignatureAlgorithm, VerificationMaterial, statement,
};

use crate::cert::CertInfo;
use crate::chain::{self, TrustAnchors};
use crate::error::{Error, IdentityError};
use crate::identity::{self, Identity};
use crate::report::{CheckName, Report, Status};
use crate::signature::{PublicKey, algorithm_for};

/// What the verifier trusts.
#[derive(Debug)]
pub enum Trust {
    /// Certificate mode: the chain must lead to one of these roots.
    Roots(TrustAnchors),
    /// Key mode: the bundle must be signed by this key.
    PublicKey(PublicKey),
}

/// How to verify.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Roots or key.
    pub trust: &'a Trust,
    /// Required signer identities (any of them); empty requires none.
    pub identities: &'a [Identity],
    /// The time certificates must be valid at.
    pub time: SystemTime,
    /// The signature file, left out of the model if it lies inside it.
    pub signature_file: Option<&'a Path>,
    /// Hashing threads, buffer, progress.
    pub hash: HashOptions<'a>,
}

/// Who signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A certificate that chains to a trusted root.
    Certificate {
        /// The signing certificate.
        leaf: Box<CertInfo>,
        /// Intermediates used to reach the root.
        intermediates: Vec<CertInfo>,
        /// The root's subject.
        root_subject: String,
    },
    /// The given public key.
    Key {
        /// SHA-256 of its SubjectPublicKeyInfo DER, hex.
        spki_sha256: String,
    },
    /// The signers a trust policy accepted (see the policies crate).
    Policy {
        /// The policy's name.
        policy: String,
        /// The accepted signers, described.
        signers: Vec<String>,
    },
}

impl Signer {
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
            Signer::Policy { policy, signers } => {
                format!("policy {policy:?}: {}", signers.join("; "))
            }
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
            Signer::Policy { policy, .. } => format!("accepted by policy {policy:?}"),
        }
    }

    /// The leaf certificate, in certificate mode.
    pub fn leaf(&self) -> Option<&CertInfo> {
        match self {
            Signer::Certificate { leaf, .. } => Some(leaf),
            Signer::Key { .. } | Signer::Policy { .. } => None,
        }
    }
}

/// A manifest whose signature verified and whose signer is trusted (steps
/// 1–5). The model on disk has not been checked yet: pass it to
/// [`check_model`] (or the gate) before using any file.
#[derive(Debug, Clone)]
pub struct Authenticated {
    manifest: Manifest,
    signer: Signer,
    algorithm: SignatureAlgorithm,
    identity: Option<Identity>,
}

impl Authenticated {
    /// The signed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

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

/// Proof constructors for authenticators outside this crate.
pub mod hazmat {
    use super::{Authenticated, Manifest, SignatureAlgorithm, Signer};

    /// An [`Authenticated`] manifest vouched for by a trust policy.
    ///
    /// # Security
    /// This asserts steps 1–5 held: the caller must itself have verified
    /// the signatures over `manifest`, the signers' chains and identities
    /// and whatever its policy requires. The policies crate calls it for
    /// manifests its policy decided to accept, to hand them to the gate.
    pub fn authenticated_by_policy(
        manifest: Manifest,
        policy: String,
        signers: Vec<String>,
        algorithm: SignatureAlgorithm,
    ) -> Authenticated {
        Authenticated {
            manifest,
            signer: Signer::Policy { policy, signers },
            algorithm,
            identity: None,
        }
    }
}

/// A model whose files all matched an authenticated manifest (steps 1–7).
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
pub struct Outcome {
    /// What was checked.
    pub report: Report,
    /// [`Verified`] only if every check passed.
    pub result: Result<Verified, Error>,
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
    let bytes = modelseal_manifest::input::read_regular(path, limit).map_err(read_err)?;
    if bytes.len() as u64 > limit {
        return Err(modelseal_manifest::FormatError::TooLarge {
            what: "bundle",
            size: bytes.len() as u64,
            limit,
        }
        .into());
    }
    Ok(bytes)
}

/// Verify the model at `model` against `bundle_bytes` (steps 1–7).
pub fn verify(model: &Path, bundle_bytes: &[u8], opts: &Options<'_>) -> Outcome {
    let mut report = Report::default();
    let result = authenticate_bytes(bundle_bytes, opts, &mut report)
        .and_then(|auth| check_model(auth, model, opts, &mut report));
    report.finish();
    Outcome { report, result }
}

/// Steps 1–5 from the bundle's bytes: parse it strictly, then
/// [`authenticate`]. Nothing of the model is read.
///
/// # Errors
/// The first check that fails, also recorded in `report`.
pub fn authenticate_bytes(
    bundle_bytes: &[u8],
    opts: &Options<'_>,
    report: &mut Report,
) -> Result<Authenticated, Error> {
    // 1. bundle
    let bundle = report.track(
        CheckName::Bundle,
        Bundle::from_json(bundle_bytes).map_err(Error::from),
        |b| {
            format!(
                "OMS bundle, {} signature{}",
                match b.material {
                    VerificationMaterial::PublicKey { .. } => "key",
                    VerificationMaterial::Certificates(_) => "certificate",
                },
                if b.tlog_entries > 0 || b.has_timestamps {
                    " (transparency-log entries and timestamps present but not verified)"
                } else {
                    ""
                }
            )
        },
    )?;
    authenticate(&bundle, opts, report)
}

/// Steps 2–5: trust, signature, statement, identity.
///
/// # Errors
/// The first check that fails, also recorded in `report`.
pub fn authenticate(
    bundle: &Bundle,
    opts: &Options<'_>,
    report: &mut Report,
) -> Result<Authenticated, Error> {
    // 2. trust
    let trusted = report.track(
        CheckName::Trust,
        trusted_key(bundle, opts),
        |(_, signer)| signer.trust_detail(),
    )?;
    let (key, signer) = trusted;

    // 3. signature
    let env = &bundle.envelope;
    let algorithm = report.track(
        CheckName::Signature,
        algorithm_for(key.key_kind(), &env.keyid)
            .and_then(|alg| key.verify(alg, &env.pae(), &env.signature).map(|()| alg))
            .map_err(Error::from),
        |alg| format!("{alg} signature over the DSSE envelope verifies"),
    )?;

    // 4. statement
    let manifest = report.track(
        CheckName::Statement,
        statement::from_payload(&env.payload).map_err(Error::from),
        |m| {
            let ser = m.serialization();
            format!(
                "{} resources, {} / {}",
                m.len(),
                method_name(ser.method),
                ser.hash
            )
        },
    )?;

    // 5. identity
    let identity = check_identity(&signer, opts.identities, report)?;
    Ok(Authenticated {
        manifest,
        signer,
        algorithm,
        identity,
    })
}

/// The identity step: skipped when none is required, refused for a bare
/// key, else the leaf must match one of `identities`.
pub(crate) fn check_identity(
    signer: &Signer,
    identities: &[Identity],
    report: &mut Report,
) -> Result<Option<Identity>, Error> {
    match (identities.is_empty(), signer.leaf()) {
        (true, _) => {
            report.record(CheckName::Identity, Status::Skipped, "no identity required");
            Ok(None)
        }
        (false, None) => {
            let err = Error::Identity(IdentityError::NoCertificate);
            report.record(CheckName::Identity, Status::Fail, err.to_string());
            Err(err)
        }
        (false, Some(leaf)) => Ok(Some(report.track(
            CheckName::Identity,
            identity::check(leaf, identities).map_err(Error::from),
            |id| format!("signer matches {id}"),
        )?)),
    }
}

fn trusted_key(bundle: &Bundle, opts: &Options<'_>) -> Result<(PublicKey, Signer), Error> {
    match (opts.trust, &bundle.material) {
        (Trust::Roots(anchors), VerificationMaterial::Certificates(chain)) => {
            let v = chain::validate(chain, anchors, opts.time)?;
            let key = PublicKey::from_spki_der(&v.leaf.spki_der)?;
            Ok((
                key,
                Signer::Certificate {
                    leaf: Box::new(v.leaf),
                    intermediates: v.intermediates,
                    root_subject: v.root_subject,
                },
            ))
        }
        (Trust::PublicKey(key), VerificationMaterial::PublicKey { hint }) => {
            let expected = key_hint(key.spki_der());
            if !hint.is_empty() && *hint != expected {
                return Err(Error::KeyHint {
                    hint: hint.clone(),
                    expected,
                });
            }
            let spki_sha256 = crate::cert::hex(
                modelseal_manifest::HashAlgorithm::Sha256
                    .digest(key.spki_der())
                    .as_bytes(),
            );
            Ok((key.clone(), Signer::Key { spki_sha256 }))
        }
        (Trust::Roots(_), VerificationMaterial::PublicKey { .. }) => Err(Error::MaterialMismatch(
            "the bundle is signed by a bare key and carries no certificate: verify it with --public-key",
        )),
        (Trust::PublicKey(_), VerificationMaterial::Certificates(_)) => {
            Err(Error::MaterialMismatch(
                "the bundle carries a certificate chain: verify it with --trust-root",
            ))
        }
    }
}

fn method_name(m: modelseal_manifest::Method) -> String {
    match m {
        modelseal_manifest::Method::Files => "files".into(),
        modelseal_manifest::Method::Shards { shard_size } => {
            format!("shards of {shard_size} bytes")
        }
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
    if let Some(rel) = signature_file.and_then(|s| walk::relative_inside(model, s)) {
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
/// # Errors
/// [`Error::Model`] when the model cannot be listed under the signed rules,
/// [`Error::Integrity`] when resources are missing or extra.
pub(crate) fn signed_files(
    signed: &Manifest,
    model: &Path,
    walk: &WalkOptions,
) -> Result<walk::ModelFiles, Error> {
    let method = signed.serialization().method;
    let files = walk::walk(model, walk)?;
    let want: Vec<_> = signed.resources().map(|(k, _)| k.clone()).collect();
    let have = engine::resource_keys(&files, method);
    let diff = ManifestDiff {
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
    };
    if diff.is_empty() {
        Ok(files)
    } else {
        Err(Error::Integrity(diff))
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
    let walk = walk_options(&auth.manifest, model, opts.signature_file);
    let bytes = check_files(&auth.manifest, model, &walk, &opts.hash, report)?;
    Ok(Verified::new(auth, bytes))
}

/// Steps 6–7 against a manifest: the model holds exactly its files (6),
/// each with its digest (7); returns the bytes hashed. `walk` should come
/// from [`walk_options`] for this manifest.
///
/// This proves nothing by itself: the caller must have authenticated
/// `manifest` (the policies crate does so under a trust policy).
///
/// # Errors
/// As [`check_model`].
pub fn check_files(
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
        engine::hash_model(&files, signed.serialization(), hash)
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
