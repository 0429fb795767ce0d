//! RFC 3161 end to end: `sign --tsa` against `openssl ts -reply` behind
//! fixtures/tsa/serve.py on 127.0.0.1, started by each test.

use std::fs;

pub(crate) use modelseal_testkit::tsa::Tsa;

use crate::common::{Sandbox, fixture};

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn signed_with_tsa(sb: &Sandbox, tsa: &Tsa, sig: &str) -> serde_json::Value {
    let key = sb.key("pki/p256/leaf.key").display().to_string();
    let run = sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--cert",
        &fixture("pki/p256/leaf.pem").display().to_string(),
        "--chain",
        &fixture("pki/p256/chain.pem").display().to_string(),
        "--signature",
        sig,
        "--tsa",
        &tsa.url,
        "--json",
    ]);
    run.code(0).json()
}

#[test]
fn sign_puts_the_token_into_the_bundle() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    let doc = signed_with_tsa(&sb, &tsa, "m.sig");
    let stamps = doc["timestamps"].as_array().unwrap();
    assert_eq!(stamps.len(), 1);
    assert_eq!(stamps[0]["tsa"], tsa.url.as_str());
    assert!(stamps[0]["gen_time"].as_str().unwrap().ends_with('Z'));
    let bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(sb.path("m.sig")).unwrap()).unwrap();
    let tokens = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(tokens.as_array().unwrap().len(), 1);
    assert!(tokens[0]["signedTimestamp"].as_str().unwrap().len() > 500);
}

#[test]
fn an_unreachable_tsa_writes_nothing() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("pki/p256/leaf.key").display().to_string();
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let run = sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        "m.sig",
        "--tsa",
        &url,
        "--tsa-timeout",
        "5",
    ]);
    run.code(2)
        .stderr_has(&format!("timestamp from {url}"))
        .stderr_has("cannot connect");
    assert!(!sb.path("m.sig").exists());
    // An earlier bundle stays as it was.
    sb.run(["sign", "model", "--key", &key, "--signature", "m.sig"])
        .code(0);
    let before = fs::read(sb.path("m.sig")).unwrap();
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        "m.sig",
        "--tsa",
        &url,
        "--tsa-timeout",
        "5",
    ])
    .code(2);
    assert_eq!(fs::read(sb.path("m.sig")).unwrap(), before);
    // An https URL is refused with what to do instead.
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        "n.sig",
        "--tsa",
        "https://tsa.example/",
    ])
    .code(2)
    .stderr_has("https is not spoken directly");
    assert!(!sb.path("n.sig").exists());
}

fn verify_at(sb: &Sandbox, sig: &str, at: &str, tsa_root: Option<&str>) -> crate::common::Run {
    let root = fixture("pki/p256/root.pem").display().to_string();
    let mut args = vec![
        "verify",
        "model",
        "--signature",
        sig,
        "--trust-root",
        &root,
        "--identity",
        "*",
        "--at",
        at,
        "--json",
    ];
    let tsa = tsa_root.map(|r| fixture(&format!("tsa/{r}")).display().to_string());
    if let Some(t) = &tsa {
        args.extend(["--tsa-root", t.as_str()]);
    }
    sb.run(&args)
}

fn check<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {doc:#}"))
}

/// Edit the base64 token of bundle `sig` with `f`.
fn edit_token(sb: &Sandbox, sig: &str, f: impl FnOnce(&mut Vec<u8>)) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let path = sb.path(sig);
    let mut bundle: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let slot = &mut bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        [0]["signedTimestamp"];
    let mut der = b64.decode(slot.as_str().unwrap()).unwrap();
    f(&mut der);
    *slot = b64.encode(&der).into();
    fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
}

const AFTER_EXPIRY: &str = "2046-06-01T00:00:00Z";

