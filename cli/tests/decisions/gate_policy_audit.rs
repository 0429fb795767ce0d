//! `modelseal gate --policy` and `--audit-log`: the trust policy decides,
//! the gate hands over only sealed verified bytes, and every decision is
//! recorded before COMMAND may start.
#![allow(missing_docs, clippy::unwrap_used)]

use crate::common::{Run, Sandbox, flip_byte};
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

/// Set the `content` section of the example policy's `staging` policy.
fn staging_content(sb: &Sandbox, content: serde_json::Value) {
    let path = sb.path("policies/example.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    doc["policies"][1]["content"] = content;
    fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}

fn verify_policy(sb: &Sandbox, extra: &[&str]) -> Run {
    let mut args = vec![
        "verify",
        "policies/models/staging/m",
        "--policy",
        "policies/example.json",
        "-s",
        "a.sig",
        "--at",
        "2030-01-01T00:00:00Z",
    ];
    args.extend(extra);
    sb.run(args)
}

#[test]
fn content_rules_refuse_a_signed_malicious_model_in_the_same_read() {
    let sb = setup("staging/m");
    // A signed model whose pickle runs a command when loaded.
    fs::write(
        sb.path("policies/models/staging/m/pytorch_model.bin"),
        b"cos\nsystem\n(S'id'\ntR.",
    )
    .unwrap();
    sign(&sb, "staging/m", "leaf", "a.sig");

    // Without a content section the signature is all that is checked.
    verify_policy(&sb, &[]).code(0);

    // Enforced: rejected with the finding, by verify and by the gate.
    staging_content(
        &sb,
        serde_json::json!({ "formats": ["safetensors", "pickle"] }),
    );
    let run = verify_policy(&sb, &["--json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["verdict"], "rejected");
    let reason = doc["error"]["message"].as_str().unwrap();
    assert!(
        reason.contains("unsafe content") && reason.contains("pytorch_model.bin@0: os.system"),
        "{reason}"
    );
    assert_eq!(
        doc["content"]["violations"][0],
        "pytorch_model.bin@0: os.system (runs operating-system commands)"
    );
    let check = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "content")
        .unwrap();
    assert_eq!(
        (&check["status"], &check["level"]),
        (&"fail".into(), &"enforce".into())
    );

    sb.run(["audit", "keygen", "--out", "keys"]).code(0);
    let audit = ["--audit-log", "audit.log", "--audit-key", "keys/writer.key"];
    let mut args = vec![
        "gate",
        "policies/models/staging/m",
        "--policy",
        "policies/example.json",
        "-s",
        "a.sig",
        "--at",
        "2030-01-01T00:00:00Z",
        "-q",
    ];
    args.extend(audit);
    args.extend(["--", "sh", "-c", "touch ran"]);
    sb.run(&args).code(1).stderr_has("unsafe content");
    assert!(!sb.path("ran").exists(), "COMMAND ran on a malicious model");
    // The audit record carries the finding.
    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let record: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(record["event"]["outcome"], "failure");
    let why = record["event"]["reason"].as_str().unwrap();
    assert!(why.contains("pytorch_model.bin@0: os.system"), "{why}");

    // Logged: accepted, with the finding as a warning (and in the audit note).
    staging_content(&sb, serde_json::json!({ "level": "log" }));
    let run = verify_policy(&sb, &["--json"]);
    run.code(0);
    let warnings = run.json()["warnings"].to_string();
    assert!(
        warnings.contains("content fail") && warnings.contains("os.system"),
        "{warnings}"
    );
    sb.run(&args).code(0);
    assert!(sb.path("ran").exists());
    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let record: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    let why = record["event"]["reason"].as_str().unwrap();
    assert!(
        why.contains("logged, not enforced") && why.contains("os.system"),
        "{why}"
    );

    // A format the scope does not accept: even a clean pickle is refused.
    fs::write(
        sb.path("policies/models/staging/m/pytorch_model.bin"),
        b"\x80\x02}q\x00.",
    )
    .unwrap();
    sign(&sb, "staging/m", "leaf", "a.sig");
    staging_content(
        &sb,
        serde_json::json!({ "formats": ["safetensors", "pickle"] }),
    );
    verify_policy(&sb, &[]).code(0);
    staging_content(&sb, serde_json::json!({ "formats": ["safetensors"] }));
    verify_policy(&sb, &[])
        .code(1)
        .stderr_has("format pickle is not allowed here");
}
