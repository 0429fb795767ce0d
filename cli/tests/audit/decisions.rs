//! sign and verify leave one audit record per decision, failures included.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

#[path = "../../../audit/tests/common/ecs.rs"]
mod ecs;

use crate::common::{Sandbox, fixture, flip_byte};
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
    assert_eq!(field(0, "user", "name"), "release-bot");
    // user.id is the real uid, whatever name was given.
    assert!(field(0, "user", "id").parse::<u32>().is_ok(), "{log}");
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

/// Every command that decides writes records a SIEM can use without
/// parsing text: ECS 9.4.0 fields of the right type and allowed values
/// (the vendored field list), absolute paths, uid and name, categorization,
/// and the signer, policy and bundle as fields.
#[test]
fn records_of_every_decision_are_ecs_with_structured_facts() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sb.copy("pki", "pki");
    sb.copy("policies/example.json", "policies/example.json");
    sb.copy("models/demo", "policies/models/staging/bert");
    sb.run(["audit", "keygen", "--out", "keys"]).code(0);
    let env = [
        ("MODELSEAL_AUDIT_LOG", "audit.log"),
        ("MODELSEAL_AUDIT_KEY", "keys/writer.key"),
    ];
    let key = sb.key("pki/p256/leaf.key").display().to_string();
    let raw_key = sb.key("keys/p256.pkcs8.pem").display().to_string();
    let sums = fixture("checksums/demo.sha256").display().to_string();
    let cert = [
        "--cert",
        "pki/p256/leaf.pem",
        "--chain",
        "pki/p256/chain.pem",
        "-q",
    ];
    let run = |args: &[&str], code: i32| {
        sb.run_env(args, &env).code(code);
    };
    let mut sign = vec!["sign", "model", "--key", &key];
    sign.extend(cert);
    run(&sign, 0);
    let root = [
        "--trust-root",
        "pki/p256/root.pem",
        "--identity",
        "email:release-a@modelseal.test",
        "-q",
    ];
    let mut verify = vec!["verify", "model"];
    verify.extend(root);
    run(&verify, 0);
    let mut sign_b = vec![
        "sign",
        "policies/models/staging/bert",
        "--key",
        &key,
        "-s",
        "a.sig",
    ];
    sign_b.extend(cert);
    run(&sign_b, 0);
    run(
        &[
            "verify",
            "policies/models/staging/bert",
            "-s",
            "a.sig",
            "--policy",
            "policies/example.json",
            "--at",
            "2030-01-01T00:00:00Z",
            "-q",
        ],
        0,
    );
    run(&["verify", "model", "--checksums", &sums, "-q"], 0);
    let mut gate = vec!["gate", "model"];
    gate.extend(root);
    gate.extend(["--", "true"]);
    run(&gate, 0);
    run(
        &[
            "convert",
            "model",
            "--checksums",
            &sums,
            "--key",
            &raw_key,
            "-s",
            "c.sig",
            "-q",
        ],
        0,
    );
    flip_byte(&sb.path("model/config.json"), 0);
    run(&verify, 1);
    // Refusals after the signature verified still name the signer: the
    // gate refusing a changed file, another identity required.
    let mut gate_refused = vec!["gate", "model"];
    gate_refused.extend(root);
    gate_refused.extend(["--", "true"]);
    run(&gate_refused, 1);
    run(
        &[
            "verify",
            "model",
            "--trust-root",
            "pki/p256/root.pem",
            "--identity",
            "email:release-b@modelseal.test",
            "-q",
        ],
        1,
    );
    // A signature that does not verify names nobody.
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(sb.path("model.sig")).unwrap()).unwrap();
    let sig = &mut bundle["dsseEnvelope"]["signatures"][0]["sig"];
    let forged = format!("AAAA{}", &sig.as_str().unwrap()[4..]);
    *sig = serde_json::Value::String(forged);
    fs::write(sb.path("forged.sig"), serde_json::to_vec(&bundle).unwrap()).unwrap();
    let mut forged = vec!["verify", "model", "-s", "forged.sig"];
    forged.extend(root);
    run(&forged, 1);

    let ecs = ecs::ecs();
    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| {
            ecs::check_record(&ecs, l);
            serde_json::from_str(l).unwrap()
        })
        .collect();
    let actions: Vec<&str> = records
        .iter()
        .map(|r| r["event"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "model.sign",
            "model.verify",
            "model.sign",
            "model.verify",
            "model.verify",
            "model.gate",
            "model.convert",
            "model.verify",
            "model.gate",
            "model.verify",
            "model.verify"
        ]
    );
    let uid = records[0]["user"]["id"].as_str().unwrap();
    assert!(uid.parse::<u32>().is_ok(), "user.id is the uid: {uid}");
    for r in &records {
        assert_eq!(r["ecs"]["version"], "9.4.0");
        assert_eq!(r["event"]["kind"], "event");
        assert_eq!(r["user"]["id"], uid);
        assert!(r["user"]["name"].is_string(), "{r}");
        let path = r["file"]["path"].as_str().unwrap();
        assert!(path.starts_with('/'), "file.path is absolute: {path}");
        let bundle = r["modelseal"]["bundle"]["path"].as_str().unwrap();
        assert!(bundle.starts_with('/'), "bundle path is absolute: {bundle}");
    }
    let signed = &records[0];
    assert_eq!(signed["event"]["category"], serde_json::json!(["file"]));
    assert_eq!(signed["event"]["type"], serde_json::json!(["creation"]));
    assert_eq!(
        signed["file"]["x509"]["subject"]["distinguished_name"],
        "CN=modelseal test release signer A,OU=P-256,O=modelseal test PKI - NOT FOR PRODUCTION"
    );
    let verified = &records[1];
    assert_eq!(
        verified["event"]["type"],
        serde_json::json!(["access", "allowed"])
    );
    assert_eq!(
        verified["modelseal"]["signer"]["identity"],
        "email:release-a@modelseal.test"
    );
    assert_eq!(
        verified["modelseal"]["signer"]["key_sha256"],
        signed["modelseal"]["signer"]["key_sha256"]
    );
    assert_eq!(
        verified["file"]["x509"]["serial_number"],
        signed["file"]["x509"]["serial_number"]
    );
    assert_eq!(
        verified["modelseal"]["bundle"]["sha256"],
        signed["modelseal"]["bundle"]["sha256"]
    );
    assert_eq!(records[3]["rule"]["name"], "staging");
    assert_eq!(
        records[5]["event"]["category"],
        serde_json::json!(["file", "process"])
    );
    let rejected = &records[7];
    assert_eq!(rejected["event"]["outcome"], "failure");
    assert_eq!(
        rejected["event"]["type"],
        serde_json::json!(["access", "denied"])
    );
    for refused in &records[7..10] {
        assert_eq!(refused["event"]["outcome"], "failure", "{refused}");
        assert_eq!(
            refused["file"]["x509"]["serial_number"], signed["file"]["x509"]["serial_number"],
            "{refused}"
        );
        assert_eq!(
            refused["modelseal"]["signer"]["key_sha256"],
            signed["modelseal"]["signer"]["key_sha256"],
            "{refused}"
        );
        assert!(
            refused["modelseal"]["signer"]["identity"]
                .as_str()
                .unwrap()
                .contains("release signer A"),
            "{refused}"
        );
    }
    let forged = &records[10];
    assert_eq!(forged["event"]["outcome"], "failure");
    assert!(forged["modelseal"]["signer"].is_null(), "{forged}");
    assert!(forged["file"]["x509"].is_null(), "{forged}");
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
