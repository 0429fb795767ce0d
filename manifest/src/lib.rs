//! Model digest manifests, the OMS bundle format and the hashing engine
//! shared by signer, verifier and gate.
//!
//! - [`walk`] lists a model's files in canonical order under the OMS rules.
//! - [`engine`] hashes them in one parallel pass with bounded memory.
//! - [`manifest`] pairs resources with digests; [`statement`] turns a
//!   manifest into the signed in-toto payload and back.
//! - [`bundle`] reads and writes the Sigstore bundle around it.
//! - [`checksums`] reads `sha256sum`-style checksums files; [`detached`]
//!   names the scheme and hashes the message of OpenSSL-style detached
//!   signatures.
//!
//! ```
//! use modelseal_manifest::{engine, statement, walk, HashAlgorithm, Serialization};
//! # let dir = tempfile::tempdir()?;
//! # std::fs::write(dir.path().join("config.json"), b"{}")?;
//! let files = walk::walk(dir.path(), &walk::WalkOptions::default())?;
//! let ser = Serialization::files(HashAlgorithm::Sha256, vec![]);
//! let manifest = engine::hash_model(&files, &ser, &engine::HashOptions::default())?;
//! let payload = statement::to_payload(&manifest);
//! assert_eq!(statement::from_payload(&payload)?, manifest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

pub mod algorithm;
pub mod bundle;
pub mod checksums;
pub mod detached;
pub mod digest;
pub mod engine;
mod error;
pub mod input;
pub mod json;
pub mod manifest;
pub mod path;
pub mod statement;
pub mod walk;

pub use algorithm::{KeyKind, SignatureAlgorithm, UnknownAlgorithm};
pub use bundle::{Bundle, Envelope, VerificationMaterial};
pub use checksums::{ChecksumEntry, Checksums, ChecksumsError};
pub use digest::{Digest, HashAlgorithm};
pub use error::{FormatError, ModelError};
pub use manifest::{Manifest, ManifestDiff, Method, ResourceKey, Serialization};
pub use path::{PathError, ResourcePath};
