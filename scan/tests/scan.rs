//! The content scanner, one test binary: hostile and mutated input
//! (`hostile`) and the Python-written samples (`samples`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "scan/hostile.rs"]
mod hostile;
#[path = "scan/samples.rs"]
mod samples;
