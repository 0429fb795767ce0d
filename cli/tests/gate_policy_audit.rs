//! `modelseal gate --policy` and `--audit-log`: the trust policy decides,
//! the gate hands over only sealed verified bytes, and every decision is
//! recorded before COMMAND may start.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::{Run, Sandbox, flip_byte};
use std::fs;

/// A sandbox laid out like fixtures/policies: `pki/`, the example policy,
/// and the demo model at `policies/models/<model>`.
fn setup(model: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.copy("pki", "pki");
    sb.copy("policies/example.json", "policies/example.json");
    sb.copy("models/demo", &format!("policies/models/{model}"));
    sb
}

fn sign(sb: &Sandbox, model: &str, leaf: &str, out: &str) {
    let key = sb.key(&format!("pki/p256/{leaf}.key"));
    let model = format!("policies/models/{model}");
    let cert = format!("pki/p256/{leaf}.pem");
    sb.run([
        "sign",
        &model,
        "--key",
        key.to_str().unwrap(),
        "--cert",
        &cert,
        "--chain",
        "pki/p256/chain.pem",
        "-s",
        out,
        "-q",
    ])
    .code(0);
}

/// Gate `model` under the example policy; COMMAND writes a marker file and
/// the SHA-256 of config.json as read through the view.
fn gate(sb: &Sandbox, model: &str, sigs: &[&str], extra: &[&str]) -> Run {
    let model = format!("policies/models/{model}");
    let mut args = vec![
        "gate",
        &model,
        "--policy",
        "policies/example.json",
        "--at",
        "2030-01-01T00:00:00Z",
        "-q",
    ];
    for s in sigs {
        args.extend(["-s", s]);
    }
    args.extend(extra);
    args.extend([
        "--",
        "sh",
        "-c",
        r#"sha256sum "$MODELSEAL_MODEL_DIR/config.json" > ran"#,
    ]);
    sb.run(args)
}

#[test]
fn a_policy_quorum_gates_the_command() {
    let sb = setup("prod/bert");
    sign(&sb, "prod/bert", "leaf", "a.sig");
    sign(&sb, "prod/bert", "leaf-b", "b.sig");
    // production needs both release signers.
    gate(&sb, "prod/bert", &["a.sig"], &[])
        .code(1)
        .stderr_has("not started");
    assert!(!sb.path("ran").exists());
    gate(&sb, "prod/bert", &["a.sig", "b.sig"], &[]).code(0);
    let ran = fs::read_to_string(sb.path("ran")).unwrap();
    let want = modelseal_manifest::HashAlgorithm::Sha256
        .digest(&fs::read(sb.path("policies/models/prod/bert/config.json")).unwrap())
        .to_hex();
    assert!(ran.starts_with(&want), "{ran}");
    fs::remove_file(sb.path("ran")).unwrap();
    // A changed file: refused, not started.
    flip_byte(&sb.path("policies/models/prod/bert/tokenizer.json"), 0);
    gate(&sb, "prod/bert", &["a.sig", "b.sig"], &[]).code(1);
    assert!(!sb.path("ran").exists());
}

#[test]
fn a_skip_policy_does_not_open_the_gate() {
    let sb = setup("scratch/x");
    gate(&sb, "scratch/x", &[], &[])
        .code(1)
        .stderr_has("skips verification");
    assert!(!sb.path("ran").exists());
    // A model no policy covers.
    let sb = setup("unlisted/x");
    gate(&sb, "unlisted/x", &[], &[]).code(1);
    assert!(!sb.path("ran").exists());
}

#[test]
fn gate_decisions_are_audited_before_the_command_runs() {
    let sb = setup("prod/bert");
    sign(&sb, "prod/bert", "leaf", "a.sig");
    sign(&sb, "prod/bert", "leaf-b", "b.sig");
    sb.run(["audit", "keygen", "--out", "keys"]).code(0);
    let audit = ["--audit-log", "audit.log", "--audit-key", "keys/writer.key"];
    gate(&sb, "prod/bert", &["a.sig", "b.sig"], &audit).code(0);
    gate(&sb, "prod/bert", &["a.sig"], &audit).code(1);
    // An audit log that cannot be written keeps the command from starting.
    fs::remove_file(sb.path("ran")).unwrap();
    let bad = [
        "--audit-log",
        "audit.log",
        "--audit-key",
        "keys/missing.key",
    ];
    gate(&sb, "prod/bert", &["a.sig", "b.sig"], &bad)
        .code(2)
        .stderr_has("could not be recorded");
    assert!(
        !sb.path("ran").exists(),
        "COMMAND ran without an audit record"
    );

    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{log}");
    assert_eq!(records[0]["event"]["action"], "model.gate");
    assert_eq!(records[0]["event"]["outcome"], "success");
    assert!(
        records[0]["event"]["reason"]
            .as_str()
            .unwrap()
            .contains("policy \"production\"")
    );
    assert!(records[0]["file"]["hash"]["sha256"].is_string());
    assert_eq!(records[1]["event"]["outcome"], "failure");
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
