//! Why a verification did not succeed, one enum per phase under [`Error`].

use std::path::PathBuf;

use modelseal_manifest::SchemeError;
use modelseal_manifest::{ChecksumsError, FormatError, ManifestDiff, ModelError};

pub use crate::signature::SignatureError;

/// A verification that did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file (bundle, root, key) could not be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        /// What the file was for.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The bundle or its payload is malformed.
    #[error("malformed bundle: {0}")]
    Format(#[from] FormatError),
    /// Trust material (roots, keys) or verification options are unusable.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The signature does not verify (or cannot be checked with this key).
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    /// The key bundle's hint names another key than the one given.
    #[error(
        "the bundle was signed with another key: its key hint {hint} does not match the given public key ({expected})"
    )]
    KeyHint {
        /// The hint in the bundle.
        hint: String,
        /// The hint of the given key.
        expected: String,
    },
    /// The bundle's material does not fit the trust given (a key bundle
    /// checked against roots, or the reverse).
    #[error("{}", material_mismatch(*bundle))]
    MaterialMismatch {
        /// What the bundle carries.
        bundle: crate::facts::MaterialKind,
    },
    /// The signed subject name is not one of the names required
    /// (`--model-name`, a policy scope's `modelNames`): another model,
    /// signed by the same signer, in this one's place.
    #[error("the signed model name {found:?} is not {}", expected_names(expected))]
    ModelName {
        /// The subject name in the signed statement.
        found: String,
        /// The names allowed.
        expected: Vec<String>,
    },
    /// A step could not run: nothing to run it with (no key for a bare-key
    /// bundle, a prerequisite step failed).
    #[error("not verified: {reason}")]
    NotRun {
        /// Why.
        reason: String,
    },
    /// The certificate chain is not trusted.
    #[error("certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// The signer is not one of the required identities.
    #[error("identity: {0}")]
    Identity(#[from] IdentityError),
    /// The model could not be read as the manifest requires.
    #[error("model: {0}")]
    Model(#[from] ModelError),
    /// The model's files are not those that were signed.
    #[error("integrity: {}", describe_diff(.0, "signed"))]
    Integrity(ManifestDiff),
    /// The model's files are not those its checksums file lists.
    #[error("integrity: {}", describe_diff(.0, "listed"))]
    ChecksumsMismatch(ManifestDiff),
    /// A checksums file does not parse, or lists itself.
    #[error("malformed checksums file: {0}")]
    Checksums(#[from] ChecksumsError),
    /// A one-file model that its checksums file does not list.
    #[error("{} is not listed in the checksums file", path.display())]
    NotListed {
        /// The file.
        path: PathBuf,
    },
    /// A raw (detached) signature file that cannot be a signature: empty,
    /// too large, or Base64 text.
    #[error("raw signature {}: {reason}", path.display())]
    RawSignature {
        /// The signature file.
        path: PathBuf,
        /// What is wrong with it.
        reason: RawSignatureError,
    },
    /// The raw-signature options do not fit the key.
    #[error("raw signature: {0}")]
    Scheme(#[from] SchemeError),
    /// The gate could not hold or hand over verified bytes.
    #[error("gate: {0}")]
    Gate(#[from] GateError),
    /// An RFC 3161 timestamp the bundle carries does not verify (imprint,
    /// token signature, TSA chain at genTime).
    #[error("timestamp: {0}")]
    Timestamp(modelseal_timestamp::Error),
    /// Sigstore evidence or a keyless signer that does not verify
    /// (transparency-log entry, SCT, Fulcio certificate, keyless
    /// identity, a timestamp against the trusted root's TSAs), or an
    /// unusable trusted root.
    #[error("{0}")]
    Sigstore(#[from] modelseal_sigstore::Error),
}

impl Error {
    /// A stable identifier for scripts and `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Read { .. } => "unreadable_input",
            Error::Format(_) => "malformed_bundle",
            Error::Config(_) => "invalid_configuration",
            Error::Signature(SignatureError::InvalidSignature) => "invalid_signature",
            Error::Signature(_) => "signature_algorithm",
            Error::KeyHint { .. } => "wrong_key",
            Error::MaterialMismatch { .. } => "material_mismatch",
            Error::NotRun { .. } => "not_verified",
            Error::ModelName { .. } => "model_name_mismatch",
            Error::Certificate(_) => "untrusted_certificate",
            Error::Identity(_) => "identity_mismatch",
            Error::Model(ModelError::Io { .. }) => "unreadable_model",
            Error::Model(_) => "model_rejected",
            // The failing check: `files` (the set of files differs) or
            // `digests` (same files, changed content).
            Error::Integrity(d) | Error::ChecksumsMismatch(d)
                if !d.missing.is_empty() || !d.extra.is_empty() =>
            {
                "files_mismatch"
            }
            Error::Integrity(_) | Error::ChecksumsMismatch(_) => "digest_mismatch",
            Error::Checksums(_) => "malformed_checksums",
            Error::NotListed { .. } => "not_listed",
            Error::RawSignature { .. } => "malformed_signature",
            Error::Scheme(_) => "invalid_configuration",
            Error::Gate(GateError::NotSigned { .. }) => "not_signed",
            Error::Gate(_) => "gate_failed",
            Error::Timestamp(_) => "invalid_timestamp",
            Error::Sigstore(modelseal_sigstore::Error::Timestamp { .. }) => "invalid_timestamp",
            Error::Sigstore(e) => e.kind(),
        }
    }

    /// Whether this is a definite "no" about the model (exit 1), rather than
    /// a failure to decide (exit 2: unreadable or malformed input, bad
    /// options).
    pub fn is_rejection(&self) -> bool {
        !matches!(
            self,
            Error::Read { .. }
                | Error::Format(_)
                | Error::Config(_)
                | Error::Model(ModelError::Io { .. })
                | Error::Checksums(_)
                | Error::RawSignature { .. }
                | Error::Scheme(_)
                | Error::Sigstore(modelseal_sigstore::Error::TrustedRoot { .. })
                | Error::Gate(
                    GateError::Memory { .. }
                        | GateError::View { .. }
                        | GateError::Abandoned { .. }
                        | GateError::TooLarge { .. }
                )
        )
    }
}

/// Verification options that do not fit together or the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A certificate was given together with a bare public key.
    #[error(
        "a certificate was given with a public key: a certificate is checked against trusted roots, a public key stands alone"
    )]
    CertificateWithKey,
    /// Keyless (Sigstore) trust without a keyless identity to require.
    #[error(
        "keyless verification needs the signer's identity and OIDC issuer: a keyless signature proves nothing about who signed without them"
    )]
    NoKeylessIdentity,
    /// A raw signature with trusted roots but no signer's certificate.
    #[error(
        "a raw signature carries no certificate: the signer's certificate must be given with the trusted roots"
    )]
    NoCertificate,
    /// A raw signature over something that is not a regular file.
    #[error(
        "{} is not a regular file: a raw signature covers one file (sign a checksums file for a directory)",
        path.display()
    )]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// A file too large to hold whole, as pure Ed25519 needs.
    #[error(
        "{} is larger than {limit} bytes: Ed25519 raw signatures need the whole file in memory; sign a checksums file instead",
        path.display()
    )]
    TooLargeForEd25519 {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
}

