//! The streaming verifier.
//!
//! It reads the log's files in order, in blocks, and checks every record:
//! its shape, that it belongs to the key's log, that its sequence number is
//! the next one, that it links to the previous record's MAC, that its epoch
//! follows the previous one by 0 or 1, and its MAC under that epoch's key.
//! Parsing and MAC checks of a block run in parallel; memory stays bounded by
//! the block size however long the log is.
//!
//! The first defect is reported as a [`Finding`]: the file, the 1-based line
//! and a [`TamperKind`]. To tell the kinds apart the verifier looks a little
//! further when it meets the first bad record:
//!
//! * sequence higher than expected: if the missing sequence number shows up
//!   later the records were **reordered**, otherwise they were **deleted**;
//! * sequence lower than expected: a record whose MAC verifies is a
//!   **replayed** copy, otherwise an **inserted** forgery;
//! * right sequence but bad MAC, link or epoch: if the next line is the
//!   genuine record with that sequence, this one was **inserted**, otherwise
//!   it was **modified**;
//! * a record of another log as the first record: **wrong key**.
//!
//! With a checkpoint the verifier also reports a log that ends before the
//! checkpoint's last record (**truncated** tail or deleted last file) and a
//! record at the checkpoint's position whose MAC differs (**checkpoint
//! mismatch**: the log was rewritten after the checkpoint).

use crate::chain::GENESIS_MAC;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::key::{EpochKey, HmacSha256, LogId, MacBytes, VerifierKey, mac_matches};
use crate::record::{ChainOfLine, MAX_LINE, ParseError, parse_chain, scan_chain};
use rayon::prelude::*;
use std::fmt;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

const BLOCK: usize = 4 * 1024 * 1024;
const CHUNK: usize = 16 * 1024;
/// Farthest a checkpoint's epoch may lie beyond the log's last epoch.
///
/// Authenticating a checkpoint at epoch `e` takes `e` one-way key steps,
/// and the epoch is a number in a small file anyone can write (the log id
/// it must carry is in every record). Beyond the log, each step costs
/// about a microsecond: 2^20 bounds the work a forged checkpoint can cause
/// to about a second, and still tells a truncation of up to a million
/// records (reported as `truncated_tail`) from a forgery; a checkpoint
/// farther out is refused as `bad_checkpoint`, which fails verification
/// just the same.
const MAX_CHECKPOINT_EPOCH_GAP: u64 = 1 << 20;

/// What is wrong with a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TamperKind {
    /// A line that is not a record.
    Malformed,
    /// The last line has no newline (torn write or cut file).
    IncompleteLine,
    /// The log was not written with this key (another log's records).
    WrongKey,
    /// A record's content, link or epoch was changed.
    Modified,
    /// Records are missing.
    Deleted,
    /// Records are out of order.
    Reordered,
    /// A record the writer did not produce.
    Inserted,
    /// A genuine record repeated.
    Replayed,
    /// The log ends before the checkpoint's last record.
    Truncated,
    /// The record at the checkpoint's position differs from the checkpoint.
    CheckpointMismatch,
    /// The checkpoint is not authentic for this key.
    BadCheckpoint,
}

impl TamperKind {
    /// Stable machine-readable name (used in `--json`).
    pub fn as_str(self) -> &'static str {
        match self {
            TamperKind::Malformed => "malformed_line",
            TamperKind::IncompleteLine => "incomplete_line",
            TamperKind::WrongKey => "wrong_key",
            TamperKind::Modified => "modified_record",
            TamperKind::Deleted => "deleted_records",
            TamperKind::Reordered => "reordered_records",
            TamperKind::Inserted => "inserted_record",
            TamperKind::Replayed => "replayed_record",
            TamperKind::Truncated => "truncated_tail",
            TamperKind::CheckpointMismatch => "checkpoint_mismatch",
            TamperKind::BadCheckpoint => "bad_checkpoint",
        }
    }
}

impl fmt::Display for TamperKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('_', " "))
    }
}

/// The first defect found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What is wrong.
    pub kind: TamperKind,
    /// The file (as given) where it shows.
    pub file: PathBuf,
    /// 1-based line in that file.
    pub line: u64,
    /// Human explanation.
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.kind,
            self.detail
        )
    }
}

