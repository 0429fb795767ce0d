//! Why Sigstore evidence did not verify, one enum per phase under [`Error`].

use crate::der::DerError;
use crate::merkle::InclusionError;

/// Sigstore evidence that did not verify, or a trusted root that is
/// unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The trusted root does not parse or is unusable (an error, not a
    /// rejection).
    #[error("trusted root: {reason}")]
    TrustedRoot {
        /// What is wrong with it.
        reason: String,
    },
    /// A transparency-log entry does not verify.
    #[error("transparency log entry {index}: {reason}")]
    Tlog {
        /// The entry's position in the bundle.
        index: usize,
        /// Why.
        reason: TlogError,
    },
    /// No signed certificate timestamp of a trusted CT log verifies.
    #[error("certificate transparency: {0}")]
    Sct(#[from] SctError),
    /// The Fulcio certificate lacks what a keyless signature needs.
    #[error("Fulcio certificate: {reason}")]
    Certificate {
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate names another identity or issuer.
    #[error("identity: {0}")]
    Identity(#[from] IdentityError),
    /// An RFC 3161 timestamp does not verify.
    #[error("timestamp {index}: {reason}")]
    Timestamp {
        /// The timestamp's position in the bundle.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A required piece of evidence is absent.
    #[error("{0}")]
    Missing(&'static str),
}

impl Error {
    /// A stable identifier for scripts and `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::TrustedRoot { .. } => "invalid_trusted_root",
            Error::Tlog { .. } => "tlog_rejected",
            Error::Sct(_) => "sct_rejected",
            Error::Certificate { .. } => "untrusted_certificate",
            Error::Identity(_) => "identity_mismatch",
            Error::Timestamp { .. } => "timestamp_rejected",
            Error::Missing(_) => "evidence_missing",
        }
    }

    /// Whether this is a definite "no" (exit 1) rather than unusable
    /// configuration (exit 2).
    pub fn is_rejection(&self) -> bool {
        !matches!(self, Error::TrustedRoot { .. })
    }
}

/// Why one transparency-log entry does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlogError {
    /// The entry names a log the trusted root does not hold.
    #[error("log {log_id} is not in the trusted root")]
    UnknownLog {
        /// The log ID, hex.
        log_id: String,
    },
    /// The log's key was not valid when the entry was integrated.
    #[error("the log's key is not valid at {time}")]
    LogKeyNotValid {
        /// The time, RFC 3339.
        time: String,
    },
    /// The entry kind or version is not one this verifier knows.
    #[error("unsupported entry kind {kind} {version}")]
    UnsupportedKind {
        /// `kindVersion.kind`.
        kind: String,
        /// `kindVersion.version`.
        version: String,
    },
    /// The entry kind does not fit the bundle's content.
    #[error("a {kind} entry cannot record a {content}")]
    KindMismatch {
        /// The entry kind.
        kind: String,
        /// The bundle's content.
        content: &'static str,
    },
    /// The body does not parse.
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// The body records another signature, key, certificate or digest.
    #[error("the entry records another {0} than the bundle")]
    BodyMismatch(&'static str),
    /// The signed entry timestamp is absent where it is required.
    #[error("no signed entry timestamp (required in v0.1 bundles)")]
    MissingSet,
    /// The signed entry timestamp does not verify.
    #[error("the signed entry timestamp does not verify")]
    BadSet,
    /// The inclusion proof is absent where it is required.
    #[error("no inclusion proof (required in v0.2+ bundles and Rekor v2)")]
    MissingProof,
    /// The inclusion proof does not lead to its root hash.
    #[error("inclusion proof: {0}")]
    BadProof(#[from] InclusionError),
    /// The checkpoint is absent.
    #[error("no checkpoint with the inclusion proof")]
    MissingCheckpoint,
    /// The checkpoint does not parse.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// No signature of the log's key on the checkpoint verifies.
    #[error("the checkpoint is not signed by the log")]
    CheckpointSignature,
    /// The checkpoint is for another tree than the proof.
    #[error("the checkpoint's {0} differs from the inclusion proof's")]
    CheckpointMismatch(&'static str),
    /// A field that must be absent or zero for this log version is set.
    #[error("{0}")]
    Unexpected(&'static str),
}

/// Why no SCT verifies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SctError {
    /// The leaf carries no SCT extension.
    #[error("the certificate carries no signed certificate timestamp")]
    Missing,
    /// The SCT list does not parse.
    #[error("malformed SCT list: {0}")]
    Malformed(String),
    /// The leaf's TBSCertificate cannot be turned into the precertificate
    /// TBS the SCTs sign.
    #[error("the certificate's TBS: {0}")]
    Precert(#[from] PrecertError),
    /// SCTs are present but none is from a trusted log and verifies.
    #[error("no SCT of a trusted CT log verifies ({0})")]
    NoneValid(String),
}

/// Why a certificate's identity is not the required one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The OIDC issuer extension is absent.
    #[error("the certificate carries no OIDC issuer extension")]
    NoIssuer,
    /// The two issuer extensions disagree.
    #[error("the certificate's two OIDC issuer extensions disagree")]
    IssuerConflict,
    /// The certificate has no SAN to match.
    #[error("the certificate has no subject alternative name")]
    NoSan,
    /// Issuer or SAN match none of the required identities.
    #[error(
        "signed by {identity} (issuer {issuer}), which matches none of the required identities"
    )]
    Mismatch {
        /// The certificate's SANs.
        identity: String,
        /// The certificate's issuer.
        issuer: String,
    },
    /// An identity regexp does not compile.
    #[error("invalid regular expression {pattern:?}: {reason}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
}

/// Why a leaf's TBSCertificate cannot be turned into the precertificate
/// TBS a CT log signed ([`crate::precert_tbs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrecertError {
    /// The TBS or its extension list is not well-formed DER.
    #[error(transparent)]
    Der(#[from] DerError),
    /// Two SCT-list extensions: which one the log signed is ambiguous.
    #[error("two SCT-list extensions")]
    TwoSctLists,
    /// The leaf carries the precertificate poison extension.
    #[error("a precertificate poison in a leaf")]
    Poison,
    /// No SCT-list extension to remove.
    #[error("no SCT-list extension")]
    NoSctList,
}

/// Why a bundle's `signedTimestamp` holds no usable timestamp token
/// ([`crate::timestamp_token`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampTokenError {
    /// Not one well-formed DER SEQUENCE.
    #[error(transparent)]
    Der(#[from] DerError),
    /// A `TimeStampResp` whose status is neither granted nor
    /// grantedWithMods.
    #[error("the timestamp response was not granted")]
    NotGranted,
    /// A SEQUENCE of another shape.
    #[error("neither a TimeStampResp nor a TimeStampToken")]
    Unrecognized,
}
