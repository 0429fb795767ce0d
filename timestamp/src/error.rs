//! Why a timestamp could not be obtained or did not verify.

/// Every way getting or verifying a timestamp fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TSA URL is not one this client speaks.
    #[error("TSA URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The TSA could not be reached, or its HTTP reply was unusable.
    #[error("TSA {url}: {reason}")]
    Transport {
        /// The URL asked.
        url: String,
        /// What went wrong (connection refused, timeout, HTTP status...).
        reason: String,
    },

    /// The TSA answered but refused to issue a timestamp.
    #[error("TSA refused the request: status {status}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Refused {
        /// The PKIStatus value (2 rejection, 3 waiting, 4/5 revocation).
        status: u32,
        /// The TSA's status text, if it gave one.
        text: Option<String>,
    },

    /// The OS random number generator failed (no nonce).
    #[error("no random nonce: {0}")]
    Random(#[source] getrandom::Error),

    /// The token (or reply) does not decode as RFC 3161 / CMS requires.
    #[error("malformed timestamp token: {0}")]
    Malformed(String),

    /// The token is larger than [`crate::MAX_TOKEN_BYTES`].
    #[error("timestamp token of {size} bytes, more than the {limit} accepted")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },

    /// An algorithm this verifier does not accept (SHA-1 signatures,
    /// unknown digests or key types).
    #[error("unsupported algorithm in timestamp token: {0}")]
    UnsupportedAlgorithm(String),

    /// The token's message imprint is not the hash of the signature it is
    /// meant to cover: it timestamps something else.
    #[error("the timestamp covers another message (message imprint mismatch)")]
    ImprintMismatch,

    /// The token does not carry the nonce that was sent.
    #[error("the timestamp does not carry the nonce sent with the request")]
    NonceMismatch,

    /// The certificate that signed the token is neither in the token nor
    /// among the given certificates.
    #[error("the TSA certificate that signed the token is not available")]
    SignerCertificateMissing,

    /// The ESS signing-certificate attribute does not name the signer's
    /// certificate, or is absent.
    #[error("the token's signing-certificate attribute {0}")]
    SigningCertificateAttribute(&'static str),

    /// The CMS signed attributes are missing or wrong (content type,
    /// message digest of the TSTInfo).
    #[error("timestamp token signed attributes: {0}")]
    SignedAttributes(&'static str),

    /// The signature over the token does not verify with the TSA
    /// certificate's key: the token was altered or forged.
    #[error("the timestamp token's signature does not verify")]
    BadSignature,

    /// The TSA certificate does not chain to a trusted TSA root at genTime,
    /// or is not a time-stamping certificate.
    #[error("TSA certificate {subject} is not trusted: {reason}")]
    UntrustedTsa {
        /// The TSA certificate's subject.
        subject: String,
        /// Why (unknown issuer, expired at genTime, no timeStamping EKU...).
        reason: String,
    },

    /// No TSA roots were given: nothing can be trusted (fail closed).
    #[error("no TSA trust roots given")]
    NoTrustRoots,
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Error::Malformed(e.to_string())
    }
}
