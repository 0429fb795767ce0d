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
