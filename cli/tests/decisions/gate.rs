//! `modelseal gate` end to end, through the real binary: the command reads
//! exactly the signed bytes, never starts on a bad model, and nothing a
//! writer does to the model store meanwhile gets through.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use crate::common::{Run, Sandbox, fixture, flip_byte};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use modelseal_manifest::Bundle;

/// Lists every file under `$MODELSEAL_MODEL_DIR` with its SHA-256, as
/// `sha256sum` prints it, into the file named by `$1`.
const HASH_VIEW: &str = r#"cd "$MODELSEAL_MODEL_DIR" && find . \( -type l -o -type f \) | sed 's|^\./||' | sort | xargs sha256sum > "$OLDPWD/$1""#;

/// A sandbox holding the demo model signed with the P-256 release chain
/// (bundle `model.sig` in the sandbox).
fn signed_demo() -> Sandbox {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("pki/p256/leaf.key");
    sb.run([
        "sign".as_ref(),
        "model".as_ref(),
        "--key".as_ref(),
        key.as_os_str(),
        "--cert".as_ref(),
        fixture("pki/p256/leaf.pem").as_os_str(),
        "--chain".as_ref(),
        fixture("pki/p256/chain.pem").as_os_str(),
    ])
    .code(0);
    sb
}

/// `modelseal gate model --trust-root ROOT -q EXTRA -- COMMAND`.
fn gate(sb: &Sandbox, extra: &[&str], command: &[&str]) -> Run {
    let root = fixture("pki/p256/root.pem").display().to_string();
    let mut args = vec!["gate", "model", "--trust-root", &root, "-q"];
    if !extra.contains(&"--identity") {
        args.extend(["--identity", "*"]);
    }
    args.extend(extra);
    args.push("--");
    args.extend(command);
    sb.run(args)
}

/// Run `HASH_VIEW` through the gate, writing to `out`.
fn gate_hashing(sb: &Sandbox, out: &str) -> Run {
    gate(sb, &[], &["sh", "-c", HASH_VIEW, "sh", out])
}

/// The signed digests, by file name, from the bundle.
fn signed_digests(bundle: &Path) -> BTreeMap<String, String> {
    let bundle = Bundle::from_json(&fs::read(bundle).unwrap()).unwrap();
    let manifest = modelseal_manifest::from_payload(&bundle.envelope.payload).unwrap();
    manifest
        .resources()
        .map(|(k, d)| (k.name(), d.to_hex()))
        .collect()
}

/// Parse `sha256sum` output.
fn read_sums(path: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let (hex, name) = l.split_once("  ").unwrap();
            (name.to_owned(), hex.to_owned())
        })
        .collect()
}

#[test]
fn a_good_model_runs_the_command_which_reads_exactly_the_signed_bytes() {
    let sb = signed_demo();
    gate_hashing(&sb, "sums").code(0).no_panic();
    let want = signed_digests(&sb.path("model.sig"));
    assert_eq!(want.len(), 7);
    assert_eq!(read_sums(&sb.path("sums")), want);

    // Key mode, and a summary on stderr (stdout is the command's).
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/ed25519.pkcs8.pem");
    sb.run([
        "sign".as_ref(),
        "model".as_ref(),
        "--key".as_ref(),
        key.as_os_str(),
    ])
    .code(0);
    let public = fixture("keys/ed25519.pub.pem").display().to_string();
    let run = sb.run([
        "gate",
        "model",
        "--public-key",
        &public,
        "--",
        "sh",
        "-c",
        "echo from-command; test -f \"$MODELSEAL_MODEL_DIR/config.json\"",
    ]);
    run.code(0);
    assert_eq!(run.stdout, "from-command\n");
    run.stderr_has("modelseal: verified model (7 files")
        .stderr_has("MODELSEAL_MODEL_DIR=");
}

