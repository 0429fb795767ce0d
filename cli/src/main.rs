//! The `modelseal` command-line interface: a thin layer over the libraries.
//!
//! `main` parses arguments, runs one command and maps its outcome to an exit
//! code through [`exit`]; every decision is made in the library crates.
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

mod audit_hook;
mod cmd;
mod exit;
mod files;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            errln!("modelseal: {err}");
            err.exit.into()
        }
    }
}
