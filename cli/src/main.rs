//! The `modelseal` command-line interface: a thin layer over the libraries.
//!
//! `main` parses arguments, runs one command and maps its outcome to an exit
//! code through [`output`]; every decision is made in the library crates.
#![forbid(unsafe_code)]

/// `println!` that never panics. A closed stdout (`modelseal verify --json |
/// head -c 10`) must not turn a verdict into a panic: output that cannot be
/// written is dropped, and the exit code still carries the decision.
///
/// Text lines carry names from certificates, bundles and models: control
/// characters in them are escaped ([`crate::output::escape_controls`]) so
/// that a hostile subject cannot drive the terminal.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let raw = format!($($arg)*);
        let line = crate::output::escape_controls(&raw);
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }};
}

/// One JSON document on stdout, as serialized (already JSON-escaped; the
/// text escaping of `outln!` would break it).
macro_rules! jsonln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// One JSON document on stderr, as serialized.
macro_rules! jsonerrln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// `eprintln!` that never panics (stderr closed or a broken pipe).
/// Control characters are escaped as in `outln!`.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let raw = format!($($arg)*);
        let line = crate::output::escape_controls(&raw);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }};
}

mod args;
mod audit_log;
mod cmd;
mod files;
mod metrics;
mod output;
mod progress;
mod render;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cli = match cmd::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e, &argv),
    };
    match cmd::run(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            errln!("modelseal: {err}");
            err.exit.into()
        }
    }
}

/// A command line clap refused (exit 2), or `--help`/`--version` (exit 0).
/// With `--json` anywhere before `--`, the usage error is also a JSON
/// document on stdout (stderr for `gate`).
fn usage_error(e: &clap::Error, argv: &[String]) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    let json = argv
        .iter()
        .skip(1)
        .take_while(|a| a.as_str() != "--")
        .any(|a| a == "--json");
    if json && !informational {
        let message = e.render().to_string();
        let message = message.trim_start_matches("error: ");
        let command = cmd::name_of(argv);
        let doc = output::usage_doc(command, message);
        // gate's documents go to stderr: its stdout belongs to COMMAND.
        if command == "gate" {
            jsonerrln!("{doc:#}");
        } else {
            jsonln!("{doc:#}");
        }
    }
    let _ = e.print();
    if informational {
        ExitCode::SUCCESS
    } else {
        output::Exit::Error.into()
    }
}