#[test]
fn a_bad_model_never_starts_the_command() {
    let sb = signed_demo();
    let touch = ["touch", "started"];
    // One bit flipped.
    flip_byte(&sb.path("model/model.safetensors"), 1000);
    gate(&sb, &[], &touch)
        .code(1)
        .stderr_has("verification failed, touch not started")
        .stderr_has("digest mismatch: model.safetensors");
    assert!(!sb.path("started").exists());
    flip_byte(&sb.path("model/model.safetensors"), 1000);

    // A file added.
    fs::write(sb.path("model/extra.bin"), b"x").unwrap();
    gate(&sb, &[], &touch)
        .code(1)
        .stderr_has("extra (present, not signed): extra.bin");
    fs::remove_file(sb.path("model/extra.bin")).unwrap();

    // An untrusted root, a wrong identity, a missing bundle.
    let other = fixture("pki/p384/root.pem").display().to_string();
    sb.run([
        "gate",
        "model",
        "--trust-root",
        &other,
        "--identity",
        "*",
        "--",
        "touch",
        "started",
    ])
    .code(1)
    .stderr_has("does not chain to a trusted root");
    gate(&sb, &["--identity", "email:someone@else.test"], &touch)
        .code(1)
        .stderr_has("identity");
    gate(&sb, &["--signature", "nope.sig"], &touch)
        .code(2)
        .stderr_has("cannot read signature");
    assert!(!sb.path("started").exists());

    // And with everything right, it does start.
    gate(&sb, &[], &touch).code(0);
    assert!(sb.path("started").exists());
}

#[test]
fn the_command_exit_status_becomes_the_gates() {
    let sb = signed_demo();
    gate(&sb, &[], &["sh", "-c", "exit 7"]).code(7);
    gate(&sb, &[], &["sh", "-c", "exit 0"]).code(0);
    gate(&sb, &[], &["sh", "-c", "kill -TERM $$"]).code(128 + 15);
    gate(&sb, &[], &["sh", "-c", "kill -KILL $$"]).code(128 + 9);
    gate(&sb, &[], &["./no-such-command"])
        .code(127)
        .stderr_has("cannot run ./no-such-command");
    // No command at all is a usage error.
    let root = fixture("pki/p256/root.pem").display().to_string();
    sb.run(["gate", "model", "--trust-root", &root]).code(2);
}

#[test]
fn a_terminating_signal_reaches_the_command_and_the_view_is_removed() {
    let sb = signed_demo();
    let root = fixture("pki/p256/root.pem").display().to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_modelseal"))
        .args(["gate", "model", "--trust-root", &root, "--identity", "*", "-q", "--", "sh", "-c"])
        .arg(r#"echo "$MODELSEAL_MODEL_DIR" > dir; trap 'echo term > got; exit 3' TERM; touch ready; while :; do sleep 0.05; done"#)
        .current_dir(sb.dir.path())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sb.path("ready").exists() {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(3),
        "the command's own exit after its trap"
    );
    assert_eq!(fs::read_to_string(sb.path("got")).unwrap(), "term\n");
    let dir = fs::read_to_string(sb.path("dir")).unwrap();
    assert!(!Path::new(dir.trim()).exists(), "view {dir} left behind");
}

#[test]
fn the_command_sees_only_signed_files_and_cannot_change_them() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/ed25519.pkcs8.pem");
    // The signature lives inside the model: it is not part of the view.
    sb.run([
        "sign".as_ref(),
        "model".as_ref(),
        "--key".as_ref(),
        key.as_os_str(),
        "--signature".as_ref(),
        "model/model.sig".as_ref(),
    ])
    .code(0);
    let public = fixture("keys/ed25519.pub.pem").display().to_string();
    let script = r#"
        echo "$MODELSEAL_MODEL_DIR" > dir
        cd "$MODELSEAL_MODEL_DIR" || exit 90
        find . \( -type l -o -type f \) | sed 's|^\./||' | sort > "$OLDPWD/listing"
        stat -L -c %a "$MODELSEAL_MODEL_DIR" > "$OLDPWD/mode"
        if printf x >> config.json; then exit 91; fi
        if truncate -s 0 config.json; then exit 92; fi
        exit 0"#;
    sb.run([
        "gate",
        "model",
        "--public-key",
        &public,
        "--signature",
        "model/model.sig",
        "-q",
        "--",
        "sh",
        "-c",
        script,
    ])
    .code(0);
    assert_eq!(
        fs::read_to_string(sb.path("listing")).unwrap(),
        "config.json\nextra/README.md\ngeneration_config.json\nmodel.safetensors\n\
         tokenizer.json\nweights/model-00001-of-00002.safetensors\n\
         weights/model-00002-of-00002.safetensors\n"
    );
    assert_eq!(fs::read_to_string(sb.path("mode")).unwrap(), "700\n");
    let dir = fs::read_to_string(sb.path("dir")).unwrap();
    assert!(!Path::new(dir.trim()).exists(), "view {dir} left behind");
}

