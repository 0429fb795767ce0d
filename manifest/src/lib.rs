//! Model digest manifests, the OMS bundle format and the hashing engine
//! shared by signer, verifier and gate.
//!
//! - [`walk()`] lists a model's files in canonical order under the OMS rules.
//! - [`hash_model`] hashes them in one parallel pass with bounded memory.
//! - [`Manifest`] pairs resources with digests; [`to_payload`] and
//!   [`from_payload`] turn a manifest into the signed in-toto payload and
//!   back.
//! - [`Bundle`] reads and writes the Sigstore bundle around it.
//! - [`Checksums`] reads `sha256sum`-style checksums files;
//!   [`DetachedScheme`] names the scheme and [`hash_file`] hashes the
//!   message of OpenSSL-style detached signatures.
//!
//! ```
//! use modelseal_manifest::{
//!     HashAlgorithm, HashOptions, Serialization, WalkOptions, from_payload, hash_model,
//!     to_payload, walk,
//! };
//! # let dir = tempfile::tempdir()?;
//! # std::fs::write(dir.path().join("config.json"), b"{}")?;
//! let files = walk(dir.path(), &WalkOptions::default())?;
//! let ser = Serialization::files(HashAlgorithm::Sha256, vec![]);
//! let manifest = hash_model(&files, &ser, &HashOptions::default())?;
//! let payload = to_payload(&manifest);
//! assert_eq!(from_payload(&payload)?, manifest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

mod algorithm;
mod bundle;
mod checksums;
mod detached;
mod digest;
mod engine;
mod error;
mod evidence;
mod input;
mod json;
mod manifest;
mod path;
mod statement;
mod walk;

pub use algorithm::{KeyKind, SignatureAlgorithm, UnknownAlgorithm, describe_oid};
pub use bundle::{
    AnyBundle, Bundle, BundleVersion, DEFAULT_MAX_BUNDLE_BYTES, Envelope, MAX_CERTIFICATES,
    MEDIA_TYPE, MessageBundle, MessageSignature, VerificationMaterial, key_hint, pae, pem,
    spki_pem,
};
pub use checksums::{
    ChecksumEntry, Checksums, ChecksumsError, DEFAULT_MAX_CHECKSUMS_BYTES, LineSyntax,
};
pub use detached::{
    DetachedPadding, DetachedScheme, MAX_SIGNATURE_BYTES, MAX_WHOLE_MESSAGE_BYTES, MessageHash,
    SchemeError, hash_file,
};
pub use digest::{BadDigest, Digest, HashAlgorithm, Hasher, UnknownHash};
pub use engine::{
    DEFAULT_BUFFER_SIZE, HashOptions, Inspect, Progress, hash_model, hash_model_also, hash_range,
    hash_range_pipelined, hash_reader, open_beneath, resource_keys, shard_ranges,
};
pub use error::{FormatError, ModelError, ThreadStart};
pub use evidence::{
    Evidence, InclusionProof, MAX_PROOF_HASHES, MAX_TIMESTAMP_BYTES, MAX_TIMESTAMPS,
    MAX_TLOG_ENTRIES, TlogEntry,
};
pub use input::{open_nonblocking, open_regular, read_regular};
pub use json::{MAX_DEPTH, check_strict, parse_strict};
pub use manifest::{Manifest, ManifestDiff, Method, ResourceKey, Serialization};
pub use path::{MAX_NAME_LEN, PathError, ResourcePath};
pub use statement::{
    DIGESTS_V01_PREDICATE_TYPE, PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE,
    artifact_from_payload, artifact_named, from_digests_v01_payload, from_payload, is_oms,
    one_file, predicate_type, to_payload,
};
pub use walk::{
    DEFAULT_IGNORE_PATHS, DEFAULT_MAX_FILES, FileEntry, ModelFiles, WalkOptions, relative_inside,
    walk,
};
