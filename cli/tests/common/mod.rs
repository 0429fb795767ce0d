//! Shared helpers for CLI tests: run the real `modelseal` binary in a
//! temporary directory against the committed fixtures.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::panic
)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[allow(unused_imports)] // each test binary uses some
pub use modelseal_testkit::{copy_tree, fixture, fixtures, flip_byte};

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Assert the exit code, showing the output on failure.
    #[track_caller]
    pub fn code(&self, want: i32) -> &Run {
        assert_eq!(
            self.code, want,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Assert stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Assert stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    /// Parse stdout as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Assert no panic message reached stderr.
    #[track_caller]
    pub fn no_panic(&self) -> &Run {
        assert!(!self.stderr.contains("panicked"), "panic:\n{}", self.stderr);
        self
    }
}

/// A temporary working directory for one test.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A path inside the sandbox.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Copy a fixtures directory or file into the sandbox under `to`.
    pub fn copy(&self, fixture_rel: &str, to: &str) -> PathBuf {
        let dest = self.path(to);
        copy_tree(&fixture(fixture_rel), &dest);
        dest
    }

    /// Copy a private key fixture with mode 0600 (git checks keys out 0644,
    /// which modelseal refuses).
    pub fn key(&self, fixture_rel: &str) -> PathBuf {
        let name = fixture_rel.replace('/', "_");
        let dest = self.path(&name);
        fs::copy(fixture(fixture_rel), &dest).unwrap();
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o600)).unwrap();
        dest
    }

    /// Run `modelseal ARGS` in the sandbox.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.run_env(args, &[])
    }

    /// Run with extra environment variables.
    pub fn run_env<I, S>(&self, args: I, env: &[(&str, &str)]) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_modelseal"));
        cmd.args(args).current_dir(self.dir.path());
        for var in [
            "MODELSEAL_KEY_PASSPHRASE",
            "MODELSEAL_AUDIT_LOG",
            "MODELSEAL_AUDIT_KEY",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap())
    }
}

/// Replace the material of the bundle at `bundle` by the certificates of
/// the PEM files `pems` (leaf first). `sign` refuses certificates `verify`
/// would refuse; tests of those refusals make the bundle with the key
/// alone and put the certificates in afterwards (the signature does not
/// cover the material).
pub fn attach_chain(bundle: &Path, pems: &[PathBuf]) {
    let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(bundle).unwrap()).unwrap();
    let mut certs = Vec::new();
    for pem in pems {
        let text = fs::read_to_string(pem).unwrap();
        for block in text.split("-----END CERTIFICATE-----") {
            if let Some(b64) = block.split("-----BEGIN CERTIFICATE-----").nth(1) {
                let raw: String = b64.split_whitespace().collect();
                certs.push(serde_json::json!({ "rawBytes": raw }));
            }
        }
    }
    let vm = doc["verificationMaterial"].as_object_mut().unwrap();
    vm.remove("publicKey");
    vm.insert(
        "x509CertificateChain".into(),
        serde_json::json!({ "certificates": certs }),
    );
    fs::write(bundle, serde_json::to_vec(&doc).unwrap()).unwrap();
}
