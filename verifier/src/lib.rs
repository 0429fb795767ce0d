//! Verifies OMS bundles: signature, certificate chain, identity and every file digest.
#![forbid(unsafe_code)]

pub mod signature;

pub use signature::{PssSaltLength, PublicKey, SignatureError, algorithm_for};