/// Why the gate could not hand over verified bytes ([`crate::gate`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// A file was asked for that is not a signed resource of the model.
    #[error("{path} is not a signed file of this model")]
    NotSigned {
        /// The resource path asked for.
        path: String,
    },
    /// A sealed in-memory copy could not be made (memfd, write or seals).
    #[error("cannot hold a sealed copy of {path}: {step}: {source}")]
    Memory {
        /// The resource.
        path: String,
        /// What failed (`memfd_create`, `write`, `seal`, ...).
        step: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The directory through which a command reads the sealed copies could
    /// not be made.
    #[error("cannot make the model view {}: {source}", path.display())]
    View {
        /// The directory or link.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The model verified, but holds more bytes than the gate may copy
    /// into sealed memory ([`crate::gate::Gate::with_seal_limit`]).
    #[error(
        "the model's files add up to {bytes} bytes, more than the {limit} bytes the gate may seal in memory ({why}); nothing was read"
    )]
    TooLarge {
        /// The model's size.
        bytes: u64,
        /// The limit.
        limit: u64,
        /// Where the limit comes from.
        why: &'static str,
    },
    /// The thread hashing a streamed file stopped without a verdict.
    #[error("hashing of {path} stopped without a verdict")]
    Abandoned {
        /// The resource.
        path: String,
    },
}

