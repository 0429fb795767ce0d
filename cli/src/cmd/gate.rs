//! `modelseal gate`: verify a model, then run a command that reads only the
//! verified bytes.
//!
//! 1. Steps 1–5 (bundle, trust, signature, statement, identity) as `verify`
//!    does, without reading the model.
//! 2. With `--policy`, the trust policy decides instead (roots, identities,
//!    levels, k-of-n), and its file check is the gate's own (step 3).
//! 3. Steps 6–7 through the gate: every file is hashed once and its hashed
//!    bytes copied into a sealed memory file ([`Gate::seal`]).
//! 4. The decision is recorded in the audit log (`--audit-log`); a decision
//!    that cannot be recorded does not start COMMAND.
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
use std::time::{Instant, SystemTime};

use clap::Args;
use modelseal_manifest::WalkOptions;
use modelseal_manifest::{HashOptions, Inspect};
use modelseal_policies::{Level, PolicySet, VerifyOptions};
use modelseal_verifier::Authenticated;
use modelseal_verifier::Options;
use modelseal_verifier::{CheckName, Error, Report, Signer, Status};
use modelseal_verifier::{Gate, ModelView, SealedModel};
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};
use serde_json::Value;
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

use crate::args::{AuditArgs, Evidence, HashingArgs, ModelArgs, TrustArgs};
use crate::audit_log::{
    Facts, earliest_not_after, policy_facts, record_decision, signed_by_details, signer_details,
};
use crate::files::{PolicyBundles, signature_hint};
use crate::metrics::{self, MetricsArgs};
use crate::output::{CliError, Doc, Exit, model_error, policy_error, verifier_error};
use crate::progress::Bar;
use crate::render::{accepted_signature, checks_json, logged_note, no_signature, policy_outcome};

/// The variable that tells COMMAND where the verified model is.
pub(crate) const MODEL_DIR_VAR: &str = "MODELSEAL_MODEL_DIR";

/// Arguments of `modelseal gate`.
#[derive(Debug, Args)]
pub(crate) struct GateArgs {
    #[command(flatten)]
    pub(crate) target: ModelArgs,
    /// Trust policy (JSON) that supplies roots, identities, levels,
    /// algorithm rules and revocation, as for `verify --policy`.
    #[arg(long, value_name = "POLICY.json", conflicts_with_all = ["trust_roots", "public_key", "identity", "certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer", "certificate_oidc_issuer_regexp", "trusted_root"])]
    pub(crate) policy: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    #[command(flatten)]
    pub(crate) hashing: HashingArgs,
    /// Where to make the private directory COMMAND reads the model from
    /// (default: $TMPDIR or /tmp). It holds only links; the verified bytes
    /// stay in sealed memory.
    #[arg(long, value_name = "DIR")]
    pub(crate) tmpdir: Option<PathBuf>,
    /// The most bytes the gate copies into sealed memory (default: the
    /// memory available). A model whose files add up to more is refused
    /// before anything is read (exit 2): a sparse file in the model store
    /// cannot make the gate fill memory.
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_sealed_bytes: Option<u64>,
    /// The model's signed name (the statement's subject name) must be
    /// NAME, as for `verify --model-name`; under a policy, a scope's
    /// `modelNames` pins names instead.
    #[arg(long = "model-name", value_name = "NAME", conflicts_with = "policy")]
    pub(crate) model_name: Option<String>,
    /// Print the gate's decision as one JSON document on stderr (stdout
    /// belongs to COMMAND), before COMMAND starts.
    #[arg(long)]
    pub(crate) json: bool,
    /// No progress bar and no summary on stderr.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) audit: AuditArgs,
    #[command(flatten)]
    pub(crate) metrics: MetricsArgs,
    /// The command to run once the model verified, and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub(crate) command: Vec<OsString>,
}

