//! `modelseal audit keygen|append|checkpoint|verify`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand, ValueEnum};
use modelseal_audit::{
    Category, Details, Event, EventType, FileHash, Outcome, Verdict, VerifierKey, Writer,
    WriterOptions,
};
use serde_json::{Value, json};

use crate::args::SyslogArgs;
use crate::audit_log::{deliver, host_name, report_recovery};
use crate::output::{CliError, Doc, Exit, audit_error};

/// Audit log subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Write DIR/writer.key (for the appending process) and DIR/verifier.key
    /// (for auditors), both mode 0600.
    Keygen(KeygenArgs),
    /// Append one record.
    Append(Box<AppendArgs>),
    /// Write an authenticated checkpoint of the log to ship out of band.
    Checkpoint(CheckpointArgs),
    /// Verify a log: exit 0 intact, 1 tampered, 2 unreadable.
    Verify(VerifyArgs),
}

impl AuditCommand {
    /// The name in the JSON envelope, and whether `--json` was asked for.
    pub(crate) fn describe(&self) -> (&'static str, bool) {
        match self {
            AuditCommand::Keygen(a) => ("audit keygen", a.json),
            AuditCommand::Append(a) => ("audit append", a.json),
            AuditCommand::Checkpoint(a) => ("audit checkpoint", a.json),
            AuditCommand::Verify(a) => ("audit verify", a.json),
        }
    }
}

