//! Writer behaviour: epochs, group commit, recovery, rotation, key files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{Log, event, intact_records};
use modelseal_audit::{
    Checkpoint, Durability, Error, Record, TamperKind, UnsafeFile, Verdict, Writer, WriterKey,
    WriterOptions,
};
use modelseal_audit::{rotation_checkpoint_path, segment_path};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;

fn group(n: u32) -> WriterOptions {
    WriterOptions {
        durability: Durability::Group { max_records: n },
        rotate_bytes: None,
    }
}

fn epochs(log: &std::path::Path) -> Vec<u64> {
    fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| Record::parse(l.as_bytes()).unwrap().chain.epoch)
        .collect()
}

#[test]
fn epochs_advance_at_every_commit_and_writer_key_keeps_only_the_current_one() {
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    for i in 0..3 {
        assert_eq!(w.append(&event(i)).unwrap(), i);
    }
    assert_eq!(w.epoch(), 3);
    drop(w);
    assert_eq!(epochs(&l.log), vec![0, 1, 2]);
    let k = WriterKey::load(&l.writer_key).unwrap();
    assert_eq!((k.epoch(), k.state().next_seq), (3, 3));

    let mut w = l.writer(group(2));
    for i in 3..8 {
        w.append(&event(i)).unwrap();
    }
    w.sync().unwrap();
    drop(w);
    // Commits after records 4 and 6 (groups of 2) and at sync after 7.
    assert_eq!(epochs(&l.log), vec![0, 1, 2, 3, 3, 4, 4, 5]);
    assert_eq!(WriterKey::load(&l.writer_key).unwrap().epoch(), 6);
    assert_eq!(intact_records(&l.verify_main()), 8);
}

#[test]
fn batch_append_is_all_or_nothing() {
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    let mut bad = event(1);
    bad.action = "has space".into();
    let err = w.append_batch(&[event(0), bad]).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidEvent {
            field: "event.action",
            ..
        }
    ));
    assert_eq!(w.append_batch(&[event(0), event(1), event(2)]).unwrap(), 2);
    drop(w);
    assert_eq!(intact_records(&l.verify_main()), 3);
}

#[test]
fn torn_last_line_is_truncated_and_reported_without_breaking_the_chain() {
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    for i in 0..5 {
        w.append(&event(i)).unwrap();
    }
    drop(w);
    let good_len = fs::metadata(&l.log).unwrap().len();
    let torn = b"{\"@timestamp\":\"2025-01-01T00:00:00.000000Z\",\"ecs\":{\"vers";
    fs::OpenOptions::new()
        .append(true)
        .open(&l.log)
        .unwrap()
        .write_all(torn)
        .unwrap();
    // The verifier sees the torn line until a writer repairs it.
    match l.verify_main() {
        Verdict::Tampered(f) => {
            assert_eq!((f.kind, f.line), (TamperKind::IncompleteLine, 6));
        }
        v => panic!("{v:?}"),
    }
    let mut w = l.writer(WriterOptions::default());
    assert_eq!(w.recovery().torn_bytes, torn.len() as u64);
    assert_eq!(w.recovery().torn_offset, good_len);
    assert_eq!(w.append(&event(5)).unwrap(), 5);
    drop(w);
    assert_eq!(intact_records(&l.verify_main()), 6);
}

#[test]
fn uncommitted_records_are_rolled_forward_by_the_next_writer() {
    let l = Log::new();
    let mut w = l.writer(group(1000));
    for i in 0..10 {
        w.append(&event(i)).unwrap();
    }
    // Simulate a crash: no commit, no drop.
    std::mem::forget(w);
    assert_eq!(WriterKey::load(&l.writer_key).unwrap().state().next_seq, 0);
    let mut w = l.writer(WriterOptions::default());
    assert_eq!(w.recovery().rolled_forward, 10);
    assert_eq!(w.append(&event(10)).unwrap(), 10);
    drop(w);
    assert_eq!(intact_records(&l.verify_main()), 11);
}

