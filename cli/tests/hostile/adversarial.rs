//! The proofs of concept of two adversarial reviews (issue 19), each run
//! through the real binary: every one must now fail to do harm.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use crate::common;
use crate::common::{Sandbox, fixture};
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

/// Run `modelseal ARGS` in the sandbox, sampling its peak resident set
/// (`VmHWM`, kB) from `/proc` while it runs; fails after `secs`.
fn run_peak_kb(sb: &Sandbox, args: &[&str], secs: u64) -> (u64, common::Run) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_modelseal"));
    cmd.args(args)
        .current_dir(sb.path(""))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut peak = 0;
    loop {
        if let Ok(status) = fs::read_to_string(&status_file)
            && let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            let run = common::Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            return (peak, run);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("modelseal {args:?} did not return within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A sparse file of `len` bytes at `p` (no disk used).
fn sparse(p: &Path, len: u64) {
    fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(p)
        .unwrap()
        .set_len(len)
        .unwrap();
}

const TIB: u64 = 1 << 40;

/// Item 2: in shards mode every shard range of a file was listed before the
/// comparison: a 1 TiB sparse file (no disk) in place of a signed one made
/// `verify` use 2.6 GB with 64 KiB shards (and the gate the same). Sizes
/// are now compared first, so it costs no more than a small model.
#[test]
fn a_sparse_terabyte_costs_shard_verification_no_memory() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    let public = fixture("keys/p256.pub.pem");
    sb.run([
        "sign",
        "model",
        "--key",
        s(&key),
        "--shard-size",
        "65536",
        "-q",
    ])
    .code(0);
    let verify = ["verify", "model", "--public-key", s(&public)];
    let (baseline, run) = run_peak_kb(&sb, &verify, 60);
    run.code(0);
    sparse(&sb.path("model/model.safetensors"), TIB);
    sparse(&sb.path("model/extra.bin"), TIB);
    let (peak, run) = run_peak_kb(&sb, &verify, 60);
    let unsigned = format!("extra.bin:0:{TIB}");
    run.code(1)
        .no_panic()
        .stderr_has(&unsigned)
        .stderr_has(&format!("model.safetensors:262144:{TIB}"));
    assert!(
        peak < baseline + 16 * 1024,
        "verify peaked at {peak} kB with two 1 TiB sparse files (baseline {baseline} kB)"
    );
    let gate = [
        "gate",
        "model",
        "--public-key",
        s(&public),
        "--",
        "sh",
        "-c",
        "touch STARTED",
    ];
    let (peak, run) = run_peak_kb(&sb, &gate, 60);
    run.code(1).no_panic().stderr_has(&unsigned);
    assert!(!sb.path("STARTED").exists());
    assert!(
        peak < baseline + 16 * 1024,
        "gate peaked at {peak} kB (baseline {baseline} kB)"
    );
}

/// Item 2: in `files` mode nothing signed bounds a file's size, and the gate
/// copied a sparse file of any size into shared memory before its digest
/// mismatched (a 16 TiB one would exhaust the machine). What the gate seals
/// is bounded (by default the memory available); a model above the bound is
/// refused before anything is read.
#[test]
fn the_gate_seals_no_more_than_it_may_hold() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    let public = fixture("keys/p256.pub.pem");
    sb.run(["sign", "model", "--key", s(&key), "-q"]).code(0);
    let gate = |extra: &[&str]| {
        let mut a = vec!["gate", "model", "--public-key", s(&public)];
        a.extend_from_slice(extra);
        a.extend(["--", "sh", "-c", "touch STARTED"]);
        run_bounded(&sb, &a, 60)
    };
    // An honest model within the bound still runs COMMAND.
    gate(&["--max-sealed-bytes", "1048576"]).code(0);
    assert!(sb.path("STARTED").exists());
    fs::remove_file(sb.path("STARTED")).unwrap();
    // 8 TiB (ext4 allows 16 TiB less a block): beyond any machine's
    // memory, so beyond the default bound too.
    sparse(&sb.path("model/model.safetensors"), 8 * TIB);
    let (peak, run) = run_peak_kb(
        &sb,
        &[
            "gate",
            "model",
            "--public-key",
            s(&public),
            "--",
            "sh",
            "-c",
            "touch STARTED",
        ],
        30,
    );
    run.code(2)
        .no_panic()
        .stderr_has("more than the")
        .stderr_has("the gate may seal in memory (the memory available)");
    assert!(peak < 64 * 1024, "gate peaked at {peak} kB");
    assert!(!sb.path("STARTED").exists());
    // An explicit bound applies the same way.
    gate(&["--max-sealed-bytes", "1048576", "--json"])
        .code(2)
        .stderr_has("more than the 1048576 bytes the gate may seal in memory (the limit given)");
    assert!(!sb.path("STARTED").exists());
}

