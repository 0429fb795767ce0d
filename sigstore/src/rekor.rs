//! Rekor transparency-log entries, v1 and v2.
//!
//! For one entry of a bundle, in order:
//! 1. **log**: the entry's log ID names a log of the trusted root.
//! 2. **body**: the canonicalized body records exactly the bundle's
//!    signature, signer (certificate or key) and digest: `hashedrekord`
//!    for message signatures, `dsse` or `intoto` for DSSE envelopes.
//! 3. **SET** (Rekor v1): the signed entry timestamp verifies with the
//!    log's key, which was valid at the integrated time; required in v0.1
//!    bundles. Only a verified SET makes the integrated time a verified time.
//! 4. **inclusion proof**: the body's leaf hash leads to the proof's root
//!    (RFC 6962), and a checkpoint signed by the log's key commits to that
//!    root and tree size. Required in v0.2+ bundles and for Rekor v2, whose
//!    entries carry no SET and no integrated time (their time comes from a
//!    timestamp authority).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use modelseal_manifest::{BundleVersion, TlogEntry};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::checkpoint::Checkpoint;
use crate::error::{BodyError, Error, TlogError};
use crate::merkle;
use crate::trusted_root::TrustedRoot;

/// Who signed, as the bundle says (DER).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum SignerRef<'a> {
    /// The leaf certificate.
    Certificate(&'a [u8]),
    /// The public key's SubjectPublicKeyInfo.
    PublicKey(&'a [u8]),
}

/// What was signed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ContentRef<'a> {
    /// A DSSE envelope.
    Dsse {
        /// `payloadType`.
        payload_type: &'a str,
        /// The payload bytes.
        payload: &'a [u8],
        /// The signature.
        signature: &'a [u8],
    },
    /// A message signature over an artifact with this SHA-256.
    Message {
        /// The artifact's SHA-256.
        digest: &'a [u8],
        /// The signature.
        signature: &'a [u8],
    },
}

impl ContentRef<'_> {
    fn name(&self) -> &'static str {
        match self {
            ContentRef::Dsse { .. } => "DSSE envelope",
            ContentRef::Message { .. } => "message signature",
        }
    }

    /// The signature bytes (what a timestamp covers).
    pub fn signature(&self) -> &[u8] {
        match self {
            ContentRef::Dsse { signature, .. } | ContentRef::Message { signature, .. } => signature,
        }
    }
}

/// The signature a log entry must record.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// The signer.
    pub signer: SignerRef<'a>,
    /// The signed content.
    pub content: ContentRef<'a>,
}

/// A log entry that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// The log's `baseUrl`.
    pub log: String,
    /// The entry's index.
    pub log_index: u64,
    /// `kind version`.
    pub kind: String,
    /// Rekor v2 (no SET, no integrated time).
    pub rekor_v2: bool,
    /// The integrated time, when a verified SET vouches for it.
    pub integrated_time: Option<i64>,
    /// The size of the checkpointed tree the inclusion proof leads to.
    pub checkpoint_size: Option<u64>,
}

fn tlog(index: usize, reason: TlogError) -> Error {
    Error::Tlog { index, reason }
}

