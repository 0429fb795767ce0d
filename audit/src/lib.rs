//! HMAC-chained, forward-secure JSON audit log in Elastic Common Schema, with
//! its verifier.
//!
//! * [`Event`] and [`Record`]: the ECS record, one JSON object per line, and
//!   its canonical bytes.
//! * [`WriterKey`] and [`VerifierKey`]: epoch keys (one-way evolution) and
//!   the `writer.key` / `verifier.key` files ([`keygen`]); each record is
//!   linked to the one before by an HMAC ([`ChainFields`]).
//! * [`Writer`]: appending under a file lock with group commit, crash
//!   recovery and size rotation.
//! * [`Verifier`] and [`verify_files`]: the streaming verifier naming the
//!   first bad file:line.
//! * [`Checkpoint`]: authenticated statements of the log's extent.
//! * [`SyslogSink`]: delivery to a SIEM over syslog/TLS.
//!
//! The library never reads the clock: every time is a parameter.
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

mod chain;
mod checkpoint;
mod error;
mod key;
mod record;
mod syslog;
#[cfg(test)]
mod test_support;
mod verify;
mod writer;

pub use checkpoint::Checkpoint;
pub use error::{Error, Result, UnsafeFile};
pub use key::{
    ChainState, KEY_LEN, LogId, MacBytes, VERIFIER_KEY_FILE, VerifierKey, WRITER_KEY_FILE,
    WriterKey, keygen,
};
pub use record::{
    Category, ChainFields, Details, ECS_VERSION, EVENT_DATASET, EVENT_MODULE, Event, EventType,
    FileHash, HashAlgorithm, MAX_LINE, Outcome, ParseError, Record, TsaTimestamp, X509,
};
pub use syslog::{SyslogConfig, SyslogSink};
pub use verify::{FileSummary, Finding, Summary, TamperKind, Verdict, Verifier, verify_files};
pub use writer::{
    Durability, Recovery, Writer, WriterOptions, lock_path, rotation_checkpoint_path, segment_path,
};
