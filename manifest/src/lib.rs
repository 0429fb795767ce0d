//! Model digest manifests, the OMS bundle format and the hashing engine shared
//! by signer, verifier and gate.
#![forbid(unsafe_code)]

pub mod algorithm;

pub use algorithm::{KeyKind, SignatureAlgorithm, UnknownAlgorithm};
