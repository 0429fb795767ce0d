//! Append and verify throughput, in records per second.
//!
//! `cargo bench -p modelseal-audit --bench throughput` (set
//! `MODELSEAL_BENCH_DIR` to measure on another file system; `MODELSEAL_BENCH_N`
//! scales the group-commit and verify runs). Not a test: it only prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelseal_audit::{
    Durability, Event, FileHash, Outcome, Verdict, VerifierKey, Writer, WriterOptions, keygen,
    verify_files,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn event(i: u64) -> Event {
    Event {
        timestamp: time::OffsetDateTime::UNIX_EPOCH + time::Duration::microseconds(i as i64),
        action: "model.verify".into(),
        category: Vec::new(),
        types: Vec::new(),
        user_name: None,
        details: modelseal_audit::Details::default(),
        outcome: if i.is_multiple_of(7) {
            Outcome::Failure
        } else {
            Outcome::Success
        },
        reason: i
            .is_multiple_of(7)
            .then(|| "digest mismatch for weights.safetensors".to_string()),
        user_id: format!("user-{}", i % 13),
        source_ip: "10.20.30.40".parse().unwrap(),
        host_name: "build-agent-07".into(),
        file_path: Some("/srv/models/llama-3-8b".into()),
        file_hash: Some(FileHash::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap()),
    }
}

fn fresh(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let kd = dir.join(format!("{name}-keys"));
    keygen(&kd).unwrap();
    (
        dir.join(format!("{name}.log")),
        kd.join("writer.key"),
        kd.join("verifier.key"),
    )
}

fn rate(n: u64, start: Instant) -> f64 {
    n as f64 / start.elapsed().as_secs_f64()
}

fn append_run(
    dir: &Path,
    name: &str,
    n: u64,
    opts: WriterOptions,
    batch: usize,
) -> (PathBuf, PathBuf, f64) {
    let (log, wk, vk) = fresh(dir, name);
    let events: Vec<Event> = (0..batch as u64).map(event).collect();
    let mut w = Writer::open(&log, &wk, opts).unwrap();
    let start = Instant::now();
    let mut done = 0;
    while done < n {
        if batch == 1 {
            w.append(&events[0]).unwrap();
        } else {
            w.append_batch(&events).unwrap();
        }
        done += batch as u64;
    }
    w.sync().unwrap();
    let r = rate(done, start);
    drop(w);
    (log, vk, r)
}

fn verify_run(log: &Path, vk: &Path) -> (u64, f64) {
    let key = VerifierKey::load(vk).unwrap();
    let start = Instant::now();
    let v = verify_files(&[log.to_path_buf()], &key, None).unwrap();
    let Verdict::Intact(s) = v else {
        panic!("benchmark log does not verify: {v:?}")
    };
    (s.records, rate(s.records, start))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let base = std::env::var_os("MODELSEAL_BENCH_DIR").map(PathBuf::from);
    let tmp = match &base {
        Some(b) => tempfile::tempdir_in(b).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let dir = tmp.path();
    let n: u64 = std::env::var("MODELSEAL_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    println!(
        "modelseal-audit throughput ({} cpus)",
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );

    let (_, _, r) = append_run(dir, "every", 500, WriterOptions::default(), 1);
    println!("append, fsync per record:                  {r:>12.0} records/s (500 records)");

    let group = WriterOptions {
        durability: Durability::Group { max_records: 1024 },
        rotate_bytes: None,
    };
    let (glog, gvk, r) = append_run(dir, "group", n, group, 1);
    println!("append, group commit (1024), one at a time: {r:>12.0} records/s ({n} records)");

    let (_, _, r) = append_run(dir, "batch", n, group, 256);
    println!("append, group commit, batches of 256:      {r:>12.0} records/s ({n} records)");

    let bytes = std::fs::metadata(&glog).unwrap().len();
    let (records, r) = verify_run(&glog, &gvk);
    println!(
        "verify (group-commit log, {:.0} MiB):       {r:>12.0} records/s ({records} records)",
        bytes as f64 / 1048576.0
    );
}
