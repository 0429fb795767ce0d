//! Audit records for security decisions made by other commands.
//!
//! `sign`, `verify` and `gate` flatten [`AuditArgs`] into their arguments and
//! call [`record_decision`] once per decision, failures included. Nothing is
//! recorded unless both `--audit-log` and `--audit-key` (or their environment
//! variables) are set; giving only one is a usage error.

use crate::args::AuditArgs;
use crate::output::{CliError, audit_error as map_error};
use modelseal_audit::{
    Category, Details, Event, EventType, FileHash, Outcome, SyslogConfig, SyslogSink, TsaTimestamp,
    Writer, WriterOptions, X509,
};
use modelseal_verifier::rfc3339;
use modelseal_verifier::{CertInfo, EvidenceKind, SignedBy, Signer, TimeSource, VerifiedTime};
use std::path::{Path, PathBuf};

/// What an audit record says about a decision beyond its outcome.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// `file.path`: the model (or file) the decision is about (recorded
    /// absolute).
    pub(crate) model: Option<PathBuf>,
    /// `modelseal.bundle.path`: the bundle or signature file (recorded
    /// absolute, with its SHA-256 as `modelseal.bundle.sha256`).
    pub(crate) bundle: Option<PathBuf>,
    /// Signer and policy (`file.x509.*`, `rule.name`,
    /// `modelseal.signer.*`).
    pub(crate) details: Details,
    /// `file.hash.*`: its digest, `sha256:<hex>`.
    pub(crate) digest: Option<String>,
    /// `event.reason` of a success (a failure's is its error message).
    pub(crate) reason: String,
    /// Appended to the reason either way (checks a policy logged without
    /// enforcing them).
    pub(crate) note: String,
    /// Bytes of model content hashed (for `--metrics-file`).
    pub(crate) bytes: Option<u64>,
    /// The signing certificate's notAfter, Unix seconds (for `--metrics-file`).
    pub(crate) signer_not_after: Option<i64>,
}

/// Append one record for a decision, and deliver it to the syslog collector
/// if one is configured. A no-op when no audit log is configured.
fn record(
    args: &AuditArgs,
    action: &str,
    ok: bool,
    facts: &Facts,
    reason: &str,
) -> Result<(), CliError> {
    let (log, key) = match (&args.audit_log, &args.audit_key) {
        (None, None) => return Ok(()),
        (Some(l), Some(k)) => (l, k),
        _ => {
            return Err(CliError::usage(
                "--audit-log and --audit-key must be given together",
            ));
        }
    };
    let syslog = args.syslog.config()?;
    let uid = rustix::process::getuid().as_raw();
    let (category, types) = categorize(action, ok);
    let mut details = facts.details.clone();
    if let Some(bundle) = &facts.bundle {
        details.bundle_path = Some(absolute(bundle));
        details.bundle_sha256 = bundle_sha256(bundle);
    }
    let mut event = Event {
        timestamp: time::OffsetDateTime::now_utc(),
        action: action.to_string(),
        category,
        types,
        outcome: if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        reason: Some(reason.to_owned()),
        user_id: uid.to_string(),
        user_name: args.audit_user.clone().or_else(|| user_name(uid)),
        source_ip: args.audit_ip,
        host_name: host_name(),
        file_path: facts.model.as_deref().map(absolute),
        details,
        file_hash: facts
            .digest
            .as_deref()
            .map(FileHash::parse)
            .transpose()
            .map_err(map_error)?,
    };
    // A decision is always recorded: over-long or odd text (a hostile model
    // path, a long error) is cut with a marker, never a reason to drop it.
    event.bound();
    let ctx = |e| map_error(e).context(format!("audit log {}", log.display()));
    let mut w = Writer::open(log, key, WriterOptions::default()).map_err(ctx)?;
    report_recovery(&w, log);
    let seq = w.append(&event).map_err(ctx)?;
    if let Some(cfg) = syslog {
        deliver(&cfg, w.last_line()).map_err(|e| {
            CliError::error(
                "syslog_delivery",
                format!(
                    "record {seq} is kept in {} but was not delivered: {e}",
                    log.display()
                ),
            )
        })?;
    }
    Ok(())
}

/// ECS `event.category` and `event.type` of a decision.
fn categorize(action: &str, ok: bool) -> (Vec<Category>, Vec<EventType>) {
    let verdict = if ok {
        EventType::Allowed
    } else {
        EventType::Denied
    };
    match action {
        "model.sign" | "model.convert" => (vec![Category::File], vec![EventType::Creation]),
        "model.gate" => (
            vec![Category::File, Category::Process],
            vec![EventType::Access, verdict],
        ),
        _ => (vec![Category::File], vec![EventType::Access, verdict]),
    }
}