#[test]
fn an_expired_leaf_is_rescued_by_a_trusted_timestamp() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    signed_with_tsa(&sb, &tsa, "m.sig");
    // Without TSA roots the leaf (valid until 2045) is checked at --at.
    let run = verify_at(&sb, "m.sig", AFTER_EXPIRY, None);
    run.code(1);
    assert_eq!(run.json()["error"]["kind"], "untrusted_certificate");
    // With them, at genTime (now), when it was valid.
    let run = verify_at(&sb, "m.sig", AFTER_EXPIRY, Some("root.pem"));
    let doc = run.code(0).json();
    let ts = check(&doc, "timestamp");
    assert_eq!(ts["status"], "pass");
    assert!(
        ts["detail"]
            .as_str()
            .unwrap()
            .contains("certificate validity checked at 2"),
        "{ts}"
    );
    // Text output says so too.
    let root = fixture("pki/p256/root.pem").display().to_string();
    let tsa_root = fixture("tsa/root.pem").display().to_string();
    sb.run([
        "verify",
        "model",
        "--signature",
        "m.sig",
        "--trust-root",
        &root,
        "--identity",
        "*",
        "--at",
        AFTER_EXPIRY,
        "--tsa-root",
        &tsa_root,
    ])
    .code(0)
    .stdout_has("genTime");
}

#[test]
fn an_untrusted_tsa_rescues_nothing() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    signed_with_tsa(&sb, &tsa, "m.sig");
    let run = verify_at(&sb, "m.sig", AFTER_EXPIRY, Some("other-root.pem"));
    let doc = run.code(1).json();
    assert_eq!(doc["error"]["kind"], "invalid_timestamp");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not chain to a trusted TSA root"),
        "{doc:#}"
    );
    // Even while the leaf is valid, a timestamp that does not verify is refused.
    verify_at(&sb, "m.sig", "2030-01-01T00:00:00Z", Some("other-root.pem")).code(1);
}

#[test]
fn a_tampered_token_is_refused() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    signed_with_tsa(&sb, &tsa, "m.sig");
    // The last byte is the end of the TSA's ECDSA signature.
    edit_token(&sb, "m.sig", |der| {
        let last = der.len() - 1;
        der[last] ^= 0x01;
    });
    let run = verify_at(&sb, "m.sig", AFTER_EXPIRY, Some("root.pem"));
    let doc = run.code(1).json();
    assert_eq!(doc["error"]["kind"], "invalid_timestamp");
    assert_eq!(check(&doc, "timestamp")["status"], "fail");
}

#[test]
fn a_token_over_another_signature_is_refused() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    signed_with_tsa(&sb, &tsa, "a.sig");
    // Another model, another signature, no timestamp of its own.
    fs::write(sb.path("model/extra.txt"), "more").unwrap();
    signed_with_tsa(&sb, &tsa, "b.sig");
    let a: serde_json::Value =
        serde_json::from_slice(&fs::read(sb.path("a.sig")).unwrap()).unwrap();
    let mut b: serde_json::Value =
        serde_json::from_slice(&fs::read(sb.path("b.sig")).unwrap()).unwrap();
    b["verificationMaterial"]["timestampVerificationData"] =
        a["verificationMaterial"]["timestampVerificationData"].clone();
    fs::write(sb.path("b.sig"), serde_json::to_vec(&b).unwrap()).unwrap();
    let run = verify_at(&sb, "b.sig", AFTER_EXPIRY, Some("root.pem"));
    let doc = run.code(1).json();
    assert_eq!(doc["error"]["kind"], "invalid_timestamp");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("message imprint"),
        "{doc:#}"
    );
}

