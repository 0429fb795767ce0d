//! What may load: trust policies (`policy`), the pre-load gate (`gate`),
//! the gate with a policy and an audit log (`gate_policy_audit`), and the
//! content scan (`scan`), through the real binary.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "decisions/gate.rs"]
mod gate;
#[path = "decisions/gate_policy_audit.rs"]
mod gate_policy_audit;
#[path = "decisions/policy.rs"]
mod policy;
#[path = "decisions/scan.rs"]
mod scan;
