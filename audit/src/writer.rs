//! Appending records: locking, durability, crash recovery and rotation.
//!
//! # Concurrency
//!
//! Every operation that touches the log runs under an exclusive `flock` on
//! `LOG.lock` (a separate file, because rotation replaces `LOG`). Under the
//! lock the writer checks that neither the log nor `writer.key` changed since
//! it last looked (device, inode, size; inode and mtime for the key); if
//! another process appended, rotated or committed, it reloads the key state
//! and rolls forward over the records the other process wrote. Each batch of
//! complete lines goes to an `O_APPEND` descriptor in one `write(2)`.
//!
//! # Durability (group commit)
//!
//! A *commit* is: `fdatasync` the log, advance the epoch key if records were
//! written under it, and store `writer.key` atomically. With
//! [`Durability::EveryRecord`] every append commits; with
//! [`Durability::Group`] a commit happens after `max_records` appends, on
//! [`Writer::sync`], on checkpoint and rotation, and when the writer is
//! dropped. Records reach the page cache at once, so a killed process
//! (`kill -9`) loses nothing that `append` returned; an operating-system crash
//! or power loss loses at most the records since the last commit (fewer than
//! `max_records` per writer).
//!
//! # Recovery
//!
//! `writer.key` may lag behind the log (records written since the last
//! commit). On open, and whenever the log changed under it, the writer:
//! finishes an interrupted rotation (once the renamed file is seen to end
//! where the key state does); finds the record the key state ends with (same
//! sequence number and MAC) and verifies every later complete record with
//! the current epoch key before adopting it (roll forward); only then
//! truncates a torn last line (bytes after the last `\n`, left by a crash
//! mid-write, reported in [`Recovery`]) and commits. A log whose tail does
//! not match the key state is refused with [`Error::LogStateMismatch`]
//! before anything is changed, rather than forked.
//!
//! # Files the writer changes
//!
//! The log, rotated files and `LOG.lock` are opened with `O_NOFOLLOW` and
//! must be regular files with one link, owned by the writer's effective
//! user ([`Error::UnsafeLogFile`] otherwise): a link planted in the log
//! directory never makes the writer create, cut or append to another file.
//!
//! # Rotation
//!
//! With [`WriterOptions::rotate_bytes`], before a record would make `LOG`
//! larger than the limit the writer commits, writes a checkpoint
//! `LOG.NNNNNN.checkpoint`, renames `LOG` to `LOG.NNNNNN` (NNNNNN = 000001,
//! 000002, ...), creates a new empty `LOG`, and records the new segment in
//! `writer.key`. The chain continues across files: the first record of the
//! new file links to the last record of the old one. Verify with
//! `--log LOG.000001 --log LOG.000002 ... --log LOG`.

use crate::chain::seal_line;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result, UnsafeFile};
use crate::key::{ChainState, HmacSha256, LogId, WriterKey, mac_matches, sync_dir};
use crate::record::{ChainFields, Event, MAX_LINE, parse_chain};
use rustix::fs::{FlockOperation, OFlags, flock};
use rustix::io::Errno;
use rustix::process::geteuid;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// When appended records are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// fsync and commit the key state after every append.
    EveryRecord,
    /// Commit after this many appends (and on sync, checkpoint, rotation and
    /// drop): a power loss loses at most the records since the last commit.
    Group {
        /// Appends per commit (at least 1).
        max_records: u32,
    },
}

/// How a [`Writer`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// fsync policy.
    pub durability: Durability,
    /// Rotate the log before it would grow past this many bytes.
    pub rotate_bytes: Option<u64>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            durability: Durability::EveryRecord,
            rotate_bytes: None,
        }
    }
}

/// What opening (or re-synchronizing with) the log had to repair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes of a torn last line that were truncated away (0: none).
    pub torn_bytes: u64,
    /// File offset where the torn line began.
    pub torn_offset: u64,
    /// Records found in the log beyond the key state, verified and adopted.
    pub rolled_forward: u64,
    /// Whether an interrupted rotation was completed.
    pub rotation_completed: bool,
}

impl Recovery {
    /// Whether anything was repaired.
    pub fn is_empty(&self) -> bool {
        *self == Recovery::default()
    }