/// Item 3: `model_signing`'s shard serialization has no resource for an
/// empty file, so after signing with `--shard-size 65536` new empty files
/// (`__init__.py`, `adapter_config.json`, a nested shard name) verified and
/// the gate linked them; signed empty files could be deleted or replaced
/// by directories. Bundles modelseal writes now record their empty files.
#[test]
fn empty_files_are_vouched_for_in_shards_mode() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    fs::write(sb.path("model/empty.txt"), b"").unwrap();
    let key = sb.key("keys/p256.pkcs8.pem");
    let public = fixture("keys/p256.pub.pem");
    sb.run([
        "sign",
        "model",
        "--key",
        s(&key),
        "--shard-size",
        "65536",
        "-q",
    ])
    .code(0);
    let verify = || sb.run(["verify", "model", "--public-key", s(&public)]);
    let gate = || {
        sb.run([
            "gate",
            "model",
            "--public-key",
            s(&public),
            "--",
            "sh",
            "-c",
            "ls -A \"$MODELSEAL_MODEL_DIR\" > listed",
        ])
    };
    verify().code(0);
    gate().code(0);
    let listed = fs::read_to_string(sb.path("listed")).unwrap();
    assert!(listed.lines().any(|l| l == "empty.txt"), "{listed}");

    for added in [
        "__init__.py",
        "adapter_config.json",
        "weights/model-00003-of-00002.safetensors",
    ] {
        fs::write(sb.path(&format!("model/{added}")), b"").unwrap();
        verify()
            .code(1)
            .stderr_has(&format!("extra (present, not signed): {added}"));
        fs::remove_file(sb.path("listed")).ok();
        gate().code(1).stderr_has(added);
        assert!(!sb.path("listed").exists());
        fs::remove_file(sb.path(&format!("model/{added}"))).unwrap();
    }
    // A signed empty file deleted, then replaced by a directory.
    fs::remove_file(sb.path("model/empty.txt")).unwrap();
    verify()
        .code(1)
        .stderr_has("missing (signed, not present): empty.txt");
    fs::create_dir(sb.path("model/empty.txt")).unwrap();
    verify()
        .code(1)
        .stderr_has("missing (signed, not present): empty.txt");
    fs::write(sb.path("model/empty.txt/x"), b"").unwrap();
    verify().code(1).stderr_has("empty.txt/x");
    fs::remove_dir_all(sb.path("model/empty.txt")).unwrap();
    // Empty again where content was signed, and content where empty was.
    fs::write(sb.path("model/empty.txt"), b"now with content").unwrap();
    verify()
        .code(1)
        .stderr_has("missing (signed, not present): empty.txt")
        .stderr_has("empty.txt:0:16");
    fs::write(sb.path("model/empty.txt"), b"").unwrap();
    fs::write(sb.path("model/config.json"), b"").unwrap();
    verify()
        .code(1)
        .stderr_has("extra (present, not signed): config.json");
}

/// Item 3, bundles written by `model_signing` (no record of empty files):
/// such a bundle cannot vouch for an empty file, so the model still
/// verifies as the reference tool says, but the gate never hands an empty
/// file out.
#[test]
fn the_gate_never_exposes_an_empty_file_a_reference_bundle_cannot_vouch_for() {
    let sb = Sandbox::new();
    sb.copy("models/ordering", "model");
    assert_eq!(fs::metadata(sb.path("model/empty.bin")).unwrap().len(), 0);
    let bundle = fixture("interop/oms/extra/shards-ordering-p256.sig");
    let root = fixture("interop/oms/pki/root.pem");
    let run = sb.run([
        "gate",
        "model",
        "-s",
        s(&bundle),
        "--trust-root",
        s(&root),
        "--identity",
        "*",
        "--",
        "sh",
        "-c",
        "ls -A \"$MODELSEAL_MODEL_DIR\" > listed",
    ]);
    run.code(0);
    let listed = fs::read_to_string(sb.path("listed")).unwrap();
    assert!(listed.lines().any(|l| l == "a.txt"), "{listed}");
    assert!(!listed.lines().any(|l| l == "empty.bin"), "{listed}");
}

