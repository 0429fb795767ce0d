//! The hashing engine: one pass over every byte of a model, in parallel.
//!
//! Signer, verifier and gate all hash through here; there is no second
//! hashing loop in modelseal.
//!
//! - Work is cut into jobs: one per file (`files`) or per shard (`shards`),
//!   scheduled largest first over a pool of `threads` workers.
//! - Each worker owns one read buffer of [`HashOptions::buffer_size`] bytes:
//!   memory is `threads x buffer_size`, whatever the model's size (no mmap).
//! - Files are opened beneath the model directory with `openat2`
//!   (`RESOLVE_BENEATH`, and `RESOLVE_NO_SYMLINKS` unless symlinks are
//!   allowed), so a path swapped for a link after listing cannot lead outside.
//! - A file whose size changes between listing and reading is an error,
//!   never a silently different digest.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::num::NonZeroU64;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rayon::prelude::*;
use rustix::fs::{Mode, OFlags, ResolveFlags};

use crate::digest::{Digest, HashAlgorithm};
use crate::error::ModelError;
use crate::manifest::{Manifest, Method, ResourceKey, Serialization};
use crate::path::ResourcePath;
use crate::walk::{FileEntry, ModelFiles};

/// Default read buffer per worker: large enough to keep syscalls rare, small
/// enough to stay in a core's L2 cache while it is hashed.
pub const DEFAULT_BUFFER_SIZE: usize = 256 * 1024;

/// Receives progress while a model is hashed (a progress bar, a log line).
pub trait Progress: Sync {
    /// Hashing starts: `total_bytes` will be read.
    fn start(&self, total_bytes: u64) {
        let _ = total_bytes;
    }
    /// `bytes` more bytes were hashed.
    fn advance(&self, bytes: u64);
}

/// Looks at each file's content in the pass that hashes it (a content
/// scanner): what it reads are the very bytes that are hashed, read once.
pub trait Inspect: Sync {
    /// Called once per file, on a hashing worker. `reader` yields the
    /// file's `size` bytes from its start, in order; every byte read through
    /// it is hashed, and the bytes left when `inspect` returns are hashed
    /// after it. Read errors reach the reader's caller as I/O errors and
    /// fail the hashing of the file too.
    fn inspect(&self, path: &ResourcePath, size: u64, reader: &mut dyn Read);
}

/// How to hash.
#[derive(Clone, Copy)]
pub struct HashOptions<'a> {
    /// Worker threads; `None` means one per available core.
    pub threads: Option<usize>,
    /// Read buffer per worker, in bytes.
    pub buffer_size: usize,
    /// Progress sink.
    pub progress: Option<&'a dyn Progress>,
    /// Content inspection in the same read (each file is then read by one
    /// worker, in order, its shards one after the other).
    pub inspect: Option<&'a dyn Inspect>,
}

impl Default for HashOptions<'_> {
    fn default() -> Self {
        Self {
            threads: None,
            buffer_size: DEFAULT_BUFFER_SIZE,
            progress: None,
            inspect: None,
        }
    }
}

impl HashOptions<'_> {
    /// The number of workers these options ask for.
    pub fn thread_count(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }
}

/// Total read-buffer memory BLAKE3 may use across workers.
const BLAKE3_BUFFER_BUDGET: usize = 32 * 1024 * 1024;
/// Per-read size at which BLAKE3's tree mode spreads well over threads.
const BLAKE3_BUFFER: usize = 4 * 1024 * 1024;

/// The read buffer per worker. BLAKE3 hashes each read on all threads
/// (tree mode), which pays off only for large reads: give it bigger
/// buffers, within a fixed total budget.
fn buffer_size_for(hash: HashAlgorithm, requested: usize, threads: usize) -> usize {
    let requested = requested.max(4096);
    match hash {
        HashAlgorithm::Blake3 => {
            requested.max((BLAKE3_BUFFER_BUDGET / threads.max(1)).min(BLAKE3_BUFFER))
        }
        _ => requested,
    }
}

/// One unit of hashing work.
#[derive(Debug, Clone)]
struct Job<'m> {
    file: &'m FileEntry,
    range: Option<(u64, u64)>,
}