/// Per-file statistics of an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// The file as given.
    pub path: PathBuf,
    /// Records in it.
    pub records: u64,
    /// Sequence number of its first record.
    pub first_seq: Option<u64>,
}

/// What an intact log holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records in all files.
    pub records: u64,
    /// Each file in order.
    pub files: Vec<FileSummary>,
    /// MAC of the last record.
    pub last_mac: Option<MacBytes>,
    /// Epoch of the last record.
    pub last_epoch: u64,
    /// Records the checkpoint covers, when one was given and holds.
    pub checkpoint_records: Option<u64>,
}

/// The verifier's conclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
// Closed by definition: a log either verifies whole or has a first
// defect (what the defect is grows in `TamperKind`, which is open).
#[allow(clippy::exhaustive_enums)]
pub enum Verdict {
    /// Every record verifies and the checkpoint (if any) holds.
    Intact(Summary),
    /// The first defect.
    Tampered(Finding),
}

enum Pending {
    None,
    /// A record with the expected sequence failed; is the next line the
    /// genuine one (then this was inserted) or not (modified)?
    Peek {
        at: (PathBuf, u64),
        seq: u64,
        prev: MacBytes,
        epoch: u64,
        modified: String,
    },
    /// A sequence jump; does the skipped sequence appear later?
    Search {
        at: (PathBuf, u64),
        expected: u64,
        found: u64,
    },
}

/// Streaming verifier: [`Verifier::feed`] each file in order, then
/// [`Verifier::finish`].
pub struct Verifier<'k> {
    key: &'k VerifierKey,
    epoch_key: EpochKey,
    mac: HmacSha256,
    expected: u64,
    prev: MacBytes,
    last_epoch: u64,
    records: u64,
    files: Vec<FileSummary>,
    last_line: u64,
    pending: Pending,
    finding: Option<Finding>,
    checkpoint: Option<(Checkpoint, PathBuf)>,
    checkpoint_conflict: Option<Finding>,
}

impl fmt::Debug for Verifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("records", &self.records)
            .field("finding", &self.finding)
            .finish()
    }
}

impl<'k> Verifier<'k> {
    /// Start verifying a log from its first record, optionally against a
    /// checkpoint (and the path it was read from, for reports).
    pub fn new(key: &'k VerifierKey, checkpoint: Option<(Checkpoint, PathBuf)>) -> Self {
        let epoch_key = key.epoch0();
        let mac = epoch_key.record_mac();
        Self {
            key,
            epoch_key,
            mac,
            expected: 0,
            prev: GENESIS_MAC,
            last_epoch: 0,
            records: 0,
            files: Vec::new(),
            last_line: 0,
            pending: Pending::None,
            finding: None,
            checkpoint,
            checkpoint_conflict: None,
        }
    }

    fn done(&self) -> bool {
        self.finding.is_some() && matches!(self.pending, Pending::None)
    }

