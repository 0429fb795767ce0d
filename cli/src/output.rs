//! The one place where outcomes become exit codes, verdict words and JSON.
//!
//! | code | verdict | meaning |
//! | ---- | ------- | ------- |
//! | 0 | `ok` | signed / verified / intact: the requested guarantee holds |
//! | 1 | `rejected` | a definite negative: bad signature, digest mismatch, untrusted chain, identity or policy refused, tampered log |
//! | 2 | `error` | no decision: usage error, unreadable or malformed input, I/O failure |
//!
//! Any non-zero code means "do not load". With `--json` every command
//! prints one [`Doc`]: the envelope of docs/json.md (`schema_version`,
//! `command`, `verdict`, `error`, `warnings`) and the command's own fields.

use std::fmt;
use std::process::ExitCode;

use serde_json::{Map, Value, json};

/// The version of the JSON contract (docs/json.md, docs/schemas/v1).
/// Fields are only added within a version; a removal or a change of meaning
/// is a new version.
pub(crate) const SCHEMA_VERSION: u32 = 1;

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

    /// The verdict word of the JSON contract.
    pub(crate) fn verdict(self) -> &'static str {
        match self {
            Exit::Success | Exit::Child(_) => "ok",
            Exit::Failed => "rejected",
            Exit::Error => "error",
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
    /// Failed (1) or Error (2) (or a gate's 126/127).
    pub(crate) exit: Exit,
    /// A stable machine-readable kind for `--json` (e.g. `digest_mismatch`).
    pub(crate) kind: &'static str,
    /// The one-line human message, with context.
    pub(crate) message: String,
}

impl CliError {
    /// A definite negative answer (exit 1).
    pub(crate) fn failed(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Failed,
            kind,
            message: message.into(),
        }
    }

    /// No decision: bad usage or unreadable input (exit 2).
    pub(crate) fn error(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Error,
            kind,
            message: message.into(),
        }
    }

    /// A usage error (exit 2, kind `usage`).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::error("usage", message)
    }

    /// Prefix the message with context (`"audit log x: ..."`).
    pub(crate) fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }

    /// The `error` member of the JSON envelope.
    pub(crate) fn to_json(&self) -> Value {
        json!({ "kind": self.kind, "message": self.message })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A verifier error: exit 1 for a rejection, 2 when nothing was decided.
/// `prefix` says what was refused ("verification failed" only for
/// rejections: an input error says what could not be read).
pub(crate) fn verifier_error(e: &modelseal_verifier::Error, prefix: &str) -> CliError {
    use modelseal_verifier::{Error, MaterialKind};
    // The library names no flags; the flag that fits is added here.
    let hint = match e {
        Error::MaterialMismatch {
            bundle: MaterialKind::PublicKey,
        } => " (--public-key PUB.pem)",
        Error::MaterialMismatch { .. } => " (--trust-root ROOT.pem)",
        _ => "",
    };
    if e.is_rejection() {
        CliError::failed(e.kind(), format!("{prefix}: {e}{hint}"))
    } else {
        CliError::error(e.kind(), format!("{e}{hint}"))
    }
}

/// [`verifier_error`] for a decision about `model`: a one-file model checked
/// against a bundle of a directory says so instead of listing every signed
/// file as missing and the file itself as an extra `.`.
pub(crate) fn model_error(
    e: &modelseal_verifier::Error,
    prefix: &str,
    model: &std::path::Path,
) -> CliError {
    let mut err = verifier_error(e, prefix);
    if let modelseal_verifier::Error::Integrity(d) = e
        && model.is_file()
        && d.extra.iter().any(|k| k.path.as_str() == ".")
    {
        err.message = format!(
            "{prefix}: {} is one file, but the bundle signs a directory of {} files ({}): verify the directory the bundle was made for",
            model.display(),
            d.missing.len(),
            d.missing
                .iter()
                .take(3)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
                + if d.missing.len() > 3 { ", ..." } else { "" }
        );
    }
    err
}

/// A policy library error.
pub(crate) fn policy_error(e: &modelseal_policies::Error) -> CliError {
    if e.is_rejection() {
        CliError::failed(e.kind(), e.to_string())
    } else {
        CliError::error(e.kind(), e.to_string())
    }
}

/// The flag that overrides a signer refusal, as a hint to append to its
/// message (the library names no flags).
pub(crate) fn signer_hint(e: &modelseal_signer::Error) -> &'static str {
    match e {
        modelseal_signer::Error::NotABundle { .. } => "; pass --force to replace it",
        _ => "",
    }
}

/// A signer library error. A key that needs a passphrase names the
/// variable it was read from.
pub(crate) fn signer_error(e: &modelseal_signer::Error, passphrase_env: &str) -> CliError {
    use modelseal_signer::{Error, KeyError};
    let msg = match e {
        Error::Key(KeyError::PassphraseRequired) => format!(
            "{e}: ${passphrase_env} is not set; export the passphrase in {passphrase_env} (or name another variable with --passphrase-env)"
        ),
        Error::Key(KeyError::WrongPassphrase) => {
            format!("{e} (the passphrase was read from ${passphrase_env})")
        }
        _ => e.to_string(),
    };
    CliError::error(e.kind(), msg)
}