    fn absorb(&mut self, other: Recovery) {
        if other.torn_bytes > 0 {
            self.torn_bytes = self.torn_bytes.saturating_add(other.torn_bytes);
            self.torn_offset = other.torn_offset;
        }
        self.rolled_forward = self.rolled_forward.saturating_add(other.rolled_forward);
        self.rotation_completed |= other.rotation_completed;
    }
}

/// Appends records to one log, holding its writer key.
pub struct Writer {
    lock: File,
    inner: Inner,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("log", &self.inner.log)
            .field("key", &self.inner.key)
            .field("pending", &self.inner.pending)
            .finish()
    }
}

struct Inner {
    log: PathBuf,
    key_path: PathBuf,
    opts: WriterOptions,
    file: File,
    file_id: (u64, u64),
    len: u64,
    key_id: (u64, i64, i64),
    key: WriterKey,
    mac: HmacSha256,
    pending: u64,
    buf: Vec<u8>,
    scratch: Vec<u8>,
    last_line: std::ops::Range<usize>,
    recovery: Recovery,
}

/// `LOG.lock`.
pub fn lock_path(log: &Path) -> PathBuf {
    suffixed(log, ".lock")
}

/// `LOG.NNNNNN`, the name segment `n` gets on rotation.
pub fn segment_path(log: &Path, n: u32) -> PathBuf {
    suffixed(log, &format!(".{n:06}"))
}

/// `LOG.NNNNNN.checkpoint`, written at rotation.
pub fn rotation_checkpoint_path(log: &Path, n: u32) -> PathBuf {
    suffixed(log, &format!(".{n:06}.checkpoint"))
}

fn suffixed(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn file_name_of(p: &Path) -> Result<String> {
    p.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or(Error::InvalidEvent {
            field: "file",
            reason: "log file name must be UTF-8",
        })
}

fn lock(f: &File, path: &Path) -> Result<()> {
    flock(f, FlockOperation::LockExclusive).map_err(|e| Error::io("lock", path)(io::Error::from(e)))
}

fn unlock(f: &File, path: &Path) -> Result<()> {
    flock(f, FlockOperation::Unlock).map_err(|e| Error::io("unlock", path)(io::Error::from(e)))
}

fn key_identity(path: &Path) -> Result<(u64, i64, i64)> {
    let m = fs::metadata(path).map_err(Error::io("stat", path))?;
    Ok((m.ino(), m.mtime(), m.mtime_nsec()))
}

fn open_log(path: &Path, create: bool) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).append(true);
    if create {
        o.create(true).mode(0o640);
    }
    open_owned(&mut o, path)
}

/// Open a file the writer changes (the log, a rotated segment, the lock)
/// without following a symbolic link in its last component, and require a
/// regular file with one link, owned by this process's effective user: the
/// writer never truncates, appends to or creates a file through a link an
/// attacker planted in the log directory.
fn open_owned(o: &mut OpenOptions, path: &Path) -> Result<File> {
    // O_NONBLOCK: a FIFO planted in place of the file must not block the open.
    o.custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC).bits() as i32);
    let unsafe_file = |detail: UnsafeFile| Error::UnsafeLogFile {
        path: path.to_path_buf(),
        detail,
    };
    let f = match o.open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => {
            return Err(unsafe_file(UnsafeFile::Symlink));
        }
        Err(e) => return Err(Error::io("open", path)(e)),
    };
    let m = f.metadata().map_err(Error::io("stat", path))?;
    if !m.file_type().is_file() {
        return Err(unsafe_file(UnsafeFile::NotRegular));
    }
    let me = geteuid().as_raw();
    if m.uid() != me {
        return Err(unsafe_file(UnsafeFile::OtherOwner {
            owner: m.uid(),
            writer: me,
        }));
    }
    if m.nlink() != 1 {
        return Err(unsafe_file(UnsafeFile::HardLinks(m.nlink())));
    }
    Ok(f)
}

