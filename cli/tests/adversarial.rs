//! The proofs of concept of two adversarial reviews (issue 19), each run
//! through the real binary: every one must now fail to do harm.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Sandbox, fixture};
use std::fs;
use std::path::Path;
use std::time::Duration;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Run `modelseal ARGS` in the sandbox, failing (not hanging) after `secs`.
fn run_bounded(sb: &Sandbox, args: &[&str], secs: u64) -> common::Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_modelseal"));
    cmd.args(args)
        .current_dir(sb.path(""))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for var in [
        "MODELSEAL_KEY_PASSPHRASE",
        "MODELSEAL_AUDIT_LOG",
        "MODELSEAL_AUDIT_KEY",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return common::Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("modelseal {args:?} did not return within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(p: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        p,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

/// Item 6: `sign -s MODEL/model.sig --update` twice kept its cache in the
/// model, signed it, and rewrote it after signing.
#[test]
fn update_cache_never_lands_in_the_model() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "up");
    let key = sb.key("keys/p256.pkcs8.pem");
    for _ in 0..2 {
        sb.run([
            "sign",
            "up",
            "--key",
            s(&key),
            "-s",
            "up/model.sig",
            "--update",
        ])
        .code(0);
    }
    assert!(!sb.path("up/model.sig.cache").exists());
    assert!(
        sb.path("up.cache").exists(),
        "default cache beside the model"
    );
    sb.run([
        "verify",
        "up",
        "-s",
        "up/model.sig",
        "--public-key",
        s(&fixture("keys/p256.pub.pem")),
    ])
    .code(0);
    // An explicit cache inside the model is refused before anything is signed.
    sb.run([
        "sign",
        "up",
        "--key",
        s(&key),
        "-s",
        "other.sig",
        "--update",
        "--cache",
        "up/sub.cache",
    ])
    .code(2)
    .stderr_has("inside the model");
    assert!(!sb.path("other.sig").exists());
}