/// Run `modelseal gate`.
pub(crate) fn run(args: &GateArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    doc.set("model", args.target.model.display().to_string());
    doc.set(
        "mode",
        if args.policy.is_some() {
            "policy"
        } else {
            "bundle"
        },
    );
    doc.set("program", show(args));
    doc.set("started", false);
    doc.set("model_dir", Value::Null);
    no_signature(doc);
    args.audit.validate()?;
    let started = (Instant::now(), SystemTime::now());
    let time = args.trust.time()?;
    let bar = Bar::new(args.quiet || args.json, "verifying");
    let hash = HashOptions {
        threads: args.hashing.threads(),
        progress: bar.as_ref().map(|b| b as _),
        ..HashOptions::default()
    };
    let mut facts = Facts {
        model: Some(args.target.model.clone()),
        ..Facts::default()
    };
    let decision = match &args.policy {
        Some(policy) => decide_policy(args, policy, time, hash, doc, &mut facts),
        None => decide(args, time, hash, doc, &mut facts),
    };
    drop(bar);
    // The decision is recorded before COMMAND may start; a decision that
    // cannot be recorded stops it.
    if let Ok(d) = &decision {
        facts.digest = Some(format!(
            "sha256:{}",
            d.sealed
                .verified()
                .authenticated()
                .manifest()
                .subject_digest()
                .to_hex()
        ));
        facts.reason = d.reason.clone();
        facts.bytes = Some(d.sealed.verified().bytes());
        if let Signer::Certificate { leaf, .. } =
            d.sealed.verified().authenticated().signed_by().signer()
        {
            facts.signer_not_after = Some(leaf.not_after);
        }
    }
    let decision = record_decision(&args.audit, "model.gate", decision, &facts).and_then(|d| {
        let parent = args.tmpdir.clone().unwrap_or_else(std::env::temp_dir);
        let view = ModelView::create(&d.sealed, &parent)
            .map_err(|e| CliError::error(e.kind(), e.to_string()))?;
        Ok((d, view))
    });
    // Metrics too, before COMMAND runs (it may serve for days).
    metrics::record(
        &args.metrics,
        &metrics::Decision::new(
            "gate",
            decision.as_ref().map(|_| Exit::Success),
            &facts,
            started,
        ),
    );
    let (decision, view) = match decision {
        Ok(d) => d,
        Err(e) => {
            doc.emit(Err(&e));
            return Err(e);
        }
    };
    doc.set("started", true);
    doc.set("model_dir", view.path().display().to_string());
    doc.emit(Ok(Exit::Success));
    if !args.quiet && !args.json {
        errln!(
            "modelseal: {}; running {} with {MODEL_DIR_VAR}={}",
            decision.reason,
            show(args),
            view.path().display()
        );
    }
    let status = run_command(&args.command, view.path());
    if let Err(e) = view.remove() {
        errln!("modelseal: warning: {e}");
    }
    drop(decision);
    status.map(Exit::Child)
}

/// A model the gate may hand to COMMAND, and why.
struct Allowed {
    sealed: SealedModel,
    /// One line for the audit record and stderr.
    reason: String,
}

fn refused(args: &GateArgs, e: &Error) -> CliError {
    if e.is_rejection() {
        model_error(
            e,
            &format!("verification failed, {} not started", show(args)),
            &args.target.model,
        )
    } else {
        verifier_error(e, "").context(format!("{} not started", show(args)))
    }
}

/// Authenticate with --trust-root/--public-key, then verify every file into
/// sealed copies.
fn decide(
    args: &GateArgs,
    time: std::time::SystemTime,
    hash: HashOptions<'_>,
    doc: &mut Doc,
    facts: &mut Facts,
) -> Result<Allowed, CliError> {
    let signature = args.target.signature()?;
    let trust = args.trust.bundle_trust(doc)?;
    let label = signature.display().to_string();
    facts.bundle = Some(signature.clone());
    let evidence = Evidence::new(&trust, None);
    let sources = evidence.sources();
    let mut opts = Options::new(trust.source(), trust.requirement(), time);
    opts.model_names = args.model_name.as_slice();
    opts.evidence = &sources;
    opts.signature_file = Some(&signature);
    opts.hash = hash;
    let mut report = Report::default();
    // Who signed, once the signature verified: an audit record of a refusal
    // after that names them.
    let mut signer = None;
    let sealed = (|| {
        let bundle = modelseal_verifier::read_bundle(
            &signature,
            modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES,
        )
        .inspect_err(|e| report.record(CheckName::Bundle, Status::Fail, e.to_string()))?;
        let gathered = modelseal_verifier::gather(&bundle, &opts.inputs());
        signer = gathered.verified_signer();
        let auth = modelseal_verifier::authenticate_facts(gathered, &mut report)?;
        let gate = limit_sealing(
            Gate::open(auth, &args.target.model, &opts, &mut report)?,
            args,
        );
        gate.seal(&opts.hash, &mut report)
    })();
    doc.set("checks", checks_json(&report, Some(&label)));
    if let (Err(_), Some(s)) = (&sealed, &signer) {
        facts.details = signer_details(s, None);
    }
    let sealed = sealed.map_err(|e| {
        let mut err = refused(args, &e);
        if let Some(hint) = signature_hint(&args.target.model, &signature) {
            err.message.push_str(&hint);
        }
        err
    })?;
    let a = sealed.verified().authenticated();
    facts.details = signed_by_details(a.signed_by());
    facts.details.timestamp = crate::audit_log::tsa_timestamp(a.signed_at());
    accepted_signature(doc, &label, a);
    let reason = format!(
        "verified {} ({} files, {} bytes; signer {}, {})",
        args.target.model.display(),
        a.manifest().len(),
        sealed.verified().bytes(),
        a.signed_by().signer().describe(),
        a.signed_by().algorithm()
    );
    Ok(Allowed { sealed, reason })
}