/// Verify one entry (steps 1–4 above) against the bundle's signature.
///
/// # Errors
/// [`Error::Tlog`] naming the entry and what failed.
pub fn verify_entry(
    index: usize,
    entry: &TlogEntry,
    version: BundleVersion,
    signed: &Signed<'_>,
    root: &TrustedRoot,
) -> Result<VerifiedEntry, Error> {
    let fail = |reason| tlog(index, reason);
    // 1. log
    let log = root.tlog(&entry.log_id).ok_or_else(|| {
        fail(TlogError::UnknownLog {
            log_id: hex(&entry.log_id),
        })
    })?;
    let key = log.key.as_ref().map_err(|_| {
        fail(TlogError::UnknownLog {
            log_id: format!("{} (unusable key)", hex(&entry.log_id)),
        })
    })?;

    // 2. body
    let rekor_v2 = check_body(entry, signed).map_err(fail)?;

    // 3. SET
    let mut integrated_time = None;
    if rekor_v2 {
        if entry.signed_entry_timestamp.is_some() {
            return Err(fail(TlogError::Unexpected(
                "a Rekor v2 entry with a signed entry timestamp",
            )));
        }
        if entry.integrated_time != 0 {
            return Err(fail(TlogError::Unexpected(
                "a Rekor v2 entry with an integrated time",
            )));
        }
    } else {
        match &entry.signed_entry_timestamp {
            None if version == BundleVersion::V0_1 => return Err(fail(TlogError::MissingSet)),
            None => {}
            Some(set) => {
                if !log.valid_for.contains(entry.integrated_time) {
                    return Err(fail(TlogError::LogKeyNotValid {
                        time: crate::rfc3339(entry.integrated_time),
                    }));
                }
                if !key.verifies(&set_payload(entry), set) {
                    return Err(fail(TlogError::BadSet));
                }
                integrated_time = Some(entry.integrated_time);
            }
        }
    }

    // 4. inclusion proof and checkpoint
    let checkpoint_size = match &entry.inclusion_proof {
        None if rekor_v2 || version >= BundleVersion::V0_2 => {
            return Err(fail(TlogError::MissingProof));
        }
        None => None,
        Some(proof) => {
            let leaf = merkle::leaf_hash(&entry.body);
            merkle::verify_inclusion(
                proof.log_index,
                proof.tree_size,
                &leaf,
                &proof.hashes,
                &proof.root_hash,
            )
            .map_err(|e| fail(TlogError::BadProof(e)))?;
            let text = proof
                .checkpoint
                .as_deref()
                .ok_or_else(|| fail(TlogError::MissingCheckpoint))?;
            let cp = Checkpoint::parse(text).map_err(fail)?;
            if !cp.signed_by(&log.log_id, key) {
                return Err(fail(TlogError::CheckpointSignature));
            }
            if cp.size != proof.tree_size {
                return Err(fail(TlogError::CheckpointMismatch("tree size")));
            }
            if cp.root_hash != proof.root_hash {
                return Err(fail(TlogError::CheckpointMismatch("root hash")));
            }
            Some(cp.size)
        }
    };
    Ok(VerifiedEntry {
        log: log.base_url.clone(),
        log_index: entry.log_index,
        kind: format!("{} {}", entry.kind, entry.version),
        rekor_v2,
        integrated_time,
        checkpoint_size,
    })
}

/// The canonical JSON a Rekor v1 SET signs (keys sorted, no spaces).
pub fn set_payload(entry: &TlogEntry) -> Vec<u8> {
    format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        B64.encode(&entry.body),
        entry.integrated_time,
        hex(&entry.log_id),
        entry.log_index
    )
    .into_bytes()
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn at<'v>(v: &'v Value, path: &[&str]) -> Result<&'v Value, TlogError> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p).ok_or_else(|| {
            TlogError::MalformedBody(BodyError::Missing {
                path: path.join("."),
            })
        })?;
    }
    Ok(cur)
}

fn text<'v>(v: &'v Value, path: &[&str]) -> Result<&'v str, TlogError> {
    at(v, path)?.as_str().ok_or_else(|| {
        TlogError::MalformedBody(BodyError::NotString {
            path: path.join("."),
        })
    })
}

fn b64_field(v: &Value, path: &[&str]) -> Result<Vec<u8>, TlogError> {
    B64.decode(text(v, path)?).map_err(|_| {
        TlogError::MalformedBody(BodyError::NotBase64 {
            path: path.join("."),
        })
    })
}

