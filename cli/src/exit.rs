//! The one place where outcomes and errors become process exit codes.
//!
//! | code | meaning |
//! | ---- | ------- |
//! | 0 | signed / verified / intact: the requested guarantee holds |
//! | 1 | a definite negative: bad signature, digest mismatch, untrusted chain, identity or policy refused, tampered log |
//! | 2 | no decision: usage error, unreadable or malformed input, I/O failure |
//!
//! Any non-zero code means "do not load".

use std::fmt;
use std::process::ExitCode;

/// What a command concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The requested guarantee holds.
    Success,
    /// A definite negative answer.
    Failed,
    /// No decision could be made.
    Error,
    /// `gate`: the exit status of the command it ran, passed through
    /// (128 + n for a command killed by signal n).
    Child(u8),
}

impl Exit {
    /// The process exit code for this outcome.
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Error => 2,
            Exit::Child(code) => code,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// An error that reached the command line, already classified.
#[derive(Debug)]
pub(crate) struct CliError {
    /// Failed (1) or Error (2).
    pub(crate) exit: Exit,
    /// A stable machine-readable kind for `--json` (e.g. `digest_mismatch`).
    pub(crate) kind: &'static str,
    /// The one-line human message, with context.
    pub(crate) message: String,
    /// Whether the command already printed its `--json` document.
    pub(crate) reported: bool,
}

impl CliError {
    /// A definite negative answer (exit 1).
    pub(crate) fn failed(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Failed,
            kind,
            message: message.into(),
            reported: false,
        }
    }

    /// No decision: bad usage or unreadable input (exit 2).
    pub(crate) fn error(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Error,
            kind,
            message: message.into(),
            reported: false,
        }
    }

    /// Prefix the message with context (`"audit log x: ..."`).
    pub(crate) fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }

    /// Mark the `--json` document as already printed.
    pub(crate) fn reported(mut self) -> Self {
        self.reported = true;
        self
    }

    /// The `--json` document for an error no command reported.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "verdict": if self.exit == Exit::Failed { "rejected" } else { "error" },
            "error": { "kind": self.kind, "message": self.message },
        })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Failed.code(), 1);
        assert_eq!(Exit::Error.code(), 2);
        assert_eq!(Exit::Child(143).code(), 143);
        assert_eq!(CliError::failed("x", "m").exit, Exit::Failed);
        assert_eq!(CliError::error("x", "m").exit, Exit::Error);
    }
}