#[test]
fn gen_time_outside_the_leaf_validity_is_refused() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    // A leaf valid only in the first half of 2025; the signature is
    // timestamped now. Signing refuses that certificate, so sign with its
    // key alone and put the certificate in afterwards (the signature and
    // its timestamp do not cover the material).
    let key = sb
        .key("pki/bad/expired-within-ca.key")
        .display()
        .to_string();
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        "m.sig",
        "--tsa",
        &tsa.url,
    ])
    .code(0);
    crate::common::attach_chain(
        &sb.path("m.sig"),
        &[fixture("pki/bad/expired-within-ca.fullchain.pem")],
    );
    // At a time inside its validity, without TSA roots: accepted.
    verify_at(&sb, "m.sig", "2025-03-01T00:00:00Z", None).code(0);
    // With them, validity is checked at genTime (after it expired): refused.
    let run = verify_at(&sb, "m.sig", "2025-03-01T00:00:00Z", Some("root.pem"));
    let doc = run.code(1).json();
    assert_eq!(doc["error"]["kind"], "untrusted_certificate");
    assert_eq!(check(&doc, "timestamp")["status"], "pass");
}

#[test]
fn the_audit_record_names_key_certificate_and_timestamp() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    sb.run(["audit", "keygen", "--out", "akeys"]).code(0);
    let key = sb.key("pki/p256/leaf.key").display().to_string();
    let run = sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--cert",
        &fixture("pki/p256/leaf.pem").display().to_string(),
        "--chain",
        &fixture("pki/p256/chain.pem").display().to_string(),
        "--signature",
        "m.sig",
        "--tsa",
        &tsa.url,
        "--json",
        "--audit-log",
        "audit.log",
        "--audit-key",
        "akeys/writer.key",
    ]);
    let doc = run.code(0).json();
    let fp = doc["key_fingerprint"].as_str().unwrap();
    let gen_time = doc["timestamps"][0]["gen_time"].as_str().unwrap();
    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let record = log.lines().last().unwrap();
    let rec: serde_json::Value = serde_json::from_str(record).unwrap();
    // The key as every message names it, the certificate, the timestamp.
    assert_eq!(
        rec["modelseal"]["signer"]["key_sha256"],
        fp.trim_start_matches("sha256:"),
        "{record}"
    );
    let x509 = &rec["file"]["x509"];
    assert!(
        x509["subject"]["distinguished_name"]
            .as_str()
            .unwrap()
            .contains("CN=modelseal test release signer A"),
        "{record}"
    );
    assert!(
        !x509["serial_number"].as_str().unwrap().is_empty(),
        "{record}"
    );
    assert!(
        record.contains(&format!("genTime {gen_time} from TSA {}", tsa.url)),
        "{record}"
    );
    // The timestamp as structured fields too.
    let ts = &rec["modelseal"]["timestamp"];
    assert_eq!(ts["gen_time"], gen_time, "{record}");
    assert_eq!(ts["tsa"]["url"], tsa.url.as_str(), "{record}");

    // verify: the verified timestamp's genTime and TSA, plain and under a
    // policy; the log verifies as a chain.
    let root = fixture("pki/p256/root.pem").display().to_string();
    let tsa_root = fixture("tsa/root.pem").display().to_string();
    sb.run([
        "verify",
        "model",
        "--signature",
        "m.sig",
        "--trust-root",
        &root,
        "--identity",
        "*",
        "--tsa-root",
        &tsa_root,
        "--audit-log",
        "audit.log",
        "--audit-key",
        "akeys/writer.key",
    ])
    .code(0);
    let policy = tsa_policy(&sb, "p.json", "root.pem", true);
    sb.run([
        "verify",
        "model",
        "--policy",
        &policy,
        "--signature",
        "m.sig",
        "--audit-log",
        "audit.log",
        "--audit-key",
        "akeys/writer.key",
    ])
    .code(0);
    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    for line in &lines[1..] {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        let ts = &rec["modelseal"]["timestamp"];
        assert_eq!(ts["gen_time"], gen_time, "{line}");
        assert!(
            ts["tsa"]["name"]
                .as_str()
                .unwrap()
                .contains("CN=modelseal test TSA"),
            "{line}"
        );
        assert!(ts["tsa"].get("url").is_none(), "{line}");
    }
    sb.run([
        "audit",
        "verify",
        "--log",
        "audit.log",
        "--key",
        "akeys/verifier.key",
    ])
    .code(0);
}