impl Job<'_> {
    fn len(&self) -> u64 {
        self.range.map_or(self.file.size, |(s, e)| e - s)
    }

    fn key(&self) -> ResourceKey {
        ResourceKey {
            path: self.file.path.clone(),
            range: self.range,
        }
    }
}

/// Shard boundaries of a file of `size` bytes: `[0, s), [s, 2s), ...`, the
/// last one shorter; none for an empty file (as `model_signing` does).
pub fn shard_ranges(size: u64, shard_size: u64) -> impl Iterator<Item = (u64, u64)> {
    let step = shard_size.max(1);
    (0..size.div_ceil(step)).map(move |i| (i * step, size.min((i + 1) * step)))
}

fn jobs<'m>(model: &'m ModelFiles, method: Method) -> Vec<Job<'m>> {
    let mut jobs: Vec<Job<'m>> = match method {
        Method::Files => model
            .files()
            .iter()
            .map(|file| Job { file, range: None })
            .collect(),
        Method::Shards { shard_size } => model
            .files()
            .iter()
            .flat_map(|file| {
                shard_ranges(file.size, shard_size).map(move |r| Job {
                    file,
                    range: Some(r),
                })
            })
            .collect(),
    };
    // Largest first keeps every worker busy until the end.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.len()));
    jobs
}

/// The resource keys a manifest of `model` under `method` has, without
/// reading any content: lets a verifier report missing and extra files
/// before it hashes anything.
pub fn resource_keys(model: &ModelFiles, method: Method) -> Vec<ResourceKey> {
    let mut keys: Vec<_> = jobs(model, method).iter().map(Job::key).collect();
    keys.sort();
    keys
}

/// Hash every resource of `model` as `serialization` says.
///
/// # Errors
/// [`ModelError`] when a file cannot be opened or read, is no longer a
/// regular file, or changed size since it was listed.
pub fn hash_model(
    model: &ModelFiles,
    serialization: &Serialization,
    opts: &HashOptions<'_>,
) -> Result<Manifest, ModelError> {
    let (manifest, _) = hash_model_also(model, serialization, None, opts)?;
    Ok(manifest)
}

/// [`hash_model`], and in the same read of every byte also with `also`:
/// the second manifest has the same resources and serialization but the
/// hash `also`. Used to check SHA-512 checksums and sign the SHA-256 OMS
/// manifest of exactly the bytes that were checked.
///
/// # Errors
/// As [`hash_model`].
pub fn hash_model_also(
    model: &ModelFiles,
    serialization: &Serialization,
    also: Option<HashAlgorithm>,
    opts: &HashOptions<'_>,
) -> Result<(Manifest, Option<Manifest>), ModelError> {
    let opener = Opener::new(model)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.thread_count())
        .thread_name(|i| format!("modelseal-hash-{i}"))
        .build()
        .map_err(|e| ModelError::Threads { reason: e.into() })?;
    if let Some(inspector) = opts.inspect {
        let results = hash_inspected(&pool, &opener, serialization, also, opts, inspector)?;
        return Ok(manifests(model, serialization, also, results));
    }
    let jobs = jobs(model, serialization.method);
    let hash = serialization.hash;
    let buffer_size = buffer_size_for(hash, opts.buffer_size, opts.thread_count());
    if let Some(p) = opts.progress {
        p.start(jobs.iter().map(Job::len).sum());
    }
    // With fewer jobs than cores, cores would idle: let a reader thread per
    // job copy the next chunk while this one hashes (SHA-256 runs at hash
    // speed instead of hash + copy). BLAKE3 already uses every core.
    let threads = opts.thread_count();
    let pipeline = jobs.len() < threads && hash != HashAlgorithm::Blake3;
    let hashes = (hash, also);
    let results: Result<Vec<(ResourceKey, Digests)>, ModelError> = pool.install(|| {
        jobs.par_iter()
            .with_max_len(1)
            .map_init(
                || {
                    if pipeline {
                        Vec::new()
                    } else {
                        vec![0u8; buffer_size]
                    }
                },
                |buf, job| {
                    let digests = hash_job(&opener, job, hashes, buf, pipeline, opts.progress)?;
                    Ok((job.key(), digests))
                },
            )
            .collect()
    });
    Ok(manifests(model, serialization, also, results?))
}

