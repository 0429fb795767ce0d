//! Verifying a model against a checksums file (`sha256sum` and friends),
//! optionally signed with a raw OpenSSL-style signature.
//!
//! The checks, in order:
//! 1. **trust**, **signature**, **identity** (only with a signature): the
//!    raw signature verifies over the exact bytes of the checksums file
//!    ([`crate::detached`]), which then vouches for every listed file.
//!    Without one, these are skipped and the guarantee is integrity only:
//!    anyone who can change the model can change its checksums too.
//! 2. **checksums**: the file parses ([`Checksums::parse`]): one algorithm
//!    (SHA-256 or SHA-512), safe and unique names.
//! 3. **files**: a directory model holds exactly the listed files: none
//!    missing, none unlisted. Left out, as for bundles: the checksums file
//!    and the signature file when they lie inside the model, and the
//!    `.git*` metadata ([`DEFAULT_IGNORE_PATHS`]) unless the checksums list
//!    something below it. Symlinks, special files and unsafe names fail as
//!    they do for bundles ([`walk`]). A one-file model must be listed under
//!    its path relative to the checksums file's directory (as
//!    `sha256sum -c` run there would find it); other lines are not checked.
//! 4. **digests**: every file hashes to its listed digest, through the same
//!    engine as bundles ([`modelseal_manifest::hash_model_also`]), optionally computing
//!    a second digest of the same bytes in the same pass (the SHA-256 OMS
//!    manifest `convert` signs when the checksums are SHA-512).
//!
//! Success is a [`ChecksumsVerified`], which only this module can make.

use std::collections::BTreeMap;
use std::path::Path;

use modelseal_manifest::HashOptions;
use modelseal_manifest::{
    Checksums, HashAlgorithm, Manifest, ManifestDiff, ResourceKey, ResourcePath, Serialization,
};
use modelseal_manifest::{ChecksumsError, DEFAULT_MAX_CHECKSUMS_BYTES};
use modelseal_manifest::{DEFAULT_IGNORE_PATHS, ModelFiles, WalkOptions};

use crate::detached::{self, DetachedOptions};
use crate::error::Error;
use crate::report::{CheckName, Report, Status};
use crate::verify::SignedBy;

/// The checks of a checksums verification, in order.
pub const CHECKSUMS_CHECKS: [CheckName; 6] = [
    CheckName::Trust,
    CheckName::Signature,
    CheckName::Identity,
    CheckName::Checksums,
    CheckName::Files,
    CheckName::Digests,
];

/// What a successful verification proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Guarantee {
    /// The files match unsigned checksums: they were not corrupted, but
    /// nothing says who made them.
    IntegrityOnly,
    /// A trusted signer signed the checksums, which match every file.
    SignedChecksums,
    /// A trusted signer signed the file itself.
    SignedFile,
}

impl Guarantee {
    /// Stable short name: `integrity-only` or `authenticity`.
    pub fn as_str(self) -> &'static str {
        match self {
            Guarantee::IntegrityOnly => "integrity-only",
            Guarantee::SignedChecksums | Guarantee::SignedFile => "authenticity",
        }
    }

    /// The plain-words description printed to users.
    pub fn describe(self) -> &'static str {
        match self {
            Guarantee::IntegrityOnly => "integrity only (checksums, no signature)",
            Guarantee::SignedChecksums => "authenticity (signed checksums)",
            Guarantee::SignedFile => "authenticity (signed file)",
        }
    }
}

/// How to verify.
#[derive(Clone, Copy)]
pub struct ChecksumsOptions<'a> {
    /// The checksums file's path: left out of the model when inside it;
    /// locates the entry of a one-file model.
    pub checksums_file: &'a Path,
    /// A raw signature over the checksums file and who must have made it.
    pub signature: Option<(&'a [u8], &'a DetachedOptions<'a>)>,
    /// Other files to leave out when inside the model (the signature file,
    /// a bundle about to be written).
    pub also_ignore: &'a [&'a Path],
    /// Also compute this digest of every file in the same pass.
    pub also_hash: Option<HashAlgorithm>,
    /// Hashing threads, buffer, progress.
    pub hash: HashOptions<'a>,
}

/// A model whose files all matched its checksums (and whose checksums, if
/// signed, verified).
#[derive(Debug, Clone)]
pub struct ChecksumsVerified {
    signed_by: Option<SignedBy>,
    checksums: Checksums,
    manifest: Manifest,
    also: Option<Manifest>,
    bytes: u64,
}

impl ChecksumsVerified {
    /// What was proven.
    pub fn guarantee(&self) -> Guarantee {
        if self.signed_by.is_some() {
            Guarantee::SignedChecksums
        } else {
            Guarantee::IntegrityOnly
        }
    }

