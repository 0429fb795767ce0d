//! The pre-load gate: a loader only ever gets bytes that were verified.
//!
//! Checking a model and then opening it again to load it leaves a window:
//! whoever can write the model store can change a file between the check
//! and the load. The gate closes it by never letting a consumer read the
//! model store itself. Every byte a consumer gets went through the same
//! buffer the hash saw, and the consumer owns it from then on:
//!
//! - **Streaming** ([`Gate::stream`], [`Gate::load`], [`Gate::load_all`]):
//!   a hashing thread reads the file once, hashes each chunk with the engine
//!   ([`modelseal_manifest::hash_range`]) and only then hands it to the loader through a
//!   [`VerifyingReader`]. The loader's copy *is* the hashed copy; the reader
//!   reports end of file only after the last digest matched, and
//!   [`Gate::load`] returns the loader's result only then. One pass over
//!   the model, memory bounded by a few chunks per stream.
//! - **Into the caller's memory** ([`Gate::reader`]): the caller's thread
//!   reads each chunk straight into its own buffer and hashes it there
//!   ([`HashingReader`]): no hand-over copy, one core per file; loaders
//!   that read several files at once use one reader per thread.
//! - **Sealed copies** ([`Gate::seal`]): each file is hashed chunk by chunk
//!   and the same chunks are written into an anonymous memory file
//!   (`memfd`), which is sealed against every change (`F_SEAL_WRITE`,
//!   `F_SEAL_SHRINK`, `F_SEAL_GROW`, `F_SEAL_SEAL`) before its digest is
//!   compared. A [`SealedFile`] supports random access and `mmap` by any
//!   number of readers, and nobody, the gate included, can change it. It
//!   costs memory: the model's size, in shared memory, for as long as the
//!   copies live.
//! - **A view for another program** ([`ModelView`]): a private directory
//!   whose entries lead to the sealed copies, for `modelseal gate`.
//!
//! A [`Gate`] is opened from an [`Authenticated`] manifest (its signature
//! verified, and either every verifier step passed or a trust policy
//! decides over the facts: [`Authenticated::is_trusted`]) and performs
//! steps 6 (files) and 7 (digests) of [`crate::verify`] itself; its
//! [`SealedModel`] carries the verifier's [`crate::Verified`] proof.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use modelseal_manifest::{
    Digest, HashAlgorithm, Hasher, ManifestDiff, Method, ModelError, Progress, ResourceKey,
    ResourcePath,
};
use modelseal_manifest::{FileEntry, ModelFiles, WalkOptions};
use rustix::fs::{Mode, OFlags};

use crate::error::{Error, GateError};
use crate::report::{CheckName, Report};
use crate::verify::{Authenticated, Options, signed_files};

mod direct;
mod file;
mod seal;
mod stream;
mod view;

pub use direct::HashingReader;
pub use file::{FileVerified, GatedFile};
pub use seal::{SealedFile, SealedModel};
pub use stream::{LoadError, Loaded, VerifyingReader};
pub use view::ModelView;

/// Bytes handed from the hashing thread to the consumer at a time.
pub const DEFAULT_CHUNK_SIZE: usize = modelseal_manifest::DEFAULT_BUFFER_SIZE;

/// Chunks in flight per stream (or per sealing worker): the memory bound.
const IN_FLIGHT: usize = 4;

/// A model whose manifest is authenticated and whose files are exactly the
/// signed ones (step 6), ready to hand out verified bytes.
#[derive(Debug)]
pub struct Gate {
    auth: Authenticated,
    files: ModelFiles,
    /// The model directory, opened once; files are opened beneath it.
    dir: Option<OwnedFd>,
    chunk_size: usize,
    /// The most bytes [`Gate::seal`] copies into memory before the digests
    /// are known to match; `None`: the memory available when sealing.
    seal_limit: Option<u64>,
}

/// One signed resource of a file: its byte range and signed digest.
#[derive(Debug, Clone)]
struct Resource {
    key: ResourceKey,
    start: u64,
    end: u64,
    expected: Digest,
}