#[test]
fn a_log_that_disagrees_with_the_key_state_is_refused() {
    // Committed records removed from the log.
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    for i in 0..5 {
        w.append(&event(i)).unwrap();
    }
    drop(w);
    let text = fs::read_to_string(&l.log).unwrap();
    let first3: String = text.lines().take(3).map(|s| format!("{s}\n")).collect();
    fs::write(&l.log, first3).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    assert!(matches!(err, Error::LogStateMismatch { .. }), "{err}");

    // An uncommitted record altered before the next writer rolls forward.
    let l = Log::new();
    let mut w = l.writer(group(1000));
    for i in 0..4 {
        w.append(&event(i)).unwrap();
    }
    std::mem::forget(w);
    let text = fs::read_to_string(&l.log)
        .unwrap()
        .replace("user-3", "user-9");
    fs::write(&l.log, text).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    match err {
        Error::LogStateMismatch { detail, .. } => {
            assert!(detail.contains("sequence 3"), "{detail}")
        }
        e => panic!("{e}"),
    }
}

#[test]
fn rotation_keeps_the_chain_across_files_and_writes_checkpoints() {
    let l = Log::new();
    let opts = WriterOptions {
        durability: Durability::Group { max_records: 3 },
        rotate_bytes: Some(2000),
    };
    let mut w = l.writer(opts);
    for i in 0..20 {
        w.append(&event(i)).unwrap();
    }
    drop(w);
    let mut files = Vec::new();
    let mut n = 1;
    while segment_path(&l.log, n).exists() {
        files.push(segment_path(&l.log, n));
        assert!(fs::metadata(segment_path(&l.log, n)).unwrap().len() <= 2000);
        let cp = Checkpoint::read(&rotation_checkpoint_path(&l.log, n)).unwrap();
        cp.authenticate(&l.key()).unwrap();
        assert_eq!(cp.file, format!("audit.log.{n:06}"));
        n += 1;
    }
    assert!(files.len() >= 3, "{files:?}");
    files.push(l.log.clone());
    assert_eq!(intact_records(&l.verify(&files, None)), 20);

    // A rotated file deleted from the middle: the gap shows in the next file.
    let mut without = files.clone();
    without.remove(1);
    match l.verify(&without, None) {
        Verdict::Tampered(f) => {
            assert_eq!(f.kind, TamperKind::Deleted);
            assert_eq!((f.file.clone(), f.line), (files[2].clone(), 1));
        }
        v => panic!("{v:?}"),
    }
    // The newest files deleted: the last rotation checkpoint shows it.
    let last_cp = rotation_checkpoint_path(&l.log, (files.len() - 1) as u32);
    match l.verify(&files[..1], Some(&last_cp)) {
        Verdict::Tampered(f) => {
            assert_eq!(f.kind, TamperKind::Truncated);
            assert!(f.detail.contains("not given"), "{}", f.detail);
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn an_interrupted_rotation_is_completed_on_open() {
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    for i in 0..3 {
        w.append(&event(i)).unwrap();
    }
    drop(w);
    let seg = WriterKey::load(&l.writer_key).unwrap().state().segment;
    // Crash right after the rename of the active file.
    fs::rename(&l.log, segment_path(&l.log, seg)).unwrap();
    let mut w = l.writer(WriterOptions::default());
    assert!(w.recovery().rotation_completed);
    w.append(&event(3)).unwrap();
    drop(w);
    let files = vec![segment_path(&l.log, seg), l.log.clone()];
    assert_eq!(intact_records(&l.verify(&files, None)), 4);
    assert_eq!(
        WriterKey::load(&l.writer_key).unwrap().state().segment,
        seg + 1
    );
}

#[test]
fn a_deleted_active_log_is_refused_not_recreated() {
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    w.append(&event(0)).unwrap();
    drop(w);
    fs::remove_file(&l.log).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    assert!(matches!(err, Error::LogStateMismatch { .. }), "{err}");
}

#[test]
fn loose_key_permissions_are_refused_by_the_writer() {
    let l = Log::new();
    fs::set_permissions(&l.writer_key, fs::Permissions::from_mode(0o644)).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    assert!(matches!(err, Error::KeyFilePermissions { mode: 0o644, .. }));
}

#[test]
fn another_processes_commit_is_noticed_before_appending() {
    // Two writers on one log in one process behave like two processes: each
    // re-reads the key state under the lock when the other changed it.
    let l = Log::new();
    let mut a = l.writer(group(100));
    let mut b = l.writer(WriterOptions::default());
    a.append(&event(0)).unwrap();
    b.append(&event(1)).unwrap(); // rolls a's record forward, commits
    a.append(&event(2)).unwrap();
    a.sync().unwrap();
    b.append(&event(3)).unwrap();
    drop(a);
    drop(b);
    assert_eq!(intact_records(&l.verify_main()), 4);
}

#[test]
fn a_symlinked_log_or_lock_is_refused_and_nothing_is_created_or_cut() {
    // The log is a link to another file with a "torn tail": refused, the
    // target keeps every byte.
    let l = Log::new();
    let victim = l.dir.path().join("victim.txt");
    fs::write(&victim, b"line one\nno newline at the end").unwrap();
    std::os::unix::fs::symlink(&victim, &l.log).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::UnsafeLogFile {
                detail: UnsafeFile::Symlink,
                ..
            }
        ) && err.to_string().contains("symbolic link"),
        "{err}"
    );
    assert_eq!(
        fs::read(&victim).unwrap(),
        b"line one\nno newline at the end"
    );

    // A dangling link: its target is not created.
    let l = Log::new();
    let target = l.dir.path().join("created-through-link");
    std::os::unix::fs::symlink(&target, &l.log).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsafeLogFile {
                detail: UnsafeFile::Symlink,
                ..
            }
        ),
        "{err}"
    );
    assert!(fs::symlink_metadata(&target).is_err(), "target was created");

    // A linked LOG.lock: its target is not created either.
    let l = Log::new();
    let target = l.dir.path().join("lock-target");
    let lock = modelseal_audit::lock_path(&l.log);
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    assert!(matches!(err, Error::UnsafeLogFile { .. }), "{err}");
    assert!(
        fs::symlink_metadata(&target).is_err(),
        "lock target was created"
    );
    assert!(fs::symlink_metadata(&l.log).is_err(), "log created anyway");

    // A hard link to another file in place of the log.
    let l = Log::new();
    let other = l.dir.path().join("other.txt");
    fs::write(&other, b"x\ny").unwrap();
    fs::hard_link(&other, &l.log).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsafeLogFile {
                detail: UnsafeFile::HardLinks(2),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fs::read(&other).unwrap(), b"x\ny");
}

#[test]
fn a_foreign_log_is_refused_before_its_torn_tail_is_cut() {
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    for i in 0..3 {
        w.append(&event(i)).unwrap();
    }
    drop(w);
    // Replaced by a file that is not this chain and does not end in '\n'.
    let foreign = b"{\"not\":\"a record\"}\nsome bytes without a newline".to_vec();
    fs::remove_file(&l.log).unwrap();
    fs::write(&l.log, &foreign).unwrap();
    let err = Writer::open(&l.log, &l.writer_key, WriterOptions::default()).unwrap_err();
    assert!(matches!(err, Error::LogStateMismatch { .. }), "{err}");
    assert_eq!(fs::read(&l.log).unwrap(), foreign, "the file was changed");

    // The genuine log with a torn tail is still repaired.
    let l = Log::new();
    let mut w = l.writer(WriterOptions::default());
    w.append(&event(0)).unwrap();
    drop(w);
    fs::OpenOptions::new()
        .append(true)
        .open(&l.log)
        .unwrap()
        .write_all(b"{\"torn")
        .unwrap();
    let w = l.writer(WriterOptions::default());
    assert_eq!(w.recovery().torn_bytes, 6);
}