type Digests = (Digest, Option<Digest>);

/// The manifest (and the `also` one) from every resource's digests.
fn manifests(
    model: &ModelFiles,
    serialization: &Serialization,
    also: Option<HashAlgorithm>,
    results: Vec<(ResourceKey, Digests)>,
) -> (Manifest, Option<Manifest>) {
    let second = also.map(|hash| {
        let resources: BTreeMap<_, _> = results
            .iter()
            .filter_map(|(k, (_, d))| Some((k.clone(), d.clone()?)))
            .collect();
        let ser = Serialization {
            hash,
            ..serialization.clone()
        };
        record_empty_files(model, Manifest::new(model.model_name(), ser, resources))
    });
    let resources: BTreeMap<_, _> = results.into_iter().map(|(k, (d, _))| (k, d)).collect();
    let first = Manifest::new(model.model_name(), serialization.clone(), resources);
    (record_empty_files(model, first), second)
}

/// In `shards` mode an empty file has no shard: record the model's empty
/// files in the manifest so that it vouches for them too.
fn record_empty_files(model: &ModelFiles, manifest: Manifest) -> Manifest {
    match manifest.serialization().method {
        Method::Files => manifest,
        Method::Shards { .. } => {
            let empty = model
                .files()
                .iter()
                .filter(|f| f.size == 0)
                .map(|f| f.path.clone())
                .collect();
            manifest.with_empty_files(empty)
        }
    }
}

/// Hash with an [`Inspect`]or: one job per file, largest first; the
/// inspector reads the file through a [`Tee`] that hashes what it reads.
fn hash_inspected(
    pool: &rayon::ThreadPool,
    opener: &Opener<'_>,
    serialization: &Serialization,
    also: Option<HashAlgorithm>,
    opts: &HashOptions<'_>,
    inspector: &dyn Inspect,
) -> Result<Vec<(ResourceKey, Digests)>, ModelError> {
    let mut files: Vec<&FileEntry> = opener.model.files().iter().collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.size));
    if let Some(p) = opts.progress {
        p.start(files.iter().map(|f| f.size).sum());
    }
    let buffer_size = opts.buffer_size.max(4096);
    let per_file: Result<Vec<Vec<(ResourceKey, Digests)>>, ModelError> = pool.install(|| {
        files
            .par_iter()
            .with_max_len(1)
            .map(|file| {
                inspect_file(
                    opener,
                    file,
                    serialization,
                    also,
                    buffer_size,
                    opts,
                    inspector,
                )
            })
            .collect()
    });
    Ok(per_file?.into_iter().flatten().collect())
}

fn inspect_file(
    opener: &Opener<'_>,
    entry: &FileEntry,
    serialization: &Serialization,
    also: Option<HashAlgorithm>,
    buffer_size: usize,
    opts: &HashOptions<'_>,
    inspector: &dyn Inspect,
) -> Result<Vec<(ResourceKey, Digests)>, ModelError> {
    let path = opener.model.file_path(&entry.path);
    let io_err = |source| ModelError::Io {
        path: path.clone(),
        source,
    };
    let file = opener.open(&entry.path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(ModelError::SpecialFile { path });
    }
    if meta.len() != entry.size {
        return Err(ModelError::Changed {
            path,
            expected: entry.size,
            found: meta.len(),
        });
    }
    let ranges: Vec<Span> = match serialization.method {
        Method::Files => vec![(0, entry.size, None)],
        Method::Shards { shard_size } => shard_ranges(entry.size, shard_size)
            .map(|r| (r.0, r.1, Some(r)))
            .collect(),
    };
    let mut tee = Tee {
        file: &file,
        pos: 0,
        end: entry.size,
        ranges: &ranges,
        current: 0,
        hashers: None,
        hash: serialization.hash,
        also,
        done: Vec::new(),
        progress: opts.progress,
        entry,
        error: None,
    };
    inspector.inspect(&entry.path, entry.size, &mut tee);
    if let Some(e) = tee.error.take() {
        return Err(io_err(e));
    }
    let mut buf = vec![0u8; buffer_size];
    loop {
        match tee.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    // Whole files are hashed to EOF: bytes appended since listing show up here.
    let found = tee.pos + count_rest(&file, entry.size).map_err(io_err)?;
    if found != entry.size || tee.done.len() != ranges.len() {
        return Err(ModelError::Changed {
            path,
            expected: entry.size,
            found,
        });
    }
    Ok(tee.done)
}

/// One resource of a file: start, end, and its shard range (`None` for
/// the whole file).
type Span = (u64, u64, Option<(u64, u64)>);

/// Reads a file in order and hashes every byte it hands out, switching
/// hashers at shard boundaries.
struct Tee<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
    /// (start, end, shard range) of each resource, in order.
    ranges: &'a [Span],
    current: usize,
    hashers: Option<(crate::digest::Hasher, Option<crate::digest::Hasher>)>,
    hash: HashAlgorithm,
    also: Option<HashAlgorithm>,
    done: Vec<(ResourceKey, Digests)>,
    progress: Option<&'a dyn Progress>,
    entry: &'a FileEntry,
    /// The first read error, kept for the engine even if the inspector
    /// swallowed it.
    error: Option<io::Error>,
}

