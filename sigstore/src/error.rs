//! Why Sigstore evidence did not verify, one enum per phase under [`Error`].

use crate::der::DerError;
use crate::merkle::InclusionError;

/// Why x509-parser could not read a certificate.
pub type X509ParseError = x509_parser::nom::Err<x509_parser::error::X509Error>;

/// `items` joined by "; ", for messages that list one reason per candidate.
fn joined<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

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
        reason: RootError,
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
        reason: CertificateError,
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
        reason: TimestampError,
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
    MalformedBody(#[source] BodyError),
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
    MalformedCheckpoint(#[source] CheckpointError),
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
    Malformed(#[source] X509ParseError),
    /// The leaf's TBSCertificate cannot be turned into the precertificate
    /// TBS the SCTs sign.
    #[error("the certificate's TBS: {0}")]
    Precert(#[from] PrecertError),
    /// SCTs are present but none is from a trusted log and verifies.
    #[error("no SCT of a trusted CT log verifies ({})", joined(.0))]
    NoneValid(Vec<SctRefusal>),
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
        #[source]
        reason: regex::Error,
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

/// Why a `trusted_root.json` is unusable ([`Error::TrustedRoot`]). `field`
/// is the JSON path of the offending value (e.g. `tlogs[0].publicKey`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootError {
    /// Not JSON of the trusted-root shape.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A `mediaType` this verifier does not know (the first 100 characters).
    #[error("unknown media type {0:?}")]
    UnknownMediaType(String),
    /// A time that is not RFC 3339.
    #[error("{field}: {value:?} is not an RFC 3339 time: {source}")]
    NotRfc3339 {
        /// Where.
        field: String,
        /// The value as written.
        value: String,
        /// The parser's reason.
        #[source]
        source: time::error::Parse,
    },
    /// A key or authority without its `validFor` window.
    #[error("{field}.validFor is required")]
    NoValidFor {
        /// Where.
        field: String,
    },
    /// A `validFor` window without its `start`.
    #[error("{field}.validFor.start is required")]
    NoStart {
        /// Where.
        field: String,
    },
    /// A `validFor` window whose end precedes its start.
    #[error("{field}.validFor ends before it starts")]
    EndsBeforeStart {
        /// Where.
        field: String,
    },
    /// A value that must be base64 is not.
    #[error("{field} is not base64")]
    NotBase64 {
        /// Where.
        field: String,
    },
    /// An authority whose certificate chain is empty.
    #[error("{field}.certChain is empty")]
    EmptyChain {
        /// Where.
        field: String,
    },
    /// No transparency log, certificate authority or timestamp authority:
    /// nothing could ever verify.
    #[error("no transparency log, certificate authority or timestamp authority")]
    Empty,
}

/// What a Fulcio certificate lacks ([`Error::Certificate`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The certificate does not parse.
    #[error(transparent)]
    Parse(#[from] X509ParseError),
    /// An identity extension or SAN is not well-formed DER.
    #[error(transparent)]
    Der(#[from] DerError),
    /// The v1 issuer extension is not UTF-8.
    #[error("the issuer extension is not UTF-8")]
    IssuerNotUtf8,
    /// An identity extension is not one DER UTF8String.
    #[error("an identity extension is not a UTF8String")]
    NotUtf8String,
    /// An identity extension's UTF8String holds invalid UTF-8.
    #[error("an identity extension is not UTF-8")]
    IdentityNotUtf8,
    /// No Fulcio CA of the trusted root was valid at the time the
    /// certificate's chain was checked.
    #[error("no Fulcio CA of the trusted root {root} is valid at {time}")]
    NoCaAt {
        /// The trusted root's label.
        root: String,
        /// The time, RFC 3339.
        time: String,
    },
}

/// Why a Rekor entry's body does not parse ([`TlogError::MalformedBody`]).
/// `path` is the dotted path of the field in the body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is not JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A required field is absent.
    #[error("no {path}")]
    Missing {
        /// Where.
        path: String,
    },
    /// A field that must be a string is not.
    #[error("{path} is not a string")]
    NotString {
        /// Where.
        path: String,
    },
    /// A field that must be base64 is not.
    #[error("{path} is not base64")]
    NotBase64 {
        /// Where.
        path: String,
    },
    /// A field that must be a list is not.
    #[error("{path} is not a list")]
    NotList {
        /// Where.
        path: String,
    },
    /// The body's kind and API version are not the entry's.
    #[error("the body is a {body}, the entry says {entry}")]
    KindDiffers {
        /// The body's `kind apiVersion`.
        body: String,
        /// The entry's `kind version`.
        entry: String,
    },
}

/// Why a checkpoint (a signed note) does not parse
/// ([`TlogError::MalformedCheckpoint`], [`crate::Checkpoint::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Longer than [`crate::MAX_NOTE_BYTES`].
    #[error("longer than {0} bytes")]
    TooLong(usize),
    /// No blank line separates the text from the signatures.
    #[error("no blank line between text and signatures")]
    NoBlankLine,
    /// The origin line is empty.
    #[error("empty origin line")]
    EmptyOrigin,
    /// The tree-size line is absent.
    #[error("no tree size")]
    NoTreeSize,
    /// The tree size is not a decimal number without leading zeros.
    #[error("the tree size is not a decimal number")]
    TreeSizeNotDecimal,
    /// The tree size does not fit in 64 bits.
    #[error("the tree size is too large")]
    TreeSizeTooLarge,
    /// The root-hash line is absent.
    #[error("no root hash")]
    NoRootHash,
    /// The root hash is not base64.
    #[error("the root hash is not base64")]
    RootHashNotBase64,
    /// The root hash is not 32 bytes.
    #[error("the root hash is not 32 bytes")]
    RootHashLength,
    /// An extension line is empty.
    #[error("an empty extension line")]
    EmptyExtension,
    /// The signature block does not end with a newline.
    #[error("the signatures do not end with a newline")]
    NoFinalNewline,
    /// More than [`crate::MAX_SIGNATURES`] signatures.
    #[error("more than {0} signatures")]
    TooManySignatures(usize),
    /// A signature line does not start with an em dash and a space.
    #[error("a signature line does not start with an em dash")]
    NoEmDash,
    /// A signature line has a name but no signature.
    #[error("a signature line without a signature")]
    NoSignature,
    /// A signature line is not `— NAME SIGNATURE`.
    #[error("a signature line is not `— NAME SIGNATURE`")]
    BadSignatureLine,
    /// A signature is not base64.
    #[error("a signature is not base64")]
    SignatureNotBase64,
    /// A signature is shorter than its 4-byte key hint and one byte.
    #[error("a signature is too short")]
    SignatureTooShort,
    /// The note carries no signature.
    #[error("no signature")]
    Unsigned,
}

/// Why one embedded SCT did not count ([`SctError::NoneValid`] lists one
/// per SCT). `log` is the CT log's base URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SctRefusal {
    /// An SCT version other than v1.
    #[error("an SCT of an unknown version")]
    UnknownVersion,
    /// The SCT's log ID is not a CT log of the trusted root.
    #[error("an SCT of a CT log that is not trusted")]
    UntrustedLog,
    /// The trusted root's key for the log is unusable.
    #[error("CT log {log} has an unusable key")]
    UnusableKey {
        /// The log.
        log: String,
    },
    /// The log's key was not valid at the SCT's time.
    #[error("CT log {log}'s key was not valid at the SCT's time")]
    KeyNotValid {
        /// The log.
        log: String,
    },
    /// The SCT's signature does not verify.
    #[error("the SCT of CT log {log} does not verify")]
    BadSignature {
        /// The log.
        log: String,
    },
}

/// Why an RFC 3161 timestamp in a bundle does not count
/// ([`Error::Timestamp`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The bundle's bytes hold no timestamp token.
    #[error(transparent)]
    Token(#[from] TimestampTokenError),
    /// The token does not decode as RFC 3161 requires.
    #[error(transparent)]
    Decode(#[from] modelseal_timestamp::Error),
    /// The trusted root names no timestamp authority.
    #[error("the trusted root {root} has no timestamp authority")]
    NoAuthority {
        /// The trusted root's label.
        root: String,
    },
    /// No timestamp authority of the trusted root vouches for the token;
    /// one refusal per authority.
    #[error("not a valid timestamp of a timestamp authority of the trusted root {root} ({})", joined(.refusals))]
    NoneValid {
        /// The trusted root's label.
        root: String,
        /// Why each authority did not.
        refusals: Vec<TsaRefusal>,
    },
}

/// Why one timestamp authority of a trusted root does not vouch for a
/// token ([`TimestampError::NoneValid`]).
#[derive(Debug, thiserror::Error)]
#[error("{uri}: {reason}")]
pub struct TsaRefusal {
    /// The authority's URI.
    pub uri: String,
    /// Why.
    pub reason: TsaRefusalReason,
}

/// The reason in a [`TsaRefusal`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaRefusalReason {
    /// The authority's certificates are unusable as TSA trust, or the
    /// token does not verify against them.
    #[error(transparent)]
    Timestamp(#[from] modelseal_timestamp::Error),
    /// The token verifies but its genTime is outside the authority's
    /// validity window.
    #[error("genTime {gen_time} is outside the authority's validity window")]
    OutsideWindow {
        /// genTime, RFC 3339.
        gen_time: String,
    },
}
