//! `modelseal scan`: look at what a loader would deserialize, by content.

use std::path::PathBuf;

use clap::Args;
use modelseal_scan::{Config, Report, Verdict};
use serde_json::json;

use crate::exit::{CliError, Exit};

/// Arguments of `modelseal scan`.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// The model directory (every file below it) or one file.
    pub(crate) path: PathBuf,
    /// Also allow a pickle to import this global (`module.qualname`, e.g.
    /// `argparse.Namespace`); repeatable.
    #[arg(long = "allow-global", value_name = "MODULE.NAME")]
    pub(crate) allow_globals: Vec<String>,
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Print nothing when the model is clean.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Scanning threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) threads: Option<u16>,
}

/// Run `modelseal scan`.
pub(crate) fn run(args: ScanArgs) -> Result<Exit, CliError> {
    for g in &args.allow_globals {
        if !g.contains('.') || g.starts_with('.') || g.ends_with('.') {
            return Err(CliError::error(
                "usage",
                format!("--allow-global {g:?}: expected module.name"),
            ));
        }
    }
    let cfg = Config::with_globals(args.allow_globals.iter().map(String::as_str));
    let report = modelseal_scan::scan_path(&cfg, &args.path, args.threads.map(usize::from))
        .map_err(|e| CliError::error("unreadable", e.to_string()))?;
    let verdict = report.verdict();
    if args.json {
        outln!("{:#}", to_json(&args, &report));
    } else {
        print_text(&args, &report);
    }
    let summary = || {
        format!(
            "{}: {} unsafe findings in {} files",
            args.path.display(),
            report.finding_count(),
            report
                .files
                .iter()
                .filter(|f| !f.findings.is_empty())
                .count()
        )
    };
    let err = match verdict {
        Verdict::Clean => return Ok(Exit::Success),
        Verdict::Unsafe => CliError::failed("unsafe_content", summary()),
        _ => CliError::error(
            "malformed",
            format!("{}: some content could not be read", args.path.display()),
        ),
    };
    Err(if args.json { err.reported() } else { err })
}

fn to_json(args: &ScanArgs, report: &Report) -> serde_json::Value {
    json!({
        "verdict": match report.verdict() {
            Verdict::Clean => "clean",
            Verdict::Unsafe => "rejected",
            _ => "error",
        },
        "path": args.path.display().to_string(),
        "findings": report.finding_count(),
        "files": report.files,
    })
}

fn print_text(args: &ScanArgs, report: &Report) {
    for file in &report.files {
        let path = modelseal_scan::escape(&file.path);
        for f in &file.findings {
            outln!("unsafe: {path}{f}");
        }
        for p in &file.problems {
            outln!("malformed: {path}{p}");
        }
    }
    if report.verdict() == Verdict::Clean && !args.quiet {
        let mut formats: Vec<&str> = report.files.iter().map(|f| f.format.name()).collect();
        formats.sort_unstable();
        formats.dedup();
        outln!(
            "clean: {} ({} files: {})",
            args.path.display(),
            report.files.len(),
            formats.join(", ")
        );
    }
}
