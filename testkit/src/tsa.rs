//! A real RFC 3161 TSA for tests: `openssl ts -reply` behind
//! `fixtures/tsa/serve.py` on 127.0.0.1, started by the test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::fixture;

/// A running test TSA; killed on drop.
#[derive(Debug)]
pub struct Tsa {
    child: Child,
    /// Its URL, `http://127.0.0.1:PORT/` (any path is served).
    pub url: String,
}

impl Tsa {
    /// Start one; `args` go to serve.py (e.g. `["--signer", "expired"]`).
    /// Panics, naming the installer, when python3 or openssl is missing.
    pub fn start(args: &[&str]) -> Tsa {
        for (tool, arg) in [("python3", "--version"), ("openssl", "version")] {
            let ok = Command::new(tool)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                ok,
                "{tool} is required for the TSA tests (.ci/deps/tsa.sh installs it)"
            );
        }
        let mut child = Command::new("python3")
            .arg(fixture("tsa/serve.py"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start fixtures/tsa/serve.py"); // ok: test setup, a panic fails the test
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout"); // ok: test setup, a panic fails the test
        BufReader::new(stdout).read_line(&mut line).unwrap(); // ok: test setup, a panic fails the test
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .expect("serve.py prints PORT n") // ok: test setup, a panic fails the test
            .to_owned();
        Tsa {
            child,
            url: format!("http://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