/// An audit library error.
pub(crate) fn audit_error(e: modelseal_audit::Error) -> CliError {
    use modelseal_audit::Error;
    let msg = e.to_string();
    match e {
        Error::LogStateMismatch { .. } => CliError::failed("log_state_mismatch", msg),
        Error::InvalidSignature => CliError::failed("invalid_signature", msg),
        Error::Io { .. } => CliError::error("io", msg),
        Error::UnsafeLogFile { .. } => CliError::error("unsafe_log_file", msg),
        Error::KeyFilePermissions { .. } => CliError::error("key_permissions", msg),
        Error::KeyFileFormat { .. } => CliError::error("key_format", msg),
        Error::KeyExists { .. } => CliError::error("key_exists", msg),
        Error::InvalidEvent { .. } => CliError::usage(msg),
        Error::CheckpointFormat { .. } => CliError::error("checkpoint_format", msg),
        Error::Syslog { .. } => CliError::error("syslog_delivery", msg),
        Error::SyslogConfig { .. } => CliError::error("syslog_config", msg),
        _ => CliError::error("audit", msg),
    }
}

/// One command's JSON document: the envelope plus its own fields, printed
/// once by [`finish`] (or earlier by [`Doc::emit`], for `gate`).
#[derive(Debug)]
pub(crate) struct Doc {
    command: &'static str,
    json: bool,
    fields: Map<String, Value>,
    warnings: Vec<String>,
    emitted: bool,
}

impl Doc {
    /// An empty document for `command` (`"verify"`, `"audit append"`).
    pub(crate) fn new(command: &'static str, json: bool) -> Self {
        Self {
            command,
            json,
            fields: Map::new(),
            warnings: Vec::new(),
            emitted: false,
        }
    }

    /// Set one of the command's fields.
    pub(crate) fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.fields.insert(key.to_owned(), value.into());
    }

    /// A warning: in the document's `warnings`, and on stderr in text mode.
    pub(crate) fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.json {
            errln!("modelseal: warning: {message}");
        }
        self.warnings.push(message);
    }

    /// The whole document for `result`.
    pub(crate) fn render(&self, result: Result<Exit, &CliError>) -> Value {
        let mut doc = Map::new();
        doc.insert("schema_version".into(), json!(SCHEMA_VERSION));
        doc.insert("command".into(), json!(self.command));
        let (verdict, error) = match result {
            Ok(exit) => (exit.verdict(), Value::Null),
            Err(e) => (e.exit.verdict(), e.to_json()),
        };
        doc.insert("verdict".into(), json!(verdict));
        doc.insert("error".into(), error);
        doc.insert("warnings".into(), json!(self.warnings));
        for (k, v) in &self.fields {
            doc.insert(k.clone(), v.clone());
        }
        Value::Object(doc)
    }

    /// Print the document now, on stderr (`gate`: stdout belongs to
    /// COMMAND); [`finish`] then prints nothing more.
    pub(crate) fn emit(&mut self, result: Result<Exit, &CliError>) {
        if self.json && !self.emitted {
            jsonerrln!("{:#}", self.render(result));
        }
        self.emitted = true;
    }
}

/// End a command: with `--json`, print its document for `result` on stdout
/// (once); the result passes through for `main` to turn into an exit code.
pub(crate) fn finish(doc: &Doc, result: Result<Exit, CliError>) -> Result<Exit, CliError> {
    if doc.json && !doc.emitted {
        jsonln!("{:#}", doc.render(result.as_ref().copied()));
    }
    result
}

/// A usage error clap found, as a JSON document on stdout (the command is
/// named as far as it could be told from the arguments).
pub(crate) fn usage_doc(command: &'static str, message: &str) -> Value {
    Doc::new(command, true).render(Err(&CliError::usage(message.trim_end())))
}

/// A text line with every control character but newline and tab (C0, DEL,
/// C1, and the bidirectional overrides) written as `\u{..}`: certificate
/// subjects, SANs, paths and messages derived from them are printed, never
/// interpreted by the terminal. `--json` output is JSON-escaped instead.
pub(crate) fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_verdicts_are_stable() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Failed.code(), 1);
        assert_eq!(Exit::Error.code(), 2);
        assert_eq!(Exit::Child(143).code(), 143);
        assert_eq!(
            (
                Exit::Success.verdict(),
                Exit::Failed.verdict(),
                Exit::Error.verdict()
            ),
            ("ok", "rejected", "error")
        );
        assert_eq!(CliError::failed("x", "m").exit, Exit::Failed);
        assert_eq!(CliError::error("x", "m").exit, Exit::Error);
    }

    #[test]
    fn the_envelope_carries_verdict_error_and_fields() {
        let mut doc = Doc::new("verify", true);
        doc.set("model", "m");
        let v = doc.render(Err(&CliError::failed("files_mismatch", "missing: a")));
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        assert_eq!(v["command"], "verify");
        assert_eq!(v["verdict"], "rejected");
        assert_eq!(v["error"]["kind"], "files_mismatch");
        assert_eq!(v["model"], "m");
        assert_eq!(doc.render(Ok(Exit::Success))["error"], Value::Null);
    }
}