/// Item 16: `convert` recorded the checksums file and its signature as
/// ignore entries, and an ignore entry hid a whole directory: after deleting
/// both and creating `SHA256SUMS/model.safetensors`, `verify` passed with
/// unsigned weights in place. Those entries now hide only a regular file of
/// that name, or its absence.
#[test]
fn convert_ignore_entries_hide_only_the_files_they_name() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    fs::copy(
        fixture("checksums/demo.sha256"),
        sb.path("model/SHA256SUMS"),
    )
    .unwrap();
    fs::copy(
        fixture("checksums/demo.sha256.rsa-pkcs1.sig"),
        sb.path("model/SHA256SUMS.sig"),
    )
    .unwrap();
    let key = sb.key("keys/p256.pkcs8.pem");
    let public = fixture("keys/p256.pub.pem");
    sb.run([
        "convert",
        "model",
        "--checksums",
        "model/SHA256SUMS",
        "--raw-signature",
        "model/SHA256SUMS.sig",
        "--public-key",
        s(&fixture("keys/rsa3072.pub.pem")),
        "--key",
        s(&key),
        "-s",
        "model/model.sig",
        "-q",
    ])
    .code(0);
    let verify = |sig: &str| sb.run(["verify", "model", "-s", sig, "--public-key", s(&public)]);
    verify("model/model.sig").code(0);
    fs::copy(sb.path("model/model.sig"), sb.path("outside.sig")).unwrap();
    // Deleted: still the signed model.
    for name in ["SHA256SUMS", "SHA256SUMS.sig", "model.sig"] {
        fs::remove_file(sb.path(&format!("model/{name}"))).unwrap();
    }
    verify("outside.sig").code(0);
    // A directory in their place holds unsigned files: rejected.
    for name in ["SHA256SUMS", "SHA256SUMS.sig", "model.sig"] {
        fs::create_dir(sb.path(&format!("model/{name}"))).unwrap();
        fs::write(
            sb.path(&format!("model/{name}/model.safetensors")),
            b"unsigned weights",
        )
        .unwrap();
        verify("outside.sig").code(1).stderr_has(&format!(
            "extra (present, not signed): {name}/model.safetensors"
        ));
        sb.run([
            "gate",
            "model",
            "-s",
            "outside.sig",
            "--public-key",
            s(&public),
            "--",
            "sh",
            "-c",
            "touch STARTED",
        ])
        .code(1);
        assert!(!sb.path("STARTED").exists());
        fs::remove_dir_all(sb.path(&format!("model/{name}"))).unwrap();
    }
    // A regular file of that name is still left out.
    fs::write(sb.path("model/SHA256SUMS"), b"anything").unwrap();
    verify("outside.sig").code(0);
}

/// Item 9: replacing `store/llama-guard` and its bundle with
/// `llama-uncensored` signed by the same key verified. `--model-name`
/// binds the signed subject name (the signed directory's name).
#[test]
fn another_signed_model_cannot_stand_in_for_the_named_one() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "store/llama-guard");
    sb.copy("models/demo", "other/llama-uncensored");
    fs::write(
        sb.path("other/llama-uncensored/config.json"),
        b"{\"uncensored\": true}",
    )
    .unwrap();
    let key = sb.key("keys/p256.pkcs8.pem");
    let public = fixture("keys/p256.pub.pem");
    for (model, sig) in [
        ("store/llama-guard", "store/llama-guard.sig"),
        ("other/llama-uncensored", "other/llama-uncensored.sig"),
    ] {
        sb.run(["sign", model, "--key", s(&key), "-s", sig, "-q"])
            .code(0);
    }
    let verify = |extra: &[&str]| {
        let mut a = vec![
            "verify",
            "store/llama-guard",
            "-s",
            "store/llama-guard.sig",
            "--public-key",
            s(&public),
        ];
        a.extend_from_slice(extra);
        sb.run(&a)
    };
    verify(&["--model-name", "llama-guard"]).code(0);
    // The swap.
    fs::remove_dir_all(sb.path("store/llama-guard")).unwrap();
    fs::rename(
        sb.path("other/llama-uncensored"),
        sb.path("store/llama-guard"),
    )
    .unwrap();
    fs::copy(
        sb.path("other/llama-uncensored.sig"),
        sb.path("store/llama-guard.sig"),
    )
    .unwrap();
    // Without a name the swap is not seen (the signer vouches for both).
    verify(&[]).code(0);
    verify(&["--model-name", "llama-guard"])
        .code(1)
        .no_panic()
        .stderr_has(
            "the signed model name \"llama-uncensored\" is not the required \"llama-guard\"",
        );
    let doc = verify(&["--model-name", "llama-guard", "--json"])
        .code(1)
        .json();
    assert_eq!(doc["error"]["kind"], "model_name_mismatch");
    sb.run([
        "gate",
        "store/llama-guard",
        "-s",
        "store/llama-guard.sig",
        "--public-key",
        s(&public),
        "--model-name",
        "llama-guard",
        "--",
        "sh",
        "-c",
        "touch STARTED",
    ])
    .code(1)
    .stderr_has("llama-uncensored");
    assert!(!sb.path("STARTED").exists());
}
