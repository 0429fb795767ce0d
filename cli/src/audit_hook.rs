//! Audit records for security decisions made by other commands.
//!
//! `sign`, `verify` and `gate` flatten [`AuditArgs`] into their arguments and
//! call [`record`] once per decision, failures included. Nothing is recorded
//! unless both `--audit-log` and `--audit-key` (or their environment
//! variables) are set; giving only one is a usage error.

use crate::exit::CliError;
use clap::Args;
use modelseal_audit::{Error, Event, FileHash, Outcome, Writer, WriterOptions};
use std::net::IpAddr;
use std::path::PathBuf;

/// Where to record decisions.
#[derive(Debug, Clone, Args)]
pub(crate) struct AuditArgs {
    /// Append one audit record per decision to this log (with --audit-key).
    #[arg(long = "audit-log", env = "MODELSEAL_AUDIT_LOG", value_name = "LOG")]
    pub(crate) audit_log: Option<PathBuf>,
    /// Writer key of the audit log (from `modelseal audit keygen`).
    #[arg(long = "audit-key", env = "MODELSEAL_AUDIT_KEY", value_name = "KEY")]
    pub(crate) audit_key: Option<PathBuf>,
    /// user.id of the records [default: the OS user name]
    #[arg(long = "audit-user", env = "MODELSEAL_AUDIT_USER", value_name = "ID")]
    pub(crate) audit_user: Option<String>,
    /// source.ip of the records (where the request came from).
    #[arg(
        long = "audit-ip",
        env = "MODELSEAL_AUDIT_IP",
        value_name = "IP",
        default_value = "127.0.0.1"
    )]
    pub(crate) audit_ip: IpAddr,
}

impl AuditArgs {
    /// Refuse half a configuration before any work is done.
    pub(crate) fn validate(&self) -> Result<(), CliError> {
        if self.audit_log.is_some() != self.audit_key.is_some() {
            return Err(CliError::error(
                "usage",
                "--audit-log and --audit-key must be given together",
            ));
        }
        Ok(())
    }
}

/// Append one record for a decision. A no-op when no audit log is configured.
///
/// `model` becomes `file.path`, `digest` (`sha256:<hex>` or bare hex)
/// `file.hash.*`, `reason` `event.reason`.
pub(crate) fn record(
    args: &AuditArgs,
    action: &str,
    outcome_ok: bool,
    model: Option<&str>,
    digest: Option<&str>,
    reason: Option<&str>,
) -> Result<(), CliError> {
    let (log, key) = match (&args.audit_log, &args.audit_key) {
        (None, None) => return Ok(()),
        (Some(l), Some(k)) => (l, k),
        _ => {
            return Err(CliError::error(
                "usage",
                "--audit-log and --audit-key must be given together",
            ));
        }
    };
    let mut event = Event {
        timestamp: time::OffsetDateTime::now_utc(),
        action: action.to_string(),
        outcome: if outcome_ok {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        reason: reason.map(str::to_string),
        user_id: args.audit_user.clone().unwrap_or_else(os_user),
        source_ip: args.audit_ip,
        host_name: host_name(),
        file_path: model.map(str::to_string),
        file_hash: digest.map(FileHash::parse).transpose().map_err(map_error)?,
    };
    // A decision is always recorded: over-long or odd text (a hostile model
    // path, a long error) is cut with a marker, never a reason to drop it.
    event.bound();
    let mut w = Writer::open(log, key, WriterOptions::default())
        .map_err(|e| map_error(e).context(format!("audit log {}", log.display())))?;
    report_recovery(&w, log);
    w.append(&event)
        .map_err(|e| map_error(e).context(format!("audit log {}", log.display())))?;
    Ok(())
}

/// Record a command's decision and merge the audit result into the
/// command's: a decision that could not be recorded is not a success
/// (exit 2); a failure stays the failure, with the audit error printed too.
pub(crate) fn record_decision<T>(
    args: &AuditArgs,
    action: &str,
    result: Result<T, CliError>,
    model: Option<&str>,
    digest: Option<&str>,
    reason: &str,
) -> Result<T, CliError> {
    record_decision_noted(args, action, result, model, digest, reason, "")
}

/// [`record_decision`] with a `note` appended to the reason either way
/// (e.g. checks a policy logged without enforcing them).
pub(crate) fn record_decision_noted<T>(
    args: &AuditArgs,
    action: &str,
    result: Result<T, CliError>,
    model: Option<&str>,
    digest: Option<&str>,
    reason: &str,
    note: &str,
) -> Result<T, CliError> {
    let reason = match &result {
        Ok(_) => format!("{reason}{note}"),
        Err(e) => format!("{}{note}", e.message),
    };
    let audited = record(args, action, result.is_ok(), model, digest, Some(&reason));
    match (result, audited) {
        (r, Ok(())) => r,
        (Ok(_), Err(e)) => Err(e.context("the decision could not be recorded")),
        (Err(e), Err(audit)) => {
            errln!(
                "modelseal: {}",
                audit.context("the decision could not be recorded")
            );
            Err(e)
        }
    }
}

/// Print what opening the log had to repair (stderr; the binary's job).
pub(crate) fn report_recovery(w: &Writer, log: &std::path::Path) {
    let r = w.recovery();
    if r.torn_bytes > 0 {
        errln!(
            "modelseal: warning: {}: removed a torn last line ({} bytes at offset {}) left by an interrupted write",
            log.display(),
            r.torn_bytes,
            r.torn_offset
        );
    }
    if r.rolled_forward > 0 {
        errln!(
            "modelseal: warning: {}: committed {} records an earlier writer had not committed",
            log.display(),
            r.rolled_forward
        );
    }
    if r.rotation_completed {
        errln!(
            "modelseal: warning: {}: completed an interrupted rotation",
            log.display()
        );
    }
}

/// This machine's host name (`host.name`).
pub(crate) fn host_name() -> String {
    let u = rustix::system::uname();
    let n = u.nodename().to_string_lossy().into_owned();
    if n.is_empty() { "localhost".into() } else { n }
}

/// The OS user name: `$USER`, `$LOGNAME`, the passwd entry of the real uid,
/// or `uid:N`.
pub(crate) fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
            && !v.chars().any(char::is_control)
        {
            return v;
        }
    }
    let uid = rustix::process::getuid().as_raw();
    if let Ok(passwd) = std::fs::read_to_string("/etc/passwd") {
        for line in passwd.lines() {
            let mut f = line.split(':');
            if let (Some(name), Some(_), Some(id)) = (f.next(), f.next(), f.next())
                && id.parse::<u32>().ok() == Some(uid)
                && !name.is_empty()
            {
                return name.to_string();
            }
        }
    }
    format!("uid:{uid}")
}

