//! Sealed copies: every file hashed into an anonymous memory file that
//! nobody can change afterwards.
//!
//! Per file, one `memfd` of its size. Work is cut as the engine cuts it (one
//! job per file, or per shard), largest first, over `threads` workers. Each
//! worker hashes a chunk with the engine and hands that very buffer to its
//! own writer thread, which writes it into the memfd while the next chunk is
//! hashed: the copy costs a core, not time, while cores are free. Once every
//! job is done the memfds are sealed (`F_SEAL_WRITE | F_SEAL_SHRINK |
//! F_SEAL_GROW | F_SEAL_SEAL`) and made read-only (mode 0400); only then is
//! the model reported verified.
//!
//! Memory: `threads x 4` chunks in flight, plus the copies themselves (the
//! model's size, in shared memory, until the [`SealedModel`] is dropped).

use std::cmp::Reverse;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

use modelseal_manifest::HashOptions;
use modelseal_manifest::{ManifestDiff, ResourceKey, ResourcePath};
use rustix::fs::{MemfdFlags, Mode, SealFlags};

use super::{Gate, IN_FLIGHT, Resource, Source, produce};
use crate::error::{Error, GateError};
use crate::report::{CheckName, Report};
use crate::verify::Verified;

/// The seals every sealed copy carries.
const SEALS: SealFlags = SealFlags::WRITE
    .union(SealFlags::SHRINK)
    .union(SealFlags::GROW)
    .union(SealFlags::SEAL);

/// One verified file, held in a sealed anonymous memory file.
#[derive(Debug)]
pub struct SealedFile {
    path: ResourcePath,
    file: File,
    len: u64,
}

impl SealedFile {
    /// The file's resource path in the model.
    pub fn path(&self) -> &ResourcePath {
        &self.path
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sealed memory file: read it with [`FileExt::read_at`], or `mmap`
    /// it read-only. Every write, truncation or growth fails (`EPERM`),
    /// through this descriptor or any other.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// A new read-only descriptor of the copy with its own offset, for
    /// loaders that want `Read + Seek`.
    ///
    /// # Errors
    /// The OS error of reopening `/proc/self/fd/N`.
    pub fn reopen(&self) -> io::Result<File> {
        File::open(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
    }

    /// The seals on the copy, as the kernel reports them.
    ///
    /// # Errors
    /// The OS error of `fcntl(F_GET_SEALS)`.
    pub fn seals(&self) -> io::Result<SealFlags> {
        Ok(rustix::fs::fcntl_get_seals(&self.file)?)
    }
}

/// A whole model, verified and held in sealed copies.
#[derive(Debug)]
pub struct SealedModel {
    verified: Verified,
    files: Vec<SealedFile>,
    file_name: Option<String>,
}

impl SealedModel {
    /// The verification.
    pub fn verified(&self) -> &Verified {
        &self.verified
    }

    /// The files, in canonical order.
    pub fn files(&self) -> &[SealedFile] {
        &self.files
    }

    /// One file by resource path.
    pub fn get(&self, path: &ResourcePath) -> Option<&SealedFile> {
        self.files.iter().find(|f| f.path == *path)
    }

    /// For a single-file model (resource `.`), the file's own name.
    pub fn single_file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }
}

fn memory<'a>(path: &'a ResourcePath, step: &'static str) -> impl FnOnce(io::Error) -> Error + 'a {
    move |source| {
        GateError::Memory {
            path: path.to_string(),
            step,
            source,
        }
        .into()
    }
}

/// The memory the kernel reports available (`MemAvailable` in
/// `/proc/meminfo`), in bytes; `None` when it cannot be read.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb = info
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb.saturating_mul(1024))
}