/// DER from a PEM block (any label) or from DER itself.
fn der_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let s = match std::str::from_utf8(bytes) {
        Ok(s) if s.trim_start().starts_with("-----BEGIN ") => s,
        _ => return Some(bytes.to_vec()),
    };
    let mut b64 = String::new();
    let mut inside = false;
    for line in s.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN ") {
            if inside {
                return None;
            }
            inside = true;
        } else if line.starts_with("-----END ") {
            return B64.decode(&b64).ok();
        } else if inside {
            b64.push_str(line);
        }
    }
    None
}

fn signer_matches(recorded: &[u8], signer: SignerRef<'_>) -> bool {
    let want = match signer {
        SignerRef::Certificate(d) | SignerRef::PublicKey(d) => d,
    };
    der_of(recorded).is_some_and(|d| d == want)
}

fn same(cond: bool, what: &'static str) -> Result<(), TlogError> {
    if cond {
        Ok(())
    } else {
        Err(TlogError::BodyMismatch(what))
    }
}

/// Step 2: returns whether the entry is a Rekor v2 entry.
fn check_body(entry: &TlogEntry, signed: &Signed<'_>) -> Result<bool, TlogError> {
    let body: Value =
        serde_json::from_slice(&entry.body).map_err(|e| TlogError::MalformedBody(e.into()))?;
    let kind = text(&body, &["kind"])?;
    let api = text(&body, &["apiVersion"])?;
    if kind != entry.kind || api != entry.version {
        return Err(TlogError::MalformedBody(BodyError::KindDiffers {
            body: format!("{kind} {api}"),
            entry: format!("{} {}", entry.kind, entry.version),
        }));
    }
    let mismatch = || TlogError::KindMismatch {
        kind: kind.to_owned(),
        content: signed.content.name(),
    };
    let sig = signed.content.signature();
    match (kind, api, signed.content) {
        ("hashedrekord", "0.0.1", ContentRef::Message { digest, .. }) => {
            let spec = at(&body, &["spec"])?;
            same(
                text(spec, &["data", "hash", "algorithm"])? == "sha256",
                "digest algorithm",
            )?;
            same(
                text(spec, &["data", "hash", "value"])? == hex(digest),
                "artifact digest",
            )?;
            same(
                b64_field(spec, &["signature", "content"])? == sig,
                "signature",
            )?;
            let key = b64_field(spec, &["signature", "publicKey", "content"])?;
            same(signer_matches(&key, signed.signer), "signer")?;
            Ok(false)
        }
        ("dsse", "0.0.1", ContentRef::Dsse { payload, .. }) => {
            let spec = at(&body, &["spec"])?;
            same(
                text(spec, &["payloadHash", "algorithm"])? == "sha256",
                "payload hash algorithm",
            )?;
            same(
                text(spec, &["payloadHash", "value"])? == hex(&Sha256::digest(payload)),
                "payload hash",
            )?;
            let sigs = one_signature(spec, "signatures")?;
            same(b64_field(sigs, &["signature"])? == sig, "signature")?;
            same(
                signer_matches(&b64_field(sigs, &["verifier"])?, signed.signer),
                "signer",
            )?;
            Ok(false)
        }
        (
            "intoto",
            "0.0.2",
            ContentRef::Dsse {
                payload,
                payload_type,
                ..
            },
        ) => {
            let content = at(&body, &["spec", "content"])?;
            same(
                text(content, &["payloadHash", "algorithm"])? == "sha256",
                "payload hash algorithm",
            )?;
            same(
                text(content, &["payloadHash", "value"])? == hex(&Sha256::digest(payload)),
                "payload hash",
            )?;
            let env = at(content, &["envelope"])?;
            same(text(env, &["payloadType"])? == payload_type, "payload type")?;
            let s = one_signature(env, "signatures")?;
            // intoto 0.0.2 stores the signature base64 twice.
            let recorded = b64_field(s, &["sig"])?;
            let twice = B64.decode(&recorded).ok();
            same(
                recorded == sig || twice.as_deref() == Some(sig),
                "signature",
            )?;
            same(
                signer_matches(&b64_field(s, &["publicKey"])?, signed.signer),
                "signer",
            )?;
            Ok(false)
        }
        ("hashedrekord", "0.0.2", ContentRef::Message { digest, .. }) => {
            let spec = at(&body, &["spec", "hashedRekordV002"])?;
            same(
                text(spec, &["data", "algorithm"])? == "SHA2_256",
                "digest algorithm",
            )?;
            same(
                b64_field(spec, &["data", "digest"])? == digest,
                "artifact digest",
            )?;
            same(
                b64_field(spec, &["signature", "content"])? == sig,
                "signature",
            )?;
            same(
                verifier_v2(at(spec, &["signature", "verifier"])?, signed.signer)?,
                "signer",
            )?;
            Ok(true)
        }
        ("dsse", "0.0.2", ContentRef::Dsse { payload, .. }) => {
            let spec = at(&body, &["spec", "dsseV002"])?;
            same(
                text(spec, &["payloadHash", "algorithm"])? == "SHA2_256",
                "payload hash algorithm",
            )?;
            same(
                b64_field(spec, &["payloadHash", "digest"])? == Sha256::digest(payload).as_slice(),
                "payload hash",
            )?;
            let s = one_signature(spec, "signatures")?;
            same(b64_field(s, &["content"])? == sig, "signature")?;
            same(verifier_v2(at(s, &["verifier"])?, signed.signer)?, "signer")?;
            Ok(true)
        }
        ("hashedrekord", "0.0.1" | "0.0.2", _)
        | ("dsse", "0.0.1" | "0.0.2", _)
        | ("intoto", "0.0.2", _) => Err(mismatch()),
        _ => Err(TlogError::UnsupportedKind {
            kind: kind.to_owned(),
            version: api.to_owned(),
        }),
    }
}