/// Run the gate `rounds` times (or until `budget` is spent) while `disturb`
/// keeps changing the model in another thread. Every round must either
/// refuse (exit 1 or 2, command not started) or let the command read
/// exactly the signed bytes. Returns (verified, refused).
fn race(
    sb: &Sandbox,
    rounds: u32,
    budget: Duration,
    disturb: impl FnMut(u64) + Send + 'static,
) -> (u32, u32) {
    let want = signed_digests(&sb.path("model.sig"));
    let stop = Arc::new(AtomicBool::new(false));
    let changes = Arc::new(AtomicU64::new(0));
    let worker = {
        let (stop, changes) = (stop.clone(), changes.clone());
        let mut disturb = disturb;
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                disturb(i);
                i += 1;
                changes.store(i, Ordering::Relaxed);
            }
            // One last call with an even count restores the signed state.
            if i % 2 == 1 {
                disturb(i);
            }
        })
    };
    let (mut ok, mut refused) = (0, 0);
    let start = Instant::now();
    for round in 0..rounds {
        if start.elapsed() > budget {
            break;
        }
        let out = format!("sums-{round}");
        let run = gate_hashing(sb, &out);
        run.no_panic();
        match run.code {
            0 => {
                assert_eq!(
                    read_sums(&sb.path(&out)),
                    want,
                    "round {round}: the command read unverified bytes"
                );
                ok += 1;
            }
            1 | 2 => {
                assert!(
                    !sb.path(&out).exists(),
                    "round {round}: refused but started the command"
                );
                refused += 1;
            }
            other => panic!("round {round}: exit {other}: {}", run.stderr),
        }
    }
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    assert!(changes.load(Ordering::Relaxed) > 0);
    eprintln!("{ok} rounds verified, {refused} refused");
    (ok, refused)
}

#[test]
fn a_concurrent_writer_never_mixes_bytes_into_what_the_command_reads() {
    let sb = signed_demo();
    let path = sb.path("model/model.safetensors");
    let good = fs::read(&path).unwrap();
    let (ok, refused) = race(&sb, 40, Duration::from_secs(8), move |i| {
        let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        if i % 2 == 0 {
            // Rewrite a region with other bytes, or cut the file short.
            let off = (i * 7919) % good.len() as u64;
            let evil: Vec<u8> = good.iter().take(4096).map(|b| !b).collect();
            f.write_all_at(&evil, off.min(good.len() as u64 - 4096))
                .unwrap();
            if i % 6 == 0 {
                f.set_len(1024).unwrap();
            }
        } else {
            f.set_len(good.len() as u64).unwrap();
            f.write_all_at(&good, 0).unwrap();
        }
        std::thread::sleep(Duration::from_micros(300));
    });
    assert!(ok + refused >= 10, "{ok} verified, {refused} refused");
}

#[test]
fn a_file_swapped_for_a_symlink_during_the_gate_never_gets_through() {
    let sb = signed_demo();
    let target = sb.path("model/config.json");
    let good = fs::read(&target).unwrap();
    let outside = sb.path("outside.json");
    fs::write(
        &outside,
        br#"{"evil": true, "same": "length", "pad": 123456789}"#,
    )
    .unwrap();
    let (tmp_link, tmp_file) = (sb.path("model/.swap-link"), sb.path("model/.swap-file"));
    let (ok, refused) = race(&sb, 40, Duration::from_secs(8), move |i| {
        if i % 2 == 0 {
            let _ = fs::remove_file(&tmp_link);
            std::os::unix::fs::symlink(&outside, &tmp_link).unwrap();
            fs::rename(&tmp_link, &target).unwrap();
        } else {
            fs::write(&tmp_file, &good).unwrap();
            fs::rename(&tmp_file, &target).unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
    });
    assert!(ok + refused >= 10, "{ok} verified, {refused} refused");
}

#[test]
fn the_whole_directory_swapped_during_the_gate_never_gets_through() {
    let sb = signed_demo();
    // An evil twin: same files, same sizes, one byte different.
    sb.copy("models/demo", "evil");
    flip_byte(
        &sb.path("evil/weights/model-00002-of-00002.safetensors"),
        77,
    );
    let (a, b) = (sb.path("model"), sb.path("evil"));
    let (ok, refused) = race(&sb, 40, Duration::from_secs(8), move |_| {
        rustix::fs::renameat_with(
            rustix::fs::CWD,
            &a,
            rustix::fs::CWD,
            &b,
            rustix::fs::RenameFlags::EXCHANGE,
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(1));
    });
    assert!(ok + refused >= 10, "{ok} verified, {refused} refused");
}
