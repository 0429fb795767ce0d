//! Signed certificate timestamps embedded in a Fulcio leaf (RFC 6962,
//! 3.2 and 3.3): each names a CT log and signs the precertificate, which is
//! rebuilt here as the leaf's TBSCertificate without the SCT extension.

use sha2::{Digest as _, Sha256};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::der;
use crate::error::{PrecertError, SctError, SctRefusal};
use crate::trusted_root::TrustedRoot;

/// `1.3.6.1.4.1.11129.2.4.2`, DER-encoded (with tag and length).
const SCT_LIST_OID_DER: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
];
/// `1.3.6.1.4.1.11129.2.4.3`: the precertificate poison (never in a leaf).
const POISON_OID_DER: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03,
];

/// An SCT that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSct {
    /// The CT log's `baseUrl`.
    pub log: String,
    /// The SCT's timestamp, in milliseconds since the epoch.
    pub timestamp_ms: u64,
}

/// The leaf's TBSCertificate without the SCT-list extension: the bytes
/// the CT log signed (the precertificate's TBS without the poison).
///
/// # Errors
/// [`PrecertError`] when the TBS does not have the expected shape.
pub fn precert_tbs(tbs: &[u8]) -> Result<Vec<u8>, PrecertError> {
    let seq = der::one_sequence(tbs, "TBSCertificate")?;
    let mut out = Vec::with_capacity(tbs.len());
    let mut removed = false;
    for el in der::elements(seq.contents)? {
        if el.tag != 0xa3 {
            out.extend_from_slice(el.whole);
            continue;
        }
        let exts = der::one_sequence(el.contents, "extension list")?;
        let mut kept = Vec::with_capacity(exts.contents.len());
        for ext in der::elements(exts.contents)? {
            let (oid, _) = der::read(ext.contents)?;
            if oid.whole == SCT_LIST_OID_DER {
                if removed {
                    return Err(PrecertError::TwoSctLists);
                }
                removed = true;
            } else if oid.whole == POISON_OID_DER {
                return Err(PrecertError::Poison);
            } else {
                kept.extend_from_slice(ext.whole);
            }
        }
        if !kept.is_empty() {
            out.extend_from_slice(&der::write(0xa3, &der::write(0x30, &kept)));
        }
    }
    if !removed {
        return Err(PrecertError::NoSctList);
    }
    Ok(der::write(0x30, &out))
}

/// The bytes an SCT signs for a precertificate entry (RFC 6962, 3.2).
pub fn signed_data(
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    extensions: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(tbs.len() + extensions.len() + 48);
    m.push(0); // v1
    m.push(0); // certificate_timestamp
    m.extend_from_slice(&timestamp_ms.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
    m.extend_from_slice(issuer_key_hash);
    let len = tbs.len() as u32;
    m.extend_from_slice(&len.to_be_bytes()[1..]);
    m.extend_from_slice(tbs);
    m.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    m.extend_from_slice(extensions);
    m
}

/// Verify the leaf's embedded SCTs: at least one must be from a CT log of
/// `root`, signed while that log's key was valid, over the leaf as issued
/// by the certificate whose SPKI is `issuer_spki_der`.
///
/// # Errors
/// [`SctError`] saying why none verifies.
pub fn verify(
    leaf_der: &[u8],
    issuer_spki_der: &[u8],
    root: &TrustedRoot,
) -> Result<VerifiedSct, SctError> {
    let (_, cert) = X509Certificate::from_der(leaf_der).map_err(SctError::Malformed)?;
    let scts = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SCT(list) => Some(list.clone()),
            _ => None,
        })
        .ok_or(SctError::Missing)?;
    let tbs = precert_tbs(cert.tbs_certificate.as_ref())?;
    let issuer_key_hash: [u8; 32] = Sha256::digest(issuer_spki_der).into();
    let mut why = Vec::new();
    for sct in &scts {
        if sct.version.0 != 0 {
            why.push(SctRefusal::UnknownVersion);
            continue;
        }
        let Some(log) = root.ctlog(sct.id.key_id) else {
            why.push(SctRefusal::UntrustedLog);
            continue;
        };
        let Ok(key) = &log.key else {
            why.push(SctRefusal::UnusableKey {
                log: log.base_url.clone(),
            });
            continue;
        };
        let secs = i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX);
        if !log.valid_for.contains(secs) {
            why.push(SctRefusal::KeyNotValid {
                log: log.base_url.clone(),
            });
            continue;
        }
        let msg = signed_data(sct.timestamp, &issuer_key_hash, &tbs, sct.extensions.0);
        if key.verifies(&msg, sct.signature.data) {
            return Ok(VerifiedSct {
                log: log.base_url.clone(),
                timestamp_ms: sct.timestamp,
            });
        }
        why.push(SctRefusal::BadSignature {
            log: log.base_url.clone(),
        });
    }
    if why.is_empty() {
        return Err(SctError::Missing);
    }
    Err(SctError::NoneValid(why))
}