impl Writer {
    /// Open `log` for appending with the key at `key_path`, creating the log
    /// if the key state says it is empty, and recovering from a crash (see
    /// the module documentation; what was repaired is in
    /// [`Writer::recovery`]).
    ///
    /// # Errors
    /// [`Error::Io`], key file errors from [`WriterKey::load`],
    /// [`Error::LogStateMismatch`] when the log's tail is not the chain the
    /// key state describes.
    pub fn open(log: &Path, key_path: &Path, opts: WriterOptions) -> Result<Self> {
        if let Durability::Group { max_records: 0 } = opts.durability {
            return Err(Error::InvalidEvent {
                field: "durability",
                reason: "group size must be at least 1",
            });
        }
        let lpath = lock_path(log);
        let lock_file = open_owned(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
            &lpath,
        )?;
        lock(&lock_file, &lpath)?;
        let inner = Inner::load(log, key_path, opts);
        let unlocked = unlock(&lock_file, &lpath);
        let inner = inner?;
        unlocked?;
        Ok(Writer {
            lock: lock_file,
            inner,
        })
    }

    fn locked<T>(&mut self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        let lpath = lock_path(&self.inner.log);
        lock(&self.lock, &lpath)?;
        let r = self.inner.refresh().and_then(|()| f(&mut self.inner));
        let u = unlock(&self.lock, &lpath);
        let v = r?;
        u?;
        Ok(v)
    }

    /// Append one record; returns its sequence number.
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] (nothing written), [`Error::Io`] (the log is
    /// truncated back to its previous length), recovery errors as in
    /// [`Writer::open`].
    pub fn append(&mut self, event: &Event) -> Result<u64> {
        self.append_batch(std::slice::from_ref(event))
    }

    /// Append several records under one lock and, rotation aside, one
    /// `write(2)`; returns the sequence number of the last one. All or none
    /// are written (an invalid event fails the whole batch).
    ///
    /// # Errors
    /// As [`Writer::append`]; [`Error::InvalidEvent`] for an empty batch.
    pub fn append_batch(&mut self, events: &[Event]) -> Result<u64> {
        if events.is_empty() {
            return Err(Error::InvalidEvent {
                field: "batch",
                reason: "no events to append",
            });
        }
        self.locked(|inner| inner.append(events))
    }

    /// Commit now: fsync the log, advance the epoch if records were written
    /// under it, store the key state.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn sync(&mut self) -> Result<()> {
        self.locked(Inner::commit)
    }

    /// Commit, then produce a checkpoint of the log as it stands, made at
    /// `time`. The caller ships it out of band ([`Checkpoint::write`]).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn checkpoint(&mut self, time: OffsetDateTime) -> Result<Checkpoint> {
        self.locked(|inner| {
            inner.commit()?;
            let s = inner.key.state;
            Checkpoint::seal(
                &inner.key.key,
                inner.key.log_id,
                time,
                file_name_of(&inner.log)?,
                s.segment,
                s.file_first_seq,
                s.next_seq,
                s.last_mac,
            )
        })
    }

    /// What had to be repaired since this writer was opened.
    pub fn recovery(&self) -> &Recovery {
        &self.inner.recovery
    }

    /// The canonical line (with newline) of the last record this writer
    /// appended; empty before the first append.
    pub fn last_line(&self) -> &[u8] {
        self.inner
            .buf
            .get(self.inner.last_line.clone())
            .unwrap_or_default()
    }

    /// The log's identity.
    pub fn log_id(&self) -> LogId {
        self.inner.key.log_id
    }

    /// The sequence number the next record will get (as last seen).
    pub fn next_sequence(&self) -> u64 {
        self.inner.key.state.next_seq
    }

    /// The current epoch (as last seen).
    pub fn epoch(&self) -> u64 {
        self.inner.key.key.epoch()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.inner.pending > 0 {
            // Best effort; an error here leaves records to be rolled forward.
            let _ = self.locked(Inner::commit);
        }
    }
}

impl Inner {
    fn load(log: &Path, key_path: &Path, opts: WriterOptions) -> Result<Self> {
        let mut key = WriterKey::load(key_path)?;
        let mut recovery = Recovery::default();
        let (file, file_id, len) = recover(log, key_path, &mut key, &mut recovery)?;
        let mac = key.key.record_mac();
        let mut inner = Inner {
            log: log.to_path_buf(),
            key_path: key_path.to_path_buf(),
            opts,
            file,
            file_id,
            len,
            key_id: (0, 0, 0),
            key,
            mac,
            pending: 0,
            buf: Vec::with_capacity(4096),
            scratch: Vec::with_capacity(1024),
            last_line: 0..0,
            recovery,
        };
        if inner.key.state.epoch_records > 0 || !inner.recovery.is_empty() {
            inner.pending = inner.key.state.epoch_records;
            inner.commit()?;
        }
        inner.key_id = key_identity(key_path)?;
        Ok(inner)
    }

