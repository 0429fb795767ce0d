//! The `modelseal` command-line interface: a thin layer over the libraries.
//!
//! `main` parses arguments, runs one command and maps its outcome to an exit
//! code through [`output`]; every decision is made in the library crates.
#![forbid(unsafe_code)]

/// `println!` that never panics. A closed stdout (`modelseal verify --json |
/// head -c 10`) must not turn a verdict into a panic: output that cannot be
/// written is dropped, and the exit code still carries the decision.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that never panics (stderr closed or a broken pipe).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
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
            errln!("{doc:#}");
        } else {
            outln!("{doc:#}");
        }
    }
    let _ = e.print();
    if informational {
        ExitCode::SUCCESS
    } else {
        output::Exit::Error.into()
    }
}
