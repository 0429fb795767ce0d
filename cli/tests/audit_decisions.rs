//! sign and verify leave one audit record per decision, failures included.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::{Sandbox, fixture, flip_byte};
use std::fs;

#[test]
fn sign_and_verify_decisions_are_audited() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sb.run(["audit", "keygen", "--out", "keys"]).code(0);
    let key = sb.key("keys/p256.pkcs8.pem");
    let public = fixture("keys/p256.pub.pem");
    let audit = [
        "--audit-log",
        "audit.log",
        "--audit-key",
        "keys/writer.key",
        "--audit-user",
        "release-bot",
    ];

    let mut sign = vec!["sign", "model", "--key", key.to_str().unwrap(), "-q"];
    sign.extend(audit);
    sb.run(&sign).code(0);
    let mut verify = vec![
        "verify",
        "model",
        "--public-key",
        public.to_str().unwrap(),
        "-q",
    ];
    verify.extend(audit);
    sb.run(&verify).code(0);
    flip_byte(&sb.path("model/config.json"), 0);
    sb.run(&verify).code(1);
    // Environment variables work as well as flags.
    let env = [
        ("MODELSEAL_AUDIT_LOG", "audit.log"),
        ("MODELSEAL_AUDIT_KEY", "keys/writer.key"),
    ];
    sb.run_env(
        [
            "verify",
            "model",
            "--public-key",
            public.to_str().unwrap(),
            "-q",
        ],
        &env,
    )
    .code(1);

    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "{log}");
    let field =
        |i: usize, a: &str, b: &str| records[i][a][b].as_str().unwrap_or_default().to_owned();
    assert_eq!(field(0, "event", "action"), "model.sign");
    assert_eq!(field(0, "event", "outcome"), "success");
    assert_eq!(field(0, "user", "id"), "release-bot");
    assert_eq!(field(1, "event", "action"), "model.verify");
    assert_eq!(field(1, "event", "outcome"), "success");
    assert_eq!(field(2, "event", "outcome"), "failure");
    assert!(
        field(2, "event", "reason").contains("digest mismatch: config.json"),
        "{log}"
    );
    assert_eq!(field(3, "event", "outcome"), "failure");
    assert!(records[1]["file"]["hash"]["sha256"].is_string(), "{log}");

    sb.run([
        "audit",
        "verify",
        "--log",
        "audit.log",
        "--key",
        "keys/verifier.key",
    ])
    .code(0);
}

#[test]
fn a_decision_that_cannot_be_recorded_is_not_a_success() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    // Only one of log and key.
    sb.run([
        "sign",
        "model",
        "--key",
        key.to_str().unwrap(),
        "--audit-log",
        "a.log",
    ])
    .code(2)
    .stderr_has("together");
    assert!(
        !sb.path("model.sig").exists(),
        "nothing is signed on a usage error"
    );
    // A key file that does not exist.
    sb.run([
        "sign",
        "model",
        "--key",
        key.to_str().unwrap(),
        "--audit-log",
        "a.log",
        "--audit-key",
        "missing.key",
    ])
    .code(2)
    .stderr_has("could not be recorded");
}

#[test]
fn policy_decisions_are_audited_with_their_logged_checks() {
    // staging is permissive: a revoked signer is logged, not refused.
    let sb = Sandbox::new();
    sb.copy("pki", "pki");
    sb.copy("policies/example.json", "policies/example.json");
    sb.copy("models/demo", "policies/models/staging/bert");
    sb.run(["audit", "keygen", "--out", "keys"]).code(0);
    let key = sb.key("pki/bad/revoked.key");
    sb.run([
        "sign",
        "policies/models/staging/bert",
        "--key",
        key.to_str().unwrap(),
        "--cert",
        "pki/bad/revoked.pem",
        "--chain",
        "pki/p256/chain.pem",
        "-s",
        "r.sig",
        "-q",
    ])
    .code(0);
    let verify = |model: &str| {
        sb.run([
            "verify",
            model,
            "--policy",
            "policies/example.json",
            "-s",
            "r.sig",
            "--at",
            "2030-01-01T00:00:00Z",
            "-q",
            "--audit-log",
            "audit.log",
            "--audit-key",
            "keys/writer.key",
        ])
    };
    verify("policies/models/staging/bert").code(0);
    flip_byte(&sb.path("policies/models/staging/bert/config.json"), 1);
    verify("policies/models/staging/bert").code(1);

    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{log}");
    let reason = |i: usize| records[i]["event"]["reason"].as_str().unwrap().to_owned();
    assert_eq!(records[0]["event"]["outcome"], "success");
    assert!(reason(0).contains("policy \"staging\""), "{}", reason(0));
    assert!(
        // The signature is named, as in the gate's records.
        reason(0).contains("logged, not enforced: r.sig: revocation"),
        "{}",
        reason(0)
    );
    assert_eq!(records[1]["event"]["outcome"], "failure");
    assert!(reason(1).contains("config.json"), "{}", reason(1));
    sb.run([
        "audit",
        "verify",
        "--log",
        "audit.log",
        "--key",
        "keys/verifier.key",
    ])
    .code(0);
}
