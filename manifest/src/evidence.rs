//! The evidence a Sigstore bundle may carry beside its signature:
//! transparency-log entries (Rekor v1 and v2) and RFC 3161 timestamps.
//!
//! This module only reads them, strictly (protobuf-JSON field names, base64
//! fields decoded, counts bounded); `modelseal-sigstore` verifies them.
//!
//! ```json
//! "tlogEntries": [{"logIndex": "1", "logId": {"keyId": "<b64>"},
//!                  "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
//!                  "integratedTime": "1700000000",
//!                  "inclusionPromise": {"signedEntryTimestamp": "<b64>"},
//!                  "inclusionProof": {"logIndex": "1", "rootHash": "<b64>", "treeSize": "2",
//!                                     "hashes": ["<b64>"], "checkpoint": {"envelope": "<note>"}},
//!                  "canonicalizedBody": "<b64>"}],
//! "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": "<b64 DER>"}]}
//! ```

use serde::{Deserialize, Deserializer};

use crate::bundle::b64;
use crate::error::FormatError;

/// Most transparency-log entries one bundle may carry.
pub const MAX_TLOG_ENTRIES: usize = 16;
/// Most RFC 3161 timestamps one bundle may carry.
pub const MAX_TIMESTAMPS: usize = 16;
/// Largest RFC 3161 token accepted (DER bytes).
pub const MAX_TIMESTAMP_BYTES: usize = 128 * 1024;
/// Most hashes in one inclusion proof (a tree of 2^64 leaves needs 64).
pub const MAX_PROOF_HASHES: usize = 64;

/// One transparency-log entry, as read. Nothing in it has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogEntry {
    /// `logIndex`: the entry's index in the log (for Rekor v1 shards, the
    /// global index; the proof carries the shard-local one).
    pub log_index: u64,
    /// `logId.keyId`: which log (SHA-256 of its key, or its note key ID).
    pub log_id: Vec<u8>,
    /// `kindVersion.kind`: `hashedrekord`, `dsse` or `intoto`.
    pub kind: String,
    /// `kindVersion.version`: `0.0.1`, `0.0.2`.
    pub version: String,
    /// `integratedTime` in Unix seconds (0 when absent: Rekor v2).
    pub integrated_time: i64,
    /// `inclusionPromise.signedEntryTimestamp`: the SET.
    pub signed_entry_timestamp: Option<Vec<u8>>,
    /// `inclusionProof`.
    pub inclusion_proof: Option<InclusionProof>,
    /// `canonicalizedBody`: the exact body the log stored.
    pub body: Vec<u8>,
}

/// An RFC 6962 inclusion proof with the checkpoint it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf's index in the tree the proof is for.
    pub log_index: u64,
    /// The tree's root hash.
    pub root_hash: Vec<u8>,
    /// The tree's size.
    pub tree_size: u64,
    /// Sibling hashes, leaf to root.
    pub hashes: Vec<Vec<u8>>,
    /// The signed note (checkpoint) text, if present.
    pub checkpoint: Option<String>,
}

/// Evidence carried by a bundle: entries and timestamps, unverified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Transparency-log entries.
    pub tlog_entries: Vec<TlogEntry>,
    /// DER `TimeStampResponse` or `TimeStampToken` bytes, as carried.
    pub timestamps: Vec<Vec<u8>>,
}

impl Evidence {
    /// Whether the bundle carries any entry or timestamp.
    pub fn is_empty(&self) -> bool {
        self.tlog_entries.is_empty() && self.timestamps.is_empty()
    }
}

/// An int64 in protobuf JSON: a decimal string or a number.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Int64Json {
    Text(String),
    Number(i64),
}

impl Int64Json {
    fn get(&self, field: &str) -> Result<i64, FormatError> {
        match self {
            Int64Json::Number(n) => Ok(*n),
            Int64Json::Text(s) => s
                .parse::<i64>()
                .ok()
                .filter(|_| !s.starts_with('+') && !s.is_empty())
                .ok_or_else(|| FormatError::unexpected(field, "a decimal integer", s)),
        }
    }

