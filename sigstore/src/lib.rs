//! Offline verification of Sigstore evidence, to the Sigstore client
//! specification: the trusted root ([`TrustedRoot`]), what a Fulcio
//! certificate says ([`fulcio_identity`]), its embedded SCTs ([`verify_sct`]),
//! Rekor v1 and v2 entries with their SETs, inclusion proofs and checkpoints
//! ([`verify_entry`], [`verify_inclusion`], [`Checkpoint`]).
//!
//! Nothing here reads the clock or the network: times come from the
//! evidence (a verified integrated time or a timestamp's genTime). The
//! verifier crate runs these steps inside its one pipeline, together with
//! the certificate chain and the signature itself.
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

mod checkpoint;
mod der;
mod error;
mod fulcio;
mod log_key;
mod merkle;
mod rekor;
mod sct;
mod trusted_root;

pub use checkpoint::{Checkpoint, MAX_NOTE_BYTES, MAX_SIGNATURES, NoteSignature, note_key_id};
pub use der::DerError;
pub use error::{
    BodyError, CertificateError, CheckpointError, Error, IdentityError, PrecertError, RootError,
    SctError, SctRefusal, TimestampError, TimestampTokenError, TlogError, TsaRefusal,
    TsaRefusalReason, X509ParseError,
};
pub use fulcio::{
    CertIdentity, KeylessIdentity, Matcher, check as check_identity, identity as fulcio_identity,
    identity_of as fulcio_identity_of,
};
pub use log_key::{LogKey, LogKeyError};
pub use merkle::{InclusionError, Tree as MerkleTree, leaf_hash, node_hash, verify_inclusion};
pub use rekor::{ContentRef, Signed, SignerRef, VerifiedEntry, set_payload, verify_entry};
pub use sct::{VerifiedSct, precert_tbs, signed_data as sct_signed_data, verify as verify_sct};
pub use trusted_root::{Authority, Log, TrustedRoot, ValidFor};

/// The `TimeStampToken` (CMS `ContentInfo`) a bundle's `signedTimestamp`
/// holds: Sigstore clients write the whole `TimeStampResp` (status and
/// token), modelseal's signer the token alone; both are read. A response
/// whose status is not granted (0) or grantedWithMods (1) is refused.
///
/// # Errors
/// [`TimestampTokenError`] when the bytes are neither.
pub fn timestamp_token(der_bytes: &[u8]) -> Result<&[u8], TimestampTokenError> {
    let outer = der::one_sequence(der_bytes, "timestamp")?;
    let elements = der::elements(outer.contents)?;
    match elements.as_slice() {
        // ContentInfo: contentType OID, [0] content
        [oid, _] if oid.tag == 0x06 => Ok(der_bytes),
        // TimeStampResp: PKIStatusInfo, TimeStampToken
        [status, token] if status.tag == 0x30 && token.tag == 0x30 => {
            let (code, _) = der::read(status.contents)?;
            if code.tag != 0x02 || !matches!(code.contents, [0] | [1]) {
                return Err(TimestampTokenError::NotGranted);
            }
            Ok(token.whole)
        }
        _ => Err(TimestampTokenError::Unrecognized),
    }
}

/// RFC 3339 UTC text of Unix seconds, for messages.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{unix}"))
}
