//! `--metrics-file`: decisions as Prometheus text for node_exporter's
//! textfile collector.
//!
//! Each `sign`, `verify` or `gate` run reads the file it is given (if it
//! holds our metrics), adds its decision and writes it back atomically
//! (temporary file beside it, then rename), under an exclusive lock on
//! `FILE.lock`, so the collector never reads half a file and counters keep
//! counting across runs, concurrent ones included. Metric names and meaning:
//! docs/metrics.md. Writing metrics never changes a decision: a file that
//! cannot be written is reported on stderr and the exit code stays the
//! decision's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use rustix::fs::{FlockOperation, OFlags, flock};

use crate::audit_log::Facts;
use crate::files::write_atomic;
use crate::output::{CliError, Exit};

/// The `--metrics-file` option of `sign`, `verify` and `gate`.
#[derive(Debug, Clone, Args)]
pub(crate) struct MetricsArgs {
    /// Write Prometheus metrics of this decision to FILE (text format for
    /// node_exporter's textfile collector; counters accumulate across runs).
    #[arg(
        long = "metrics-file",
        env = "MODELSEAL_METRICS_FILE",
        value_name = "FILE"
    )]
    pub(crate) metrics_file: Option<PathBuf>,
}

/// What one run decided, as the metrics see it.
#[derive(Debug)]
pub(crate) struct Decision<'a> {
    /// `sign`, `verify` or `gate`.
    pub(crate) command: &'static str,
    /// The decision: `Ok` or the error that ended it.
    pub(crate) result: Result<Exit, &'a CliError>,
    /// Bytes of model content hashed, when known.
    pub(crate) bytes: Option<u64>,
    /// The signing certificate's notAfter (Unix seconds), when a certificate signed.
    pub(crate) signer_not_after: Option<i64>,
    /// How long the decision took.
    pub(crate) duration: Duration,
    /// When it was made.
    pub(crate) at: SystemTime,
}

impl<'a> Decision<'a> {
    /// The decision a command reached, with what its audit facts know.
    /// `started`: when the command began (monotonic, wall clock).
    pub(crate) fn new(
        command: &'static str,
        result: Result<Exit, &'a CliError>,
        facts: &Facts,
        started: (Instant, SystemTime),
    ) -> Self {
        Decision {
            command,
            result,
            bytes: facts.bytes,
            signer_not_after: facts.signer_not_after,
            duration: started.0.elapsed(),
            at: started.1 + started.0.elapsed(),
        }
    }
}

/// Largest metrics file read back (bytes); a larger one is started afresh.
const MAX_FILE: u64 = 1024 * 1024;

const DECISIONS: &str = "modelseal_decisions_total";
const BYTES: &str = "modelseal_hashed_bytes_total";
const DURATION: &str = "modelseal_last_duration_seconds";
const LAST: &str = "modelseal_last_decision_timestamp_seconds";
const LAST_OK: &str = "modelseal_last_success_timestamp_seconds";
const LAST_RESULT: &str = "modelseal_last_decision_success";
const EXPIRY: &str = "modelseal_signer_certificate_expiry_seconds";
const NOT_AFTER: &str = "modelseal_signer_certificate_not_after_timestamp_seconds";

/// Every family we write: name, type, help. The order of the file.
const FAMILIES: &[(&str, &str, &str)] = &[
    (
        DECISIONS,
        "counter",
        "Decisions made, by command, outcome (success, rejected, error) and failing check (none on success).",
    ),
    (BYTES, "counter", "Bytes of model files hashed, by command."),
    (
        DURATION,
        "gauge",
        "Wall time of the last decision, by command.",
    ),
    (LAST, "gauge", "Unix time of the last decision, by command."),
    (
        LAST_OK,
        "gauge",
        "Unix time of the last successful decision, by command.",
    ),
    (
        LAST_RESULT,
        "gauge",
        "1 if the last decision succeeded, 0 if it was rejected or failed, by command.",
    ),
    (
        EXPIRY,
        "gauge",
        "Seconds from the last decision to the signing certificate's notAfter (negative: expired), by command.",
    ),
    (
        NOT_AFTER,
        "gauge",
        "The signing certificate's notAfter as Unix time, by command.",
    ),
];