/// A strict policy over every model, trusting the p256 test CA for code
/// signing and `tsa_root` (fixtures/tsa) for timestamps.
fn tsa_policy(sb: &Sandbox, name: &str, tsa_root: &str, required: bool) -> String {
    let doc = serde_json::json!({
        "version": "1",
        "trustStores": {
            "release": { "certificates": [fixture("pki/p256/root.pem")] },
            "tsa": { "certificates": [fixture(&format!("tsa/{tsa_root}"))] }
        },
        "policies": [{
            "name": "timestamped",
            "scopes": ["*"],
            "level": "strict",
            "override": { "revocation": "skip" },
            "trustStores": ["release"],
            "trustedIdentities": ["*"],
            "timestamps": { "trustStores": ["tsa"], "required": required }
        }]
    });
    fs::write(sb.path(name), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    sb.path(name).display().to_string()
}

fn verify_policy_at(sb: &Sandbox, policy: &str, sig: &str, at: &str) -> crate::common::Run {
    sb.run([
        "verify",
        "model",
        "--policy",
        policy,
        "--signature",
        sig,
        "--at",
        at,
        "--json",
    ])
}

/// The policy's check `name` of the first signature.
fn policy_check<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name && c["signature"].is_string())
        .unwrap_or_else(|| panic!("no {name} check: {doc:#}"))
}

#[test]
fn a_policy_that_requires_a_timestamp() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    let required = tsa_policy(&sb, "required.json", "root.pem", true);
    let key = sb.key("pki/p256/leaf.key").display().to_string();
    let cert = fixture("pki/p256/leaf.pem").display().to_string();
    let chain = fixture("pki/p256/chain.pem").display().to_string();

    // Without a timestamp: rejected, even while the certificate is valid.
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--cert",
        &cert,
        "--chain",
        &chain,
        "--signature",
        "plain.sig",
    ])
    .code(0);
    let run = verify_policy_at(&sb, &required, "plain.sig", "2030-01-01T00:00:00Z");
    let doc = run.code(1).json();
    assert_eq!(doc["error"]["kind"], "policy_rejected", "{doc:#}");
    let msg = doc["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("timestamp failed: the policy requires an RFC 3161 timestamp"),
        "{msg}"
    );
    let ts = policy_check(&doc, "timestamp");
    assert_eq!(
        (&ts["status"], &ts["level"], &ts["category"]),
        (
            &serde_json::json!("fail"),
            &serde_json::json!("enforce"),
            &serde_json::json!("authenticity")
        ),
        "{ts}"
    );
    assert_eq!(doc["policy"]["checks"]["timestamp"], "enforce");

    // With one from the trusted TSA: accepted after the leaf expired
    // (valid until 2045), validity checked at genTime.
    signed_with_tsa(&sb, &tsa, "stamped.sig");
    let run = verify_policy_at(&sb, &required, "stamped.sig", AFTER_EXPIRY);
    let doc = run.code(0).json();
    let ts = policy_check(&doc, "timestamp");
    assert_eq!(ts["status"], "pass", "{ts}");
    let detail = ts["detail"].as_str().unwrap();
    assert!(
        detail.contains("genTime") && detail.contains("earliest genTime"),
        "{detail}"
    );
    assert_eq!(policy_check(&doc, "expiry")["status"], "pass", "{doc:#}");

    // The same bundle under a policy without TSA trust: expired.
    let no_tsa = tsa_policy(&sb, "no-tsa.json", "root.pem", false);
    let mut p: serde_json::Value = serde_json::from_slice(&fs::read(&no_tsa).unwrap()).unwrap();
    p["policies"][0]
        .as_object_mut()
        .unwrap()
        .remove("timestamps");
    fs::write(&no_tsa, serde_json::to_vec(&p).unwrap()).unwrap();
    let doc = verify_policy_at(&sb, &no_tsa, "stamped.sig", AFTER_EXPIRY)
        .code(1)
        .json();
    assert_eq!(policy_check(&doc, "expiry")["status"], "fail", "{doc:#}");
    assert_eq!(policy_check(&doc, "timestamp")["status"], "skipped");

    // An optional timestamp: a bundle without one is accepted, the absence
    // logged as a warning.
    let optional = tsa_policy(&sb, "optional.json", "root.pem", false);
    let run = verify_policy_at(&sb, &optional, "plain.sig", "2030-01-01T00:00:00Z");
    let doc = run.code(0).json();
    assert_eq!(policy_check(&doc, "timestamp")["level"], "log");
    assert!(
        doc["warnings"]
            .to_string()
            .contains("carries no RFC 3161 timestamp"),
        "{doc:#}"
    );

    // --tsa-root does not mix with --policy: the policy names its TSAs.
    sb.run([
        "verify",
        "model",
        "--policy",
        &required,
        "--signature",
        "stamped.sig",
        "--tsa-root",
        &fixture("tsa/root.pem").display().to_string(),
    ])
    .code(2)
    .stderr_has("`timestamps` section");
}

