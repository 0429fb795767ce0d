//! Subcommands. Each module wires its flags (shared ones from
//! [`crate::args`]) to one library call and fills its [`Doc`]; outcomes
//! become exit codes and JSON in [`crate::output`] only. Command modules do
//! not import each other, except a command and the variants it dispatches
//! to (`verify` → `verify_policy`, `verify_checksums`; `sign` →
//! `sign_raw`).

mod audit;
mod completions;
mod convert;
mod gate;
mod keygen;
mod policy;
mod scan;
mod sign;
mod sign_raw;
mod verify;
mod verify_checksums;
mod verify_policy;

use clap::{CommandFactory, Parser, Subcommand};

use crate::output::{self, CliError, Doc, Exit};

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

#[derive(Debug, Subcommand)]
enum Command {
    /// Hash a model and write a signed OMS bundle.
    Sign(sign::SignArgs),
    /// Make a new signing key: files (0600 private key, public key beside
    /// it) or inside a PKCS#11 token.
    Keygen(keygen::KeygenArgs),
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
    /// Print a shell completion script: bash, zsh, fish or powershell
    /// (e.g. `modelseal completions bash > /etc/bash_completion.d/modelseal`).
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff; `--out DIR` writes one per command).
    Man(completions::ManArgs),
}

impl Command {
    /// The command's name in the JSON envelope, and whether `--json` was
    /// asked for.
    fn describe(&self) -> (&'static str, bool) {
        match self {
            Command::Sign(a) => ("sign", a.common.output.json),
            Command::Keygen(a) => ("keygen", a.output.json),
            Command::Verify(a) => ("verify", a.common.output.json),
            Command::Convert(a) => ("convert", a.common.output.json),
            Command::Gate(a) => ("gate", a.json),
            Command::Audit(c) => c.describe(),
            Command::Policy(c) => c.describe(),
            Command::Scan(a) => ("scan", a.output.json),
            Command::Completions(_) => ("completions", false),
            Command::Man(_) => ("man", false),
        }
    }
}

/// The envelope's command name for a command line clap refused: the
/// subcommand words it starts with, as far as they are known.
pub(crate) fn name_of(args: &[String]) -> &'static str {
    let words: Vec<&str> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .take(2)
        .map(String::as_str)
        .collect();
    match words.as_slice() {
        ["audit", "keygen", ..] => "audit keygen",
        ["audit", "append", ..] => "audit append",
        ["audit", "checkpoint", ..] => "audit checkpoint",
        ["audit", "verify", ..] => "audit verify",
        ["policy", "check", ..] => "policy check",
        ["policy", "explain", ..] => "policy explain",
        ["sign", ..] => "sign",
        ["keygen", ..] => "keygen",
        ["verify", ..] => "verify",
        ["convert", ..] => "convert",
        ["gate", ..] => "gate",
        ["audit", ..] => "audit",
        ["policy", ..] => "policy",
        ["scan", ..] => "scan",
        ["completions", ..] => "completions",
        ["man", ..] => "man",
        _ => "modelseal",
    }
}

/// Run the parsed command line: the command fills its document, and
/// [`output::finish`] prints it (with `--json`) whatever the outcome.
pub(crate) fn run(cli: Cli) -> Result<Exit, CliError> {
    let (name, json) = cli.command.describe();
    let mut doc = Doc::new(name, json);
    let result = match cli.command {
        Command::Sign(args) => sign::run(&args, &mut doc),
        Command::Keygen(args) => keygen::run(&args, &mut doc),
        Command::Verify(args) => verify::run(&args, &mut doc),
        Command::Convert(args) => convert::run(&args, &mut doc),
        Command::Gate(args) => gate::run(&args, &mut doc),
        Command::Audit(cmd) => audit::run(cmd, &mut doc),
        Command::Policy(cmd) => policy::run(&cmd, &mut doc),
        Command::Scan(args) => scan::run(&args, &mut doc),
        Command::Completions(args) => completions::completions(&args, Cli::command()),
        Command::Man(args) => completions::man(&args, Cli::command()),
    };
    output::finish(&doc, result)
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

    #[test]
    fn refused_command_lines_are_named() {
        let n = |a: &[&str]| super::name_of(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            n(&["modelseal", "audit", "append", "--json"]),
            "audit append"
        );
        assert_eq!(n(&["modelseal", "--json", "verify"]), "verify");
        assert_eq!(n(&["modelseal", "nope"]), "modelseal");
    }
}
