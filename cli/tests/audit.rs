//! The audit log end to end: `modelseal audit` on logs the binary wrote and
//! then tampered with (`cli`), one record per decision (`decisions`), and
//! delivery to a real rsyslogd over TLS (`rsyslog`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "audit/cli.rs"]
mod cli;
mod common;
#[path = "audit/decisions.rs"]
mod decisions;
#[path = "audit/rsyslog.rs"]
mod rsyslog;