    /// The signer of the checksums, if they were signed.
    pub fn signed_by(&self) -> Option<&SignedBy> {
        self.signed_by.as_ref()
    }

    /// The parsed checksums.
    pub fn checksums(&self) -> &Checksums {
        &self.checksums
    }

    /// The model's manifest in the checksums' algorithm, as hashed: equal
    /// to the checksums for every checked file. A one-file model has the
    /// single resource `.`.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest of [`ChecksumsOptions::also_hash`], from the same read.
    pub fn also(&self) -> Option<&Manifest> {
        self.also.as_ref()
    }

    /// Bytes hashed.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The result of [`verify`]: every check with its status, and the verdict.
#[derive(Debug)]
pub struct ChecksumsOutcome {
    /// What was checked.
    pub report: Report,
    /// [`ChecksumsVerified`] only if every check passed.
    pub result: Result<ChecksumsVerified, Error>,
}

/// Read a checksums file, refusing files larger than `limit` bytes
/// ([`DEFAULT_MAX_CHECKSUMS_BYTES`] by default) without reading them whole.
///
/// # Errors
/// [`Error::Read`] for I/O errors, [`Error::Checksums`]
/// ([`ChecksumsError::TooLarge`]) when too large.
pub fn read_checksums(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let read_err = |source| Error::Read {
        what: "checksums file",
        path: path.to_owned(),
        source,
    };
    let bytes = modelseal_manifest::read_regular(path, limit).map_err(read_err)?;
    if bytes.len() as u64 > limit {
        return Err(ChecksumsError::TooLarge {
            size: bytes.len() as u64,
            limit,
        }
        .into());
    }
    Ok(bytes)
}

/// [`read_checksums`] with the default limit.
///
/// # Errors
/// As [`read_checksums`].
pub fn read_checksums_default(path: &Path) -> Result<Vec<u8>, Error> {
    read_checksums(path, DEFAULT_MAX_CHECKSUMS_BYTES)
}

/// Verify the model at `model` against the checksums file whose exact bytes
/// are `checksums` (steps 1–4).
pub fn verify(model: &Path, checksums: &[u8], opts: &ChecksumsOptions<'_>) -> ChecksumsOutcome {
    let mut report = Report::default();
    let result = (|| {
        // 1. signature over the exact bytes that are parsed next
        let what = opts.checksums_file.display().to_string();
        let signed_by = match opts.signature {
            Some((signature, detached_opts)) => Some(detached::verify_message(
                checksums,
                &what,
                signature,
                detached_opts,
                &mut report,
            )?),
            None => {
                for name in [CheckName::Trust, CheckName::Signature, CheckName::Identity] {
                    report.record(
                        name,
                        Status::Skipped,
                        "no signature: integrity only, the checksums vouch for no signer",
                    );
                }
                None
            }
        };
        // 2. checksums
        let parsed = report.track(
            CheckName::Checksums,
            Checksums::parse(checksums).map_err(Error::from),
            |c| format!("{what}: {} files, {}", c.len(), c.algorithm()),
        )?;
        // 3-4. files, digests
        let (manifest, also, bytes) = check_model(model, &parsed, opts, &mut report)?;
        Ok(ChecksumsVerified {
            signed_by,
            checksums: parsed,
            manifest,
            also,
            bytes,
        })
    })();
    report.finish_with(&CHECKSUMS_CHECKS);
    ChecksumsOutcome { report, result }
}

type Hashed = (Manifest, Option<Manifest>, u64);

/// Steps 3–4 for a directory or a one-file model.
fn check_model(
    model: &Path,
    sums: &Checksums,
    opts: &ChecksumsOptions<'_>,
    report: &mut Report,
) -> Result<Hashed, Error> {
    let is_dir = std::fs::metadata(model).is_ok_and(|m| m.is_dir());
    if is_dir {
        check_directory(model, sums, opts, report)
    } else {
        check_one_file(model, sums, opts, report)
    }
}

/// The ignore list: the `.git*` defaults the checksums do not reach into,
/// and the checksums and signature files when inside the model. A line
/// naming one of those files is an error: its digest cannot be right.
fn ignore_paths(
    model: &Path,
    sums: &Checksums,
    opts: &ChecksumsOptions<'_>,
) -> Result<Vec<ResourcePath>, Error> {
    let mut ignore: Vec<ResourcePath> = DEFAULT_IGNORE_PATHS
        .iter()
        .filter_map(|p| ResourcePath::new(p).ok())
        .filter(|p| !sums.entries().any(|(name, _)| name.starts_with(p)))
        .collect();
    let own = std::iter::once(opts.checksums_file).chain(opts.also_ignore.iter().copied());
    for rel in own.filter_map(|f| modelseal_manifest::relative_inside(model, f)) {
        if let Some(entry) = sums.get(&rel) {
            return Err(ChecksumsError::ListsItself {
                line: entry.line,
                name: rel.as_str().to_owned(),
            }
            .into());
        }
        if !ignore.contains(&rel) {
            ignore.push(rel);
        }
    }
    Ok(ignore)
}

fn check_directory(
    model: &Path,
    sums: &Checksums,
    opts: &ChecksumsOptions<'_>,
    report: &mut Report,
) -> Result<Hashed, Error> {
    // 3. files
    let (files, ignore) = report.track(
        CheckName::Files,
        ignore_paths(model, sums, opts).and_then(|ignore| {
            let walk_opts = WalkOptions {
                ignore_paths: ignore.clone(),
                ..WalkOptions::default()
            };
            let files = modelseal_manifest::walk(model, &walk_opts)?;
            let present: Vec<&ResourcePath> = files.files().iter().map(|f| &f.path).collect();
            let diff = ManifestDiff {
                missing: sums
                    .entries()
                    .filter(|(p, _)| present.binary_search(p).is_err())
                    .map(|(p, _)| ResourceKey::file(p.clone()))
                    .collect(),
                extra: present
                    .iter()
                    .filter(|p| sums.get(p).is_none())
                    .map(|p| ResourceKey::file((*p).clone()))
                    .collect(),
                changed: Vec::new(),
            };
            if diff.is_empty() {
                Ok((files, ignore))
            } else {
                Err(Error::ChecksumsMismatch(diff))
            }
        }),
        |(f, _)| format!("{} files, exactly those listed", f.files().len()),
    )?;

    // 4. digests
    let serialization = Serialization::files(sums.algorithm(), ignore);
    let expected: BTreeMap<ResourceKey, _> = sums
        .entries()
        .map(|(p, e)| (ResourceKey::file(p.clone()), e.digest.clone()))
        .collect();
    hash_and_compare(&files, &serialization, expected, None, opts, report)
}

fn check_one_file(
    model: &Path,
    sums: &Checksums,
    opts: &ChecksumsOptions<'_>,
    report: &mut Report,
) -> Result<Hashed, Error> {
    // 3. files: the entry that names this file, relative to the checksums
    // file's directory.
    let (files, name) = report.track(
        CheckName::Files,
        modelseal_manifest::walk(model, &WalkOptions::default())
            .map_err(Error::from)
            .and_then(|files| {
                let dir = match opts.checksums_file.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                modelseal_manifest::relative_inside(dir, model)
                    .filter(|rel| sums.get(rel).is_some())
                    .map(|rel| (files, rel))
                    .ok_or_else(|| Error::NotListed {
                        path: model.to_owned(),
                    })
            }),
        |(_, name)| format!("listed as {name:?} ({} lines in all)", sums.len()),
    )?;

    // 4. digests of the one resource `.`
    let ignore = DEFAULT_IGNORE_PATHS
        .iter()
        .filter_map(|p| ResourcePath::new(p).ok())
        .collect();
    let serialization = Serialization::files(sums.algorithm(), ignore);
    let digest = sums
        .get(&name)
        .map(|e| e.digest.clone())
        .ok_or_else(|| Error::NotListed {
            path: model.to_owned(),
        })?;
    let expected = BTreeMap::from([(ResourceKey::file(ResourcePath::file_root()), digest)]);
    hash_and_compare(&files, &serialization, expected, Some(&name), opts, report)
}

fn hash_and_compare(
    files: &ModelFiles,
    serialization: &Serialization,
    expected: BTreeMap<ResourceKey, modelseal_manifest::Digest>,
    listed_as: Option<&ResourcePath>,
    opts: &ChecksumsOptions<'_>,
    report: &mut Report,
) -> Result<Hashed, Error> {
    let bytes = files.total_bytes();
    let count = expected.len();
    let expected = Manifest::new(files.model_name(), serialization.clone(), expected);
    let (manifest, also) = report.track(
        CheckName::Digests,
        modelseal_manifest::hash_model_also(files, serialization, opts.also_hash, &opts.hash)
            .map_err(Error::from)
            .and_then(|(actual, also)| {
                let mut diff = expected.diff(&actual);
                if let Some(name) = listed_as {
                    // A one-file model's resource is `.`: name it as listed.
                    for k in &mut diff.changed {
                        *k = ResourceKey::file(name.clone());
                    }
                }
                if diff.is_empty() {
                    Ok((actual, also))
                } else {
                    Err(Error::ChecksumsMismatch(diff))
                }
            }),
        |_| {
            format!(
                "{count} files, {bytes} bytes: every {} digest matches",
                serialization.hash
            )
        },
    )?;
    Ok((manifest, also, bytes))
}