impl Gate {
    /// Step 6: list `model` under the signed rules and check that it holds
    /// exactly the signed files (recorded in `report` as `files`). Nothing
    /// is hashed yet.
    ///
    /// # Errors
    /// [`Error::Model`] when the model cannot be listed under the signed
    /// rules, [`Error::Integrity`] when files are missing or extra.
    pub fn open(
        auth: Authenticated,
        model: &Path,
        opts: &Options<'_>,
        report: &mut Report,
    ) -> Result<Gate, Error> {
        let walk = opts.walk(&auth, model);
        Self::open_with(auth, model, &walk, opts.hash.buffer_size, report)
    }

    /// [`Gate::open`] with explicit walk options (a trust policy leaves
    /// out several signature files) and chunk size.
    ///
    /// # Errors
    /// As [`Gate::open`].
    pub fn open_with(
        auth: Authenticated,
        model: &Path,
        walk: &WalkOptions,
        chunk_size: usize,
        report: &mut Report,
    ) -> Result<Gate, Error> {
        let files = report.track(
            CheckName::Files,
            signed_files(auth.manifest(), model, walk),
            |f| format!("{} files, exactly those signed", f.files().len()),
        )?;
        let dir = if files.is_dir() {
            let fd = rustix::fs::open(
                files.root(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| ModelError::Io {
                path: files.root().to_owned(),
                source: e.into(),
            })?;
            Some(fd)
        } else {
            None
        };
        Ok(Gate {
            auth,
            files,
            dir,
            chunk_size: chunk_size.max(4096),
            seal_limit: None,
        })
    }

    /// Bound what [`Gate::seal`] copies into memory: a model whose listed
    /// files add up to more than `bytes` is refused before anything is read
    /// ([`GateError::TooLarge`], an error rather than a verdict). In
    /// `files` mode nothing signed says how large a file is, so whoever can
    /// write the model store could otherwise make the gate fill memory with
    /// a sparse file of any size (no disk needed) before its digest
    /// mismatched. The default is the memory the kernel reports available
    /// (`MemAvailable`) when sealing starts; in `shards` mode the sizes are
    /// signed and step 6 already refused any other.
    #[must_use]
    pub fn with_seal_limit(mut self, bytes: u64) -> Self {
        self.seal_limit = Some(bytes);
        self
    }

    /// The authenticated manifest and signer.
    pub fn authenticated(&self) -> &Authenticated {
        &self.auth
    }

    /// The model's files, in canonical order, with their listed sizes.
    pub fn files(&self) -> &[FileEntry] {
        self.files.files()
    }

    /// The model as listed.
    pub fn model(&self) -> &ModelFiles {
        &self.files
    }

    /// Total bytes of the model.
    pub fn total_bytes(&self) -> u64 {
        self.files.total_bytes()
    }

    fn entry(&self, path: &ResourcePath) -> Result<&FileEntry, Error> {
        let files = self.files.files();
        files
            .binary_search_by(|f| f.path.cmp(path))
            .ok()
            .and_then(|i| files.get(i))
            .ok_or_else(|| {
                GateError::NotSigned {
                    path: path.to_string(),
                }
                .into()
            })
    }

    fn display_path(&self, entry: &FileEntry) -> PathBuf {
        self.files.file_path(&entry.path)
    }

    /// Open a listed file beneath the model directory (no symlink unless
    /// the signer allowed them, never outside) and check that it is still a
    /// regular file of the listed size.
    fn open_file(&self, entry: &FileEntry) -> Result<File, Error> {
        let path = self.display_path(entry);
        let io_err = |source| ModelError::Io {
            path: path.clone(),
            source,
        };
        let file = match &self.dir {
            Some(dir) => modelseal_manifest::open_beneath(
                dir,
                Path::new(entry.path.as_str()),
                self.files.allow_symlinks(),
            ),
            None => modelseal_manifest::open_nonblocking(self.files.root()),
        }
        .map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if !meta.is_file() {
            return Err(ModelError::SpecialFile { path }.into());
        }
        if meta.len() != entry.size {
            return Err(ModelError::Changed {
                path,
                expected: entry.size,
                found: meta.len(),
            }
            .into());
        }
        Ok(file)
    }

    /// The signed resources of a file, in order.
    fn resources(&self, entry: &FileEntry) -> Result<Vec<Resource>, Error> {
        let manifest = self.auth.manifest();
        let ranges: Vec<(ResourceKey, u64, u64)> = match manifest.serialization().method {
            Method::Files => vec![(ResourceKey::file(entry.path.clone()), 0, entry.size)],
            Method::Shards { shard_size } => {
                modelseal_manifest::shard_ranges(entry.size, shard_size)
                    .map(|(s, e)| (ResourceKey::shard(entry.path.clone(), s, e), s, e))
                    .collect()
            }
            m => {
                return Err(Error::NotRun {
                    reason: format!("the gate does not support serialization method {m:?}"),
                });
            }
        };
        ranges
            .into_iter()
            .map(|(key, start, end)| match manifest.get(&key) {
                Some(d) => Ok(Resource {
                    expected: d.clone(),
                    key,
                    start,
                    end,
                }),
                // Step 6 matched the keys; this only guards against misuse.
                None => Err(Error::Integrity(ManifestDiff {
                    extra: vec![key],
                    ..ManifestDiff::default()
                })),
            })
            .collect()
    }

    fn hash(&self) -> HashAlgorithm {
        self.auth.manifest().serialization().hash
    }
}

/// Where [`produce`] reads from and how.
struct Source<'a> {
    file: &'a File,
    /// For error messages.
    path: &'a Path,
    /// The file's listed size.
    size: u64,
    hash: HashAlgorithm,
    chunk: usize,
    progress: Option<&'a dyn Progress>,
}

