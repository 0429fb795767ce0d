//! RFC 3161 end to end: `sign --tsa` against `openssl ts -reply` behind
//! fixtures/tsa/serve.py on 127.0.0.1, started by each test.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::common::{Sandbox, fixture};

/// A running test TSA; killed on drop.
pub(crate) struct Tsa {
    child: Child,
    pub(crate) url: String,
}

impl Tsa {
    pub(crate) fn start(args: &[&str]) -> Tsa {
        for (tool, arg) in [("python3", "--version"), ("openssl", "version")] {
            let ok = Command::new(tool)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                ok,
                "{tool} is required for the TSA tests (.ci/deps/tsa.sh installs it)"
            );
        }
        let mut child = Command::new("python3")
            .arg(fixture("tsa/serve.py"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start fixtures/tsa/serve.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .expect("serve.py prints PORT n")
            .to_owned();
        Tsa {
            child,
            url: format!("http://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
}
