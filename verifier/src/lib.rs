//! Verifies OMS bundles: signature, certificate chain, identity and every
//! file digest; and, to meet users where they are, `sha256sum`-style
//! checksums files and OpenSSL-style detached signatures ([`checksums`],
//! [`detached`]).
//!
//! [`verify::verify`] runs the whole verification and returns a
//! [`Report`] of every check together with the verdict. Success is a
//! [`Verified`] value; nothing else proves a model was checked.
#![forbid(unsafe_code)]

pub mod cert;
pub mod chain;
pub mod checksums;
pub mod crl;
pub mod detached;
mod error;
pub mod gate;
pub mod identity;
pub mod keyless;
pub mod report;
pub mod signature;
pub mod verify;

pub use cert::{CertInfo, DistinguishedName, San};
pub use chain::{TrustAnchors, ValidatedChain};
pub use crl::{Coverage, Crl, CrlCheck};
pub use error::{CertificateError, Error, GateError, IdentityError, SignatureError};
pub use identity::Identity;
pub use keyless::{EvidenceFacts, KeylessSigner, SigstoreTrust};
pub use report::{Check, CheckName, Report, Status};
pub use signature::{PssSaltLength, PublicKey, algorithm_for};
pub use verify::{Authenticated, Options, Outcome, Signer, Trust, Verified};
