//! RFC 3161 timestamps: ask a Time-Stamping Authority (TSA) to vouch that a
//! signature existed at a time, and verify such a token later.
//!
//! A timestamp lets a signature outlive its certificate: the verifier
//! checks the signing certificate's validity at the TSA's `genTime` instead
//! of "now", once the token itself verified to a TSA root it trusts.
//!
//! # Signing side
//!
//! 1. [`Request::new`] hashes the message (SHA-256; modelseal and Sigstore
//!    clients timestamp the *signature bytes*) and draws a random 128-bit
//!    nonce; `certReq` is set so the TSA includes its certificate.
//! 2. [`request_timestamp`] POSTs the DER request to an `http://` TSA URL
//!    (`Content-Type: application/timestamp-query`) with a minimal blocking
//!    HTTP/1.1 client over `std::net::TcpStream` (bounded reply size and
//!    time). `https://` TSAs are not spoken directly: reach them through a
//!    local forwarding proxy that offers plain HTTP on the loopback
//!    interface.
//! 3. The reply must be `granted` (or `grantedWithMods`), and its token is
//!    checked before it is returned: the imprint names our hash, the nonce is
//!    ours, and the CMS signature verifies with the certificate the token
//!    carries. The TSA chain is *not* judged here; that is the verifier's
//!    job, with roots it chose.
//!
//! # Verifying side
//!
//! [`verify`] takes the token (a CMS `ContentInfo` holding `SignedData`
//! over a `TSTInfo`), the message it should cover and the [`TsaTrust`]:
//!
//! 1. the token parses strictly (DER; one signer; content type TSTInfo);
//! 2. the message imprint is the hash of the given message (SHA-256/384/512);
//! 3. the nonce equals the expected one, when the caller has one (a token
//!    replayed from a bundle carries no caller nonce, which is fine);
//! 4. the signer's certificate is found (token certificates and the trust's
//!    extra certificates) by issuer and serial or subject key identifier,
//!    and the ESS `signingCertificate(V2)` attribute binds it;
//! 5. the signed attributes carry content type TSTInfo and the message
//!    digest of the TSTInfo, and the signature over them verifies
//!    (RSA PKCS#1 v1.5 / PSS, ECDSA P-256/P-384, Ed25519; no SHA-1);
//! 6. the TSA certificate chains, with rustls-webpki, to one of the trust
//!    roots *at genTime*, and carries the `timeStamping` extended key usage.
//!
//! Success is a [`VerifiedTimestamp`]: only this crate makes one, so holding
//! one proves every step above ran.
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

mod asn1;
mod error;
mod gen_time;
mod http;
mod request;
mod token;
mod trust;
mod verify;

pub use error::{Error, Malformation, TransportError, Unsupported, Untrusted, UrlError};
pub use http::{DEFAULT_TIMEOUT, MAX_REPLY_BYTES, request_timestamp};
pub use request::Request;
pub use token::{MAX_TOKEN_BYTES, Token};
pub use trust::TsaTrust;
pub use verify::CERTIFICATE_SIGNATURE_ALGORITHMS;
pub use verify::{VerifiedTimestamp, verify};