/// Classify an audit library error for the exit code.
pub(crate) fn map_error(e: Error) -> CliError {
    let msg = e.to_string();
    match e {
        Error::LogStateMismatch { .. } => CliError::failed("log_state_mismatch", msg),
        Error::InvalidSignature => CliError::failed("invalid_signature", msg),
        Error::Io { .. } => CliError::error("io", msg),
        Error::UnsafeLogFile { .. } => CliError::error("unsafe_log_file", msg),
        Error::KeyFilePermissions { .. } => CliError::error("key_permissions", msg),
        Error::KeyFileFormat { .. } => CliError::error("key_format", msg),
        Error::KeyExists { .. } => CliError::error("key_exists", msg),
        Error::InvalidEvent { .. } => CliError::error("usage", msg),
        Error::CheckpointFormat { .. } => CliError::error("checkpoint_format", msg),
        Error::Syslog { .. } => CliError::error("syslog_delivery", msg),
        Error::SyslogConfig { .. } => CliError::error("syslog_config", msg),
        _ => CliError::error("audit", msg),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::exit::Exit;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        audit: AuditArgs,
    }

    #[test]
    fn no_log_is_a_no_op_and_half_a_config_is_usage() {
        let none = AuditArgs {
            audit_log: None,
            audit_key: None,
            audit_user: None,
            audit_ip: "127.0.0.1".parse().unwrap(),
        };
        record(&none, "model.sign", true, None, None, None).unwrap();
        let half = AuditArgs {
            audit_log: Some("x.log".into()),
            ..none
        };
        let e = record(&half, "model.sign", true, None, None, None).unwrap_err();
        assert_eq!((e.exit, e.kind), (Exit::Error, "usage"));
    }

    #[test]
    fn records_a_decision_that_verifies() {
        let dir = tempfile::tempdir().unwrap();
        modelseal_audit::keygen(dir.path()).unwrap();
        let log = dir.path().join("a.log");
        let t = T::try_parse_from([
            "t",
            "--audit-log",
            log.to_str().unwrap(),
            "--audit-key",
            dir.path().join("writer.key").to_str().unwrap(),
            "--audit-user",
            "ci-bot",
            "--audit-ip",
            "10.1.2.3",
        ])
        .unwrap();
        let digest = format!("sha256:{}", "ab".repeat(32));
        record(
            &t.audit,
            "model.verify",
            false,
            Some("/m"),
            Some(&digest),
            Some("digest mismatch"),
        )
        .unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["user"]["id"], "ci-bot");
        assert_eq!(v["source"]["ip"], "10.1.2.3");
        assert_eq!(v["event"]["outcome"], "failure");
        assert_eq!(v["event"]["reason"], "digest mismatch");
        assert_eq!(v["file"]["path"], "/m");
        assert_eq!(v["file"]["hash"]["sha256"], "ab".repeat(32));
        let key = modelseal_audit::VerifierKey::load(&dir.path().join("verifier.key")).unwrap();
        let verdict = modelseal_audit::verify_files(&[log], &key, None).unwrap();
        assert!(matches!(verdict, modelseal_audit::Verdict::Intact(s) if s.records == 1));
    }
}