fn one_signature<'v>(v: &'v Value, field: &str) -> Result<&'v Value, TlogError> {
    match at(v, &[field])?.as_array().map(Vec::as_slice) {
        Some([one]) => Ok(one),
        Some(_) => Err(TlogError::BodyMismatch("number of signatures")),
        None => Err(TlogError::MalformedBody(BodyError::NotList {
            path: field.to_owned(),
        })),
    }
}

/// A Rekor v2 `verifier`: `x509Certificate.rawBytes` or `publicKey.rawBytes`.
fn verifier_v2(v: &Value, signer: SignerRef<'_>) -> Result<bool, TlogError> {
    Ok(match signer {
        SignerRef::Certificate(der) => {
            v.get("x509Certificate").is_some()
                && b64_field(v, &["x509Certificate", "rawBytes"])? == der
        }
        SignerRef::PublicKey(der) => {
            v.get("publicKey").is_some() && b64_field(v, &["publicKey", "rawBytes"])? == der
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_payload_is_canonical_json() {
        let e = TlogEntry {
            log_index: 25_579,
            log_id: vec![0xab, 0x01],
            kind: "hashedrekord".into(),
            version: "0.0.1".into(),
            integrated_time: 1_700_000_000,
            signed_entry_timestamp: None,
            inclusion_proof: None,
            body: b"{}".to_vec(),
        };
        assert_eq!(
            String::from_utf8(set_payload(&e)).unwrap(),
            r#"{"body":"e30=","integratedTime":1700000000,"logID":"ab01","logIndex":25579}"#
        );
    }

    #[test]
    fn pem_and_der_signers_compare_by_der() {
        let der = [0x30, 0x03, 1, 2, 3];
        let pem = modelseal_manifest::pem("CERTIFICATE", &der);
        assert!(signer_matches(pem.as_bytes(), SignerRef::Certificate(&der)));
        assert!(signer_matches(&der, SignerRef::Certificate(&der)));
        assert!(!signer_matches(
            pem.as_bytes(),
            SignerRef::Certificate(&[0x30, 0])
        ));
        assert!(!signer_matches(
            b"-----BEGIN X-----\n!!\n-----END X-----\n",
            SignerRef::Certificate(&der)
        ));
    }
}
