//! sign and verify leave one audit record per decision, failures included.
#![allow(missing_docs)]

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
