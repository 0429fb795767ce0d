//! Streaming: the loader reads while the file is hashed, and learns the
//! verdict before it may use what it read.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use modelseal_manifest::{ModelError, ResourcePath};

use super::file::{FileVerified, GatedFile, State};
use super::{Gate, IN_FLIGHT, Source, produce};
use crate::error::{Error, GateError};
use crate::report::{CheckName, Report};
use crate::verify::Verified;

/// What the hashing thread sends the reader, in order.
enum Msg {
    /// A hashed chunk: the buffer and how many of its bytes count.
    Chunk(Vec<u8>, usize),
    /// Every chunk was sent; the verdict on the whole file.
    Done(Result<(), Error>),
}

/// A reader over one model file that yields exactly the bytes it hashed.
///
/// A thread reads the file once, hashes each chunk, then hands it over;
/// [`Read::read`] copies from those chunks ([`BufRead::fill_buf`] lends them
/// without a copy). The end of the file (`Ok(0)`) is reported only after
/// every digest of the file matched; a mismatch, or a file that changed
/// while read, is an error of kind [`io::ErrorKind::InvalidData`] from then
/// on. Whatever a loader built from the bytes must not be used before
/// [`VerifyingReader::finish`] (or [`Gate::load`], which calls it) said yes.
///
/// There is no `Seek`: a second read of the model store would not be the
/// hashed one. Loaders that need random access use [`Gate::seal`].
#[derive(Debug)]
pub struct VerifyingReader {
    file: GatedFile,
    delivered: u64,
    chunks: Receiver<Msg>,
    free: Sender<Vec<u8>>,
    current: Option<(Vec<u8>, usize, usize)>,
    state: State,
}

impl VerifyingReader {
    /// The file being read.
    pub fn file(&self) -> &GatedFile {
        &self.file
    }

    /// Bytes handed to the caller so far.
    pub fn position(&self) -> u64 {
        self.delivered + self.current.as_ref().map_or(0, |(_, _, at)| *at as u64)
    }

    /// Read (and hash) whatever the caller did not, and return the verdict.
    ///
    /// # Errors
    /// [`Error::Integrity`] when a digest differs, [`Error::Model`] when the
    /// file changed or could not be read, [`GateError::Abandoned`] when the
    /// hashing thread stopped without a verdict.
    pub fn finish(mut self) -> Result<FileVerified, Error> {
        loop {
            if let Some(verdict) = self.state.take(&self.file) {
                return verdict;
            }
            if let Some((buf, len, _)) = self.current.take() {
                self.delivered += len as u64;
                let _ = self.free.send(buf);
            }
            self.next();
        }
    }

    /// Receive the next message and update the state.
    fn next(&mut self) {
        self.state = match self.chunks.recv() {
            Ok(Msg::Chunk(buf, len)) => {
                self.current = Some((buf, len, 0));
                State::Reading
            }
            Ok(Msg::Done(Ok(()))) if self.delivered == self.file.size => State::Verified,
            Ok(Msg::Done(Ok(()))) => State::Failed(
                ModelError::Changed {
                    path: self.file.path.as_str().into(),
                    expected: self.file.size,
                    found: self.delivered,
                }
                .into(),
            ),
            Ok(Msg::Done(Err(e))) => State::Failed(e),
            Err(_) => State::Failed(
                GateError::Abandoned {
                    path: self.file.path.to_string(),
                }
                .into(),
            ),
        };
    }

    fn failure(e: &Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e.to_string())
    }
}

impl BufRead for VerifyingReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        loop {
            match &self.state {
                State::Verified => return Ok(&[]),
                State::Failed(e) => return Err(Self::failure(e)),
                State::Reading => {}
            }
            match &self.current {
                Some((_, len, at)) if at < len => break,
                Some(_) => {
                    if let Some((buf, len, _)) = self.current.take() {
                        self.delivered += len as u64;
                        let _ = self.free.send(buf);
                    }
                }
                None => self.next(),
            }
        }
        Ok(match &self.current {
            Some((buf, len, at)) => buf.get(*at..*len).unwrap_or_default(),
            None => &[],
        })
    }

    fn consume(&mut self, amt: usize) {
        if let Some((_, len, at)) = &mut self.current {
            *at = (*at + amt).min(*len);
        }
    }
}

impl Read for VerifyingReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

/// Why [`Gate::load`] returned no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError<E> {
    /// The file did not verify: the loader's result was dropped unused.
    #[error(transparent)]
    Rejected(Error),
    /// The file verified but the loader failed.
    #[error("loader: {0}")]
    Loader(E),
}

/// Everything [`Gate::load_all`] loaded, with the proof that the whole
/// model verified.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The model's verification.
    pub verified: Verified,
    /// What the loader made of each file, in canonical order.
    pub files: Vec<(ResourcePath, T)>,
}

