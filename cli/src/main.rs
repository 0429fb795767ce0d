//! The `modelseal` command-line interface: a thin layer over the libraries.
//!
//! `main` parses arguments, runs one command and maps its outcome to an exit
//! code through [`exit`]; every decision is made in the library crates.
#![forbid(unsafe_code)]

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
            eprintln!("modelseal: {err}");
            err.exit.into()
        }
    }
}
