//! Subcommands. Each module parses its own arguments and calls one library.

pub(crate) mod audit;
pub(crate) mod convert;
pub(crate) mod gate;
pub(crate) mod policy;
pub(crate) mod scan;
pub(crate) mod sign;
pub(crate) mod sign_raw;
pub(crate) mod verify;
pub(crate) mod verify_checksums;

use clap::{Args, Parser, Subcommand};

use crate::exit::{CliError, Exit};

/// Sign, verify and gate ML model artifacts (OpenSSF Model Signing bundles).
///
/// Exit codes: 0 success; 1 verification failed (signature, digest, chain,
/// identity, policy, tampered log); 2 usage error, unreadable or malformed
/// input. Anything but 0 means "do not load".
#[derive(Debug, Parser)]
#[command(
    name = "modelseal",
    version,
    about,
    long_about,
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options shared by the hashing commands.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// No progress bar, no success output.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Hashing threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
}

impl Common {
    /// Hashing threads, if set.
    pub(crate) fn threads(&self) -> Option<usize> {
        self.threads.map(usize::from)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Hash a model and write a signed OMS bundle.
    Sign(sign::SignArgs),
    /// Verify a model against a signed OMS bundle (or a checksums file and
    /// raw OpenSSL signature: --checksums, --raw-signature).
    Verify(verify::VerifyArgs),
    /// Turn a verified checksums file (and its raw signature) into an OMS
    /// bundle signed with your key.
    Convert(convert::ConvertArgs),
    /// Verify a model, then run a command that reads only the verified bytes.
    Gate(gate::GateArgs),
    /// Tamper-evident audit log: keygen, append, checkpoint, verify.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Trust policies: check a policy file, explain what it requires of a model.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Look for unsafe content (pickles that import code, hostile headers)
    /// in a model, by content: exit 0 clean, 1 unsafe, 2 malformed.
    Scan(scan::ScanArgs),
}

impl Command {
    /// Whether `--json` output was asked for.
    fn json(&self) -> bool {
        match self {
            Command::Sign(a) => a.common.json,
            Command::Verify(a) => a.common.json,
            Command::Convert(a) => a.common.json,
            Command::Policy(c) => c.json(),
            Command::Scan(a) => a.json,
            Command::Gate(_) | Command::Audit(_) => false,
        }
    }
}

/// Run the parsed command line. With `--json`, an error the command did
/// not report itself is printed as `{"verdict": "error", "error": {...}}`.
pub(crate) fn run(cli: Cli) -> Result<Exit, CliError> {
    let json = cli.command.json();
    let result = match cli.command {
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Gate(args) => gate::run(args),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Scan(args) => scan::run(args),
    };
    if let Err(e) = &result
        && json
        && !e.reported
    {
        outln!("{:#}", e.to_json());
    }
    result
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        // clap checks argument ids, conflicts and requirements here, which
        // it otherwise does only when a conflicting flag is used.
        super::Cli::command().debug_assert();
    }
}
