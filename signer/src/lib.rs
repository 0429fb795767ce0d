//! Signs model manifests into OpenSSF Model Signing (OMS) bundles.
//!
//! [`sign()`] hashes a model, builds the in-toto statement and signs it with a
//! [`SigningKey`] loaded by [`load_key_file`] (or [`SigningKey::from_pem`]).
//! [`sign_manifest`] signs a manifest computed elsewhere (verified
//! checksums); [`detached::sign_file`] writes OpenSSL-style raw signatures.
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

pub mod cache;
pub mod detached;
pub mod error;
pub mod key;
mod key_file;
pub mod keygen;
pub mod output;
pub mod pkcs11;
pub mod sign;
pub mod timestamp;

pub use error::{Error, KeyError, KeyFormat};
pub use key::{RsaHash, RsaPadding, RsaScheme, SigningKey};
pub use key_file::load_key_file;
pub use output::Destination;
pub use sign::{
    CacheStats, MIN_SHARD_SIZE, SignOptions, Signed, check_certificates, sign, sign_manifest,
};
pub use timestamp::{Stamped, timestamp_bundle};