/// Item 7: a FIFO in place of any input file hung the command.
#[test]
fn fifos_in_place_of_inputs_are_refused_without_hanging() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "ff");
    let public = fixture("keys/p256.pub.pem");
    mkfifo(&sb.path("ff/model.sig"));
    mkfifo(&sb.path("fifo"));
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "verify",
            "ff",
            "-s",
            "ff/model.sig",
            "--public-key",
            s(&public),
        ],
        vec!["verify", "ff", "--checksums", "fifo"],
        vec![
            "verify",
            "ff",
            "--checksums",
            "x.sig",
            "--raw-signature",
            "fifo",
            "--public-key",
            s(&public),
        ],
        vec!["verify", "ff", "-s", "x.sig", "--public-key", "fifo"],
        vec!["verify", "ff", "-s", "x.sig", "--trust-root", "fifo"],
        vec!["verify", "ff", "-s", "x.sig", "--policy", "fifo"],
        vec!["sign", "ff", "--key", "fifo", "-s", "x.sig"],
        vec![
            "gate",
            "ff",
            "-s",
            "ff/model.sig",
            "--public-key",
            s(&public),
            "--",
            "true",
        ],
    ];
    fs::write(sb.path("x.sig"), b"{}").unwrap();
    for args in cases {
        let run = run_bounded(&sb, &args, 20);
        run.code(2).no_panic();
        assert!(
            run.stderr.contains("not a regular file"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// Item 4: an added file under 19 nested 200-character directories made the
/// failure's reason too long to record, and the decision went unrecorded.
#[test]
fn a_decision_with_a_huge_reason_is_recorded_truncated() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sb.run(["audit", "keygen", "--out", "keys"]).code(0);
    let key = sb.key("keys/p256.pkcs8.pem");
    let public = fixture("keys/p256.pub.pem");
    sb.run(["sign", "model", "--key", s(&key), "-q"]).code(0);
    let mut deep = sb.path("model");
    for i in 0..19 {
        deep.push(format!("{i:02}{}", "d".repeat(198)));
    }
    fs::create_dir_all(&deep).unwrap();
    for name in ["extra.bin", "extra2.bin", "extra3.bin"] {
        fs::write(deep.join(name), b"unsigned").unwrap();
    }
    let run = sb.run([
        "verify",
        "model",
        "--public-key",
        s(&public),
        "--audit-log",
        "audit.log",
        "--audit-key",
        "keys/writer.key",
    ]);
    run.code(1).no_panic();
    assert!(
        !run.stderr.contains("could not be recorded"),
        "{}",
        run.stderr
    );
    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(rec["event"]["outcome"], "failure");
    let reason = rec["event"]["reason"].as_str().unwrap();
    assert!(reason.len() <= 8192, "{}", reason.len());
    sb.run([
        "audit",
        "verify",
        "--log",
        "audit.log",
        "--key",
        "keys/verifier.key",
    ])
    .code(0);
    // The PoC's reason (three such paths) is cut, with the marker.
    assert!(
        run.stderr.len() > 8192,
        "the PoC no longer makes a long reason"
    );
    assert!(reason.contains("...[truncated "), "{reason}");
}

/// Item 17: the printed `openssl` command ran `$(...)` in a file name.
#[test]
fn the_printed_openssl_command_is_quoted_for_the_shell() {
    let sb = Sandbox::new();
    let key = sb.key("keys/p256.pkcs8.pem");
    let name = "m$(touch PWNED).bin";
    fs::write(sb.path(name), b"weights").unwrap();
    let run = sb.run([
        "sign",
        name,
        "--key",
        s(&key),
        "--raw-signature",
        "m.sig",
        "--json",
    ]);
    run.code(0);
    let doc = run.json();
    let argv: Vec<String> = doc["openssl_verify_argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(argv.last().unwrap(), name);
    let line = doc["openssl_verify"].as_str().unwrap();
    // Run the printed line in a shell with a stand-in `openssl` that prints
    // its arguments: the name arrives intact and nothing else runs.
    fs::create_dir(sb.path("bin")).unwrap();
    fs::write(
        sb.path("bin/openssl"),
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(sb.path("bin/openssl"), fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(sb.path(""))
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", sb.path("bin").display()),
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(printed, argv[1..].to_vec());
    assert!(!sb.path("PWNED").exists(), "the printed command ran $(...)");
    // The text output prints the same quoted line.
    let text = sb.run(["sign", name, "--key", s(&key), "--raw-signature", "m.sig"]);
    text.code(0).stdout_has(&format!("check it:  {line}"));
}

/// Item 5: COMMAND saw MODELSEAL_AUDIT_KEY/_LOG and could read the writer
/// key, so model code could forge every later record.
#[test]
fn the_gate_hands_command_no_modelseal_configuration() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    sb.run(["sign", "model", "--key", s(&key), "-q"]).code(0);
    sb.run(["audit", "keygen", "--out", "keys"]).code(0);
    let public = fixture("keys/p256.pub.pem");
    let run = sb.run_env(
        [
            "gate",
            "model",
            "--public-key",
            s(&public),
            "--",
            "sh",
            "-c",
            "env",
        ],
        &[
            ("MODELSEAL_AUDIT_LOG", "audit.log"),
            ("MODELSEAL_AUDIT_KEY", "keys/writer.key"),
            ("MODELSEAL_KEY_PASSPHRASE", "secret"),
        ],
    );
    run.code(0);
    let vars: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("MODELSEAL_"))
        .collect();
    assert_eq!(vars.len(), 1, "{vars:?}");
    assert!(vars[0].starts_with("MODELSEAL_MODEL_DIR="), "{vars:?}");
    // The decision was recorded with the key COMMAND never saw.
    assert!(
        fs::read_to_string(sb.path("audit.log"))
            .unwrap()
            .contains("model.gate")
    );
}

/// Item 8: `--trust-root fullchain.pem` (leaf included) made the leaf a
/// trust anchor, so its key could issue a certificate for anyone.
#[test]
fn a_leaf_is_refused_as_a_trust_root() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("pki/p256/leaf.key");
    sb.run([
        "sign",
        "model",
        "--key",
        s(&key),
        "--cert",
        s(&fixture("pki/p256/leaf.pem")),
        "--chain",
        s(&fixture("pki/p256/intermediate.pem")),
        "-q",
    ])
    .code(0);
    let verify = |root: &str| {
        sb.run([
            "verify",
            "model",
            "--trust-root",
            s(&fixture(root)),
            "--identity",
            "*",
        ])
    };
    verify("pki/p256/root.pem").code(0);
    for roots in ["pki/p256/fullchain.pem", "pki/p256/leaf.pem"] {
        verify(roots)
            .code(2)
            .no_panic()
            .stderr_has("is not a CA certificate");
    }
}

/// Item 10: names derived from certificates, bundles and models were
/// printed raw, so ESC sequences reached the terminal.
#[test]
fn text_output_escapes_control_characters() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    sb.run(["sign", "model", "--key", s(&key), "-q"]).code(0);
    fs::write(sb.path("model/x\u{1b}[2K\rok.bin"), b"unsigned").unwrap();
    let public = fixture("keys/p256.pub.pem");
    let run = sb.run(["verify", "model", "--public-key", s(&public)]);
    run.code(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains('\u{1b}') && !all.contains('\r'), "{all:?}");
    assert!(all.contains("x\\u{1b}[2K\\u{d}ok.bin"), "{all}");
    // --json stays JSON (escaped by the serializer).
    let json = sb.run(["verify", "model", "--public-key", s(&public), "--json"]);
    json.code(1);
    assert!(
        json.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains('\u{1b}')
    );
}
