//! Signs model manifests into OpenSSF Model Signing (OMS) bundles.
//!
//! [`sign()`] hashes a model, builds the in-toto statement and signs it with a
//! [`SigningKey`] loaded by [`load_key_file`] (or [`SigningKey::from_pem`]).
//! [`sign_manifest`] signs a manifest computed elsewhere (verified
//! checksums); [`sign_file`] writes OpenSSL-style raw signatures.
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

mod cache;
mod detached;
mod error;
mod key;
mod key_file;
mod keygen;
mod output;
mod pkcs11;
mod sign;
mod timestamp;

pub use cache::default_path as default_cache_path;
pub use detached::sign_file;
pub use error::{Error, KeyError, KeyFileError, KeyFormat, Refusal};
pub use key::{RsaHash, RsaPadding, RsaScheme, SigningKey};
pub use key_file::load_key_file;
pub use keygen::{
    Generated, KeyAlgorithm, generate as generate_key, write_files as write_key_files,
};
pub use output::Destination;
pub use pkcs11::{
    PinSource, Pkcs11Uri, TokenAlgorithm, TokenKey, UriError, generate as generate_token_key,
    open as open_token_key,
};
pub use sign::{
    CacheStats, DEFAULT_IGNORE_PATHS, MIN_SHARD_SIZE, SignOptions, Signed, check_certificates,
    sign, sign_manifest,
};
pub use timestamp::{Stamped, timestamp_bundle};