    /// Reload state if the log or the key changed since we last held the lock.
    fn refresh(&mut self) -> Result<()> {
        let same_log = match fs::symlink_metadata(&self.log) {
            Ok(m) => (m.dev(), m.ino()) == self.file_id && m.len() == self.len,
            Err(_) => false,
        };
        let same_key = key_identity(&self.key_path).ok() == Some(self.key_id);
        if same_log && same_key {
            return Ok(());
        }
        let mut fresh = Inner::load(&self.log, &self.key_path, self.opts)?;
        let mut rec = std::mem::take(&mut self.recovery);
        rec.absorb(std::mem::take(&mut fresh.recovery));
        fresh.recovery = rec;
        std::mem::swap(&mut fresh.buf, &mut self.buf);
        *self = fresh;
        self.last_line = 0..0;
        Ok(())
    }

    fn append(&mut self, events: &[Event]) -> Result<u64> {
        self.buf.clear();
        self.last_line = 0..0;
        let mut st = self.key.state;
        let mut last = st.next_seq;
        for ev in events {
            let mut chain = ChainFields {
                log_id: self.key.log_id,
                epoch: self.key.key.epoch(),
                sequence: st.next_seq,
                prev_mac: st.last_mac,
            };
            let mut mac = seal_line(&self.mac, ev, &chain, &mut self.scratch)?;
            if let Some(limit) = self.opts.rotate_bytes {
                let held = self.len + self.buf.len() as u64;
                if held > 0 && held + self.scratch.len() as u64 > limit {
                    self.flush(&st, false)?;
                    self.rotate(ev.timestamp)?;
                    st = self.key.state;
                    chain.epoch = self.key.key.epoch();
                    mac = seal_line(&self.mac, ev, &chain, &mut self.scratch)?;
                }
            }
            let start = self.buf.len();
            self.buf.extend_from_slice(&self.scratch);
            self.last_line = start..self.buf.len();
            last = st.next_seq;
            st.next_seq = st.next_seq.saturating_add(1);
            st.last_mac = mac;
            st.epoch_records = st.epoch_records.saturating_add(1);
        }
        self.flush(&st, true)?;
        match self.opts.durability {
            Durability::EveryRecord => self.commit()?,
            Durability::Group { max_records } => {
                if self.pending >= u64::from(max_records) {
                    self.commit()?;
                }
            }
        }
        Ok(last)
    }

