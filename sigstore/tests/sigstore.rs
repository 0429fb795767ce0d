//! The Sigstore crate, one test binary: evidence against a private instance
//! made in the test (`evidence`, with `instance`) and real public bundles
//! verified offline (`public_bundles`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "sigstore/evidence.rs"]
mod evidence;
mod instance;
#[path = "sigstore/public_bundles.rs"]
mod public_bundles;
