//! Verifies OMS bundles: signature, certificate chain, identity and every
//! file digest; and, to meet users where they are, `sha256sum`-style
//! checksums files and OpenSSL-style detached signatures ([`verify_checksums`],
//! [`verify_detached_file`]).
//!
//! # One pipeline
//!
//! Every caller (plain `verify`, `verify --policy`, the gate, the Python
//! API) runs the same steps:
//!
//! 1. [`gather`] parses a bundle once ([`ParsedBundle`]) and
//!    gathers [`SignatureFacts`]: the evidence, the trust source's verdict
//!    (trust, chain, the time it validated at, expiry, revocation), the
//!    signature with the signer's own key, the statement, the identities
//!    matched. Each step runs on its own and is a [`Finding`].
//! 2. A decision over the facts: [`authenticate_facts`] requires
//!    every step (plain verification); a trust policy (the policies crate)
//!    decides per its levels over [`SignatureFacts`] and never re-runs a
//!    step.
//! 3. The model's files against the signed manifest: [`check_model`]
//!    (or [`check_model_with`], or the [`Gate`], which also hands
//!    out the verified bytes).
//!
//! [`verify()`] runs all three and returns a [`Report`] of every check
//! with the verdict.
//!
//! # Proofs
//!
//! Success is an [`Authenticated`] manifest (its signature verified) and
//! then a [`Verified`] model (its files matched). Only this crate makes
//! either; their fields are private, so no other crate can forge one:
//!
//! ```compile_fail,E0451
//! fn forge(a: modelseal_verifier::Authenticated) -> modelseal_verifier::Verified {
//!     modelseal_verifier::Verified { authenticated: a, bytes: 0 }
//! }
//! ```
//!
//! ```compile_fail,E0451
//! fn forge(v: &modelseal_verifier::Verified) -> modelseal_verifier::Authenticated {
//!     let a = v.authenticated();
//!     modelseal_verifier::Authenticated {
//!         manifest: a.manifest().clone(),
//!         signed_by: a.signed_by().clone(),
//!         basis: todo!(),
//!         signed_at: None,
//!     }
//! }
//! ```
//!
//! Nor who signed ([`SignedBy`]):
//!
//! ```compile_fail,E0451
//! fn forge(s: &modelseal_verifier::SignedBy) -> modelseal_verifier::SignedBy {
//!     modelseal_verifier::SignedBy {
//!         signer: s.signer().clone(),
//!         algorithm: s.algorithm(),
//!         identity: None,
//!     }
//! }
//! ```
//!
//! The facts are read-only too: an [`Authenticated`] comes out of
//! [`SignatureFacts`] only through the verifier's own methods.
//!
//! ```compile_fail,E0616
//! fn forge(facts: &mut modelseal_verifier::SignatureFacts) {
//!     facts.signature = modelseal_verifier::Finding::pass("trust me");
//! }
//! ```
//!
//! # Extension points: trust sources and evidence
//!
//! - [`TrustSource`]: who is trusted. [`TrustAnchors`] (X.509 roots) and
//!   [`PublicKey`] (one key) ship here, and [`Trust`] is either; a Sigstore
//!   trusted root ([`Sigstore`]) trusts keyless (Fulcio)
//!   signers. A source receives the [`ParsedBundle`] and a
//!   [`TrustContext`] (the verification time, the [`VerifiedTime`] to
//!   check certificate validity at, the evidence, the required identities,
//!   the CRLs) and returns [`TrustFacts`].
//! - [`EvidenceSource`]: timestamps (RFC 3161, verified against TSA roots:
//!   [`TsaTimestamps`]), transparency-log entries and timestamps against a
//!   Sigstore trusted root ([`Sigstore`]). Each item is an [`Evidence`] with its
//!   [`Finding`] and, when it verified, the [`VerifiedTime`] it proves the
//!   signature existed at. The earliest such time moves certificate
//!   validity from the verification time to that time
//!   ([`SignatureFacts::validity_time`], whose [`TimeSource`] says what
//!   vouched for it). A policy that requires a timestamp decides over
//!   [`SignatureFacts::evidence`].
//!
//! Both are passed in [`Options`] (`trust`, `evidence`) or
//! [`Inputs`]. The verification time is always the caller's: no library
//! here reads the clock.
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

mod bundle_trust;
mod cert;
mod chain;
mod checksums;
mod crl;
mod detached;
mod error;
mod evidence;
mod facts;
mod gate;
mod identity;
mod keyless;
mod report;
mod signature;
#[cfg(test)]
mod test_support;
mod timestamp;
mod trust;
mod verify;

pub use bundle_trust::BundleTrust;
pub use cert::{CertInfo, DistinguishedName, DnAttribute, San};
pub use chain::{
    TrustAnchors, ValidatedChain, certificates_from_pem, validate as validate_chain,
    validate_with as validate_chain_with,
};
pub use checksums::{
    CHECKSUMS_CHECKS, ChecksumsOptions, ChecksumsOutcome, ChecksumsVerified, Guarantee,
    read_checksums, read_checksums_default, verify as verify_checksums,
};
pub use crl::{Coverage, Crl, CrlCheck};
pub use detached::{
    DetachedOptions, FILE_CHECKS, FileOutcome, FileVerified as DetachedVerified, read_signature,
    verify_file as verify_detached_file, verify_message as verify_detached_message,
};
pub use error::{
    CertificateError, ConfigError, Error, GateError, IdentityError, IdentitySyntax,
    RawSignatureError, SignatureError,
};
pub use evidence::{Evidence, EvidenceKind, EvidenceSource, TimeSource, VerifiedTime};
pub use facts::{
    Finding, Inputs, MaterialKind, ParsedBundle, SignatureFacts, gather, gather_parsed, unparsed,
};
pub use gate::{
    DEFAULT_CHUNK_SIZE, FileVerified, Gate, GatedFile, HashingReader, LoadError, Loaded, ModelView,
    SealedFile, SealedModel, VerifyingReader,
};
pub use identity::{Identity, IdentityRequirement, check as check_identity};
pub use keyless::Sigstore;
pub use modelseal_sigstore::{CertIdentity, KeylessIdentity, Matcher, TrustedRoot};
pub use report::{Check, CheckName, Report, Status, rfc3339};
pub use signature::{
    PssSaltLength, PublicKey, RSA_MAX_BITS, RSA_MIN_BITS, algorithm_for, canonical_spki,
};
pub use timestamp::TsaTimestamps;
pub use trust::{Trust, TrustContext, TrustFacts, TrustSource, coverage_name};
pub use verify::{
    Authenticated, KeylessSigner, Options, Outcome, SignedBy, Signer, Verified, authenticate,
    authenticate_bytes, authenticate_facts, check_model, check_model_with, read_bundle, verify,
    walk_options,
};