impl Gate {
    /// Open one file for streaming: a [`VerifyingReader`] whose bytes are
    /// hashed, by a thread of its own, as the caller consumes them. Several
    /// readers may run at once (one per file, from any threads).
    ///
    /// # Errors
    /// [`GateError::NotSigned`] for a path that is not a signed file;
    /// [`Error::Model`] when it cannot be opened beneath the model, is no
    /// longer a regular file or changed size; [`ModelError::Threads`] when
    /// no thread can be started.
    pub fn stream(&self, path: &ResourcePath) -> Result<VerifyingReader, Error> {
        let entry = self.entry(path)?.clone();
        let file = self.open_file(&entry)?;
        let resources = self.resources(&entry)?;
        let display = self.display_path(&entry);
        let (hash, chunk, size) = (self.hash(), self.chunk_size, entry.size);
        // How many chunks the file takes: few enough (a small file, even
        // cut into shards) all fit in the buffers and the channel with the
        // verdict, and need no thread.
        let chunks: u64 = resources
            .iter()
            .map(|r| (r.end - r.start).div_ceil(chunk as u64))
            .sum();
        let (tx, rx) = mpsc::sync_channel::<Msg>(IN_FLIGHT + 1);
        let (free, free_rx) = mpsc::channel::<Vec<u8>>();
        let job = move |tx: SyncSender<Msg>| {
            let src = Source {
                file: &file,
                path: &display,
                size,
                hash,
                chunk,
                progress: None,
            };
            let mut allocated = 0;
            let mut take_buf = || {
                if allocated < IN_FLIGHT {
                    allocated += 1;
                    let len = usize::try_from(size).map_or(chunk, |s| s.min(chunk));
                    Some(vec![0u8; len])
                } else {
                    free_rx.recv().ok()
                }
            };
            let mut emit = |_, buf, len| tx.send(Msg::Chunk(buf, len)).is_ok();
            let verdict = produce(&src, &resources, &mut take_buf, &mut emit);
            let _ = tx.send(Msg::Done(verdict));
        };
        if chunks <= IN_FLIGHT as u64 {
            job(tx);
        } else {
            std::thread::Builder::new()
                .name("modelseal-gate-stream".into())
                .spawn(move || job(tx))
                .map_err(|e| ModelError::Threads { reason: e.into() })?;
        }
        Ok(VerifyingReader {
            file: GatedFile {
                path: entry.path,
                size,
            },
            delivered: 0,
            chunks: rx,
            free,
            current: None,
            state: State::Reading,
        })
    }

    /// Stream one file into `loader` and return what it made only if the
    /// file verified. Whatever the loader did not read is read and hashed
    /// afterwards; on a mismatch the loader's result is dropped unused.
    ///
    /// # Errors
    /// [`LoadError::Rejected`] when the file did not verify (even if the
    /// loader also failed: a tampered file often fails to parse, and the
    /// mismatch is the real reason); [`LoadError::Loader`] when it verified
    /// but the loader failed.
    pub fn load<T, E>(
        &self,
        path: &ResourcePath,
        loader: impl FnOnce(&mut VerifyingReader) -> Result<T, E>,
    ) -> Result<T, LoadError<E>> {
        let mut reader = self.stream(path).map_err(LoadError::Rejected)?;
        let made = loader(&mut reader);
        verdict(reader.finish(), made)
    }

    /// Stream every file, in canonical order, through `loader`, and return
    /// all it made, with the model's [`Verified`] proof, only if every file
    /// verified (recorded in `report` as `digests`). Nothing is returned
    /// for a model of which one file failed.
    ///
    /// # Errors
    /// As [`Gate::load`], for the first file that fails.
    pub fn load_all<T, E: std::fmt::Display>(
        self,
        report: &mut Report,
        mut loader: impl FnMut(&mut VerifyingReader) -> Result<T, E>,
    ) -> Result<Loaded<T>, LoadError<E>> {
        let mut files = Vec::with_capacity(self.files().len());
        let result = self.files().iter().try_for_each(|entry| {
            let made = self.load(&entry.path, &mut loader)?;
            files.push((entry.path.clone(), made));
            Ok(())
        });
        let bytes = self.total_bytes();
        let resources = self.auth.manifest().len();
        report.track(CheckName::Digests, result, |()| {
            format!("{resources} resources, {bytes} bytes streamed: every digest matches")
        })?;
        Ok(Loaded {
            verified: Verified::new(self.auth, bytes),
            files,
        })
    }
}

/// A loader's result, given the file's verdict: the verdict first (a
/// tampered file often fails to parse, and the mismatch is the real reason).
pub(super) fn verdict<T, E>(
    file: Result<FileVerified, Error>,
    made: Result<T, E>,
) -> Result<T, LoadError<E>> {
    match (file, made) {
        (Err(e), _) => Err(LoadError::Rejected(e)),
        (Ok(_), Err(e)) => Err(LoadError::Loader(e)),
        (Ok(_), Ok(t)) => Ok(t),
    }
}