/// Why a certificate chain is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The bundle carries no certificate.
    #[error("the bundle carries no certificate")]
    NoCertificate,
    /// No trust anchor was given.
    #[error("no trusted root certificate given")]
    NoTrustAnchors,
    /// A certificate given as a trust root is not a CA certificate (no
    /// basicConstraints `CA:TRUE`): a leaf among the roots would let its key
    /// issue certificates for any identity.
    #[error(
        "trust root {subject:?} is not a CA certificate (basicConstraints CA:TRUE missing); give the root CA, not a leaf or a full chain"
    )]
    RootNotCa {
        /// Subject of the refused certificate.
        subject: String,
    },
    /// A certificate does not parse.
    #[error("malformed certificate: {reason}")]
    Malformed {
        /// Parser message.
        reason: String,
    },
    /// A certificate in the path has expired.
    #[error("{subject:?} expired at {}", crate::report::rfc3339(*not_after))]
    Expired {
        /// Subject of the expired certificate.
        subject: String,
        /// Its notAfter (Unix seconds).
        not_after: i64,
    },
    /// A certificate in the path is not valid yet.
    #[error("{subject:?} is not valid before {}", crate::report::rfc3339(*not_before))]
    NotYetValid {
        /// Subject of the certificate.
        subject: String,
        /// Its notBefore (Unix seconds).
        not_before: i64,
    },
    /// The signing certificate is a CA certificate.
    #[error("signing certificate {subject:?} is a CA certificate, not an end entity")]
    LeafIsCa {
        /// Leaf subject.
        subject: String,
    },
    /// An issuing certificate in the path is not a CA.
    #[error(
        "an issuing certificate in the chain is not a CA (basicConstraints CA:FALSE or absent)"
    )]
    IssuerNotCa,
    /// A CA's pathLenConstraint is exceeded.
    #[error("the chain exceeds an issuer's path length constraint")]
    PathLengthExceeded,
    /// No path to a trusted root (wrong root, self-signed or missing intermediate).
    #[error(
        "{subject:?} does not chain to a trusted root (unknown issuer, self-signed, or missing intermediate)"
    )]
    UntrustedRoot {
        /// Leaf subject.
        subject: String,
    },
    /// The leaf lacks the codeSigning extended key usage.
    #[error("signing certificate {subject:?} lacks the codeSigning extended key usage")]
    MissingCodeSigning {
        /// Leaf subject.
        subject: String,
    },
    /// The leaf's keyUsage lacks digitalSignature.
    #[error("signing certificate {subject:?} lacks the digitalSignature key usage")]
    MissingDigitalSignature {
        /// Leaf subject.
        subject: String,
    },
    /// A certificate is signed with an algorithm not accepted (e.g. SHA-1).
    #[error(
        "a certificate in the chain is signed with an unsupported or weak algorithm (e.g. SHA-1)"
    )]
    UnsupportedAlgorithm,
    /// A certificate signature does not verify.
    #[error("a certificate signature in the chain does not verify")]
    BadSignature,
    /// A certificate in the path is revoked.
    #[error("{subject:?} is revoked")]
    Revoked {
        /// Subject of the revoked certificate.
        subject: String,
    },
    /// The revocation status of a certificate of the path cannot be
    /// established from the given lists (none covers it, or a list is
    /// unusable: bad signature, issuer without cRLSign, unsupported form).
    #[error("revocation status unknown: {reason}")]
    Revocation {
        /// Why.
        reason: String,
    },
    /// Any other path validation failure.
    #[error("chain validation failed: {reason}")]
    Invalid {
        /// webpki's reason.
        reason: String,
    },
}