/// Read `resources` of one file in order, a chunk at a time, each into a
/// buffer from `take_buf`; hash each chunk with the engine as it is read;
/// hand it to `emit(offset, buffer, length)` only then; and compare each
/// resource's digest when its last byte has passed.
///
/// `emit` owns the buffer from then on, so what a consumer gets is exactly
/// what was hashed, whatever happens to the file afterwards. It returns
/// `false` when the consumer has gone.
///
/// # Errors
/// [`Error::Integrity`] at the first resource whose digest differs;
/// [`ModelError::Changed`] when the file shrinks or grows while read;
/// [`ModelError::Io`] on a read error; [`GateError::Abandoned`] when the
/// consumer went away (no buffer, or `emit` refused).
fn produce(
    src: &Source<'_>,
    resources: &[Resource],
    take_buf: &mut dyn FnMut() -> Option<Vec<u8>>,
    emit: &mut dyn FnMut(u64, Vec<u8>, usize) -> bool,
) -> Result<(), Error> {
    let io_err = |source| ModelError::Io {
        path: src.path.to_owned(),
        source,
    };
    let abandoned = || GateError::Abandoned {
        path: src.path.display().to_string(),
    };
    for res in resources {
        let mut hasher = src.hash.hasher();
        let mut pos = res.start;
        while pos < res.end {
            let mut buf = take_buf().ok_or_else(abandoned)?;
            let want = usize::try_from(res.end - pos).map_or(src.chunk, |n| n.min(src.chunk));
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let slot = buf.get_mut(..want).ok_or_else(abandoned)?;
            let n =
                modelseal_manifest::hash_range(src.file, pos, pos + want as u64, slot, &mut |c| {
                    hasher.update(c)
                })
                .map_err(io_err)?;
            if n < want as u64 {
                return Err(ModelError::Changed {
                    path: src.path.to_owned(),
                    expected: src.size,
                    found: pos + n,
                }
                .into());
            }
            if let Some(p) = src.progress {
                p.advance(n);
            }
            if !emit(pos, buf, want) {
                return Err(abandoned().into());
            }
            pos += n;
        }
        check_resource(res, hasher)?;
        if res.end == src.size {
            check_end(src.file, src.path, src.size)?;
        }
    }
    Ok(())
}

/// Compare a resource's digest, once its last byte was hashed.
fn check_resource(res: &Resource, hasher: Hasher) -> Result<(), Error> {
    if hasher.finish() == res.expected {
        Ok(())
    } else {
        Err(Error::Integrity(ManifestDiff {
            changed: vec![res.key.clone()],
            ..ManifestDiff::default()
        }))
    }
}

/// After a file's last byte: bytes appended since listing are never handed
/// out, but the file is no longer the one signed: refuse it, as the engine
/// does.
fn check_end(file: &File, path: &Path, size: u64) -> Result<(), Error> {
    let mut probe = [0u8; 1];
    let more = file
        .read_at(&mut probe, size)
        .map_err(|source| ModelError::Io {
            path: path.to_owned(),
            source,
        })?;
    if more > 0 {
        return Err(ModelError::Changed {
            path: path.to_owned(),
            expected: size,
            found: size + more as u64,
        }
        .into());
    }
    Ok(())
}
