//! `modelseal audit ...` (placeholder until the audit crate lands).

use crate::exit::{CliError, Exit};
use clap::Subcommand;

/// Audit log subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Write a new writer/verifier key pair.
    Keygen,
}

/// Run an audit subcommand.
pub(crate) fn run(cmd: AuditCommand) -> Result<Exit, CliError> {
    match cmd {
        AuditCommand::Keygen => Err(CliError::error(
            "unimplemented",
            "audit keygen is not implemented yet",
        )),
    }
}
