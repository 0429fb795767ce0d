//! Hostile input through the real binary: the adversarial reviews' proofs
//! of concept (`adversarial`), property tests over mutated certificates, PEM
//! files and audit logs (`parsers`), and bounded memory on huge bundles
//! (`memory`, which measures the peak RSS of a `modelseal` child process,
//! so tests running beside it in this binary do not disturb it).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "hostile/adversarial.rs"]
mod adversarial;
mod common;
#[path = "hostile/memory.rs"]
mod memory;
#[path = "hostile/parsers.rs"]
mod parsers;