/// What is wrong with an identity string ([`IdentityError::Invalid`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentitySyntax {
    /// `email:`, `uri:` and the like with nothing after the colon.
    #[error("empty value")]
    EmptyValue,
    /// A DN that ends in a lone `\`.
    #[error("dangling escape")]
    DanglingEscape,
    /// A DN part without `=`.
    #[error("{part:?} is not TYPE=VALUE")]
    NotTypeValue {
        /// The part as written.
        part: String,
    },
    /// A DN part whose type or value is empty.
    #[error("{part:?} has an empty type or value")]
    EmptyTypeOrValue {
        /// The part as written.
        part: String,
    },
}

/// Why the signer is not an allowed identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// An identity string that does not parse.
    #[error("invalid identity {identity:?}: {reason}")]
    Invalid {
        /// The string (shortened).
        identity: String,
        /// Why.
        reason: IdentitySyntax,
    },
    /// The certificate matches none of the required identities.
    #[error("signer (subject {subject:?}, SANs [{sans}]) is not {required}")]
    Mismatch {
        /// The identities required.
        required: String,
        /// The leaf's subject.
        subject: String,
        /// The leaf's SANs.
        sans: String,
    },
    /// An empty list of allowed identities.
    #[error("no identity is allowed")]
    NoneAllowed,
    /// An identity was required of a bundle signed by a bare key.
    #[error("an identity is required but the bundle is signed by a bare key, not a certificate")]
    NoCertificate,
}

fn material_mismatch(bundle: crate::facts::MaterialKind) -> &'static str {
    match bundle {
        crate::facts::MaterialKind::PublicKey => {
            "the bundle is signed by a bare key and carries no certificate: verify it with the signer's public key"
        }
        crate::facts::MaterialKind::Certificates => {
            "the bundle carries a certificate chain: verify it against trusted root certificates"
        }
        crate::facts::MaterialKind::Unsupported => {
            "the bundle's verification material is neither a certificate chain nor a public key"
        }
    }
}

fn expected_names(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.as_slice() {
        [one] => format!("the required {one}"),
        _ => format!("one of the allowed {}", quoted.join(", ")),
    }
}

fn describe_diff(d: &ManifestDiff, vouched: &str) -> String {
    let list = |what: &str, keys: &[modelseal_manifest::ResourceKey]| {
        if keys.is_empty() {
            return None;
        }
        let shown: Vec<String> = keys.iter().take(5).map(|k| k.name()).collect();
        let more = if keys.len() > 5 {
            format!(" and {} more", keys.len() - 5)
        } else {
            String::new()
        };
        Some(format!("{what} {}{more}", shown.join(", ")))
    };
    [
        list("digest mismatch:", &d.changed),
        list(&format!("missing ({vouched}, not present):"), &d.missing),
        list(&format!("extra (present, not {vouched}):"), &d.extra),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("; ")
}

/// Why a raw signature file cannot be a signature ([`Error::RawSignature`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RawSignatureError {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than any raw signature.
    #[error("larger than {limit} bytes: not a raw signature")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Base64 or PEM text rather than binary (the file, for the hint).
    #[error(
        "looks like Base64 or PEM text, not the binary signature openssl writes; decode it first (`openssl base64 -d -in {0} -out {0}.bin`)",
        .path.display()
    )]
    Text {
        /// The signature file.
        path: PathBuf,
    },
}
