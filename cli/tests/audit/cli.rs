//! `modelseal audit ...` end to end: logs made by the real binary, tampered
//! in every way the verifier names, with the exact file:line asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_modelseal"));
    c.env_remove("MODELSEAL_AUDIT_LOG")
        .env_remove("MODELSEAL_AUDIT_KEY");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Fx {
    dir: tempfile::TempDir,
    log: PathBuf,
    wkey: PathBuf,
    vkey: PathBuf,
}

impl Fx {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let o = run(&["audit", "keygen", "--out", keys.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        Fx {
            log: dir.path().join("audit.log"),
            wkey: keys.join("writer.key"),
            vkey: keys.join("verifier.key"),
            dir,
        }
    }

    fn p(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    fn append(&self, i: usize, extra: &[&str]) -> Output {
        let user = format!("user-{i}");
        let ip = format!("192.0.2.{}", i % 250 + 1);
        let result = if i.is_multiple_of(3) {
            "failure"
        } else {
            "success"
        };
        let mut args = vec![
            "audit",
            "append",
            "--log",
            Self::p(&self.log),
            "--key",
            Self::p(&self.wkey),
            "--user",
            &user,
            "--action",
            "model.verify",
            "--ip",
            &ip,
            "--result",
            result,
            "--resource",
            "/models/llama",
            "--reason",
            "checked",
        ];
        args.extend_from_slice(extra);
        run(&args)
    }

    fn with_records(n: usize) -> Self {
        let fx = Fx::new();
        for i in 0..n {
            let o = fx.append(i, &[]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
        }
        fx
    }

    fn lines(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn write_lines(&self, lines: &[String]) {
        let mut s = lines.join("\n");
        s.push('\n');
        fs::write(&self.log, s).unwrap();
    }

    fn checkpoint(&self, name: &str) -> PathBuf {
        let cp = self.dir.path().join(name);
        let o = run(&[
            "audit",
            "checkpoint",
            "--log",
            Self::p(&self.log),
            "--key",
            Self::p(&self.wkey),
            "--out",
            Self::p(&cp),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        cp
    }

    fn verify(&self, logs: &[&Path], key: &Path, cp: Option<&Path>) -> (Output, Value) {
        let mut args = vec!["audit".to_string(), "verify".into()];
        for l in logs {
            args.push("--log".into());
            args.push(Self::p(l).into());
        }
        args.push("--key".into());
        args.push(Self::p(key).into());
        if let Some(cp) = cp {
            args.push("--checkpoint".into());
            args.push(Self::p(cp).into());
        }
        let plain = bin().args(&args).output().unwrap();
        args.push("--json".into());
        let json = bin().args(&args).output().unwrap();
        assert_eq!(code(&plain), code(&json));
        let v: Value = serde_json::from_slice(&json.stdout).unwrap();
        (plain, v)
    }

    /// Assert the verdict is `kind` at `file:line`, on stderr and in --json.
    fn expect(&self, logs: &[&Path], cp: Option<&Path>, kind: &str, file: &Path, line: u64) {
        let (o, v) = self.verify(logs, &self.vkey, cp);
        let err = stderr(&o);
        assert_eq!(code(&o), 1, "{err}");
        let prefix = format!(
            "modelseal: tampered: {}:{line}: {}: ",
            file.display(),
            kind.replace('_', " ")
        );
        assert!(err.starts_with(&prefix), "expected {prefix:?}, got {err:?}");
        assert_eq!(v["verdict"], "rejected");
        assert_eq!(v["error"]["kind"], kind);
        let t = &v["tampered"];
        assert_eq!(t["kind"], kind);
        assert_eq!(t["file"], Self::p(file));
        assert_eq!(t["line"], line);
        assert!(!t["reason"].as_str().unwrap().is_empty());
    }
}

#[test]
fn keygen_writes_private_keys_and_refuses_to_overwrite() {
    let fx = Fx::new();
    for k in [&fx.wkey, &fx.vkey] {
        assert_eq!(fs::metadata(k).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let o = run(&[
        "audit",
        "keygen",
        "--out",
        fx.wkey.parent().unwrap().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
}

#[test]
fn intact_log_verifies_with_json_summary() {
    let fx = Fx::with_records(4);
    let cp = fx.checkpoint("cp.json");
    let (o, v) = fx.verify(&[&fx.log], &fx.vkey, Some(&cp));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "intact: 4 records in 1 file(s); checkpoint of 4 records holds\n"
    );
    assert_eq!(v["verdict"], "ok");
    assert_eq!(v["command"], "audit verify");
    assert_eq!(v["records"], 4);
    assert_eq!(v["last_sequence"], 3);
    assert_eq!(v["checkpoint_records"], 4);
    let first: Value = serde_json::from_str(&fx.lines()[0]).unwrap();
    assert_eq!(first["user"]["id"], "user-0");
    assert_eq!(first["event"]["outcome"], "failure");
    assert_eq!(first["source"]["ip"], "192.0.2.1");
    assert_eq!(first["file"]["path"], "/models/llama");
}

#[test]
fn modified_field() {
    let fx = Fx::with_records(6);
    let mut l = fx.lines();
    l[2] = l[2].replace("\"user-2\"", "\"user-X\"");
    fx.write_lines(&l);
    fx.expect(&[&fx.log], None, "modified_record", &fx.log, 3);
}

#[test]
fn deleted_record() {
    let fx = Fx::with_records(6);
    let mut l = fx.lines();
    l.remove(2);
    fx.write_lines(&l);
    fx.expect(&[&fx.log], None, "deleted_records", &fx.log, 3);
}

#[test]
fn reordered_records() {
    let fx = Fx::with_records(6);
    let mut l = fx.lines();
    l.swap(2, 3);
    fx.write_lines(&l);
    fx.expect(&[&fx.log], None, "reordered_records", &fx.log, 3);
}

#[test]
fn inserted_record() {
    let fx = Fx::with_records(6);
    let mut l = fx.lines();
    let forged = l[2].replace("\"user-2\"", "\"mallory\"");
    l.insert(2, forged);
    fx.write_lines(&l);
    fx.expect(&[&fx.log], None, "inserted_record", &fx.log, 3);
}

#[test]
fn replayed_record() {
    let fx = Fx::with_records(6);
    let mut l = fx.lines();
    let copy = l[1].clone();
    l.insert(4, copy);
    fx.write_lines(&l);
    fx.expect(&[&fx.log], None, "replayed_record", &fx.log, 5);
}

#[test]
fn wrong_key() {
    let fx = Fx::with_records(3);
    let other = Fx::new();
    let (o, v) = fx.verify(&[&fx.log], &other.vkey, None);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).starts_with(&format!(
            "modelseal: tampered: {}:1: wrong key: ",
            fx.log.display()
        )),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        (
            v["tampered"]["kind"].as_str(),
            v["tampered"]["line"].as_u64()
        ),
        (Some("wrong_key"), Some(1))
    );
}

#[test]
fn malformed_and_incomplete_lines() {
    let fx = Fx::with_records(4);
    let orig = fx.lines();
    let mut l = orig.clone();
    l[1] = "not a record".into();
    fx.write_lines(&l);
    fx.expect(&[&fx.log], None, "malformed_line", &fx.log, 2);

    fx.write_lines(&orig);
    let mut s = fs::read_to_string(&fx.log).unwrap();
    s.push_str("{\"@timestamp\":\"2025");
    fs::write(&fx.log, s).unwrap();
    fx.expect(&[&fx.log], None, "incomplete_line", &fx.log, 5);
    // The next append repairs the torn tail, says so, and keeps the chain.
    let o = fx.append(4, &[]);
    assert_eq!(code(&o), 0);
    assert!(
        stderr(&o).contains("removed a torn last line (19 bytes"),
        "{}",
        stderr(&o)
    );
    let (o, v) = fx.verify(&[&fx.log], &fx.vkey, None);
    assert_eq!((code(&o), v["records"].as_u64()), (0, Some(5)));
}

#[test]
fn truncated_tail_against_checkpoint() {
    let fx = Fx::with_records(6);
    let cp = fx.checkpoint("cp.json");
    let mut l = fx.lines();
    l.truncate(4);
    fx.write_lines(&l);
    // Without the checkpoint a clean cut is undetectable ...
    let (o, _) = fx.verify(&[&fx.log], &fx.vkey, None);
    assert_eq!(code(&o), 0);
    // ... with it, it is reported just past the last surviving line.
    fx.expect(&[&fx.log], Some(&cp), "truncated_tail", &fx.log, 5);
}

#[test]
fn rotated_files_deleted() {
    let fx = Fx::new();
    for i in 0..9 {
        let o = fx.append(i, &["--rotate-bytes", "1400"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let seg = |n: u32| PathBuf::from(format!("{}.{n:06}", fx.log.display()));
    assert!(
        seg(1).exists() && seg(2).exists(),
        "rotation did not happen"
    );
    let mut files: Vec<PathBuf> = (1..).map(seg).take_while(|p| p.exists()).collect();
    files.push(fx.log.clone());
    let all: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let cp = fx.checkpoint("cp.json");
    let (o, v) = fx.verify(&all, &fx.vkey, Some(&cp));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(v["records"], 9);

    // A middle file deleted: the gap shows at the first line of the next.
    let mut gap = all.clone();
    gap.remove(1);
    fx.expect(&gap, None, "deleted_records", all[2], 1);

    // The newest file deleted: only the checkpoint can tell.
    let older = &all[..all.len() - 1];
    let last_lines = fs::read_to_string(older[older.len() - 1])
        .unwrap()
        .lines()
        .count() as u64;
    fx.expect(
        older,
        Some(&cp),
        "truncated_tail",
        older[older.len() - 1],
        last_lines + 1,
    );
    let (_, v) = fx.verify(older, &fx.vkey, Some(&cp));
    assert!(
        v["tampered"]["reason"]
            .as_str()
            .unwrap()
            .contains("file audit.log, which was not given"),
        "{v}"
    );
}

#[test]
fn log_rewritten_after_checkpoint_with_a_restored_old_key() {
    let fx = Fx::with_records(4);
    let backup = fx.dir.path().join("writer.key.stolen");
    fs::copy(&fx.wkey, &backup).unwrap();
    fx.append(4, &[]);
    fx.append(5, &[]);
    let cp = fx.checkpoint("cp.json");
    // The attacker cuts the log back, restores the old key, writes new history.
    let mut l = fx.lines();
    l.truncate(4);
    fx.write_lines(&l);
    fs::copy(&backup, &fx.wkey).unwrap();
    let o = fx.append(40, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    fx.append(50, &[]);
    let (o, _) = fx.verify(&[&fx.log], &fx.vkey, None);
    assert_eq!(
        code(&o),
        0,
        "a consistent rewrite needs the checkpoint to show"
    );
    fx.expect(&[&fx.log], Some(&cp), "checkpoint_mismatch", &fx.log, 6);
}

#[test]
fn forged_checkpoint_is_rejected() {
    let fx = Fx::with_records(3);
    let cp = fx.checkpoint("cp.json");
    let orig = fs::read_to_string(&cp).unwrap();
    // Back-dated: well formed, but the MAC no longer matches.
    let i = orig.find("\"@timestamp\":\"").unwrap() + 14;
    let mut text = orig.clone();
    text.replace_range(i..i + 4, "1999");
    fs::write(&cp, &text).unwrap();
    fx.expect(&[&fx.log], Some(&cp), "bad_checkpoint", &cp, 1);
    // Counts that cannot be right are malformed input (exit 2).
    fs::write(&cp, orig.replace("\"records\":3", "\"records\":1")).unwrap();
    let (o, v) = fx.verify(&[&fx.log], &fx.vkey, Some(&cp));
    assert_eq!(
        (code(&o), v["error"]["kind"].as_str()),
        (2, Some("checkpoint_format"))
    );
}

#[test]
fn unreadable_input_and_bad_usage_exit_2() {
    let fx = Fx::with_records(1);
    let missing = fx.dir.path().join("nope.log");
    let (o, v) = fx.verify(&[&missing], &fx.vkey, None);
    assert_eq!(code(&o), 2);
    assert_eq!(
        (v["verdict"].as_str(), v["error"]["kind"].as_str()),
        (Some("error"), Some("io"))
    );

    fs::set_permissions(&fx.vkey, fs::Permissions::from_mode(0o644)).unwrap();
    let (o, v) = fx.verify(&[&fx.log], &fx.vkey, None);
    assert_eq!(code(&o), 2);
    assert_eq!(v["error"]["kind"], "key_permissions");
    assert!(stderr(&o).contains("chmod 600"));

    let o = run(&["audit", "verify", "--log", Fx::p(&fx.log)]);
    assert_eq!(code(&o), 2, "missing --key is a usage error");
    let o = fx.append(1, &["--ip", "not-an-ip"]);
    assert_eq!(code(&o), 2);
    let mut bad = vec!["--result"];
    bad.push("maybe");
    assert_eq!(code(&fx.append(1, &bad)), 2);
}

#[test]
fn concurrent_cli_appends_form_one_chain() {
    let fx = Fx::new();
    let procs = 4;
    let each = 20;
    let handles: Vec<_> = (0..procs)
        .map(|p| {
            let (log, key) = (fx.log.clone(), fx.wkey.clone());
            std::thread::spawn(move || {
                for i in 0..each {
                    let o = bin()
                        .args(["audit", "append", "--log", log.to_str().unwrap()])
                        .args(["--key", key.to_str().unwrap(), "--user", &format!("p{p}")])
                        .args(["--action", "model.gate", "--ip", "127.0.0.1"])
                        .args(["--result", "success", "--reason", &format!("#{i}")])
                        .output()
                        .unwrap();
                    assert_eq!(
                        o.status.code(),
                        Some(0),
                        "{}",
                        String::from_utf8_lossy(&o.stderr)
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let (o, v) = fx.verify(&[&fx.log], &fx.vkey, None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(v["records"], procs * each);
}