    /// Verify the next file of the log from `reader`.
    ///
    /// # Errors
    /// [`Error::Io`] when reading fails (a tampered file is not an error).
    pub fn feed(&mut self, path: &Path, mut reader: impl Read) -> Result<()> {
        self.files.push(FileSummary {
            path: path.to_path_buf(),
            records: 0,
            first_seq: None,
        });
        self.last_line = 0;
        let mut block = vec![0u8; BLOCK];
        let mut carry: Vec<u8> = Vec::new();
        let mut line_no: u64 = 0;
        loop {
            if self.done() {
                return Ok(());
            }
            let n = match reader.read(&mut block) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("read", path)(e)),
            };
            let data = block.get(..n).unwrap_or_default();
            let mut pos = 0;
            if !carry.is_empty() {
                match memchr::memchr(b'\n', data) {
                    Some(i) => {
                        carry.extend_from_slice(data.get(..i).unwrap_or_default());
                        line_no += 1;
                        let line = std::mem::take(&mut carry);
                        self.process(path, line_no, &[line.as_slice()]);
                        pos = i + 1;
                    }
                    None => {
                        carry.extend_from_slice(data);
                        if carry.len() > MAX_LINE {
                            self.too_long(path, line_no + 1);
                            return Ok(());
                        }
                        continue;
                    }
                }
            }
            let rest = data.get(pos..).unwrap_or_default();
            let whole_end = memchr::memrchr(b'\n', rest).map_or(0, |i| i + 1);
            let whole = rest.get(..whole_end).unwrap_or_default();
            let mut lines: Vec<&[u8]> = Vec::with_capacity(whole.len() / 256 + 1);
            let mut from = 0;
            for nl in memchr::memchr_iter(b'\n', whole) {
                lines.push(whole.get(from..nl).unwrap_or_default());
                from = nl + 1;
            }
            for chunk in lines.chunks(CHUNK) {
                if self.done() {
                    return Ok(());
                }
                self.process(path, line_no + 1, chunk);
                line_no += chunk.len() as u64;
            }
            carry.extend_from_slice(rest.get(whole_end..).unwrap_or_default());
            if carry.len() > MAX_LINE {
                self.too_long(path, line_no + 1);
                return Ok(());
            }
        }
        self.last_line = line_no;
        if !carry.is_empty() && self.finding.is_none() {
            self.finding = Some(Finding {
                kind: TamperKind::IncompleteLine,
                file: path.to_path_buf(),
                line: line_no + 1,
                detail: format!(
                    "the file ends with {} bytes that are not a complete line (torn write or cut file)",
                    carry.len()
                ),
            });
        }
        Ok(())
    }

    fn too_long(&mut self, path: &Path, line: u64) {
        if self.finding.is_none() {
            self.finding = Some(Finding {
                kind: TamperKind::Malformed,
                file: path.to_path_buf(),
                line,
                detail: "line longer than 64 KiB".into(),
            });
        }
        self.pending = Pending::None;
    }

    /// Check a run of consecutive lines starting at 1-based `first`.
    fn process(&mut self, path: &Path, first: u64, lines: &[&[u8]]) {
        let mut start = 0;
        while start < lines.len() {
            if self.done() {
                return;
            }
            let rest = lines.get(start..).unwrap_or_default();
            let first_here = first + start as u64;
            if matches!(self.pending, Pending::None) && self.finding.is_none() {
                start += self.fast(path, first_here, rest);
            } else {
                if let Some(line) = rest.first() {
                    self.resolve(path, first_here, line);
                }
                start += 1;
            }
        }
    }

    /// Verify lines in parallel until the first anomaly; returns how many
    /// lines were consumed (including the anomalous one, which is classified).
    fn fast(&mut self, path: &Path, first: u64, lines: &[&[u8]]) -> usize {
        let parsed: Vec<Result<ChainOfLine, ParseError>> = lines
            .par_iter()
            .map(|l| {
                if l.len() > MAX_LINE {
                    Err(ParseError("line longer than 64 KiB".into()))
                } else {
                    scan_chain(l).map_or_else(|| parse_chain(l), Ok)
                }
            })
            .collect();
        // Sequential structural walk; derive epoch keys as they advance.
        let mut keys: Vec<(EpochKey, HmacSha256)> = Vec::new();
        let mut slot: Vec<usize> = Vec::with_capacity(parsed.len());
        let (mut e, mut p, mut ep) = (self.expected, self.prev, self.epoch_key.epoch());
        let mut structural_bad = None;
        for (i, r) in parsed.iter().enumerate() {
            let Ok(c) = r else {
                structural_bad = Some(i);
                break;
            };
            let ch = &c.chain;
            let epoch_ok = if e == 0 {
                ch.epoch == 0
            } else {
                ch.epoch == ep || ch.epoch == ep + 1
            };
            if ch.log_id != self.key.log_id() || ch.sequence != e || ch.prev_mac != p || !epoch_ok {
                structural_bad = Some(i);
                break;
            }
            if ch.epoch != ep {
                let next = match keys.last() {
                    Some((k, _)) => k.derive_next(),
                    None => self.epoch_key.derive_next(),
                };
                let m = next.record_mac();
                keys.push((next, m));
                ep = ch.epoch;
            }
            slot.push(keys.len());
            e += 1;
            p = c.mac;
        }
        let ok_upto = slot.len();
        let base = &self.mac;
        let first_bad_mac = (0..ok_upto).into_par_iter().find_first(|&i| {
            let (Some(Ok(c)), Some(line), Some(&s)) = (parsed.get(i), lines.get(i), slot.get(i))
            else {
                return true;
            };
            let prepared = if s == 0 {
                base
            } else {
                match keys.get(s - 1) {
                    Some((_, m)) => m,
                    None => return true,
                }
            };
            match line.get(..c.signed_len) {
                Some(signed) => !mac_matches(prepared, signed, &c.mac),
                None => true,
            }
        });
        let bad = match (first_bad_mac, structural_bad) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let good = bad.unwrap_or(ok_upto);
        // Adopt the good prefix.
        let mut key_iter = keys.into_iter();
        for i in 0..good {
            let Some(Ok(c)) = parsed.get(i) else {
                break;
            };
            while self.epoch_key.epoch() < c.chain.epoch {
                if let Some((k, m)) = key_iter.next() {
                    self.epoch_key = k;
                    self.mac = m;
                } else {
                    break;
                }
            }
            self.adopt(path, first + i as u64, c);
        }
        match bad {
            Some(i) => {
                if let (Some(r), Some(line)) = (parsed.get(i), lines.get(i)) {
                    // Re-read the anomalous line strictly before classifying.
                    let strict = match r {
                        Err(e) => Err(e.clone()),
                        Ok(_) => parse_chain(line),
                    };
                    self.classify(path, first + i as u64, line, strict);
                }
                i + 1
            }
            None => good,
        }
    }

    fn adopt(&mut self, path: &Path, line_no: u64, c: &ChainOfLine) {
        let seq = c.chain.sequence;
        if let Some((cp, _)) = &self.checkpoint
            && cp.records > 0
            && seq == cp.records - 1
            && c.mac != cp.last_mac
            && self.checkpoint_conflict.is_none()
        {
            self.checkpoint_conflict = Some(Finding {
                kind: TamperKind::CheckpointMismatch,
                file: path.to_path_buf(),
                line: line_no,
                detail: format!(
                    "record {seq} differs from the one the checkpoint of {} recorded: the log was rewritten after the checkpoint",
                    cp.timestamp
                ),
            });
        }
        if let Some(f) = self.files.last_mut() {
            if f.first_seq.is_none() {
                f.first_seq = Some(seq);
            }
            f.records += 1;
        }
        self.expected = seq + 1;
        self.prev = c.mac;
        self.last_epoch = c.chain.epoch;
        self.records += 1;
    }

    fn record_verifies(&self, line: &[u8], c: &ChainOfLine) -> bool {
        let ep = self.epoch_key.epoch();
        let prepared = if c.chain.epoch == ep {
            self.mac.clone()
        } else if c.chain.epoch < ep {
            self.key.epoch_key(c.chain.epoch).record_mac()
        } else if c.chain.epoch == ep + 1 {
            self.epoch_key.derive_next().record_mac()
        } else {
            return false;
        };
        line.get(..c.signed_len)
            .is_some_and(|s| mac_matches(&prepared, s, &c.mac))
    }

    fn classify(
        &mut self,
        path: &Path,
        line_no: u64,
        line: &[u8],
        r: Result<ChainOfLine, ParseError>,
    ) {
        let at = (path.to_path_buf(), line_no);
        let c = match r {
            Err(e) => return self.set(at, TamperKind::Malformed, e.0),
            Ok(c) => c,
        };
        let ch = c.chain;
        if ch.log_id != self.key.log_id() {
            return if self.records == 0 {
                self.set(
                    at,
                    TamperKind::WrongKey,
                    format!(
                        "the log's id is {} but the verifier key is for log {}",
                        ch.log_id,
                        self.key.log_id()
                    ),
                )
            } else {
                self.set(
                    at,
                    TamperKind::Inserted,
                    format!("record of another log ({}) inserted", ch.log_id),
                )
            };
        }
        if ch.sequence > self.expected {
            self.pending = Pending::Search {
                at,
                expected: self.expected,
                found: ch.sequence,
            };
            return;
        }
        if ch.sequence < self.expected {
            return if self.record_verifies(line, &c) {
                self.set(
                    at,
                    TamperKind::Replayed,
                    format!(
                        "copy of the genuine record {} where record {} belongs",
                        ch.sequence, self.expected
                    ),
                )
            } else {
                self.set(
                    at,
                    TamperKind::Inserted,
                    format!(
                        "record claiming sequence {} (a number already used) that the writer did not produce; record {} belongs here",
                        ch.sequence, self.expected
                    ),
                )
            };
        }
        let ep = self.epoch_key.epoch();
        let modified = if ch.prev_mac != self.prev {
            "its prev_mac does not match the MAC of the record before it".to_string()
        } else if (self.expected == 0 && ch.epoch != 0)
            || (self.expected > 0 && ch.epoch != ep && ch.epoch != ep + 1)
        {
            format!("its epoch {} does not follow epoch {}", ch.epoch, ep)
        } else {
            "its MAC does not verify: the record was changed after it was written".to_string()
        };
        self.pending = Pending::Peek {
            at,
            seq: ch.sequence,
            prev: self.prev,
            epoch: ep,
            modified,
        };
    }

    fn set(&mut self, at: (PathBuf, u64), kind: TamperKind, detail: String) {
        self.pending = Pending::None;
        if self.finding.is_none() {
            self.finding = Some(Finding {
                kind,
                file: at.0,
                line: at.1,
                detail,
            });
        }
    }

    /// Use one more line to settle a pending classification.
    fn resolve(&mut self, path: &Path, line_no: u64, line: &[u8]) {
        let parsed = parse_chain(line).ok();
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::None => {}
            Pending::Peek {
                at,
                seq,
                prev,
                epoch,
                modified,
            } => {
                let genuine_next = parsed.is_some_and(|c| {
                    c.chain.sequence == seq
                        && c.chain.prev_mac == prev
                        && c.chain.log_id == self.key.log_id()
                        && (c.chain.epoch == epoch || c.chain.epoch == epoch + 1)
                        && self.record_verifies(line, &c)
                });
                if genuine_next {
                    self.set(
                        at,
                        TamperKind::Inserted,
                        format!(
                            "record not produced by the writer inserted before the genuine record {seq} ({}:{line_no})",
                            path.display()
                        ),
                    );
                } else {
                    self.set(
                        at,
                        TamperKind::Modified,
                        format!("record {seq}: {modified}"),
                    );
                }
            }
            Pending::Search {
                at,
                expected,
                found,
            } => {
                if parsed.is_some_and(|c| c.chain.sequence == expected) {
                    self.set(
                        at,
                        TamperKind::Reordered,
                        format!(
                            "record {found} appears before record {expected}, which is at {}:{line_no}",
                            path.display()
                        ),
                    );
                } else {
                    self.pending = Pending::Search {
                        at,
                        expected,
                        found,
                    };
                }
            }
        }
    }

    fn settle_at_end(&mut self) {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::None => {}
            Pending::Peek {
                at, seq, modified, ..
            } => {
                self.set(
                    at,
                    TamperKind::Modified,
                    format!("record {seq}: {modified}"),
                );
            }
            Pending::Search {
                at,
                expected,
                found,
            } => {
                let what = if found == expected + 1 {
                    format!("record {expected} is missing")
                } else {
                    format!("records {expected} to {} are missing", found - 1)
                };
                self.set(
                    at,
                    TamperKind::Deleted,
                    format!("{what} (the next record has sequence {found})"),
                );
            }
        }
    }

    fn checkpoint_authentic(&self, cp: &Checkpoint) -> std::result::Result<(), CheckpointRefusal> {
        if cp.log_id != self.key.log_id() {
            return Err(CheckpointRefusal::OtherLog {
                checkpoint: cp.log_id,
                key: self.key.log_id(),
            });
        }
        let ep = self.epoch_key.epoch();
        let key = if cp.epoch >= ep {
            if cp.epoch - ep > MAX_CHECKPOINT_EPOCH_GAP {
                return Err(CheckpointRefusal::EpochTooFar {
                    checkpoint: cp.epoch,
                    log: ep,
                });
            }
            let mut k = self.epoch_key.duplicate();
            while k.epoch() < cp.epoch {
                k.advance();
            }
            k
        } else {
            self.key.epoch_key(cp.epoch)
        };
        if cp.mac_valid(&key) {
            Ok(())
        } else {
            Err(CheckpointRefusal::BadMac)
        }
    }

    /// Conclude after the last file.
    pub fn finish(mut self) -> Verdict {
        self.settle_at_end();
        let cp_state = self.checkpoint.take().map(|(cp, p)| {
            let auth = self.checkpoint_authentic(&cp);
            (cp, p, auth)
        });
        if let Some((_, _, Ok(()))) = &cp_state
            && let Some(f) = self.checkpoint_conflict.take()
        {
            return Verdict::Tampered(f);
        }
        if let Some(f) = self.finding.take() {
            return Verdict::Tampered(f);
        }
        let mut checkpoint_records = None;
        if let Some((cp, cp_path, auth)) = cp_state {
            if let Err(refusal) = auth {
                return Verdict::Tampered(Finding {
                    kind: TamperKind::BadCheckpoint,
                    file: cp_path,
                    line: 1,
                    detail: refusal.to_string(),
                });
            }
            if self.records < cp.records {
                let missing_file = !self
                    .files
                    .iter()
                    .any(|f| f.path.file_name().and_then(|n| n.to_str()) == Some(cp.file.as_str()));
                let (file, line) = match self.files.last() {
                    Some(f) => (f.path.clone(), self.last_line + 1),
                    None => (cp_path, 1),
                };
                return Verdict::Tampered(Finding {
                    kind: TamperKind::Truncated,
                    file,
                    line,
                    detail: format!(
                        "the log ends after {} records but the checkpoint of {} covers {} records, the last in file {}{}",
                        self.records,
                        cp.timestamp,
                        cp.records,
                        cp.file,
                        if missing_file {
                            ", which was not given (deleted?)"
                        } else {
                            ""
                        }
                    ),
                });
            }
            checkpoint_records = Some(cp.records);
        }
        Verdict::Intact(Summary {
            records: self.records,
            files: self.files,
            last_mac: (self.records > 0).then_some(self.prev),
            last_epoch: self.last_epoch,
            checkpoint_records,
        })
    }
}

