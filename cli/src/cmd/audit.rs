//! `modelseal audit keygen|append|checkpoint|verify`.

use crate::audit_hook::{host_name, map_error, report_recovery};
use crate::exit::{CliError, Exit};
use clap::{Args, Subcommand, ValueEnum};
use modelseal_audit::{
    Event, FileHash, Outcome, SyslogConfig, SyslogSink, Verdict, VerifierKey, Writer, WriterOptions,
};
use serde_json::json;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Audit log subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Write DIR/writer.key (for the appending process) and DIR/verifier.key
    /// (for auditors), both mode 0600.
    Keygen {
        /// Directory for the two key files (created 0700 if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Append one record.
    Append(AppendArgs),
    /// Write an authenticated checkpoint of the log to ship out of band.
    Checkpoint {
        /// The log.
        #[arg(long, value_name = "LOG")]
        log: PathBuf,
        /// The writer key.
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// Where to write the checkpoint.
        #[arg(long, value_name = "CHECKPOINT")]
        out: PathBuf,
    },
    /// Verify a log: exit 0 intact, 1 tampered, 2 unreadable.
    Verify {
        /// Log files, oldest first (repeat for rotated files:
        /// --log LOG.000001 --log LOG).
        #[arg(long, value_name = "LOG", required = true)]
        log: Vec<PathBuf>,
        /// The verifier key.
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// A checkpoint received out of band.
        #[arg(long, value_name = "CHECKPOINT")]
        checkpoint: Option<PathBuf>,
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// `event.outcome` on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ResultArg {
    /// The decision succeeded.
    Success,
    /// The decision failed.
    Failure,
}

/// Arguments of `audit append`.
#[derive(Debug, Args)]
pub(crate) struct AppendArgs {
    /// The log (created on first append).
    #[arg(long, value_name = "LOG")]
    log: PathBuf,
    /// The writer key.
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// user.id: who asked.
    #[arg(long, value_name = "ID")]
    user: String,
    /// event.action, e.g. model.sign.
    #[arg(long, value_name = "ACTION")]
    action: String,
    /// source.ip: where the request came from.
    #[arg(long, value_name = "IP")]
    ip: IpAddr,
    /// event.outcome.
    #[arg(long, value_name = "RESULT")]
    result: ResultArg,
    /// file.path: the model or other resource concerned.
    #[arg(long, value_name = "R")]
    resource: Option<String>,
    /// file.hash.*: its digest (sha256:<hex>, sha384:<hex>, sha512:<hex>).
    #[arg(long, value_name = "DIGEST")]
    digest: Option<String>,
    /// event.reason: why.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// Rotate the log before it grows past this many bytes.
    #[arg(long, value_name = "BYTES")]
    rotate_bytes: Option<u64>,
    /// Also send the record to this syslog collector over TLS (RFC 5425).
    #[arg(long, value_name = "HOST:PORT", requires = "syslog_ca")]
    syslog: Option<String>,
    /// CA certificate(s) (PEM) the collector's certificate must chain to.
    #[arg(long, value_name = "CA.pem", requires = "syslog")]
    syslog_ca: Option<PathBuf>,
    /// Seconds the whole delivery (connect, TLS handshake, send) may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    syslog_timeout: u64,
}

/// Run an audit subcommand.
pub(crate) fn run(cmd: AuditCommand) -> Result<Exit, CliError> {
    match cmd {
        AuditCommand::Keygen { out } => {
            let id = modelseal_audit::keygen(&out).map_err(map_error)?;
            outln!(
                "log {id}: wrote {} and {}",
                out.join("writer.key").display(),
                out.join("verifier.key").display()
            );
            Ok(Exit::Success)
        }
        AuditCommand::Append(a) => append(a),
        AuditCommand::Checkpoint { log, key, out } => {
            let ctx = |e| map_error(e).context(format!("audit log {}", log.display()));
            let mut w = Writer::open(&log, &key, WriterOptions::default()).map_err(ctx)?;
            report_recovery(&w, &log);
            let cp = w.checkpoint(time::OffsetDateTime::now_utc()).map_err(ctx)?;
            cp.write(&out).map_err(map_error)?;
            outln!(
                "checkpoint of {}: {} records, epoch {}, written to {}",
                log.display(),
                cp.records,
                cp.epoch,
                out.display()
            );
            Ok(Exit::Success)
        }
        AuditCommand::Verify {
            log,
            key,
            checkpoint,
            json,
        } => verify(&log, &key, checkpoint.as_deref(), json),
    }
}

fn append(a: AppendArgs) -> Result<Exit, CliError> {
    let event = Event {
        timestamp: time::OffsetDateTime::now_utc(),
        action: a.action,
        outcome: match a.result {
            ResultArg::Success => Outcome::Success,
            ResultArg::Failure => Outcome::Failure,
        },
        reason: a.reason,
        user_id: a.user,
        source_ip: a.ip,
        host_name: host_name(),
        file_path: a.resource,
        file_hash: a
            .digest
            .as_deref()
            .map(FileHash::parse)
            .transpose()
            .map_err(map_error)?,
    };
    event.validate().map_err(map_error)?;
    // Read the CA before appending so a typo does not leave a record that was
    // never meant to be sent; delivery itself happens after the local append.
    let ca = match &a.syslog_ca {
        Some(p) => Some(
            modelseal_manifest::input::read_regular(p, crate::files::MAX_SMALL_FILE).map_err(
                |e| CliError::error("syslog_config", format!("reading {}: {e}", p.display())),
            )?,
        ),
        None => None,
    };
    let opts = WriterOptions {
        rotate_bytes: a.rotate_bytes,
        ..WriterOptions::default()
    };
    let ctx = |e| map_error(e).context(format!("audit log {}", a.log.display()));
    let mut w = Writer::open(&a.log, &a.key, opts).map_err(ctx)?;
    report_recovery(&w, &a.log);
    let seq = w.append(&event).map_err(ctx)?;
    if let (Some(addr), Some(ca_pem)) = (a.syslog, ca) {
        let cfg = SyslogConfig {
            address: addr.clone(),
            ca_pem,
            procid: std::process::id().to_string(),
            timeout: Duration::from_secs(a.syslog_timeout.max(1)),
        };
        let sent = SyslogSink::connect(&cfg).and_then(|mut s| {
            s.send(w.last_line())?;
            s.close()
        });
        if let Err(e) = sent {
            return Err(CliError::error(
                "syslog_delivery",
                format!(
                    "record {seq} is kept in {} but was not delivered: {e}",
                    a.log.display()
                ),
            ));
        }
    }
    Ok(Exit::Success)
}

fn verify(
    logs: &[PathBuf],
    key: &std::path::Path,
    checkpoint: Option<&std::path::Path>,
    json: bool,
) -> Result<Exit, CliError> {
    let result = VerifierKey::load(key)
        .and_then(|k| modelseal_audit::verify_files(logs, &k, checkpoint))
        .map_err(map_error);
    match result {
        Err(e) => {
            if json {
                outln!(
                    "{}",
                    json!({"status": "error", "kind": e.kind, "message": e.message})
                );
            }
            Err(e)
        }
        Ok(Verdict::Intact(s)) => {
            if json {
                let files: Vec<_> = s
                    .files
                    .iter()
                    .map(|f| {
                        json!({"path": f.path.display().to_string(), "records": f.records, "first_sequence": f.first_seq})
                    })
                    .collect();
                outln!(
                    "{}",
                    json!({
                        "status": "intact",
                        "records": s.records,
                        "last_sequence": s.records.checked_sub(1),
                        "last_epoch": s.last_epoch,
                        "files": files,
                        "checkpoint_records": s.checkpoint_records,
                    })
                );
            } else {
                let cp = s
                    .checkpoint_records
                    .map(|n| format!("; checkpoint of {n} records holds"))
                    .unwrap_or_default();
                outln!(
                    "intact: {} records in {} file(s){cp}",
                    s.records,
                    s.files.len()
                );
            }
            Ok(Exit::Success)
        }
        Ok(Verdict::Tampered(f)) => {
            if json {
                outln!(
                    "{}",
                    json!({
                        "status": "tampered",
                        "kind": f.kind.as_str(),
                        "file": f.file.display().to_string(),
                        "line": f.line,
                        "reason": f.detail,
                    })
                );
            }
            Err(CliError::failed(f.kind.as_str(), format!("tampered: {f}")))
        }
    }
}