impl Tee<'_> {
    fn feed(&mut self, mut data: &[u8]) {
        let mut at = self.pos;
        while !data.is_empty() {
            let Some(&(_, end, shard)) = self.ranges.get(self.current) else {
                return;
            };
            let (h, second) = self
                .hashers
                .get_or_insert_with(|| (self.hash.hasher(), self.also.map(HashAlgorithm::hasher)));
            let take = usize::try_from(end - at).map_or(data.len(), |n| n.min(data.len()));
            h.update(&data[..take]);
            if let Some(s) = second {
                s.update(&data[..take]);
            }
            data = &data[take..];
            at += take as u64;
            if at == end {
                self.close(shard);
            }
        }
    }

    fn close(&mut self, shard: Option<(u64, u64)>) {
        let (h, second) = self
            .hashers
            .take()
            .unwrap_or_else(|| (self.hash.hasher(), self.also.map(HashAlgorithm::hasher)));
        let key = ResourceKey {
            path: self.entry.path.clone(),
            range: shard,
        };
        self.done
            .push((key, (h.finish(), second.map(crate::digest::Hasher::finish))));
        self.current += 1;
    }
}

impl Read for Tee<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // An empty whole file is one resource with the empty digest.
        if self.end == 0 && self.current == 0 && self.ranges.len() == 1 {
            self.close(self.ranges[0].2);
        }
        if self.pos >= self.end || out.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(self.end - self.pos).map_or(out.len(), |n| n.min(out.len()));
        let n = loop {
            match self.file.read_at(&mut out[..want], self.pos) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let kept = io::Error::new(e.kind(), e.to_string());
                    self.error.get_or_insert(e);
                    return Err(kept);
                }
                Ok(n) => break n,
            }
        };
        if n == 0 {
            // Shrunk since listing: the engine reports it.
            self.end = self.pos;
            return Ok(0);
        }
        self.feed(&out[..n]);
        self.pos += n as u64;
        if let Some(p) = self.progress {
            p.advance(n as u64);
        }
        Ok(n)
    }
}

