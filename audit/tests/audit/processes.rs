//! Several processes appending to one log, and `kill -9` during appends.
//!
//! The children are this test binary re-executed to run the ignored `child`
//! test with `MODELSEAL_AUDIT_CHILD` describing their work.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{Log, event, intact_records};
use modelseal_audit::{Durability, Writer, WriterOptions};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const CHILD_ENV: &str = "MODELSEAL_AUDIT_CHILD";

fn opts(group: u32) -> WriterOptions {
    WriterOptions {
        durability: if group <= 1 {
            Durability::EveryRecord
        } else {
            Durability::Group { max_records: group }
        },
        rotate_bytes: None,
    }
}

/// Child work: `append LOG KEY N GROUP NAME` or `forever LOG KEY GROUP`.
#[test]
#[ignore = "child process of the other tests, started with --ignored"]
fn child() {
    let spec = std::env::var(CHILD_ENV).expect("MODELSEAL_AUDIT_CHILD not set");
    let a: Vec<&str> = spec.split('\t').collect();
    let (log, key) = (Path::new(a[1]), Path::new(a[2]));
    match a[0] {
        "append" => {
            let n: u64 = a[3].parse().unwrap();
            let mut w = Writer::open(log, key, opts(a[4].parse().unwrap())).unwrap();
            for i in 0..n {
                let mut e = event(i);
                e.user_id = a[5].to_string();
                w.append(&e).unwrap();
            }
        }
        "forever" => {
            let mut w = Writer::open(log, key, opts(a[3].parse().unwrap())).unwrap();
            let mut out = std::io::stdout().lock();
            for i in 0.. {
                let seq = w.append(&event(i)).unwrap();
                writeln!(out, "SEQ {seq}").unwrap();
                out.flush().unwrap();
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn spawn(spec: &[&str], stdout: Stdio) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "processes::child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec.join("\t"))
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[test]
fn concurrent_processes_append_one_intact_chain() {
    let l = Log::new();
    let (log, key) = (l.log.to_str().unwrap(), l.writer_key.to_str().unwrap());
    // (records, group size): one child fsyncs every record.
    let plan = [(300u64, 1u32), (1500, 16), (1500, 64), (1500, 256)];
    let children: Vec<Child> = plan
        .iter()
        .enumerate()
        .map(|(i, (n, g))| {
            spawn(
                &[
                    "append",
                    log,
                    key,
                    &n.to_string(),
                    &g.to_string(),
                    &format!("proc-{i}"),
                ],
                Stdio::null(),
            )
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let total: u64 = plan.iter().map(|p| p.0).sum();
    assert_eq!(intact_records(&l.verify_main()), total);
    let mut per_user: HashMap<String, u64> = HashMap::new();
    let mut switches = 0;
    let mut prev = String::new();
    for line in std::fs::read_to_string(&l.log).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let u = v["user"]["id"].as_str().unwrap().to_string();
        if u != prev {
            switches += 1;
        }
        prev.clone_from(&u);
        *per_user.entry(u).or_default() += 1;
    }
    for (i, (n, _)) in plan.iter().enumerate() {
        assert_eq!(per_user[&format!("proc-{i}")], *n);
    }
    // The writers really interleaved.
    assert!(switches > plan.len(), "only {switches} runs");
}

#[test]
fn kill_9_during_appends_loses_no_returned_record() {
    let l = Log::new();
    let (log, key) = (l.log.to_str().unwrap(), l.writer_key.to_str().unwrap());
    let mut expected = 0u64;
    for round in 0..3 {
        // A huge group: nothing is committed before the kill.
        let mut c = spawn(&["forever", log, key, "1000000"], Stdio::piped());
        let mut reader = BufReader::new(c.stdout.take().unwrap());
        let mut last = None;
        let mut line = String::new();
        let mut seen = 0;
        while seen < 200 + round * 150 {
            line.clear();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "child ended early"
            );
            // Lines other than ours come from the test harness.
            if let Some(seq) = line.trim().strip_prefix("SEQ ") {
                last = Some(seq.parse::<u64>().unwrap());
                seen += 1;
            }
        }
        c.kill().unwrap(); // SIGKILL
        c.wait().unwrap();
        let last = last.unwrap();
        assert!(last >= expected);
        // The next writer recovers: it adopts everything the killed one wrote.
        let w = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap();
        assert!(w.recovery().rolled_forward > 0);
        assert!(
            w.next_sequence() > last,
            "record {last} was returned but lost"
        );
        expected = w.next_sequence();
        drop(w);
        assert_eq!(intact_records(&l.verify_main()), expected);
    }
}
