//! The verifier's API, one test binary (each binary links the whole
//! dependency graph): checksums and detached signatures (`checksums`),
//! revocation lists (`crl`), the gate's library API (`gate`), hostile
//! bundles as property tests (`hostile_bundle`), identity requirements
//! (`identity`), public keys (`public_key`) and Wycheproof vectors
//! (`wycheproof`, `wycheproof_hmac`).
//!
//! `hostile_scaling` stays its own binary: it times parsers at `n` and `8 n`
//! and runs its cases one after the other so they do not compete for the
//! CPU; tests running beside it in one binary would.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "verifier/checksums.rs"]
mod checksums;
#[path = "verifier/crl.rs"]
mod crl;
#[path = "verifier/gate.rs"]
mod gate;
mod hostile;
#[path = "verifier/hostile_bundle.rs"]
mod hostile_bundle;
#[path = "verifier/identity.rs"]
mod identity;
#[path = "verifier/public_key.rs"]
mod public_key;
#[path = "verifier/wycheproof.rs"]
mod wycheproof;
#[path = "verifier/wycheproof_hmac.rs"]
mod wycheproof_hmac;
