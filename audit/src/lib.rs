//! HMAC-chained, forward-secure JSON audit log in Elastic Common Schema, with
//! its verifier.
//!
//! * [`record`]: the ECS record, one JSON object per line, and its canonical
//!   bytes.
//! * [`key`]: epoch keys (one-way evolution) and the `writer.key` /
//!   `verifier.key` files.
//! * [`chain`]: the HMAC link between records.
//! * [`writer`]: appending under a file lock with group commit, crash
//!   recovery and size rotation.
//! * [`verify`]: the streaming verifier naming the first bad file:line.
//! * [`checkpoint`]: authenticated statements of the log's extent.
//! * [`syslog`]: delivery to a SIEM over syslog/TLS.
//!
//! The library never reads the clock: every time is a parameter.
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

pub mod chain;
pub mod checkpoint;
pub mod error;
pub mod key;
pub mod record;
pub mod syslog;
pub mod verify;
pub mod writer;

pub use checkpoint::Checkpoint;
pub use error::{Error, Result};
pub use key::{LogId, VerifierKey, WriterKey, keygen};
pub use record::{
    Category, Details, Event, EventType, FileHash, HashAlgorithm, Outcome, Record, TsaTimestamp,
    X509,
};
pub use syslog::{SyslogConfig, SyslogSink};
pub use verify::{Finding, Summary, TamperKind, Verdict, Verifier, verify_files};
pub use writer::{Durability, Recovery, Writer, WriterOptions};
