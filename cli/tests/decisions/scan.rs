//! `modelseal scan` end to end: exit codes, text and `--json`, on samples
//! written by Python's own pickle, zipfile and tarfile modules.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

fn modelseal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modelseal"))
        .args(args)
        .output()
        .unwrap()
}

/// The scanner's samples, written by python3 (required: fails without it).
fn samples(dir: &Path) {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scan/tests/samples/make_samples.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(dir)
        .output()
        .expect("python3 is required to generate scan samples");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(dir.join("expected.json")).unwrap();
}

#[test]
fn exit_codes_and_reports() {
    let all = tempfile::tempdir().unwrap();
    samples(all.path());

    // A clean model: exit 0, every benign format recognized.
    let clean = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(all.path()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.starts_with("benign_") {
            std::fs::copy(entry.path(), clean.path().join(&name)).unwrap();
        }
    }
    let out = modelseal(&["scan", clean.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("clean: "), "{stdout}");
    for format in [
        "pytorch-zip",
        "pickle",
        "safetensors",
        "gguf",
        "onnx",
        "tar",
        "numpy",
    ] {
        assert!(stdout.contains(format), "{format} missing: {stdout}");
    }

    // Unsafe content: exit 1, each finding with file, member, offset, global, why.
    let out = modelseal(&["scan", all.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "unsafe: mal_nemo_tar.nemo!model_weights.ckpt!archive/data.pkl@183: posix.system (runs operating-system commands)"
        ),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsafe findings"));

    // --json: one document with the same facts.
    let one = all.path().join("mal_getattr_chain.pkl");
    let out = modelseal(&["scan", one.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["command"], "scan");
    assert_eq!(doc["verdict"], "rejected");
    assert_eq!(doc["error"]["kind"], "unsafe_content");
    let findings = &doc["files"][0]["findings"];
    assert_eq!(findings[0]["subject"], "builtins.getattr");
    assert_eq!(findings[0]["kind"], "dangerous_global");
    assert_eq!(findings[0]["offset"], 2);
    assert_eq!(findings[1]["subject"], "builtins.__import__");

    // --allow-global extends the allowlist.
    let doctest = all.path().join("mal_doctest_debug_p4.pkl");
    let doctest = doctest.to_str().unwrap();
    assert_eq!(modelseal(&["scan", doctest]).status.code(), Some(1));
    let out = modelseal(&[
        "scan",
        doctest,
        "--allow-global",
        "doctest.debug_script",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verdict"], "ok");
    assert_eq!(doc["findings"], 0);
    let out = modelseal(&["scan", doctest, "--allow-global", "nodot"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn malformed_and_unreadable_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("model.bin");
    std::fs::write(&bad, b"\x80\x02}q\x00(X\x01\x00\x00\x00a").unwrap();
    let out = modelseal(&["scan", bad.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verdict"], "error");
    let problem = &doc["files"][0]["problems"][0]["message"];
    assert!(problem.as_str().unwrap().contains("truncated"), "{problem}");

    let out = modelseal(&["scan", dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file"));
}