    /// Write the buffered lines and adopt `st` as the in-memory state. With
    /// `keep`, the buffer stays readable through `last_line`.
    fn flush(&mut self, st: &ChainState, keep: bool) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let written = st.next_seq - self.key.state.next_seq;
        if let Err(e) = (&self.file).write_all(&self.buf) {
            // Remove a partial write so the file ends with a complete line.
            let _ = self.file.set_len(self.len);
            return Err(Error::io("write", &self.log)(e));
        }
        self.len += self.buf.len() as u64;
        self.key.state = *st;
        self.pending += written;
        if !keep {
            self.buf.clear();
            self.last_line = 0..0;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.pending == 0 && self.key.state.epoch_records == 0 {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(Error::io("fsync", &self.log))?;
        if self.key.state.epoch_records > 0 {
            self.key.key.advance();
            self.key.state.epoch_records = 0;
            self.mac = self.key.key.record_mac();
        }
        self.key.store(&self.key_path)?;
        self.key_id = key_identity(&self.key_path)?;
        self.pending = 0;
        Ok(())
    }

    fn rotate(&mut self, time: OffsetDateTime) -> Result<()> {
        self.commit()?;
        let s = self.key.state;
        let seg = segment_path(&self.log, s.segment);
        if seg.symlink_metadata().is_ok() {
            return Err(Error::LogStateMismatch {
                path: seg,
                offset: 0,
                detail: "rotation target already exists".into(),
            });
        }
        let cp = Checkpoint::seal(
            &self.key.key,
            self.key.log_id,
            time,
            file_name_of(&seg)?,
            s.segment,
            s.file_first_seq,
            s.next_seq,
            s.last_mac,
        )?;
        cp.write(&rotation_checkpoint_path(&self.log, s.segment))?;
        fs::rename(&self.log, &seg).map_err(Error::io("rename", &self.log))?;
        let dir = self.log.parent().unwrap_or(Path::new("."));
        sync_dir(dir)?;
        self.file = open_log(&self.log, true)?;
        sync_dir(dir)?;
        finish_rotation(&mut self.key, &self.key_path)?;
        self.key_id = key_identity(&self.key_path)?;
        let m = self.file.metadata().map_err(Error::io("stat", &self.log))?;
        self.file_id = (m.dev(), m.ino());
        self.len = m.len();
        Ok(())
    }
}

fn finish_rotation(key: &mut WriterKey, key_path: &Path) -> Result<()> {
    key.state.segment = key.state.segment.saturating_add(1);
    key.state.file_first_seq = key.state.next_seq;
    key.store(key_path)
}

fn mismatch(log: &Path, offset: u64, detail: impl Into<String>) -> Error {
    Error::LogStateMismatch {
        path: log.to_path_buf(),
        offset,
        detail: detail.into(),
    }
}

/// Bring the log and the key state into agreement (see module docs).
fn recover(
    log: &Path,
    key_path: &Path,
    key: &mut WriterKey,
    rec: &mut Recovery,
) -> Result<(File, (u64, u64), u64)> {
    let seg = segment_path(log, key.state.segment);
    let log_exists = log.symlink_metadata().is_ok();
    let seg_exists = seg.symlink_metadata().is_ok();
    if !log_exists && !seg_exists && key.state.next_seq != key.state.file_first_seq {
        return Err(mismatch(
            log,
            0,
            format!(
                "the log file is missing but the key state expects records {}..{} in it",
                key.state.file_first_seq, key.state.next_seq
            ),
        ));
    }
    if seg_exists {
        // Interrupted rotation: the old file was renamed. Finish the job only
        // when that file ends exactly where the key state does.
        let seg_file = open_log(&seg, false)?;
        let seg_len = seg_file.metadata().map_err(Error::io("stat", &seg))?.len();
        let before = key.state;
        let extra = roll_forward(&seg_file, &seg, seg_len, key)?;
        key.state = before;
        if extra != 0 {
            return Err(mismatch(
                &seg,
                seg_len,
                "the rotated file holds records the key state does not know",
            ));
        }
        let dir = log.parent().unwrap_or(Path::new("."));
        sync_dir(dir)?;
        finish_rotation(key, key_path)?;
        rec.rotation_completed = true;
    }
    let file = open_log(log, true)?;
    let len = file.metadata().map_err(Error::io("stat", log))?.len();
    // A torn last line (everything after the last newline) is cut only after
    // the complete lines before it proved to be the chain of the key state:
    // nothing is changed in a file that is not this writer's log.
    let keep = if len > 0 {
        last_newline_end(&file, log, len)?
    } else {
        0
    };
    rec.rolled_forward += roll_forward(&file, log, keep, key)?;
    if keep < len {
        file.set_len(keep).map_err(Error::io("truncate", log))?;
        file.sync_all().map_err(Error::io("fsync", log))?;
        rec.torn_bytes = len - keep;
        rec.torn_offset = keep;
    }
    let m = file.metadata().map_err(Error::io("stat", log))?;
    Ok((file, (m.dev(), m.ino()), keep))
}

/// Offset just past the last `\n` in the first `len` bytes (0 if none).
fn last_newline_end(file: &File, log: &Path, len: u64) -> Result<u64> {
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = (end - start) as usize;
        let buf = chunk.get_mut(..n).unwrap_or_default();
        file.read_exact_at(buf, start)
            .map_err(Error::io("read", log))?;
        if let Some(p) = buf.iter().rposition(|&b| b == b'\n') {
            return Ok(start + p as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Read lines backwards from `end` (which must follow a newline).
struct Backward<'a> {
    file: &'a File,
    buf: Vec<u8>,
    buf_start: u64,
    end: u64,
}

impl Backward<'_> {
    /// The previous line (without newline) and its offset.
    fn prev(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        if self.end == 0 {
            return Ok(None);
        }
        let line_end = self.end - 1;
        loop {
            let mut start = None;
            if self.buf_start <= line_end {
                let upto = (line_end - self.buf_start) as usize;
                match self
                    .buf
                    .get(..upto)
                    .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
                {
                    Some(p) => start = Some(self.buf_start + p as u64 + 1),
                    None if self.buf_start == 0 => start = Some(0),
                    None => {}
                }
            }
            let Some(start) = start else {
                if line_end.saturating_sub(self.buf_start) > MAX_LINE as u64 + 1 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
                }
                let new_start = self.buf_start.saturating_sub(64 * 1024);
                let mut more = vec![0u8; (self.buf_start - new_start) as usize];
                self.file.read_exact_at(&mut more, new_start)?;
                more.extend_from_slice(&self.buf);
                self.buf = more;
                self.buf_start = new_start;
                continue;
            };
            let upto = (line_end - self.buf_start) as usize;
            let a = (start - self.buf_start) as usize;
            let line = self.buf.get(a..upto).unwrap_or_default().to_vec();
            self.buf.truncate(a);
            self.end = start;
            return Ok(Some((start, line)));
        }
    }
}

/// Adopt records beyond the key state after verifying them; returns how many.
fn roll_forward(file: &File, log: &Path, len: u64, key: &mut WriterKey) -> Result<u64> {
    let st = key.state;
    // Find where the records the key state does not know about begin.
    let mut from = 0u64;
    if st.next_seq > st.file_first_seq {
        let mut back = Backward {
            file,
            buf: Vec::new(),
            buf_start: len,
            end: len,
        };
        loop {
            let Some((off, line)) = back
                .prev()
                .map_err(|e| mismatch(log, back.end, format!("reading backwards: {e}")))?
            else {
                return Err(mismatch(
                    log,
                    0,
                    format!(
                        "record {} that the key state ends with is not in the file (log truncated?)",
                        st.next_seq - 1
                    ),
                ));
            };
            let c = parse_chain(&line)
                .map_err(|e| mismatch(log, off, format!("unparseable record: {e}")))?;
            if c.chain.sequence >= st.next_seq {
                continue;
            }
            if c.chain.sequence == st.next_seq - 1 && c.mac == st.last_mac {
                from = off + line.len() as u64 + 1;
                break;
            }
            return Err(mismatch(
                log,
                off,
                format!(
                    "record {} is not the one the key state ends with (sequence {})",
                    c.chain.sequence,
                    st.next_seq - 1
                ),
            ));
        }
    }
    if from >= len {
        return Ok(0);
    }
    let mac = key.key.record_mac();
    let reader = BufReader::with_capacity(
        256 * 1024,
        At {
            file,
            pos: from,
            end: len,
        },
    );
    let mut off = from;
    let mut n = 0u64;
    for line in reader.split(b'\n') {
        let line = line.map_err(Error::io("read", log))?;
        let c = parse_chain(&line)
            .map_err(|e| mismatch(log, off, format!("unparseable record: {e}")))?;
        let s = key.state;
        let ok = c.chain.log_id == key.log_id
            && c.chain.sequence == s.next_seq
            && c.chain.prev_mac == s.last_mac
            && c.chain.epoch == key.key.epoch()
            && line
                .get(..c.signed_len)
                .is_some_and(|signed| mac_matches(&mac, signed, &c.mac));
        if !ok {
            return Err(mismatch(
                log,
                off,
                format!(
                    "record with sequence {} does not continue the chain of the key state",
                    c.chain.sequence
                ),
            ));
        }
        key.state.next_seq = key.state.next_seq.saturating_add(1);
        key.state.last_mac = c.mac;
        key.state.epoch_records = key.state.epoch_records.saturating_add(1);
        n += 1;
        off += line.len() as u64 + 1;
    }
    Ok(n)
}

/// Positional reader over `[pos, end)` of a file.
struct At<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let Some(dst) = buf.get_mut(..want) else {
            return Ok(0);
        };
        if dst.is_empty() {
            return Ok(0);
        }
        let n = self.file.read_at(dst, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}
