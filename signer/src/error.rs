//! Errors of loading and using a private signing key.
//!
//! No variant carries key bytes, passphrases or decrypted material: details
//! are limited to labels, sizes, OIDs and the ASN.1 decoder's description of
//! where parsing stopped.

use std::fmt;

/// The encoding a private key was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyFormat {
    /// PKCS#8 `PrivateKeyInfo` (`-----BEGIN PRIVATE KEY-----`).
    Pkcs8,
    /// PKCS#8 `EncryptedPrivateKeyInfo` (`-----BEGIN ENCRYPTED PRIVATE KEY-----`).
    EncryptedPkcs8,
    /// PKCS#1 `RSAPrivateKey` (`-----BEGIN RSA PRIVATE KEY-----`).
    Pkcs1,
    /// SEC1 `ECPrivateKey` (`-----BEGIN EC PRIVATE KEY-----`).
    Sec1,
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyFormat::Pkcs8 => "PKCS#8",
            KeyFormat::EncryptedPkcs8 => "encrypted PKCS#8",
            KeyFormat::Pkcs1 => "PKCS#1",
            KeyFormat::Sec1 => "SEC1",
        })
    }
}

/// Why a private key could not be loaded or could not sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input holds no PEM block (`-----BEGIN ...-----`) at all.
    #[error("not a PEM private key: no \"-----BEGIN\" line found")]
    NotPem,

    /// A PEM block was found but its framing or Base64 body is broken
    /// (truncated, mismatched END line, invalid characters).
    #[error("malformed PEM block {label:?}: {detail}")]
    MalformedPem {
        /// The label of the block, or empty when not even that was
        /// readable; text that is not label-shaped (a BEGIN line run into
        /// the Base64 body) is replaced by its length.
        label: String,
        /// What the PEM decoder rejected.
        detail: String,
    },

    /// The PEM blocks present are not private keys (for example a
    /// certificate or a public key).
    #[error(
        "expected a private key (PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY), found PEM block {label:?}"
    )]
    UnexpectedLabel {
        /// The label of the first block that is not a private key.
        label: String,
    },

    /// An OpenSSL "traditional" encrypted PEM (`Proc-Type: 4,ENCRYPTED`
    /// headers), which uses an MD5-based key derivation and is not supported.
    #[error(
        "legacy OpenSSL-encrypted PEM ({label}) is not supported; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    )]
    LegacyEncryptedPem {
        /// The label of the block.
        label: String,
    },

    /// The DER structure inside the PEM block does not decode as the format
    /// its label announces, or the key it holds is invalid.
    #[error("malformed {format} private key: {detail}")]
    MalformedKey {
        /// The format the label announced.
        format: KeyFormat,
        /// What the decoder rejected (position and kind, never key bytes).
        detail: String,
    },

    /// The key is encrypted and no passphrase was given.
    #[error("the private key is encrypted and no passphrase was given")]
    PassphraseRequired,

    /// Decryption with the given passphrase failed: the passphrase is wrong
    /// (or the encrypted key is corrupted, which cannot be told apart).
    #[error("wrong passphrase for the encrypted private key (or the key is corrupted)")]
    WrongPassphrase,

    /// The key is encrypted with a scheme that is not supported (PBES1,
    /// an unsupported cipher or key derivation function).
    #[error("unsupported private key encryption: {detail}")]
    UnsupportedEncryption {
        /// The scheme the PKCS#5 layer refused.
        detail: String,
    },

    /// An RSA key with a modulus below 2048 bits.
    #[error("RSA-{bits} key is too small: at least 2048 bits are required")]
    WeakRsaKey {
        /// Modulus length in bits.
        bits: usize,
    },

    /// An RSA key with a modulus above the supported 8192 bits.
    #[error("RSA-{bits} key is too large: at most 8192 bits are supported")]
    RsaKeyTooLarge {
        /// Modulus length in bits.
        bits: usize,
    },

    /// An elliptic-curve key on a curve other than P-256 or P-384.
    #[error("unsupported elliptic curve {curve}: only P-256 and P-384 are supported")]
    UnsupportedCurve {
        /// The curve's name when known, with its OID (`secp256k1 (1.3.132.0.10)`).
        curve: String,
    },

    /// A key of an algorithm that is not supported (Ed448, DSA, X25519,
    /// RSASSA-PSS-restricted RSA keys, ...).
    #[error(
        "unsupported key type {algorithm}: only RSA, Ed25519 and ECDSA P-256/P-384 keys are supported"
    )]
    UnsupportedKeyType {
        /// The algorithm's name when known, with its OID.
        algorithm: String,
    },

    /// The signing operation itself failed (for example the operating
    /// system's random number generator failed).
    #[error("signing failed: {detail}")]
    Signing {
        /// What failed.
        detail: String,
    },
}

