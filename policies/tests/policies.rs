//! The policies crate end to end, one test binary (each binary links the
//! whole dependency graph): every level and override (`levels`), every
//! load-time error (`load`), approvals that hold the verifier's proofs
//! (`proofs`), property tests (`properties`), k-of-n (`quorum`) and scope
//! precedence (`scopes`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "policies/levels.rs"]
mod levels;
#[path = "policies/load.rs"]
mod load;
#[path = "policies/proofs.rs"]
mod proofs;
#[path = "policies/properties.rs"]
mod properties;
#[path = "policies/quorum.rs"]
mod quorum;
#[path = "policies/scopes.rs"]
mod scopes;