/// Arguments of `audit keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Directory for the two key files (created 0700 if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `audit checkpoint`.
#[derive(Debug, Args)]
pub(crate) struct CheckpointArgs {
    /// The log.
    #[arg(long, value_name = "LOG")]
    log: PathBuf,
    /// The writer key.
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// Where to write the checkpoint.
    #[arg(long, value_name = "CHECKPOINT")]
    out: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `audit verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
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
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// `event.outcome` on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ResultArg {
    /// The decision succeeded.
    Success,
    /// The decision failed.
    Failure,
}

/// A parser of one of the audit library's ECS enums: the choices are the
/// library's own list (`ALL`) and names, so the command line offers exactly
/// the values a record can carry and keeps no copy of them.
fn ecs_value<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
    parse: fn(&str) -> Option<T>,
) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(
        all.iter()
            .map(|&v| PossibleValue::new(name(v)).help(name(v))),
    )
    .try_map(move |s| parse(&s).ok_or("not a value of this ECS field"))
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
    /// user.name: their name.
    #[arg(long, value_name = "NAME")]
    user_name: Option<String>,
    /// event.category (ECS); repeatable.
    #[arg(long, value_name = "CATEGORY", value_parser = ecs_value(Category::ALL, Category::as_str, Category::parse))]
    category: Vec<Category>,
    /// event.type (ECS); repeatable.
    #[arg(long = "type", value_name = "TYPE", value_parser = ecs_value(EventType::ALL, EventType::as_str, EventType::parse))]
    event_type: Vec<EventType>,
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
    #[command(flatten)]
    syslog: SyslogArgs,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Run an audit subcommand.
pub(crate) fn run(cmd: AuditCommand, doc: &mut Doc) -> Result<Exit, CliError> {
    match cmd {
        AuditCommand::Keygen(a) => keygen(&a, doc),
        AuditCommand::Append(a) => append(*a, doc),
        AuditCommand::Checkpoint(a) => checkpoint(&a, doc),
        AuditCommand::Verify(a) => verify(&a, doc),
    }
}

fn keygen(a: &KeygenArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    let (writer, verifier) = (a.out.join("writer.key"), a.out.join("verifier.key"));
    doc.set("writer_key", writer.display().to_string());
    doc.set("verifier_key", verifier.display().to_string());
    doc.set("log_id", Value::Null);
    let id = modelseal_audit::keygen(&a.out).map_err(audit_error)?;
    doc.set("log_id", id.to_string());
    if !a.json {
        outln!(
            "log {id}: wrote {} and {}",
            writer.display(),
            verifier.display()
        );
    }
    Ok(Exit::Success)
}

fn checkpoint(a: &CheckpointArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    doc.set("log", a.log.display().to_string());
    doc.set("checkpoint", a.out.display().to_string());
    doc.set("records", Value::Null);
    doc.set("epoch", Value::Null);
    let ctx = |e| audit_error(e).context(format!("audit log {}", a.log.display()));
    let mut w = Writer::open(&a.log, &a.key, WriterOptions::default()).map_err(ctx)?;
    report_recovery(&w, &a.log);
    let cp = w.checkpoint(time::OffsetDateTime::now_utc()).map_err(ctx)?;
    cp.write(&a.out).map_err(audit_error)?;
    doc.set("records", cp.records);
    doc.set("epoch", cp.epoch);
    if !a.json {
        outln!(
            "checkpoint of {}: {} records, epoch {}, written to {}",
            a.log.display(),
            cp.records,
            cp.epoch,
            a.out.display()
        );
    }
    Ok(Exit::Success)
}

fn append(a: AppendArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    doc.set("log", a.log.display().to_string());
    doc.set("sequence", Value::Null);
    doc.set("delivered", Value::Null);
    let event = Event {
        timestamp: time::OffsetDateTime::now_utc(),
        action: a.action,
        outcome: match a.result {
            ResultArg::Success => Outcome::Success,
            ResultArg::Failure => Outcome::Failure,
        },
        category: a.category,
        types: a.event_type,
        reason: a.reason,
        user_id: a.user,
        user_name: a.user_name,
        source_ip: a.ip,
        host_name: host_name(),
        file_path: a.resource,
        details: Details::default(),
        file_hash: a
            .digest
            .as_deref()
            .map(FileHash::parse)
            .transpose()
            .map_err(audit_error)?,
    };
    event.validate().map_err(audit_error)?;
    // Read the CA before appending so a typo does not leave a record that was
    // never meant to be sent; delivery itself happens after the local append.
    let syslog = a.syslog.config()?;
    let opts = WriterOptions {
        rotate_bytes: a.rotate_bytes,
        ..WriterOptions::default()
    };
    let ctx = |e| audit_error(e).context(format!("audit log {}", a.log.display()));
    let mut w = Writer::open(&a.log, &a.key, opts).map_err(ctx)?;
    report_recovery(&w, &a.log);
    let seq = w.append(&event).map_err(ctx)?;
    doc.set("sequence", seq);
    if let Some(cfg) = syslog {
        doc.set("delivered", false);
        deliver(&cfg, w.last_line()).map_err(|e| {
            CliError::error(
                "syslog_delivery",
                format!(
                    "record {seq} is kept in {} but was not delivered: {e}",
                    a.log.display()
                ),
            )
        })?;
        doc.set("delivered", true);
    }
    Ok(Exit::Success)
}

fn verify(a: &VerifyArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    doc.set("records", Value::Null);
    doc.set("last_sequence", Value::Null);
    doc.set("last_epoch", Value::Null);
    doc.set("files", json!([]));
    doc.set("checkpoint_records", Value::Null);
    doc.set("tampered", Value::Null);
    let verdict = VerifierKey::load(&a.key)
        .and_then(|k| modelseal_audit::verify_files(&a.log, &k, a.checkpoint.as_deref()))
        .map_err(audit_error)?;
    match verdict {
        Verdict::Intact(s) => {
            let files: Vec<Value> = s
                .files
                .iter()
                .map(|f| {
                    json!({"path": f.path.display().to_string(), "records": f.records, "first_sequence": f.first_seq})
                })
                .collect();
            doc.set("records", s.records);
            doc.set("last_sequence", s.records.checked_sub(1));
            doc.set("last_epoch", s.last_epoch);
            doc.set("files", files);
            doc.set("checkpoint_records", s.checkpoint_records);
            if !a.json {
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
        Verdict::Tampered(f) => {
            doc.set(
                "tampered",
                json!({
                    "kind": f.kind.as_str(),
                    "file": f.file.display().to_string(),
                    "line": f.line,
                    "reason": f.detail,
                }),
            );
            Err(CliError::failed(f.kind.as_str(), format!("tampered: {f}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use modelseal_audit::{Category, EventType};

    use super::AppendArgs;

    #[derive(Debug, Parser)]
    struct Append {
        #[command(flatten)]
        args: AppendArgs,
    }

    fn parse(extra: &[&str]) -> Result<AppendArgs, clap::Error> {
        let base = [
            "append",
            "--log",
            "l",
            "--key",
            "k",
            "--user",
            "u",
            "--action",
            "a",
            "--ip",
            "127.0.0.1",
            "--result",
            "success",
        ];
        Append::try_parse_from(base.iter().chain(extra)).map(|a| a.args)
    }

    #[test]
    fn every_ecs_value_the_library_writes_is_offered_and_parsed() {
        for &t in EventType::ALL {
            let a = parse(&["--type", t.as_str()]).unwrap();
            assert_eq!(a.event_type, [t]);
        }
        for &c in Category::ALL {
            let a = parse(&["--category", c.as_str()]).unwrap();
            assert_eq!(a.category, [c]);
        }
        let a = parse(&[
            "--type",
            "denied",
            "--type",
            "start",
            "--category",
            "process",
        ])
        .unwrap();
        assert_eq!(a.event_type, [EventType::Denied, EventType::Start]);
        assert_eq!(a.category, [Category::Process]);
    }

    #[test]
    fn a_value_the_library_does_not_write_is_a_usage_error() {
        for extra in [
            ["--type", "bogus"],
            ["--category", "Access"],
            ["--type", "file"],
        ] {
            let e = parse(&extra).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue, "{extra:?}");
            assert!(e.to_string().contains("[possible values: "), "{e}");
        }
    }
}