/// Samples by family, then by label set (`command="verify",...`).
type Samples = BTreeMap<&'static str, BTreeMap<String, f64>>;

/// Add `d` to the metrics in `args`' file, if one was asked for. A failure
/// is printed, never returned: metrics do not decide.
pub(crate) fn record(args: &MetricsArgs, d: &Decision<'_>) {
    let Some(path) = &args.metrics_file else {
        return;
    };
    if let Err(e) = write(path, d) {
        errln!("modelseal: warning: metrics not written: {e}");
    }
}

fn write(path: &Path, d: &Decision<'_>) -> Result<(), CliError> {
    // Read, add and replace under one lock, so concurrent runs writing one
    // file each count (released when `_lock` is closed).
    let _lock = lock(path)?;
    let mut samples = read(path);
    add(&mut samples, d);
    write_atomic(path, render(&samples).as_bytes())
}

/// An exclusive `flock` on `PATH.lock` (created beside the file; the
/// textfile collector reads only `*.prom`). Symbolic links are not followed.
fn lock(path: &Path) -> Result<File, CliError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let name = PathBuf::from(name);
    let err = |e: std::io::Error| {
        CliError::error(
            "write_failed",
            format!("cannot lock {}: {e}", name.display()),
        )
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(OFlags::NOFOLLOW.bits() as i32)
        .open(&name)
        .map_err(err)?;
    flock(&file, FlockOperation::LockExclusive).map_err(|e| err(e.into()))?;
    Ok(file)
}

/// The samples of an existing file of ours; anything else is ignored (the
/// file is then rewritten with what this run knows).
fn read(path: &Path) -> Samples {
    let mut text = String::new();
    let read = modelseal_manifest::open_regular(path)
        .and_then(|f| f.take(MAX_FILE + 1).read_to_string(&mut text))
        .is_ok_and(|n| n as u64 <= MAX_FILE);
    let mut samples = Samples::new();
    if read {
        for line in text.lines() {
            if let Some((family, labels, value)) = parse_sample(line) {
                samples.entry(family).or_default().insert(labels, value);
            }
        }
    }
    samples
}

/// One `name{labels} value` line we could have written.
fn parse_sample(line: &str) -> Option<(&'static str, String, f64)> {
    let (name, rest) = line.split_once('{')?;
    let (labels, value) = rest.split_once("} ")?;
    let family = FAMILIES.iter().find(|(n, _, _)| *n == name)?.0;
    let well_formed = labels.split(',').all(|pair| {
        pair.split_once("=\"")
            .and_then(|(k, v)| Some((k, v.strip_suffix('"')?)))
            .is_some_and(|(k, v)| label_safe(k) && label_safe(v))
    });
    let value: f64 = value.parse().ok()?;
    (well_formed && value.is_finite()).then(|| (family, labels.to_owned(), value))
}

