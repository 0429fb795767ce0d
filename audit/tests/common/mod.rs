//! Helpers shared by the integration tests.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use modelseal_audit::{
    Event, FileHash, Outcome, Verdict, VerifierKey, Writer, WriterOptions, keygen, verify_files,
};
use std::path::{Path, PathBuf};

pub(crate) struct Log {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) log: PathBuf,
    pub(crate) writer_key: PathBuf,
    pub(crate) verifier_key: PathBuf,
}

impl Log {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        keygen(&dir.path().join("keys")).unwrap();
        Log {
            log: dir.path().join("audit.log"),
            writer_key: dir.path().join("keys/writer.key"),
            verifier_key: dir.path().join("keys/verifier.key"),
            dir,
        }
    }

    pub(crate) fn writer(&self, opts: WriterOptions) -> Writer {
        Writer::open(&self.log, &self.writer_key, opts).unwrap()
    }

    pub(crate) fn key(&self) -> VerifierKey {
        VerifierKey::load(&self.verifier_key).unwrap()
    }

    pub(crate) fn verify(&self, files: &[PathBuf], checkpoint: Option<&Path>) -> Verdict {
        verify_files(files, &self.key(), checkpoint).unwrap()
    }

    pub(crate) fn verify_main(&self) -> Verdict {
        self.verify(std::slice::from_ref(&self.log), None)
    }
}

pub(crate) fn event(i: u64) -> Event {
    Event {
        timestamp: time::OffsetDateTime::UNIX_EPOCH
            + time::Duration::seconds(1_700_000_000)
            + time::Duration::microseconds(i as i64),
        action: "model.verify".into(),
        category: Vec::new(),
        types: Vec::new(),
        user_name: None,
        details: modelseal_audit::Details::default(),
        outcome: if i.is_multiple_of(3) {
            Outcome::Failure
        } else {
            Outcome::Success
        },
        reason: i.is_multiple_of(3).then(|| format!("digest mismatch #{i}")),
        user_id: format!("user-{}", i % 5),
        source_ip: "192.0.2.7".parse().unwrap(),
        host_name: "test-host".into(),
        file_path: Some(format!("/models/m{}", i % 4)),
        file_hash: Some(FileHash::parse(&format!("sha256:{}", "cd".repeat(32))).unwrap()),
    }
}

pub(crate) fn intact_records(v: &Verdict) -> u64 {
    match v {
        Verdict::Intact(s) => s.records,
        Verdict::Tampered(f) => panic!("expected intact, got {f}"),
    }
}
