//! Checkpoints: small authenticated statements of how far a log reached.
//!
//! A checkpoint says "log L had N records, the last one with MAC M, and its
//! active file was F (segment S, starting at sequence Q), at time T, in epoch
//! E". It is written by the writer (`audit checkpoint`, and automatically as
//! `LOG.NNNNNN.checkpoint` at each rotation) and meant to be shipped out of
//! band, like CloudTrail's digest files, to a place the log's host cannot
//! rewrite. Given one, the verifier detects a log that ends too early (tail
//! truncation, a deleted last file) and a log rewritten after the checkpoint
//! (the record at sequence N-1 no longer has MAC M).
//!
//! # Why a MAC and not a signature
//!
//! The checkpoint is authenticated with `HMAC-SHA256(c_E, signed bytes)`,
//! where `c_E` is derived from the writer's epoch key `k_E` (see
//! [`crate::key`]), so anyone holding `verifier.key` can check it, and it
//! keeps the log's forward integrity: whoever steals `writer.key` later holds
//! only a later epoch key and cannot forge a checkpoint for an earlier epoch.
//! An asymmetric signature would let holders of a public key check
//! checkpoints, but the writer would then need a long-lived signing key, and a
//! thief of that key could back-date forged checkpoints; forward-secure
//! signature schemes exist but have no well-reviewed Rust implementation. The
//! checkpoint's custodian only needs to keep it, not check it: checking
//! happens at audit time, by the auditor who holds `verifier.key` anyway.
//!
//! # Canonical form
//!
//! One JSON object on one line with members in this order: `type`, `version`,
//! `@timestamp`, `log_id`, `file`, `segment`, `file_first_seq`, `records`,
//! `last_mac`, `epoch`, `mac`; strings escaped as in records. The signed bytes
//! are the line up to the `,"mac":` member; the file must be byte-for-byte
//! canonical.

use crate::error::{Error, Result};
use crate::key::{
    EpochKey, KEY_LEN, LogId, MacBytes, VerifierKey, hex_decode_into, hex_push, mac_matches,
    mac_with,
};
use serde::Deserialize;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

const TYPE: &str = "modelseal-audit-checkpoint";
const MAX_CHECKPOINT: u64 = 16 * 1024;
static TS_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// An authenticated statement of the log's extent at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// When it was made (UTC, `YYYY-MM-DDThh:mm:ss.ffffffZ`).
    pub timestamp: String,
    /// The log's identity.
    pub log_id: LogId,
    /// File name (no directory) of the file holding the last record.
    pub file: String,
    /// Segment number of that file (`LOG.NNNNNN`; for the active file, the
    /// number it will get when rotated).
    pub segment: u32,
    /// Sequence number of the first record of that file.
    pub file_first_seq: u64,
    /// Number of records in the whole log (last sequence + 1).
    pub records: u64,
    /// MAC of the last record (all zero when `records` is 0).
    pub last_mac: MacBytes,
    /// Epoch whose checkpoint key made `mac`.
    pub epoch: u64,
    /// The checkpoint's MAC.
    pub mac: MacBytes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(rename = "type")]
    kind: String,
    version: u32,
    #[serde(rename = "@timestamp")]
    timestamp: String,
    log_id: String,
    file: String,
    segment: u32,
    file_first_seq: u64,
    records: u64,
    last_mac: String,
    epoch: u64,
    mac: String,
}

pub(crate) fn format_time(t: OffsetDateTime) -> Result<String> {
    t.to_offset(time::UtcOffset::UTC)
        .format(TS_FORMAT)
        .map_err(|_| Error::InvalidEvent {
            field: "@timestamp",
            reason: "cannot be formatted",
        })
}