/// An empty sealable memory file of `size` bytes.
fn memfd(path: &ResourcePath, size: u64) -> Result<File, Error> {
    let mut name = format!("modelseal:{path}");
    if name.len() > 200 {
        let mut cut = 200;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    // Never executable where the kernel can say so (Linux 6.3+).
    let fd = match rustix::fs::memfd_create(&name, flags | MemfdFlags::NOEXEC_SEAL) {
        Err(rustix::io::Errno::INVAL) => rustix::fs::memfd_create(&name, flags),
        other => other,
    }
    .map_err(|e| memory(path, "memfd_create")(e.into()))?;
    let file = File::from(fd);
    file.set_len(size).map_err(memory(path, "truncate"))?;
    Ok(file)
}

/// Make a filled memory file read-only and immutable, and check the kernel
/// holds the seals.
fn seal(file: &File, path: &ResourcePath) -> Result<(), Error> {
    rustix::fs::fchmod(file, Mode::RUSR).map_err(|e| memory(path, "chmod")(e.into()))?;
    rustix::fs::fcntl_add_seals(file, SEALS).map_err(|e| memory(path, "seal")(e.into()))?;
    let seals = rustix::fs::fcntl_get_seals(file).map_err(|e| memory(path, "seal")(e.into()))?;
    if !seals.contains(SEALS) {
        return Err(memory(path, "seal")(io::Error::other(
            "the kernel did not keep the seals",
        )));
    }
    Ok(())
}

/// Reads a sealed copy from its start.
struct SealedReader<'a> {
    file: &'a File,
    pos: u64,
    len: u64,
}

