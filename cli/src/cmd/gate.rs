//! `modelseal gate`: verify a model, then run a command that reads only the
//! verified bytes.
//!
//! 1. Steps 1–5 (bundle, trust, signature, statement, identity) as `verify`
//!    does, without reading the model.
//! 2. (Policy, once `--policy` lands.)
//! 3. Steps 6–7 through the gate: every file is hashed once and its hashed
//!    bytes copied into a sealed memory file ([`Gate::seal`]).
//! 4. The decision is recorded (audit log, once `--audit-log` lands).
//! 5. Only on success: COMMAND runs with `MODELSEAL_MODEL_DIR` set to a
//!    private directory whose entries lead to the sealed copies
//!    ([`ModelView`]). The gate forwards SIGTERM, SIGHUP, SIGUSR1 and
//!    SIGUSR2 to it, ignores SIGINT and SIGQUIT as `system(3)` does (the
//!    terminal sends those to COMMAND itself), waits, removes the directory,
//!    drops the copies and exits with COMMAND's status (128 + n if a signal
//!    n ended it).
//!
//! On failure COMMAND is not started: exit 1 for a definite rejection, 2
//! when no decision could be made (unreadable or malformed input), as for
//! `verify`; 127/126 when COMMAND cannot be found or run.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use clap::Args;
use modelseal_manifest::engine::HashOptions;
use modelseal_verifier::gate::{Gate, ModelView, SealedModel};
use modelseal_verifier::verify::{self, Options};
use modelseal_verifier::{CheckName, Error, Report, Status};
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

use super::verify::{load_trust, parse_identities, parse_time};
use crate::exit::{CliError, Exit};
use crate::progress::Bar;

/// The variable that tells COMMAND where the verified model is.
pub(crate) const MODEL_DIR_VAR: &str = "MODELSEAL_MODEL_DIR";

/// Arguments of `modelseal gate`.
#[derive(Debug, Args)]
pub(crate) struct GateArgs {
    /// The model directory (or single file) to verify.
    pub(crate) model: PathBuf,
    /// The bundle to check against.
    #[arg(long, short = 's', default_value = "model.sig")]
    pub(crate) signature: PathBuf,
    /// PEM file of trusted root certificates (certificate mode); repeatable.
    #[arg(
        long = "trust-root",
        value_name = "ROOT.pem",
        conflicts_with = "public_key"
    )]
    pub(crate) trust_roots: Vec<PathBuf>,
    /// PEM public key the model must be signed with (key mode).
    #[arg(long = "public-key", value_name = "PUB.pem")]
    pub(crate) public_key: Option<PathBuf>,
    // TODO(policy): `--policy POLICY` (conflicting with --trust-root and
    // --public-key) lands with the policies crate; it is evaluated in
    // `decide` between authentication and the gate.
    // TODO(audit): `--audit-log LOG --audit-key KEY` land with the audit
    // crate; `record_decision` writes the record.
    /// Required signer identity (SAN or subject DN); repeatable, any matches.
    #[arg(long, value_name = "ID")]
    pub(crate) identity: Vec<String>,
    /// Check certificate validity at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) at: Option<String>,
    /// Hashing threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) threads: Option<u16>,
    /// Where to make the private directory COMMAND reads the model from
    /// (default: $TMPDIR or /tmp). It holds only links; the verified bytes
    /// stay in sealed memory.
    #[arg(long, value_name = "DIR")]
    pub(crate) tmpdir: Option<PathBuf>,
    /// No progress bar and no summary on stderr.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// The command to run once the model verified, and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub(crate) command: Vec<OsString>,
}

/// Run `modelseal gate`.
pub(crate) fn run(args: GateArgs) -> Result<Exit, CliError> {
    let time = parse_time(args.at.as_deref())?;
    let trust = load_trust(args.public_key.as_ref(), &args.trust_roots)?;
    let identities = parse_identities(&args.identity)?;
    let bar = Bar::new(args.quiet, "verifying");
    let opts = Options {
        trust: &trust,
        identities: &identities,
        time,
        signature_file: Some(&args.signature),
        hash: HashOptions {
            threads: args.threads.map(usize::from),
            progress: bar.as_ref().map(|b| b as _),
            ..HashOptions::default()
        },
    };
    let mut report = Report::default();
    let decision = decide(&args, &opts, &mut report);
    drop(bar);
    report.finish();
    record_decision(&args, &report, decision.as_ref())?;
    let sealed = decision.map_err(|e| {
        let msg = format!("verification failed, {} not started: {e}", show(&args));
        if e.is_rejection() {
            CliError::failed(e.kind(), msg)
        } else {
            CliError::error(e.kind(), msg)
        }
    })?;
    let parent = args.tmpdir.clone().unwrap_or_else(std::env::temp_dir);
    let view = ModelView::create(&sealed, &parent)
        .map_err(|e| CliError::error(e.kind(), e.to_string()))?;
    if !args.quiet {
        let a = sealed.verified().authenticated();
        eprintln!(
            "modelseal: verified {} ({} files, {} bytes; signer {}); running {} with {MODEL_DIR_VAR}={}",
            args.model.display(),
            a.manifest().len(),
            sealed.verified().bytes(),
            a.signer().describe(),
            show(&args),
            view.path().display()
        );
    }
    let status = run_command(&args.command, view.path());
    if let Err(e) = view.remove() {
        eprintln!("modelseal: warning: {e}");
    }
    drop(sealed);
    status.map(Exit::Child)
}

