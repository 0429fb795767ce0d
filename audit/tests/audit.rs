//! The audit log writer and verifier, one test binary (each binary links the
//! whole dependency graph): ECS fields (`ecs_fields`), several processes and
//! `kill -9` (`processes`, whose children re-run this binary's ignored
//! `processes::child` test), tamper properties (`tamper_prop`) and the
//! writer (`writer`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "audit/ecs_fields.rs"]
mod ecs_fields;
#[path = "audit/processes.rs"]
mod processes;
#[path = "audit/tamper_prop.rs"]
mod tamper_prop;
#[path = "audit/writer.rs"]
mod writer;
