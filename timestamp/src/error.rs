//! Why a timestamp could not be obtained or did not verify.

use std::io;
use std::net::SocketAddr;

use der::asn1::ObjectIdentifier;

/// Every way getting or verifying a timestamp fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TSA URL is not one this client speaks.
    #[error("TSA URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: UrlError,
    },

    /// The TSA could not be reached, or its HTTP reply was unusable.
    #[error("TSA {url}: {reason}")]
    Transport {
        /// The URL asked.
        url: String,
        /// What went wrong (connection refused, timeout, HTTP status...).
        reason: TransportError,
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
    Malformed(#[from] Malformation),

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
    UnsupportedAlgorithm(Unsupported),

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
        reason: Untrusted,
    },

    /// No TSA roots were given: nothing can be trusted (fail closed).
    #[error("no TSA trust roots given")]
    NoTrustRoots,
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Error::Malformed(Malformation::Der(e))
    }
}

/// Why a TSA URL is refused ([`Error::Url`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// An `https://` URL: TLS is not spoken here.
    #[error(
        "https is not spoken directly; use the TSA's http:// URL (the token is signed, so plain HTTP is safe) or a local forwarding proxy"
    )]
    Https,
    /// Another scheme than `http://`.
    #[error("expected an http:// URL")]
    NotHttp,
    /// User information (`user:pass@`) in the authority.
    #[error("credentials in the URL are not supported")]
    Credentials,
    /// An IPv6 host whose `[` is not closed.
    #[error("unclosed [ in host")]
    UnclosedBracket,
    /// A port that is not a number from 0 to 65535.
    #[error("bad port")]
    BadPort,
    /// Text after an IPv6 host other than a port.
    #[error("bad host")]
    BadHost,
    /// An empty host, or a host or path with spaces or control characters.
    #[error("bad host or path")]
    BadHostOrPath,
}

/// Why a TSA's HTTP exchange failed ([`Error::Transport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The host name does not resolve.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// The host name resolves to no address.
    #[error("no address for {host}")]
    NoAddress {
        /// The host.
        host: String,
    },
    /// No address of the host accepts a connection (the last one tried).
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A socket timeout could not be set.
    #[error("{0}")]
    Socket(#[source] io::Error),
    /// The request could not be sent.
    #[error("sending the request: {0}")]
    Send(#[source] io::Error),
    /// The reply could not be read.
    #[error("reading the reply: {0}")]
    Read(#[source] io::Error),
    /// The overall deadline passed.
    #[error("timed out")]
    TimedOut,
    /// The reply (or its declared length) exceeds the limit.
    #[error("reply larger than {0} bytes")]
    TooLarge(usize),
    /// The status line is not HTTP/1.x with a code (the line, lossy UTF-8).
    #[error("malformed status line {0:?}")]
    StatusLine(String),
    /// A status other than 200 (the status line, at most 120 characters).
    #[error("HTTP error: {0}")]
    Status(String),
    /// A `Content-Length` that is not a number.
    #[error("bad Content-Length")]
    ContentLength,
    /// A chunk size that is not hexadecimal or exceeds the limit.
    #[error("bad chunk size")]
    ChunkSize,
    /// The connection closed before the reply was complete.
    #[error("the connection closed before the reply was complete")]
    Incomplete,
}

/// Why bytes are not an RFC 3161 timestamp token, or TSA certificates are
/// not usable ([`Error::Malformed`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Malformation {
    /// Not the DER the structure requires.
    #[error(transparent)]
    Der(#[from] der::Error),
    /// The ContentInfo does not hold a SignedData.
    #[error("content type {0}, expected signedData")]
    ContentType(ObjectIdentifier),
    /// The SignedData does not hold a TSTInfo.
    #[error("encapsulated content type {0}, expected id-ct-TSTInfo")]
    EncapsulatedType(ObjectIdentifier),
    /// The SignedData has no encapsulated content.
    #[error("no encapsulated TSTInfo")]
    NoTstInfo,
    /// A TSTInfo version other than 1.
    #[error("TSTInfo version {0}, expected 1")]
    Version(u8),
    /// Not exactly one SignerInfo.
    #[error("{0} signer infos, expected exactly one")]
    SignerCount(usize),
    /// A granted TimeStampResp without its token.
    #[error("granted reply without a token")]
    NoToken,
    /// The certificate that signed the token is not one webpki reads.
    #[error("TSA certificate: {0:?}")]
    TsaCertificate(webpki::Error),
    /// A TSA root certificate is not one webpki reads.
    #[error("TSA root certificate: {0:?}")]
    TsaRoot(webpki::Error),
    /// TSA roots given as PEM that does not parse.
    #[error("PEM: {0}")]
    Pem(#[source] rustls_pki_types::pem::Error),
    /// TSA roots given as PEM without a CERTIFICATE block.
    #[error("no CERTIFICATE block found")]
    NoCertificate,
}

/// An algorithm a timestamp token uses that this verifier does not accept
/// ([`Error::UnsupportedAlgorithm`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unsupported {
    /// A digest other than SHA-256, SHA-384 or SHA-512.
    #[error("digest {0}")]
    Digest(ObjectIdentifier),
    /// A signature algorithm, or a key algorithm with this digest, that is
    /// not accepted (SHA-1, unknown OIDs).
    #[error("signature {signature} with digest {digest}")]
    Signature {
        /// The SignerInfo's signature algorithm.
        signature: ObjectIdentifier,
        /// The SignerInfo's digest algorithm.
        digest: ObjectIdentifier,
    },
    /// A signature algorithm the TSA certificate's key cannot make.
    #[error("signature {0} for the TSA key")]
    ForKey(ObjectIdentifier),
}

/// Why a TSA certificate is not trusted ([`Error::UntrustedTsa`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Untrusted {
    /// webpki cannot read the certificate.
    #[error("certificate does not parse: {0:?}")]
    Unparsable(webpki::Error),
    /// Path validation at genTime failed (unknown issuer, expired, no
    /// timeStamping EKU...).
    #[error("{}", describe(.0))]
    Path(webpki::Error),
}

#[allow(deprecated)] // webpki may still return the deprecated variants
fn describe(e: &webpki::Error) -> String {
    use webpki::Error as W;
    match e {
        W::UnknownIssuer => "it does not chain to a trusted TSA root".into(),
        W::CertExpired { .. } => "a certificate of its chain had expired at genTime".into(),
        W::CertNotValidYet { .. } => {
            "a certificate of its chain was not yet valid at genTime".into()
        }
        W::RequiredEkuNotFound | W::RequiredEkuNotFoundContext(_) => {
            "it lacks the timeStamping extended key usage".into()
        }
        W::InvalidSignatureForPublicKey => "a certificate signature does not verify".into(),
        W::CaUsedAsEndEntity => "it is a CA certificate".into(),
        other => format!("{other:?}"),
    }
}