/// Label names and values we write: lowercase words (command names, check
/// kinds). Anything else in a file is not ours.
fn label_safe(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn add(samples: &mut Samples, d: &Decision<'_>) {
    let cmd = format!("command=\"{}\"", d.command);
    let (outcome, check) = match d.result {
        Ok(_) => ("success", "none"),
        Err(e) if e.exit == Exit::Failed => ("rejected", e.kind),
        Err(e) => ("error", e.kind),
    };
    // A kind we do not know how to label is still counted.
    let check = if label_safe(check) { check } else { "other" };
    let now = unix(d.at);
    let mut set = |family: &'static str, labels: String, value: f64| {
        samples.entry(family).or_default().insert(labels, value);
    };
    set(DURATION, cmd.clone(), d.duration.as_secs_f64());
    set(LAST, cmd.clone(), now);
    set(
        LAST_RESULT,
        cmd.clone(),
        f64::from(u8::from(d.result.is_ok())),
    );
    if d.result.is_ok() {
        set(LAST_OK, cmd.clone(), now);
    }
    if let Some(not_after) = d.signer_not_after {
        set(NOT_AFTER, cmd.clone(), not_after as f64);
        set(EXPIRY, cmd.clone(), not_after as f64 - now.floor());
    }
    let decisions = samples.entry(DECISIONS).or_default();
    *decisions
        .entry(format!("{cmd},outcome=\"{outcome}\",check=\"{check}\""))
        .or_default() += 1.0;
    if let Some(bytes) = d.bytes {
        *samples.entry(BYTES).or_default().entry(cmd).or_default() += bytes as f64;
    }
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The text exposition format, families in a fixed order, samples sorted.
fn render(samples: &Samples) -> String {
    let mut out = String::new();
    for (name, kind, help) in FAMILIES {
        let Some(family) = samples.get(name).filter(|f| !f.is_empty()) else {
            continue;
        };
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in family {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(result: Result<Exit, &CliError>) -> Decision<'_> {
        Decision {
            command: "verify",
            result,
            bytes: Some(1000),
            signer_not_after: Some(2_000_000_000),
            duration: Duration::from_millis(1500),
            at: UNIX_EPOCH + Duration::from_secs(1_900_000_000),
        }
    }

    #[test]
    fn a_success_then_a_rejection_accumulate() {
        let mut s = Samples::new();
        add(&mut s, &decision(Ok(Exit::Success)));
        let rejected = CliError::failed("digest_mismatch", "digest mismatch: a");
        let mut d = decision(Err(&rejected));
        d.at += Duration::from_secs(60);
        add(&mut s, &d);
        let text = render(&s);
        assert!(text.contains(
            "modelseal_decisions_total{command=\"verify\",outcome=\"success\",check=\"none\"} 1\n"
        ));
        assert!(text.contains(
            "modelseal_decisions_total{command=\"verify\",outcome=\"rejected\",check=\"digest_mismatch\"} 1\n"
        ));
        assert!(text.contains("modelseal_hashed_bytes_total{command=\"verify\"} 2000\n"));
        // The last success stays the success's time; the last decision moved on.
        assert!(
            text.contains(
                "modelseal_last_success_timestamp_seconds{command=\"verify\"} 1900000000\n"
            )
        );
        assert!(text.contains(
            "modelseal_last_decision_timestamp_seconds{command=\"verify\"} 1900000060\n"
        ));
        assert!(text.contains("modelseal_last_decision_success{command=\"verify\"} 0\n"));
        assert!(text.contains(
            "modelseal_signer_certificate_expiry_seconds{command=\"verify\"} 99999940\n"
        ));
        assert!(text.contains("modelseal_last_duration_seconds{command=\"verify\"} 1.5\n"));
    }

    #[test]
    fn what_is_rendered_parses_back_to_the_same_samples() {
        let mut s = Samples::new();
        add(&mut s, &decision(Ok(Exit::Success)));
        let error = CliError::error("unreadable_input", "cannot read x");
        add(&mut s, &decision(Err(&error)));
        let text = render(&s);
        let mut back = Samples::new();
        for line in text.lines() {
            if let Some((f, l, v)) = parse_sample(line) {
                back.entry(f).or_default().insert(l, v);
            } else {
                assert!(line.starts_with("# "), "unparsed sample line {line:?}");
            }
        }
        assert_eq!(back, s);
    }

    #[test]
    fn foreign_lines_are_not_taken_over() {
        for line in [
            "node_load1 3",
            "modelseal_decisions_total{command=\"verify\"} NaN",
            "modelseal_decisions_total{command=\"a b\"} 1",
            "modelseal_decisions_total{command=\"x\\\"\"} 1",
            "modelseal_unknown_total{command=\"verify\"} 1",
            "modelseal_decisions_total{command=\"verify\"}1",
        ] {
            assert_eq!(parse_sample(line), None, "{line}");
        }
    }
}
