//! Subcommands. Each module parses its own arguments and calls one library.

pub(crate) mod audit;

use crate::exit::{CliError, Exit};
use clap::{Parser, Subcommand};

/// Sign, verify and gate ML model artifacts.
#[derive(Debug, Parser)]
#[command(name = "modelseal", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Tamper-evident audit log: keygen, append, checkpoint, verify.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Run the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<Exit, CliError> {
    match cli.command {
        Command::Audit(cmd) => audit::run(cmd),
    }
}
