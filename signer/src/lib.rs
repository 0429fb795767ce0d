//! Signs model manifests into OpenSSF Model Signing (OMS) bundles.
#![forbid(unsafe_code)]

pub mod error;
pub mod key;

pub use error::{KeyError, KeyFormat};
pub use key::{RsaHash, RsaPadding, RsaScheme, SigningKey};