/// Verify a log made of `files` (oldest first), optionally against a
/// checkpoint file.
///
/// # Errors
/// [`Error::Io`] when a file cannot be read; [`Error::CheckpointFormat`] when
/// the checkpoint is malformed. Tampering is a [`Verdict::Tampered`], not an
/// error.
pub fn verify_files(
    files: &[PathBuf],
    key: &VerifierKey,
    checkpoint: Option<&Path>,
) -> Result<Verdict> {
    let cp = match checkpoint {
        Some(p) => Some((Checkpoint::read(p)?, p.to_path_buf())),
        None => None,
    };
    let mut v = Verifier::new(key, cp);
    for f in files {
        let file = modelseal_manifest::open_regular(f).map_err(Error::io("open", f))?;
        v.feed(f, file)?;
    }
    Ok(v.finish())
}

/// Why a checkpoint is not authentic for this log and key (the detail of
/// a [`TamperKind::BadCheckpoint`] finding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum CheckpointRefusal {
    /// It names another log than the verifier key's.
    #[error("the checkpoint is for log {checkpoint} but the key is for log {key}")]
    OtherLog { checkpoint: LogId, key: LogId },
    /// Its epoch is too far ahead to derive the key for (bounded work).
    #[error(
        "the checkpoint's epoch {checkpoint} lies implausibly far beyond the log's epoch {log}"
    )]
    EpochTooFar { checkpoint: u64, log: u64 },
    /// Its MAC does not verify.
    #[error("the checkpoint's MAC does not verify with this verifier key")]
    BadMac,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::chain::seal_line;
    use crate::key::{WriterKey, keygen};
    use crate::record::Record;
    use crate::test_support::event as ev;
    use crate::writer::{Writer, WriterOptions};

    /// Keys in `dir` and a log `dir/a.log` holding `n` events, with its
    /// writer still open.
    fn log_of(dir: &Path, n: u64) -> (std::path::PathBuf, Writer) {
        keygen(dir).unwrap();
        let log = dir.join("a.log");
        let mut w = Writer::open(&log, &dir.join("writer.key"), WriterOptions::default()).unwrap();
        for i in 0..n {
            w.append(&ev(i)).unwrap();
        }
        (log, w)
    }

    #[test]
    fn unauthentic_checkpoints_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let (log, mut w) = log_of(dir.path(), 3);
        let cp = w
            .checkpoint(time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_800_000_000))
            .unwrap();
        drop(w);
        let vk = VerifierKey::load(&dir.path().join("verifier.key")).unwrap();
        let mut v = Verifier::new(&vk, None);
        v.feed(Path::new("a.log"), std::fs::read(&log).unwrap().as_slice())
            .unwrap();
        assert_eq!(v.checkpoint_authentic(&cp), Ok(()));
        let other = LogId([7; 16]);
        assert_eq!(
            v.checkpoint_authentic(&Checkpoint {
                log_id: other,
                ..cp.clone()
            }),
            Err(CheckpointRefusal::OtherLog {
                checkpoint: other,
                key: vk.log_id()
            })
        );
        let far = v.epoch_key.epoch() + MAX_CHECKPOINT_EPOCH_GAP + 1;
        assert_eq!(
            v.checkpoint_authentic(&Checkpoint {
                epoch: far,
                ..cp.clone()
            }),
            Err(CheckpointRefusal::EpochTooFar {
                checkpoint: far,
                log: v.epoch_key.epoch()
            })
        );
        assert_eq!(
            v.checkpoint_authentic(&Checkpoint {
                records: cp.records + 1,
                ..cp.clone()
            }),
            Err(CheckpointRefusal::BadMac)
        );
    }

    /// A thief holding today's writer.key re-seals record 1 and everything
    /// after it: the verifier still rejects record 1.
    #[test]
    fn a_stolen_writer_key_cannot_rewrite_earlier_records() {
        let dir = tempfile::tempdir().unwrap();
        let (log, w) = log_of(dir.path(), 5);
        drop(w);
        let stolen = WriterKey::load(&dir.path().join("writer.key")).unwrap();
        assert_eq!(stolen.epoch(), 5);
        let vk = VerifierKey::load(&dir.path().join("verifier.key")).unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for claim_own_epoch in [true, false] {
            let mut out = format!("{}\n", lines[0]);
            let mut prev = Record::parse(lines[0].as_bytes()).unwrap().mac;
            for l in &lines[1..] {
                let mut r = Record::parse(l.as_bytes()).unwrap();
                if r.chain.sequence == 1 {
                    r.event.user_id = "mallory".into();
                }
                r.chain.prev_mac = prev;
                if !claim_own_epoch {
                    r.chain.epoch = stolen.epoch();
                }
                let mut buf = Vec::new();
                prev = seal_line(&stolen.key.record_mac(), &r.event, &r.chain, &mut buf).unwrap();
                out.push_str(std::str::from_utf8(&buf).unwrap());
            }
            let mut v = Verifier::new(&vk, None);
            v.feed(Path::new("a.log"), out.as_bytes()).unwrap();
            match v.finish() {
                Verdict::Tampered(f) => {
                    assert_eq!((f.kind, f.line), (TamperKind::Modified, 2), "{f}");
                }
                other => panic!("forgery accepted: {other:?}"),
            }
        }
    }

    /// A reader that hands out a few bytes at a time, so lines straddle reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(7).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn line_numbers_hold_when_lines_straddle_reads() {
        let dir = tempfile::tempdir().unwrap();
        let (log, w) = log_of(dir.path(), 6);
        drop(w);
        let vk = VerifierKey::load(&dir.path().join("verifier.key")).unwrap();
        let good = std::fs::read(&log).unwrap();
        let mut v = Verifier::new(&vk, None);
        v.feed(Path::new("a.log"), Trickle(&good)).unwrap();
        assert!(matches!(v.finish(), Verdict::Intact(s) if s.records == 6));
        let bad = String::from_utf8(good).unwrap().replace("\"u4\"", "\"u9\"");
        let mut v = Verifier::new(&vk, None);
        v.feed(Path::new("a.log"), Trickle(bad.as_bytes())).unwrap();
        match v.finish() {
            Verdict::Tampered(f) => assert_eq!((f.kind, f.line), (TamperKind::Modified, 5)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tamper_kinds_have_stable_names() {
        assert_eq!(TamperKind::Deleted.as_str(), "deleted_records");
        assert_eq!(TamperKind::Truncated.to_string(), "truncated tail");
        let f = Finding {
            kind: TamperKind::Modified,
            file: "a.log".into(),
            line: 7,
            detail: "x".into(),
        };
        assert_eq!(f.to_string(), "a.log:7: modified record: x");
    }
}