impl io::Read for SealedReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = usize::try_from(left).map_or(out.len(), |l| l.min(out.len()));
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut out[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Shared state of one sealing run.
#[derive(Default)]
struct Run {
    next: AtomicUsize,
    stop: AtomicBool,
    failure: Mutex<(Option<Error>, Vec<ResourceKey>)>,
}

impl Run {
    fn fail(&self, e: Error) {
        let mut f = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        f.0.get_or_insert(e);
        self.stop.store(true, Ordering::Relaxed);
    }

    fn mismatch(&self, keys: Vec<ResourceKey>) {
        let mut f = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        f.1.extend(keys);
    }
}

impl Gate {
    /// Whether `bytes` may be held in memory under the seal limit
    /// ([`Gate::with_seal_limit`]; by default the memory the kernel reports
    /// available): [`Gate::seal`] asks it for the whole model, and a caller
    /// about to read one file into a buffer of its own should ask it for
    /// that file before allocating.
    ///
    /// # Errors
    /// [`GateError::TooLarge`] when `bytes` is over the limit.
    pub fn check_fits(&self, bytes: u64) -> Result<(), Error> {
        let (limit, why) = match self.seal_limit {
            Some(limit) => (Some(limit), "the limit given"),
            None => (available_memory(), "the memory available"),
        };
        match limit.filter(|&l| bytes > l) {
            Some(limit) => Err(GateError::TooLarge { bytes, limit, why }.into()),
            None => Ok(()),
        }
    }

    /// Step 7 into sealed memory: hash every file (or shard) with the
    /// engine while copying the hashed bytes into a sealed memory file, and
    /// return the copies only if every digest matched (recorded in `report`
    /// as `digests`). The model store is read once; the copies are what was
    /// hashed and can never change.
    ///
    /// # Errors
    /// [`Error::Integrity`] listing every resource whose digest differs;
    /// [`Error::Model`] when a file changed or could not be read;
    /// [`GateError::Memory`] when a copy could not be made or sealed (out of
    /// memory, too many open files).
    pub fn seal(self, opts: &HashOptions<'_>, report: &mut Report) -> Result<SealedModel, Error> {
        let bytes = self.total_bytes();
        let resources = self.auth.manifest().len();
        // Refused before anything is read: a sparse file claiming
        // terabytes costs neither memory nor hours of hashing.
        if let Err(e) = self.check_fits(bytes) {
            report.record(
                CheckName::Digests,
                crate::report::Status::Fail,
                e.to_string(),
            );
            return Err(e);
        }
        let files = report.track(CheckName::Digests, self.seal_files(opts), |_| {
            format!("{resources} resources, {bytes} bytes: every digest matches (sealed copies)")
        })?;
        let file_name = if self.files.is_dir() {
            None
        } else {
            Some(
                self.files
                    .root()
                    .file_name()
                    .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned()),
            )
        };
        Ok(SealedModel {
            verified: Verified::new(self.auth, bytes),
            files,
            file_name,
        })
    }

    fn seal_files(&self, opts: &HashOptions<'_>) -> Result<Vec<SealedFile>, Error> {
        let entries = self.files();
        let memfds = entries
            .iter()
            .map(|e| memfd(&e.path, e.size))
            .collect::<Result<Vec<_>, _>>()?;
        let mut jobs = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            jobs.extend(self.resources(entry)?.into_iter().map(|r| (i, r)));
        }
        jobs.sort_by_key(|(_, r)| Reverse(r.end - r.start));
        if let Some(p) = opts.progress {
            p.start(self.total_bytes());
        }
        let run = Run::default();
        let workers = opts.thread_count().min(jobs.len()).max(1);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| self.seal_worker(&jobs, &memfds, &run, opts));
            }
        });
        let (error, mut changed) = run
            .failure
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = error {
            return Err(e);
        }
        if !changed.is_empty() {
            changed.sort();
            return Err(Error::Integrity(ManifestDiff {
                changed,
                ..ManifestDiff::default()
            }));
        }
        let sealed: Vec<SealedFile> = entries
            .iter()
            .zip(memfds)
            .map(|(entry, file)| {
                seal(&file, &entry.path)?;
                Ok(SealedFile {
                    path: entry.path.clone(),
                    file,
                    len: entry.size,
                })
            })
            .collect::<Result<_, Error>>()?;
        // Content inspection reads the sealed copies (memory that nobody can
        // change), never the model store a second time.
        if let Some(inspector) = opts.inspect {
            for f in &sealed {
                let mut reader = SealedReader {
                    file: &f.file,
                    pos: 0,
                    len: f.len,
                };
                inspector.inspect(&f.path, f.len, &mut reader);
            }
        }
        Ok(sealed)
    }

    /// Take jobs until none is left: hash each chunk here, write it into
    /// the memory file on a companion thread.
    fn seal_worker(
        &self,
        jobs: &[(usize, Resource)],
        memfds: &[File],
        run: &Run,
        opts: &HashOptions<'_>,
    ) {
        let entries = self.files();
        let (tx, rx) = mpsc::sync_channel::<(usize, u64, Vec<u8>, usize)>(IN_FLIGHT);
        let (free, free_rx) = mpsc::channel::<Vec<u8>>();
        std::thread::scope(|s| {
            let writer = s.spawn(move || -> Result<(), Error> {
                for (i, offset, buf, len) in rx {
                    if let (Some(file), Some(bytes), Some(entry)) =
                        (memfds.get(i), buf.get(..len), entries.get(i))
                    {
                        file.write_all_at(bytes, offset)
                            .map_err(memory(&entry.path, "write"))?;
                    }
                    let _ = free.send(buf);
                }
                Ok(())
            });
            let mut allocated = 0;
            let mut take_buf = || {
                if run.stop.load(Ordering::Relaxed) {
                    None
                } else if allocated < IN_FLIGHT {
                    allocated += 1;
                    Some(vec![0u8; self.chunk_size])
                } else {
                    free_rx.recv().ok()
                }
            };
            while !run.stop.load(Ordering::Relaxed) {
                let Some((i, res)) = jobs.get(run.next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                let Some(entry) = entries.get(*i) else { break };
                let result = self.open_file(entry).and_then(|file| {
                    let path = self.display_path(entry);
                    let src = Source {
                        file: &file,
                        path: &path,
                        size: entry.size,
                        hash: self.hash(),
                        chunk: self.chunk_size,
                        progress: opts.progress,
                    };
                    let mut emit = |off, buf, len| tx.send((*i, off, buf, len)).is_ok();
                    produce(&src, std::slice::from_ref(res), &mut take_buf, &mut emit)
                });
                match result {
                    Ok(()) => {}
                    Err(Error::Integrity(diff)) => run.mismatch(diff.changed),
                    // The writer failed (its error follows) or another job did.
                    Err(Error::Gate(GateError::Abandoned { .. })) => break,
                    Err(e) => {
                        run.fail(e);
                        break;
                    }
                }
            }
            drop(tx);
            match writer.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => run.fail(e),
                Err(_) => run.fail(
                    GateError::Abandoned {
                        path: "a sealed copy".into(),
                    }
                    .into(),
                ),
            }
        });
    }
}