/// Why signing a model failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The private key could not be loaded or could not sign.
    #[error("key: {0}")]
    Key(#[from] KeyError),
    /// The key file is unusable (unreadable, too large, or readable by
    /// group or others).
    #[error("key file {}: {reason}", path.display())]
    KeyFile {
        /// The key file.
        path: std::path::PathBuf,
        /// Why it is refused.
        reason: KeyFileError,
    },
    /// A PKCS#11 token, or the key in it, could not be used (the PIN is
    /// never part of the reason).
    #[error("PKCS#11: {reason}")]
    Token {
        /// What failed.
        reason: String,
    },
    /// A `pkcs11:` URI is malformed.
    #[error("{0}")]
    Pkcs11Uri(#[from] crate::pkcs11::UriError),
    /// A certificate does not parse, or there are too many.
    #[error("certificate: {reason}")]
    Certificate {
        /// Why.
        reason: String,
    },
    /// The signing certificate carries another key than the signing key
    /// (both named by their SPKI SHA-256 fingerprint, `sha256:<hex>`).
    #[error(
        "the certificate's public key (sha256:{certificate}) is not the signing key's (sha256:{key}): the certificate and key do not belong together"
    )]
    CertificateKeyMismatch {
        /// The certificate key's SPKI SHA-256, hex.
        certificate: String,
        /// The signing key's SPKI SHA-256, hex.
        key: String,
    },
    /// The model could not be read under the OMS rules.
    #[error("model: {0}")]
    Model(#[from] modelseal_manifest::ModelError),
    /// An option is out of range.
    #[error("{reason}")]
    InvalidOption {
        /// What is out of range.
        reason: String,
    },
    /// The model has no file to sign: it is empty, or every file is
    /// ignored. A signature over nothing would verify any empty directory.
    #[error("nothing to sign in {}: the model is empty or every file is ignored", path.display())]
    EmptyModel {
        /// The model path.
        path: std::path::PathBuf,
    },
    /// The signed manifest would exceed what `verify` accepts (counted
    /// before hashing).
    #[error(
        "{resources} resources would make a bundle of at least {estimated} bytes, more than the {limit} bytes verification reads{}",
        if *sharded { "; choose a larger shard size" } else { "" }
    )]
    ModelTooLarge {
        /// Resources (files or shards) the manifest would list.
        resources: u64,
        /// The smallest size the bundle could have.
        estimated: u64,
        /// The bundle size limit.
        limit: u64,
        /// Whether the model is cut into shards.
        sharded: bool,
    },
    /// The bundle is larger than what `verify` reads.
    #[error("the bundle is {size} bytes, more than the {limit} bytes verification reads")]
    BundleTooLarge {
        /// Its real size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// An output path must not be written (the signature would replace the
    /// key, a certificate, model content, or a file that is not a bundle; a
    /// generated key would replace a file).
    #[error("refusing to write {}: {reason}", path.display())]
    Destination {
        /// The path.
        path: std::path::PathBuf,
        /// Why.
        reason: Refusal,
    },
    /// The destination exists outside the model and is not a signature
    /// bundle: it is replaced only when [`crate::Destination::force`] is
    /// set.
    #[error("refusing to write {}: it exists and is not a signature bundle", path.display())]
    NotABundle {
        /// The path.
        path: std::path::PathBuf,
    },
    /// Writing the bundle failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The signature path.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A time-stamping authority gave no usable timestamp.
    #[error("timestamp from {url}: {source}")]
    Timestamp {
        /// The TSA URL.
        url: String,
        /// What failed.
        source: modelseal_timestamp::Error,
    },
}

impl Error {
    /// A stable identifier for scripts and `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Key(_) | Error::KeyFile { .. } => "invalid_key",
            Error::Token { .. } => "token_error",
            Error::Pkcs11Uri(_) => "usage",
            Error::Certificate { .. } | Error::CertificateKeyMismatch { .. } => {
                "invalid_certificate"
            }
            Error::Model(modelseal_manifest::ModelError::Io { .. }) => "unreadable_model",
            Error::Model(_) => "model_rejected",
            Error::InvalidOption { .. } => "usage",
            Error::EmptyModel { .. } => "empty_model",
            Error::ModelTooLarge { .. } | Error::BundleTooLarge { .. } => "too_large",
            Error::Destination { .. } | Error::NotABundle { .. } => "unsafe_destination",
            Error::Write { .. } => "write_failed",
            Error::Timestamp { .. } => "timestamp_failed",
        }
    }
}

/// Why an output path must not be written ([`Error::Destination`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Its metadata cannot be read (other than "not found").
    #[error("cannot inspect it: {0}")]
    Uninspectable(#[source] std::io::Error),
    /// It is (resolves to) the key, a certificate or the model itself.
    #[error("it is {} (the signature would replace it)", .0.display())]
    Protected(std::path::PathBuf),
    /// It is a directory.
    #[error("it is a directory")]
    Directory,
    /// It is neither a regular file nor a symbolic link.
    #[error("it is not a regular file")]
    NotRegular,
    /// It is a file of the model that is not a signature bundle.
    #[error(
        "it is a file of the model, not a signature bundle; choose a path that is not model content"
    )]
    ModelContent,
    /// The path names no file (it ends in `..` or is a root).
    #[error("it names no file")]
    NoFileName,
    /// keygen's output exists.
    #[error("it exists; keygen never replaces a file")]
    Exists,
}

/// Why a key file is refused before it is parsed ([`Error::KeyFile`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// It cannot be opened or read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// It is not a regular file.
    #[error("not a regular file")]
    NotRegular,
    /// Group or others may read it.
    #[error("permissions {mode:04o} let group or others read it; run `chmod 600 {}`", path.display())]
    Readable {
        /// Its permission bits.
        mode: u32,
        /// The file, for the hint.
        path: std::path::PathBuf,
    },
    /// It is larger than any key file.
    #[error("larger than {limit} bytes: not a key")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
}