fn hash_job(
    opener: &Opener<'_>,
    job: &Job<'_>,
    (hash, also): (HashAlgorithm, Option<HashAlgorithm>),
    buf: &mut [u8],
    pipeline: bool,
    progress: Option<&dyn Progress>,
) -> Result<(Digest, Option<Digest>), ModelError> {
    let path = opener.model.file_path(&job.file.path);
    let io_err = |source| ModelError::Io {
        path: path.clone(),
        source,
    };
    let file = opener.open(&job.file.path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(ModelError::SpecialFile { path });
    }
    if meta.len() != job.file.size {
        return Err(ModelError::Changed {
            path,
            expected: job.file.size,
            found: meta.len(),
        });
    }
    let (start, end) = job.range.unwrap_or((0, job.file.size));
    // Advisory only: larger kernel read-ahead for cold files.
    let _ = rustix::fs::fadvise(
        &file,
        start,
        NonZeroU64::new(end - start),
        rustix::fs::Advice::Sequential,
    );
    let mut hasher = hash.hasher();
    let mut second = also.map(HashAlgorithm::hasher);
    let mut sink = |chunk: &[u8]| {
        hasher.update(chunk);
        if let Some(h) = &mut second {
            h.update(chunk);
        }
        if let Some(p) = progress {
            p.advance(chunk.len() as u64);
        }
    };
    let read = if pipeline {
        hash_range_pipelined(&file, start, end, PIPELINE_CHUNK, &mut sink)
    } else {
        hash_range(&file, start, end, buf, &mut sink)
    }
    .map_err(io_err)?;
    // Whole files are hashed to EOF: bytes appended since listing show up here.
    let found = if job.range.is_none() {
        read + count_rest(&file, end).map_err(io_err)?
    } else {
        read
    };
    if found != end - start {
        return Err(ModelError::Changed {
            path,
            expected: job.file.size,
            found: start + found,
        });
    }
    Ok((hasher.finish(), second.map(crate::digest::Hasher::finish)))
}

/// Feed bytes `start..end` of `file` to `sink`, in `buf`-sized reads.
/// Returns how many bytes were read (less than asked if the file shrank).
///
/// # Errors
/// The OS error of a failed read.
pub fn hash_range(
    file: &File,
    start: u64,
    end: u64,
    buf: &mut [u8],
    sink: &mut dyn FnMut(&[u8]),
) -> io::Result<u64> {
    let mut pos = start;
    while pos < end {
        let want = usize::try_from(end - pos).map_or(buf.len(), |n| n.min(buf.len()));
        let n = match file.read_at(&mut buf[..want], pos) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sink(&buf[..n]);
        pos += n as u64;
    }
    Ok(pos - start)
}

/// Chunk size of the pipelined reader.
const PIPELINE_CHUNK: usize = 512 * 1024;
/// Chunks in flight between reader and hasher.
const PIPELINE_DEPTH: usize = 3;

/// [`hash_range`] with reading and hashing overlapped: a scoped reader
/// thread fills chunks while the caller's thread feeds `sink`. Memory:
/// [`PIPELINE_DEPTH`] chunks of `chunk` bytes.
///
/// # Errors
/// The OS error of a failed read.
pub fn hash_range_pipelined(
    file: &File,
    start: u64,
    end: u64,
    chunk: usize,
    sink: &mut dyn FnMut(&[u8]),
) -> io::Result<u64> {
    use std::sync::mpsc::sync_channel;
    let chunk = chunk.max(4096);
    let (full_tx, full_rx) = sync_channel::<io::Result<(Vec<u8>, usize)>>(PIPELINE_DEPTH);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(PIPELINE_DEPTH);
    for _ in 0..PIPELINE_DEPTH {
        // The channel has room for every buffer: this cannot block or fail.
        let _ = empty_tx.send(vec![0u8; chunk]);
    }
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut pos = start;
            while pos < end {
                let Ok(mut buf) = empty_rx.recv() else { return };
                let want = usize::try_from(end - pos).map_or(buf.len(), |n| n.min(buf.len()));
                let n = loop {
                    match file.read_at(&mut buf[..want], pos) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Ok(0) => return,
                        Ok(n) => break n,
                        Err(e) => {
                            let _ = full_tx.send(Err(e));
                            return;
                        }
                    }
                };
                pos += n as u64;
                if full_tx.send(Ok((buf, n))).is_err() {
                    return;
                }
            }
        });
        let mut total = 0u64;
        // The reader drops its sender at EOF or on error: the loop ends.
        for item in full_rx.iter() {
            let (buf, n) = item?;
            sink(&buf[..n]);
            total += n as u64;
            // Fails only once the reader is done; queued chunks still count.
            let _ = empty_tx.send(buf);
        }
        Ok(total)
    })
}

/// Bytes past `end` (0 unless the file grew).
fn count_rest(file: &File, end: u64) -> io::Result<u64> {
    let mut probe = [0u8; 1];
    file.read_at(&mut probe, end).map(|n| n as u64)
}