    fn non_negative(&self, field: &str) -> Result<u64, FormatError> {
        let v = self.get(field)?;
        u64::try_from(v)
            .map_err(|_| FormatError::unexpected(field, "a non-negative integer", v.to_string()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TlogEntryJson {
    log_index: Int64Json,
    log_id: LogIdJson,
    kind_version: KindVersionJson,
    #[serde(default)]
    integrated_time: Option<Int64Json>,
    #[serde(default)]
    inclusion_promise: Option<PromiseJson>,
    #[serde(default)]
    inclusion_proof: Option<ProofJson>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LogIdJson {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindVersionJson {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PromiseJson {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProofJson {
    log_index: Int64Json,
    root_hash: String,
    tree_size: Int64Json,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<CheckpointJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointJson {
    envelope: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TimestampDataJson {
    #[serde(default, deserialize_with = "null_as_empty")]
    rfc3161_timestamps: Vec<TimestampJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TimestampJson {
    signed_timestamp: String,
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl TlogEntryJson {
    fn into_entry(self, i: usize) -> Result<TlogEntry, FormatError> {
        let f = |name: &str| format!("verificationMaterial.tlogEntries[{i}].{name}");
        let inclusion_proof = match self.inclusion_proof {
            None => None,
            Some(p) => {
                if p.hashes.len() > MAX_PROOF_HASHES {
                    return Err(FormatError::unexpected(
                        f("inclusionProof.hashes"),
                        format!("at most {MAX_PROOF_HASHES} hashes"),
                        p.hashes.len().to_string(),
                    ));
                }
                Some(InclusionProof {
                    log_index: p.log_index.non_negative(&f("inclusionProof.logIndex"))?,
                    root_hash: b64(&f("inclusionProof.rootHash"), &p.root_hash)?,
                    tree_size: p.tree_size.non_negative(&f("inclusionProof.treeSize"))?,
                    hashes: p
                        .hashes
                        .iter()
                        .map(|h| b64(&f("inclusionProof.hashes"), h))
                        .collect::<Result<_, _>>()?,
                    checkpoint: p.checkpoint.map(|c| c.envelope),
                })
            }
        };
        Ok(TlogEntry {
            log_index: self.log_index.non_negative(&f("logIndex"))?,
            log_id: b64(&f("logId.keyId"), &self.log_id.key_id)?,
            kind: self.kind_version.kind,
            version: self.kind_version.version,
            integrated_time: match &self.integrated_time {
                Some(t) => t.get(&f("integratedTime"))?,
                None => 0,
            },
            signed_entry_timestamp: self
                .inclusion_promise
                .map(|p| {
                    b64(
                        &f("inclusionPromise.signedEntryTimestamp"),
                        &p.signed_entry_timestamp,
                    )
                })
                .transpose()?,
            inclusion_proof,
            body: b64(&f("canonicalizedBody"), &self.canonicalized_body)?,
        })
    }
}

/// Decode the evidence fields of `verificationMaterial`.
pub(crate) fn read(
    entries: Vec<TlogEntryJson>,
    timestamps: Option<TimestampDataJson>,
) -> Result<Evidence, FormatError> {
    if entries.len() > MAX_TLOG_ENTRIES {
        return Err(FormatError::unexpected(
            "verificationMaterial.tlogEntries",
            format!("at most {MAX_TLOG_ENTRIES} entries"),
            entries.len().to_string(),
        ));
    }
    let stamps = timestamps.map(|t| t.rfc3161_timestamps).unwrap_or_default();
    if stamps.len() > MAX_TIMESTAMPS {
        return Err(FormatError::unexpected(
            "verificationMaterial.timestampVerificationData.rfc3161Timestamps",
            format!("at most {MAX_TIMESTAMPS} timestamps"),
            stamps.len().to_string(),
        ));
    }
    Ok(Evidence {
        tlog_entries: entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.into_entry(i))
            .collect::<Result<_, _>>()?,
        timestamps: stamps
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let field = format!(
                    "verificationMaterial.timestampVerificationData.rfc3161Timestamps[{i}].signedTimestamp"
                );
                let der = b64(&field, &t.signed_timestamp)?;
                if der.is_empty() || der.len() > MAX_TIMESTAMP_BYTES {
                    return Err(FormatError::unexpected(
                        &field,
                        format!("1 to {MAX_TIMESTAMP_BYTES} bytes"),
                        der.len().to_string(),
                    ));
                }
                Ok(der)
            })
            .collect::<Result<_, _>>()?,
    })
}
