//! `modelseal scan`: look at what a loader would deserialize, by content.

use std::path::PathBuf;

use clap::Args;
use modelseal_scan::{Config, Report, Verdict};

use crate::args::{HashingArgs, OutputArgs};
use crate::output::{CliError, Doc, Exit};

/// Arguments of `modelseal scan`.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// The model directory (every file below it) or one file.
    pub(crate) path: PathBuf,
    /// Also allow a pickle to import this global (`module.qualname`, e.g.
    /// `argparse.Namespace`); repeatable.
    #[arg(long = "allow-global", value_name = "MODULE.NAME")]
    pub(crate) allow_globals: Vec<String>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) hashing: HashingArgs,
}

/// Run `modelseal scan`: exit 0 clean, 1 unsafe content, 2 malformed or
/// unreadable input.
pub(crate) fn run(args: &ScanArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    doc.set("path", args.path.display().to_string());
    for g in &args.allow_globals {
        let valid = g.contains('.') && !g.starts_with('.') && !g.ends_with('.');
        if !valid {
            return Err(CliError::usage(format!(
                "--allow-global {g:?}: expected module.name"
            )));
        }
    }
    let cfg = Config::with_globals(args.allow_globals.iter().map(String::as_str));
    let report = modelseal_scan::scan_path(&cfg, &args.path, args.hashing.threads())
        .map_err(|e| CliError::error("unreadable", e.to_string()))?;
    doc.set("findings", report.finding_count());
    doc.set(
        "files",
        serde_json::to_value(&report.files).unwrap_or_default(),
    );
    if !args.output.json {
        print_text(args, &report);
    }
    match report.verdict() {
        Verdict::Clean => Ok(Exit::Success),
        Verdict::Unsafe => Err(CliError::failed(
            "unsafe_content",
            format!(
                "{}: {} unsafe findings in {} files",
                args.path.display(),
                report.finding_count(),
                report
                    .files
                    .iter()
                    .filter(|f| !f.findings.is_empty())
                    .count()
            ),
        )),
        _ => Err(CliError::error(
            "malformed",
            format!("{}: some content could not be read", args.path.display()),
        )),
    }
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
    if report.verdict() == Verdict::Clean && !args.output.quiet {
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