#[test]
fn a_policy_refuses_a_timestamp_from_an_untrusted_tsa() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    signed_with_tsa(&sb, &tsa, "m.sig");
    // Required or not, a timestamp that does not verify establishes no
    // time: after expiry the model is refused.
    for required in [true, false] {
        let policy = tsa_policy(&sb, "other.json", "other-root.pem", required);
        let doc = verify_policy_at(&sb, &policy, "m.sig", AFTER_EXPIRY)
            .code(1)
            .json();
        assert_eq!(doc["error"]["kind"], "policy_rejected", "{doc:#}");
        let ts = policy_check(&doc, "timestamp");
        assert_eq!(ts["status"], "fail", "{ts}");
        assert!(
            ts["detail"]
                .as_str()
                .unwrap()
                .contains("does not chain to a trusted TSA root"),
            "{ts}"
        );
        assert_eq!(policy_check(&doc, "expiry")["status"], "fail", "{doc:#}");
    }
    // Required, it is refused even while the certificate is valid.
    let policy = tsa_policy(&sb, "other.json", "other-root.pem", true);
    let doc = verify_policy_at(&sb, &policy, "m.sig", "2030-01-01T00:00:00Z")
        .code(1)
        .json();
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timestamp failed"),
        "{doc:#}"
    );
}

#[test]
fn the_gate_under_a_policy_requiring_a_timestamp() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let tsa = Tsa::start(&[]);
    let required = tsa_policy(&sb, "required.json", "root.pem", true);
    signed_with_tsa(&sb, &tsa, "stamped.sig");
    let key = sb.key("pki/p256/leaf.key").display().to_string();
    let cert = fixture("pki/p256/leaf.pem").display().to_string();
    let chain = fixture("pki/p256/chain.pem").display().to_string();
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--cert",
        &cert,
        "--chain",
        &chain,
        "--signature",
        "plain.sig",
    ])
    .code(0);
    let gate = |sig: &str, at: &str| {
        sb.run([
            "gate",
            "model",
            "--policy",
            &required,
            "-s",
            sig,
            "--at",
            at,
            "--",
            "sh",
            "-c",
            "touch ran",
        ])
    };
    // Without a timestamp: refused, the command never runs.
    gate("plain.sig", "2030-01-01T00:00:00Z")
        .code(1)
        .stderr_has("timestamp failed: the policy requires an RFC 3161 timestamp");
    assert!(!sb.path("ran").exists());
    // Timestamped by the trusted TSA: started after the leaf expired.
    gate("stamped.sig", AFTER_EXPIRY).code(0);
    assert!(sb.path("ran").exists());
}