/// Opens model files beneath the model directory.
struct Opener<'m> {
    model: &'m ModelFiles,
    dir: Option<OwnedFd>,
}

impl<'m> Opener<'m> {
    fn new(model: &'m ModelFiles) -> Result<Self, ModelError> {
        let dir = if model.is_dir() {
            let fd = rustix::fs::open(
                model.root(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| ModelError::Io {
                path: model.root().to_owned(),
                source: e.into(),
            })?;
            Some(fd)
        } else {
            None
        };
        Ok(Self { model, dir })
    }

    fn open(&self, path: &crate::path::ResourcePath) -> io::Result<File> {
        let Some(dir) = &self.dir else {
            return crate::input::open_nonblocking(self.model.root());
        };
        open_beneath(dir, Path::new(path.as_str()), self.model.allow_symlinks())
    }
}

/// Open `rel` read-only beneath `dir`: no `..` escape, no absolute links,
/// no symlinks at all unless `allow_symlinks`. Uses `openat2`; kernels
/// without it (before 5.6, or seccomp filters that refuse it) get `openat`
/// with `O_NOFOLLOW` on the last component, the walk having already refused
/// symlinks in directories.
///
/// # Errors
/// The OS error; `ELOOP`/`EXDEV` when a link would be followed or escape.
pub fn open_beneath(dir: &OwnedFd, rel: &Path, allow_symlinks: bool) -> io::Result<File> {
    // O_NONBLOCK: a FIFO swapped in after the walk must not block the open.
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    let mut resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    if !allow_symlinks {
        resolve |= ResolveFlags::NO_SYMLINKS;
    }
    match rustix::fs::openat2(dir, rel, flags, Mode::empty(), resolve) {
        Ok(fd) => Ok(File::from(fd)),
        Err(e) if e == rustix::io::Errno::NOSYS || e == rustix::io::Errno::PERM => {
            let nofollow = if allow_symlinks {
                OFlags::empty()
            } else {
                OFlags::NOFOLLOW
            };
            let fd = rustix::fs::openat(dir, rel, flags | nofollow, Mode::empty())?;
            Ok(File::from(fd))
        }
        Err(e) => Err(e.into()),
    }
}

/// Hash everything `reader` yields (checksums files, raw signatures' input).
///
/// # Errors
/// The reader's error.
pub fn hash_reader(
    hash: HashAlgorithm,
    reader: &mut dyn Read,
    buf: &mut [u8],
) -> io::Result<Digest> {
    let mut h = hash.hasher();
    loop {
        match reader.read(buf) {
            Ok(0) => return Ok(h.finish()),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::ResourcePath;
    use crate::walk::{WalkOptions, walk};
    use std::fs;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Count(AtomicU64);
    impl Progress for Count {
        fn advance(&self, bytes: u64) {
            self.0.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    fn model(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, data) in files {
            let p = d.path().join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, data).unwrap();
        }
        d
    }

    fn key(s: &str) -> ResourceKey {
        ResourceKey::file(ResourcePath::new(s).unwrap())
    }

    #[test]
    fn shard_ranges_match_model_signing() {
        assert_eq!(
            shard_ranges(8, 2).collect::<Vec<_>>(),
            [(0, 2), (2, 4), (4, 6), (6, 8)]
        );
        assert_eq!(shard_ranges(9, 2).last(), Some((8, 9)));
        assert_eq!(shard_ranges(2, 2).collect::<Vec<_>>(), [(0, 2)]);
        assert_eq!(shard_ranges(0, 2).count(), 0);
    }

    #[test]
    fn files_mode_hashes_each_file_whole() {
        let big: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        let d = model(&[
            ("a", b"hello".to_vec()),
            ("big/w.bin", big.clone()),
            ("empty", vec![]),
        ]);
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        let count = Count(AtomicU64::new(0));
        let opts = HashOptions {
            threads: Some(2),
            buffer_size: 4096,
            progress: Some(&count),
            inspect: None,
        };
        let ser = Serialization::files(HashAlgorithm::Sha256, vec![]);
        let m = hash_model(&files, &ser, &opts).unwrap();
        assert_eq!(
            m.get(&key("a")),
            Some(&HashAlgorithm::Sha256.digest(b"hello"))
        );
        assert_eq!(
            m.get(&key("big/w.bin")),
            Some(&HashAlgorithm::Sha256.digest(&big))
        );
        assert_eq!(
            m.get(&key("empty")),
            Some(&HashAlgorithm::Sha256.digest(b""))
        );
        assert_eq!(count.0.load(Ordering::Relaxed), 5 + big.len() as u64);
    }

    #[test]
    fn shards_mode_hashes_each_range_and_skips_empty_files() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 13) as u8).collect();
        let d = model(&[("w", data.clone()), ("empty", vec![])]);
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        let mut ser = Serialization::files(HashAlgorithm::Blake3, vec![]);
        ser.method = Method::Shards { shard_size: 4096 };
        let m = hash_model(&files, &ser, &HashOptions::default()).unwrap();
        let names: Vec<_> = m.resources().map(|(k, _)| k.name()).collect();
        assert_eq!(names, ["w:0:4096", "w:4096:8192", "w:8192:10000"]);
        let p = ResourcePath::new("w").unwrap();
        let last = m.get(&ResourceKey::shard(p, 8192, 10000)).unwrap();
        assert_eq!(*last, HashAlgorithm::Blake3.digest(&data[8192..]));
        assert_eq!(resource_keys(&files, ser.method).len(), 3);
    }