/// Decide under a trust policy: the policy authenticates the signatures,
/// and its file check is the gate's, so each file is read once, into its
/// sealed copy.
fn decide_policy(
    args: &GateArgs,
    policy: &Path,
    time: std::time::SystemTime,
    hash: HashOptions<'_>,
    doc: &mut Doc,
    facts: &mut Facts,
) -> Result<Allowed, CliError> {
    let set = PolicySet::load(policy).map_err(|e| policy_error(&e))?;
    // The policy that applies decides whether bundles are read at all: a
    // model no policy covers is refused, and a skip policy verifies nothing,
    // so the gate has no verified bytes to hand over.
    let (_, selection) = set
        .select_path(&args.target.model)
        .map_err(|e| policy_refused(args, &e))?;
    let policy_name = selection.policy.name().to_owned();
    if selection.policy.level() == Level::Skip {
        return Err(CliError::failed(
            "policy_rejected",
            format!(
                "policy {policy_name:?} skips verification; the gate only runs {} on verified bytes",
                show(args)
            ),
        ));
    }
    let signatures = args.target.signatures();
    let bundles = PolicyBundles::read(&args.target.model, signatures.iter().map(PathBuf::as_path))?;
    let inputs = bundles.inputs();
    let mut sealed: Vec<SealedModel> = Vec::new();
    let mut check = |auth: Authenticated, walk: &WalkOptions, inspect: Option<&dyn Inspect>| {
        let mut report = Report::default();
        let gate = Gate::open_with(
            auth,
            &args.target.model,
            walk,
            hash.buffer_size,
            &mut report,
        )?;
        let gate = limit_sealing(gate, args);
        let s = gate.seal(&HashOptions { inspect, ..hash }, &mut report)?;
        let verified = s.verified().clone();
        sealed.push(s);
        Ok(verified)
    };
    let mut opts = VerifyOptions::new(time);
    opts.hash = hash;
    let outcome =
        modelseal_policies::verify_with(&set, &args.target.model, &inputs, &opts, &mut check)
            .map_err(|e| policy_refused(args, &e))?;
    policy_outcome(&outcome, doc);
    policy_facts(&outcome, facts);
    facts.note = logged_note(&outcome);
    facts.signer_not_after = earliest_not_after(&outcome);
    let d = &outcome.decision;
    if !d.accepted {
        let msg = format!(
            "verification failed under policy {:?}, {} not started: {}",
            outcome.policy,
            show(args),
            d.reason.clone().unwrap_or_default()
        );
        return Err(if d.undecided {
            CliError::error("malformed_input", msg)
        } else {
            CliError::failed("policy_rejected", msg)
        });
    }
    // A skip policy accepts without verifying anything: the gate has no
    // verified bytes to hand over, so it refuses rather than pass the store.
    let Some(approved) = outcome.approval().and_then(|a| a.verified().first()) else {
        return Err(CliError::failed(
            "policy_rejected",
            format!(
                "policy {:?} skips verification; the gate only runs {} on verified bytes",
                outcome.policy,
                show(args)
            ),
        ));
    };
    let approved = approved.authenticated().manifest();
    let index = sealed
        .iter()
        .position(|s| s.verified().authenticated().manifest() == approved)
        .ok_or_else(|| CliError::error("gate_failed", "the approved manifest was not sealed"))?;
    let model = sealed.swap_remove(index);
    let signers: Vec<String> = outcome
        .signatures
        .iter()
        .filter(|s| s.accepted)
        .filter_map(|s| s.leaf.as_ref().map(|l| l.subject.to_string()))
        .collect();
    let reason = format!(
        "verified {} under policy {:?} ({}): {} of {} required signers [{}]",
        args.target.model.display(),
        outcome.policy,
        outcome.level,
        d.signers,
        outcome.required,
        signers.join("; "),
    );
    Ok(Allowed {
        sealed: model,
        reason,
    })
}

/// Apply `--max-sealed-bytes`, if given.
fn limit_sealing(gate: Gate, args: &GateArgs) -> Gate {
    match args.max_sealed_bytes {
        Some(limit) => gate.with_seal_limit(limit),
        None => gate,
    }
}

fn policy_refused(args: &GateArgs, e: &modelseal_policies::Error) -> CliError {
    policy_error(e).context(format!("{} not started", show(args)))
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
        return Err(CliError::usage("no COMMAND given after --"));
    };
    let name = program.to_string_lossy();
    // Catch the signals before COMMAND exists, so none is lost in between.
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2])
            .map_err(|e| CliError::error("gate_failed", format!("cannot catch signals: {e}")))?;
    let handle = signals.handle();
    let mut cmd = Command::new(program);
    cmd.args(rest);
    // COMMAND is model code: it gets the view and nothing of modelseal's own
    // configuration (the audit writer key and log, passphrase variables,
    // trust settings). Descriptors modelseal opens are close-on-exec.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MODELSEAL_") {
            cmd.env_remove(name);
        }
    }
    let child = cmd.env(MODEL_DIR_VAR, model_dir).spawn();
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