/// A path as recorded: absolute (not resolving links), lossy UTF-8.
fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_owned())
        .display()
        .to_string()
}

/// SHA-256 of some bytes, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 of a bundle or signature file, if it can be read (within the
/// bundle size limit).
fn bundle_sha256(p: &Path) -> Option<String> {
    let bytes =
        modelseal_manifest::read_regular(p, modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES).ok()?;
    Some(sha256_hex(&bytes))
}

/// The signing certificate as `file.x509.*`.
pub(crate) fn x509(leaf: &CertInfo) -> X509 {
    X509 {
        alternative_names: leaf.sans.iter().map(ToString::to_string).collect(),
        issuer: leaf.issuer.to_string(),
        not_after: rfc3339(leaf.not_after),
        serial_number: leaf.serial.clone(),
        subject: leaf.subject.to_string(),
    }
}

/// `modelseal.timestamp.*` from the time a verified timestamp proves the
/// signature existed at (none when validity was checked at the
/// verification time, or the time came from other evidence).
pub(crate) fn tsa_timestamp(t: Option<&VerifiedTime>) -> Option<TsaTimestamp> {
    let t = t?;
    match &t.source {
        TimeSource::Evidence {
            kind: EvidenceKind::Timestamp,
            authority,
        } => Some(TsaTimestamp {
            gen_time: rfc3339(
                t.at.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            ),
            tsa_name: Some(authority.clone()),
            tsa_url: None,
        }),
        _ => None,
    }
}

/// Signer facts of a verified signature: certificate, key fingerprint and
/// the identity it matched.
pub(crate) fn signed_by_details(s: &SignedBy) -> Details {
    signer_details(s.signer(), s.identity().map(ToString::to_string))
}

/// Signer facts: certificate, key fingerprint and identity.
pub(crate) fn signer_details(signer: &Signer, identity: Option<String>) -> Details {
    let mut d = Details::default();
    match (signer.leaf(), signer) {
        (Some(leaf), _) => {
            d.x509 = Some(x509(leaf));
            d.key_sha256 = Some(leaf.spki_sha256.clone());
        }
        (None, Signer::Key { spki_sha256 }) => d.key_sha256 = Some(spki_sha256.clone()),
        _ => {}
    }
    d.signer_identity = identity.or_else(|| Some(signer.describe()));
    d
}

/// Policy facts: the policy, and the first accepted signature's bundle and
/// signer (or the first signature's bundle when none was accepted, and its
/// signer when its signature verified: a signed manifest was read from it,
/// though the policy refused it).
pub(crate) fn policy_facts(o: &modelseal_policies::PolicyOutcome, facts: &mut Facts) {
    facts.details.policy = Some(o.policy.clone());
    let Some(s) = o
        .signatures
        .iter()
        .find(|s| s.accepted)
        .or_else(|| o.signatures.first())
    else {
        return;
    };
    facts.bundle = Some(PathBuf::from(&s.label));
    if s.accepted || s.subject_digest.is_some() {
        if let Some(leaf) = &s.leaf {
            facts.details.x509 = Some(x509(leaf));
            facts.details.key_sha256 = Some(leaf.spki_sha256.clone());
        }
        facts.details.signer_identity = s
            .identities
            .first()
            .cloned()
            .or_else(|| s.leaf.as_ref().map(|l| l.subject.to_string()));
        facts.details.timestamp = tsa_timestamp(s.signed_at.as_ref());
    }
}

/// The notAfter of the accepted signing certificate that expires first
/// (for `--metrics-file`), if a certificate signed.
pub(crate) fn earliest_not_after(o: &modelseal_policies::PolicyOutcome) -> Option<i64> {
    o.signatures
        .iter()
        .filter(|s| s.accepted)
        .filter_map(|s| s.leaf.as_ref().map(|l| l.not_after))
        .min()
}

/// Send one record line to a syslog collector over TLS.
pub(crate) fn deliver(cfg: &SyslogConfig, line: &[u8]) -> Result<(), modelseal_audit::Error> {
    SyslogSink::connect(cfg).and_then(|mut s| {
        s.send(line)?;
        s.close()
    })
}