/// Authenticate, (apply the policy,) then verify every file into sealed
/// copies. Every check lands in `report`.
fn decide(args: &GateArgs, opts: &Options<'_>, report: &mut Report) -> Result<SealedModel, Error> {
    let bundle = verify::read_bundle(
        &args.signature,
        modelseal_manifest::bundle::DEFAULT_MAX_BUNDLE_BYTES,
    )
    .inspect_err(|e| report.record(CheckName::Bundle, Status::Fail, e.to_string()))?;
    let auth = verify::authenticate_bytes(&bundle, opts, report)?;
    // TODO(policy): evaluate `--policy` against `auth` (and `report`) here,
    // before a byte of the model is read; a refusal returns its error like
    // any failed check.
    let gate = Gate::open(auth, &args.model, opts, report)?;
    gate.seal(&opts.hash, report)
}

/// Record the gate's decision, allowed or refused, before COMMAND starts.
///
/// TODO(audit): with `--audit-log LOG --audit-key KEY`, append one record
/// (model, signature, verdict, signer, subject digest, `report.checks`,
/// error kind) and refuse to start COMMAND if the record cannot be
/// written. Until the audit crate lands there is nothing to write to.
fn record_decision(
    args: &GateArgs,
    report: &Report,
    decision: Result<&SealedModel, &Error>,
) -> Result<(), CliError> {
    let _ = (args, report, decision);
    Ok(())
}

fn show(args: &GateArgs) -> String {
    args.command
        .first()
        .map_or_else(String::new, |c| c.to_string_lossy().into_owned())
}

/// Run COMMAND with the view, forward signals while it runs, and return its
/// exit status as the gate's.
fn run_command(command: &[OsString], model_dir: &Path) -> Result<u8, CliError> {
    let Some((program, rest)) = command.split_first() else {
        return Err(CliError::error("usage", "no COMMAND given after --"));
    };
    let name = program.to_string_lossy();
    // Catch the signals before COMMAND exists, so none is lost in between.
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2])
            .map_err(|e| CliError::error("gate_failed", format!("cannot catch signals: {e}")))?;
    let handle = signals.handle();
    let child = Command::new(program)
        .args(rest)
        .env(MODEL_DIR_VAR, model_dir)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            handle.close();
            let code = if e.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Err(CliError {
                exit: Exit::Child(code),
                kind: "command_failed",
                message: format!("cannot run {name}: {e}"),
                reported: false,
            });
        }
    };
    let pid = Pid::from_child(&child);
    let forwarder = std::thread::spawn(move || {
        for sig in signals.forever() {
            if let Some(sig) = forwarded(sig) {
                let _ = rustix::process::kill_process(pid, sig);
            }
        }
    });
    // Wait for COMMAND to end without reaping it, so that no signal can be
    // forwarded to a recycled process ID; then stop forwarding and reap.
    let waited = loop {
        match rustix::process::waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other,
        }
    };
    handle.close();
    let _ = forwarder.join();
    let mut child = child;
    let status = child.wait();
    if let Err(e) = waited {
        return Err(CliError::error(
            "gate_failed",
            format!("cannot wait for {name}: {e}"),
        ));
    }
    status
        .map(exit_code)
        .map_err(|e| CliError::error("gate_failed", format!("cannot wait for {name}: {e}")))
}

/// The signals passed on to COMMAND. SIGINT and SIGQUIT are not: like
/// `system(3)`, the gate leaves them to the terminal, which sends them to
/// COMMAND's process group itself.
fn forwarded(sig: i32) -> Option<Signal> {
    match sig {
        SIGTERM => Some(Signal::TERM),
        SIGHUP => Some(Signal::HUP),
        SIGUSR1 => Some(Signal::USR1),
        SIGUSR2 => Some(Signal::USR2),
        _ => None,
    }
}

/// A child's status as a shell reports it: its exit code, or 128 + n when
/// signal n ended it.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(sig)) => u8::try_from((128 + sig).min(255)).unwrap_or(255),
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn statuses_map_like_a_shell() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(255 << 8)), 255);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }

    #[test]
    fn only_termination_signals_are_forwarded() {
        assert_eq!(forwarded(SIGTERM), Some(Signal::TERM));
        assert_eq!(forwarded(SIGHUP), Some(Signal::HUP));
        assert_eq!(forwarded(SIGINT), None);
        assert_eq!(forwarded(SIGQUIT), None);
    }
}