    #[test]
    fn pipelined_reads_match_plain_reads() {
        let data: Vec<u8> = (0..1_000_003u32).map(|i| (i * 31 % 253) as u8).collect();
        let d = model(&[("w", data.clone())]);
        let f = File::open(d.path().join("w")).unwrap();
        for (start, end) in [
            (0, data.len() as u64),
            (5, 700_001),
            (0, 0),
            (999_999, 2_000_000),
        ] {
            let mut got = Vec::new();
            let n = hash_range_pipelined(&f, start, end, 4096, &mut |c| got.extend_from_slice(c))
                .unwrap();
            let want =
                &data[start.min(data.len() as u64) as usize..end.min(data.len() as u64) as usize];
            assert_eq!(n, want.len() as u64);
            assert_eq!(got, want);
        }
        // One big file on several threads takes the pipelined path.
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        let ser = Serialization::files(HashAlgorithm::Sha256, vec![]);
        let opts = HashOptions {
            threads: Some(3),
            ..HashOptions::default()
        };
        let m = hash_model(&files, &ser, &opts).unwrap();
        assert_eq!(m.get(&key("w")), Some(&HashAlgorithm::Sha256.digest(&data)));
    }

    #[test]
    fn also_hashes_the_same_bytes_with_a_second_algorithm_in_one_pass() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let d = model(&[("a", b"hello".to_vec()), ("w/big", big.clone())]);
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        let count = Count(AtomicU64::new(0));
        let opts = HashOptions {
            threads: Some(2),
            buffer_size: 4096,
            progress: Some(&count),
            inspect: None,
        };
        let ser = Serialization::files(HashAlgorithm::Sha512, vec![]);
        let (m512, m256) =
            hash_model_also(&files, &ser, Some(HashAlgorithm::Sha256), &opts).unwrap();
        let m256 = m256.unwrap();
        // Each byte was read once.
        assert_eq!(count.0.load(Ordering::Relaxed), 5 + big.len() as u64);
        assert_eq!(m512.serialization().hash, HashAlgorithm::Sha512);
        assert_eq!(m256.serialization().hash, HashAlgorithm::Sha256);
        assert_eq!(
            m512.get(&key("w/big")),
            Some(&HashAlgorithm::Sha512.digest(&big))
        );
        assert_eq!(
            m256.get(&key("w/big")),
            Some(&HashAlgorithm::Sha256.digest(&big))
        );
        // The second manifest is what a plain SHA-256 pass gives.
        let plain = hash_model(
            &files,
            &Serialization::files(HashAlgorithm::Sha256, vec![]),
            &HashOptions::default(),
        )
        .unwrap();
        assert_eq!(m256, plain);
        let (_, none) = hash_model_also(&files, &ser, None, &HashOptions::default()).unwrap();
        assert!(none.is_none());
    }

    /// Reads the first `want` bytes of each file and records them.
    struct Peek {
        want: usize,
        seen: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
    }
    impl Inspect for Peek {
        fn inspect(&self, path: &ResourcePath, size: u64, reader: &mut dyn Read) {
            let mut got = Vec::new();
            let _ = reader.take(self.want as u64).read_to_end(&mut got);
            assert!(got.len() as u64 <= size);
            self.seen
                .lock()
                .unwrap()
                .push((path.as_str().to_owned(), got));
        }
    }

    #[test]
    fn inspection_reads_the_hashed_bytes_in_the_same_pass() {
        let big: Vec<u8> = (0..300_001u32).map(|i| (i * 7 % 251) as u8).collect();
        let d = model(&[
            ("a", b"hello".to_vec()),
            ("w/big", big.clone()),
            ("empty", vec![]),
        ]);
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        for ser in [
            Serialization::files(HashAlgorithm::Sha256, vec![]),
            Serialization {
                method: Method::Shards { shard_size: 65536 },
                ..Serialization::files(HashAlgorithm::Blake3, vec![])
            },
        ] {
            let peek = Peek {
                want: 100_000,
                seen: std::sync::Mutex::new(Vec::new()),
            };
            let count = Count(AtomicU64::new(0));
            let opts = HashOptions {
                threads: Some(2),
                progress: Some(&count),
                inspect: Some(&peek),
                ..HashOptions::default()
            };
            let (m, also) =
                hash_model_also(&files, &ser, Some(HashAlgorithm::Sha512), &opts).unwrap();
            let plain = hash_model(&files, &ser, &HashOptions::default()).unwrap();
            assert_eq!(m, plain);
            let sha512 = Serialization {
                hash: HashAlgorithm::Sha512,
                ..ser.clone()
            };
            let plain512 = hash_model(&files, &sha512, &HashOptions::default()).unwrap();
            assert_eq!(also.unwrap(), plain512);
            // Each byte was read once, and the inspector saw the file's start.
            assert_eq!(count.0.load(Ordering::Relaxed), 5 + big.len() as u64);
            let mut seen = peek.seen.into_inner().unwrap();
            seen.sort();
            assert_eq!(seen[0], ("a".to_owned(), b"hello".to_vec()));
            assert_eq!(seen[1], ("empty".to_owned(), vec![]));
            assert_eq!(seen[2], ("w/big".to_owned(), big[..100_000].to_vec()));
        }
    }

    #[test]
    fn a_file_that_changed_size_since_listing_is_an_error() {
        let d = model(&[("a", b"hello".to_vec())]);
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        fs::write(d.path().join("a"), b"hello, world").unwrap();
        let ser = Serialization::files(HashAlgorithm::Sha256, vec![]);
        let err = hash_model(&files, &ser, &HashOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::Changed {
                    expected: 5,
                    found: 12,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_file_swapped_for_a_symlink_after_listing_is_not_followed() {
        let d = model(&[("a", b"hello".to_vec())]);
        let files = walk(d.path(), &WalkOptions::default()).unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        fs::write(outside.path(), b"evil!").unwrap();
        fs::remove_file(d.path().join("a")).unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("a")).unwrap();
        let ser = Serialization::files(HashAlgorithm::Sha256, vec![]);
        let err = hash_model(&files, &ser, &HashOptions::default()).unwrap_err();
        assert!(matches!(err, ModelError::Io { .. }), "{err}");
    }

    #[test]
    fn single_file_model() {
        let d = model(&[("w", b"weights".to_vec())]);
        let files = walk(&d.path().join("w"), &WalkOptions::default()).unwrap();
        let ser = Serialization::files(HashAlgorithm::Sha256, vec![]);
        let m = hash_model(&files, &ser, &HashOptions::default()).unwrap();
        assert_eq!(
            m.get(&ResourceKey::file(ResourcePath::file_root())),
            Some(&HashAlgorithm::Sha256.digest(b"weights"))
        );
    }
}