/// Record a command's decision and merge the audit result into the
/// command's: a decision that could not be recorded is not a success
/// (exit 2); a failure stays the failure, with the audit error printed too.
pub(crate) fn record_decision<T>(
    args: &AuditArgs,
    action: &str,
    result: Result<T, CliError>,
    facts: &Facts,
) -> Result<T, CliError> {
    let reason = match &result {
        Ok(_) => format!("{}{}", facts.reason, facts.note),
        Err(e) => format!("{}{}", e.message, facts.note),
    };
    let audited = record(args, action, result.is_ok(), facts, &reason);
    match (result, audited) {
        (r, Ok(())) => r,
        (Ok(_), Err(e)) => Err(e.context("the decision could not be recorded")),
        (Err(e), Err(audit)) => {
            errln!(
                "modelseal: {}",
                audit.context("the decision could not be recorded")
            );
            Err(e)
        }
    }
}

/// Print what opening the log had to repair (stderr; the binary's job).
pub(crate) fn report_recovery(w: &Writer, log: &std::path::Path) {
    let r = w.recovery();
    if r.torn_bytes > 0 {
        errln!(
            "modelseal: warning: {}: removed a torn last line ({} bytes at offset {}) left by an interrupted write",
            log.display(),
            r.torn_bytes,
            r.torn_offset
        );
    }
    if r.rolled_forward > 0 {
        errln!(
            "modelseal: warning: {}: committed {} records an earlier writer had not committed",
            log.display(),
            r.rolled_forward
        );
    }
    if r.rotation_completed {
        errln!(
            "modelseal: warning: {}: completed an interrupted rotation",
            log.display()
        );
    }
}

/// This machine's host name (`host.name`).
pub(crate) fn host_name() -> String {
    let u = rustix::system::uname();
    let n = u.nodename().to_string_lossy().into_owned();
    if n.is_empty() { "localhost".into() } else { n }
}

/// The name of user `uid` (`user.name`): its passwd entry, else `$USER` or
/// `$LOGNAME`.
pub(crate) fn user_name(uid: u32) -> Option<String> {
    if let Ok(passwd) = std::fs::read_to_string("/etc/passwd") {
        for line in passwd.lines() {
            let mut f = line.split(':');
            if let (Some(name), Some(_), Some(id)) = (f.next(), f.next(), f.next())
                && id.parse::<u32>().ok() == Some(uid)
                && !name.is_empty()
                && !name.chars().any(char::is_control)
            {
                return Some(name.to_string());
            }
        }
    }
    ["USER", "LOGNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|v| !v.is_empty() && !v.chars().any(char::is_control))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::output::Exit;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        audit: AuditArgs,
    }

    #[test]
    fn no_log_is_a_no_op_and_half_a_config_is_usage() {
        let none = T::try_parse_from(["t"]).unwrap().audit;
        record(&none, "model.sign", true, &Facts::default(), "").unwrap();
        let half = AuditArgs {
            audit_log: Some("x.log".into()),
            ..none
        };
        let e = record(&half, "model.sign", true, &Facts::default(), "").unwrap_err();
        assert_eq!((e.exit, e.kind), (Exit::Error, "usage"));
    }

    #[test]
    fn records_a_decision_that_verifies() {
        let dir = tempfile::tempdir().unwrap();
        modelseal_audit::keygen(dir.path()).unwrap();
        let log = dir.path().join("a.log");
        let t = T::try_parse_from([
            "t",
            "--audit-log",
            log.to_str().unwrap(),
            "--audit-key",
            dir.path().join("writer.key").to_str().unwrap(),
            "--audit-user",
            "ci-bot",
            "--audit-ip",
            "10.1.2.3",
        ])
        .unwrap();
        let digest = format!("sha256:{}", "ab".repeat(32));
        let facts = Facts {
            model: Some("/m".into()),
            digest: Some(digest),
            ..Facts::default()
        };
        record(&t.audit, "model.verify", false, &facts, "digest mismatch").unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["user"]["name"], "ci-bot");
        assert_eq!(
            v["user"]["id"],
            rustix::process::getuid().as_raw().to_string()
        );
        assert_eq!(v["event"]["type"], serde_json::json!(["access", "denied"]));
        assert_eq!(v["source"]["ip"], "10.1.2.3");
        assert_eq!(v["event"]["outcome"], "failure");
        assert_eq!(v["event"]["reason"], "digest mismatch");
        assert_eq!(v["file"]["path"], "/m");
        assert_eq!(v["file"]["hash"]["sha256"], "ab".repeat(32));
        let key = modelseal_audit::VerifierKey::load(&dir.path().join("verifier.key")).unwrap();
        let verdict = modelseal_audit::verify_files(&[log], &key, None).unwrap();
        assert!(matches!(verdict, modelseal_audit::Verdict::Intact(s) if s.records == 1));
    }
}
