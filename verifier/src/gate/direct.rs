//! Reading into the caller's own memory: each chunk is read from the model
//! store straight into the caller's buffer and hashed there, in the
//! caller's thread, before the read returns.
//!
//! Against [`super::VerifyingReader`] this saves the hand-over copy and the
//! thread: the bytes are read once and hashed where they will stay. It uses
//! one core per file, so a loader reading several files at once (one
//! [`HashingReader`] per thread) keeps every core busy.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use modelseal_manifest::{HashAlgorithm, Hasher, ModelError, ResourcePath};

use super::file::{GatedFile, State};
use super::stream::verdict;
use super::{FileVerified, Gate, LoadError, Resource, check_end, check_resource};
use crate::error::Error;

/// A reader over one model file that hashes, in the caller's thread, the
/// very bytes it writes into the caller's buffer.
///
/// Every [`Read::read`] reads at most one chunk from the model store into
/// the buffer it was given and hashes it there before returning. The end
/// of the file (`Ok(0)`) is reported only after every digest of the file
/// matched; a mismatch, or a file that changed while read, is an error of
/// kind [`io::ErrorKind::InvalidData`] from then on. As with
/// [`super::VerifyingReader`], whatever the caller built from the bytes must
/// not be used before [`HashingReader::finish`] said yes. The caller must
/// not change its buffer between a read and that verdict (it owns it: no
/// one else can).
///
/// There is no `Seek`: a second read of the model store would not be the
/// hashed one.
pub struct HashingReader {
    signed: GatedFile,
    display: PathBuf,
    file: File,
    resources: Vec<Resource>,
    /// The resource being read (`resources.len()` once all are checked).
    current: usize,
    hash: HashAlgorithm,
    hasher: Hasher,
    pos: u64,
    chunk: usize,
    state: State,
}

impl Gate {
    /// Open one file to be read by the caller's thread into the caller's
    /// memory, hashed there ([`HashingReader`]).
    ///
    /// # Errors
    /// As [`Gate::stream`].
    pub fn reader(&self, path: &ResourcePath) -> Result<HashingReader, Error> {
        let entry = self.entry(path)?.clone();
        let file = self.open_file(&entry)?;
        let resources = self.resources(&entry)?;
        let hash = self.hash();
        let mut reader = HashingReader {
            display: self.display_path(&entry),
            signed: GatedFile {
                path: entry.path,
                size: entry.size,
            },
            file,
            resources,
            current: 0,
            hash,
            hasher: hash.hasher(),
            pos: 0,
            chunk: self.chunk_size,
            state: State::Reading,
        };
        // Empty resources (an empty file) are complete before any read.
        reader.settle();
        Ok(reader)
    }

    /// [`Gate::load`] through a [`HashingReader`]: `loader` reads the file
    /// in its own thread into its own buffers, and what it made is returned
    /// only if the file verified. Whatever the loader did not read is read
    /// and hashed afterwards.
    ///
    /// # Errors
    /// As [`Gate::load`].
    pub fn load_direct<T, E>(
        &self,
        path: &ResourcePath,
        loader: impl FnOnce(&mut HashingReader) -> Result<T, E>,
    ) -> Result<T, LoadError<E>> {
        let mut reader = self.reader(path).map_err(LoadError::Rejected)?;
        let made = loader(&mut reader);
        verdict(reader.finish(), made)
    }
}

impl std::fmt::Debug for HashingReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingReader")
            .field("file", &self.signed)
            .field("pos", &self.pos)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl HashingReader {
    /// The file being read.
    pub fn file(&self) -> &GatedFile {
        &self.signed
    }

    /// Bytes read (and hashed) so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Read (and hash) whatever the caller did not, and return the verdict.
    ///
    /// # Errors
    /// [`Error::Integrity`] when a digest differs, [`Error::Model`] when the
    /// file changed or could not be read.
    pub fn finish(mut self) -> Result<FileVerified, Error> {
        let mut buf = Vec::new();
        loop {
            if let Some(verdict) = self.state.take(&self.signed) {
                return verdict;
            }
            if buf.is_empty() {
                let left = usize::try_from(self.signed.size - self.pos).unwrap_or(usize::MAX);
                buf = vec![0u8; self.chunk.min(left).max(1)];
            }
            // A failure lands in `state`, returned above.
            self.step(&mut buf);
        }
    }

    /// Close every resource that is complete; after the last, check that
    /// the file did not grow.
    fn settle(&mut self) {
        while let State::Reading = self.state {
            let Some(res) = self.resources.get(self.current) else {
                self.state = match check_end(&self.file, &self.display, self.signed.size) {
                    Ok(()) => State::Verified,
                    Err(e) => State::Failed(e),
                };
                return;
            };
            if self.pos < res.end {
                return;
            }
            let hasher = std::mem::replace(&mut self.hasher, self.hash.hasher());
            if let Err(e) = check_resource(res, hasher) {
                self.state = State::Failed(e);
                return;
            }
            self.current += 1;
        }
    }

    /// Read one chunk into `out` and hash it there; returns how many bytes.
    /// A failure lands in `state` (and nothing counts as read).
    fn step(&mut self, out: &mut [u8]) -> usize {
        let Some(res) = self.resources.get(self.current) else {
            return 0;
        };
        let left = usize::try_from(res.end - self.pos).unwrap_or(usize::MAX);
        let want = out.len().min(left).min(self.chunk);
        let Some(slot) = out.get_mut(..want) else {
            return 0;
        };
        let hasher = &mut self.hasher;
        let end = self.pos + want as u64;
        let read = modelseal_manifest::hash_range(&self.file, self.pos, end, slot, &mut |c| {
            hasher.update(c)
        });
        let failure: Error = match read {
            Ok(n) if n == want as u64 => {
                self.pos = end;
                self.settle();
                return want;
            }
            Ok(n) => ModelError::Changed {
                path: self.display.clone(),
                expected: self.signed.size,
                found: self.pos + n,
            }
            .into(),
            Err(source) => ModelError::Io {
                path: self.display.clone(),
                source,
            }
            .into(),
        };
        self.state = State::Failed(failure);
        0
    }
}

impl Read for HashingReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = match self.state {
            State::Reading if !out.is_empty() => self.step(out),
            _ => 0,
        };
        match &self.state {
            State::Failed(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            _ => Ok(n),
        }
    }
}