impl Checkpoint {
    /// Build and authenticate a checkpoint with the writer's current epoch key.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn seal(
        key: &EpochKey,
        log_id: LogId,
        time: OffsetDateTime,
        file: String,
        segment: u32,
        file_first_seq: u64,
        records: u64,
        last_mac: MacBytes,
    ) -> Result<Self> {
        let mut cp = Checkpoint {
            timestamp: format_time(time)?,
            log_id,
            file,
            segment,
            file_first_seq,
            records,
            last_mac,
            epoch: key.epoch(),
            mac: [0u8; KEY_LEN],
        };
        cp.mac = mac_with(&key.checkpoint_mac(), &cp.signed_bytes());
        Ok(cp)
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(384);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(TYPE.as_bytes());
        out.extend_from_slice(b"\",\"version\":1,\"@timestamp\":");
        push_json(&mut out, &self.timestamp);
        out.extend_from_slice(b",\"log_id\":\"");
        hex_push(&mut out, &self.log_id.0);
        out.extend_from_slice(b"\",\"file\":");
        push_json(&mut out, &self.file);
        out.extend_from_slice(
            format!(
                ",\"segment\":{},\"file_first_seq\":{},\"records\":{},\"last_mac\":\"",
                self.segment, self.file_first_seq, self.records
            )
            .as_bytes(),
        );
        hex_push(&mut out, &self.last_mac);
        out.extend_from_slice(format!("\",\"epoch\":{}", self.epoch).as_bytes());
        out
    }

    /// The canonical document, with a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_bytes();
        out.extend_from_slice(b",\"mac\":\"");
        hex_push(&mut out, &self.mac);
        out.extend_from_slice(b"\"}\n");
        out
    }

    /// Parse a canonical checkpoint document (not yet authenticated; see
    /// [`Checkpoint::authenticate`]).
    ///
    /// # Errors
    /// [`Error::CheckpointFormat`] when it is not exactly the canonical form.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |detail: &str| Error::CheckpointFormat {
            path: path.to_path_buf(),
            detail: detail.to_string(),
        };
        let w: Wire =
            serde_json::from_slice(bytes).map_err(|e| bad(&format!("not a checkpoint: {e}")))?;
        if w.kind != TYPE || w.version != 1 {
            return Err(bad("not a version 1 modelseal audit checkpoint"));
        }
        let log_id = LogId::from_hex(&w.log_id).ok_or_else(|| bad("bad log_id"))?;
        let mut last_mac = [0u8; KEY_LEN];
        hex_decode_into(w.last_mac.as_bytes(), &mut last_mac).ok_or_else(|| bad("bad last_mac"))?;
        let mut mac = [0u8; KEY_LEN];
        hex_decode_into(w.mac.as_bytes(), &mut mac).ok_or_else(|| bad("bad mac"))?;
        if w.file.is_empty() || w.file.contains('/') || w.segment == 0 {
            return Err(bad("bad file or segment"));
        }
        if w.file_first_seq > w.records || w.epoch > w.records {
            return Err(bad("inconsistent counts"));
        }
        let cp = Checkpoint {
            timestamp: w.timestamp,
            log_id,
            file: w.file,
            segment: w.segment,
            file_first_seq: w.file_first_seq,
            records: w.records,
            last_mac,
            epoch: w.epoch,
            mac,
        };
        let canonical = cp.to_bytes();
        let given = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        if canonical.strip_suffix(b"\n") != Some(given) {
            return Err(bad("not in canonical form"));
        }
        Ok(cp)
    }

    /// Read and parse a checkpoint file.
    ///
    /// # Errors
    /// [`Error::Io`] if unreadable; [`Error::CheckpointFormat`] if malformed.
    pub fn read(path: &Path) -> Result<Self> {
        let f = modelseal_manifest::open_regular(path).map_err(Error::io("open", path))?;
        let mut buf = Vec::new();
        f.take(MAX_CHECKPOINT)
            .read_to_end(&mut buf)
            .map_err(Error::io("read", path))?;
        Self::parse(&buf, path)
    }

    /// Write the checkpoint atomically (temporary file, fsync, rename).
    ///
    /// # Errors
    /// [`Error::Io`] on any file system failure.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        let tmp: PathBuf = path.with_file_name(name);
        let _ = fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)
            .map_err(Error::io("create", &tmp))?;
        f.write_all(&self.to_bytes())
            .map_err(Error::io("write", &tmp))?;
        f.sync_all().map_err(Error::io("fsync", &tmp))?;
        fs::rename(&tmp, path).map_err(Error::io("rename", path))?;
        crate::key::sync_dir(path.parent().unwrap_or(Path::new(".")))
    }

    /// Check the MAC with the key of the checkpoint's epoch.
    pub(crate) fn mac_valid(&self, key: &EpochKey) -> bool {
        key.epoch() == self.epoch
            && mac_matches(&key.checkpoint_mac(), &self.signed_bytes(), &self.mac)
    }

    /// Authenticate the checkpoint with the verifier key (derives the epoch
    /// key from `k_0`: cost linear in the epoch, which is at most `records`).
    ///
    /// The epoch is whatever the checkpoint file says, so an untrusted
    /// checkpoint can ask for up to 2^64 key steps: check untrusted
    /// checkpoints through [`crate::Verifier`], which authenticates them
    /// against the log and bounds the work.
    ///
    /// # Errors
    /// [`Error::InvalidSignature`] if it belongs to another log or the MAC
    /// does not verify.
    pub fn authenticate(&self, key: &VerifierKey) -> Result<()> {
        if self.log_id != key.log_id() || !self.mac_valid(&key.epoch_key(self.epoch)) {
            return Err(Error::InvalidSignature);
        }
        Ok(())
    }
}

fn push_json(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes exactly as the record serializer does (JCS rules).
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::key::from_seed;
    use time::macros::datetime;

    #[test]
    fn seal_parse_authenticate_roundtrip() {
        let (w, v) = from_seed(&[9u8; 48]);
        let mut k = w.key;
        k.advance();
        k.advance();
        let cp = Checkpoint::seal(
            &k,
            w.log_id,
            datetime!(2025-01-02 03:04:05.5 UTC),
            "audit.log".into(),
            2,
            10,
            17,
            [5u8; 32],
        )
        .unwrap();
        let bytes = cp.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(
            "{\"type\":\"modelseal-audit-checkpoint\",\"version\":1,\"@timestamp\":\"2025-01-02T03:04:05.500000Z\""
        ));
        let back = Checkpoint::parse(&bytes, Path::new("cp")).unwrap();
        assert_eq!(back, cp);
        back.authenticate(&v).unwrap();

        let forged = text.replace("\"records\":17", "\"records\":12");
        let f = Checkpoint::parse(forged.as_bytes(), Path::new("cp")).unwrap();
        assert!(matches!(f.authenticate(&v), Err(Error::InvalidSignature)));
        let (_, other) = from_seed(&[8u8; 48]);
        assert!(matches!(
            cp.authenticate(&other),
            Err(Error::InvalidSignature)
        ));
        let spaced = text.replace("\"version\":1", "\"version\": 1");
        assert!(matches!(
            Checkpoint::parse(spaced.as_bytes(), Path::new("cp")),
            Err(Error::CheckpointFormat { .. })
        ));
    }
}
