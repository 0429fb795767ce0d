//! Bounded allocation: a hostile bundle just under the 64 MiB size limit
//! must not cost a multiple of its size in memory. The peak resident size
//! of `modelseal verify` (`VmHWM`, sampled from `/proc` while it runs) is
//! checked against the input's size.
//!
//! Before the strict JSON pass hashed keys and the bundle parser bounded
//! transparency-log entries, 60 MiB of `[0,0,...]` entries peaked
//! at 1 GiB and 60 MiB of distinct keys at 735 MiB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{Sandbox, fixture};

const HEAD: &str = r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":""},"tlogEntries":["#;
const TAIL: &str = r#"]},"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AAAA","keyid":""}]}}"#;

/// Peak resident set of `modelseal ARGS` in kB, and its exit code.
fn peak_rss_kb(sb: &Sandbox, args: &[&str]) -> (u64, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_modelseal"))
        .args(args)
        .current_dir(sb.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (peak, status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn hostile_bundles_cost_memory_proportional_to_their_size() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let size = 24 << 20;
    let cases = [
        // Entries are read (and verified), so a malformed one is an error.
        ("tlog entries", 2, {
            let n = (size - HEAD.len() - TAIL.len()) / 2;
            format!("{HEAD}{}0{TAIL}", "0,".repeat(n - 1))
        }),
        ("distinct keys", 2, {
            let n = (size - HEAD.len() - TAIL.len() - 2) / 13;
            let keys: Vec<String> = (0..n).map(|i| format!("\"k{i:07}\":0")).collect();
            format!("{HEAD}{{{}}}{TAIL}", keys.join(","))
        }),
    ];
    let public = fixture("keys/ed25519.pub.pem");
    for (what, expected_code, bundle) in cases {
        assert!(bundle.len() <= size, "{what}: {} bytes", bundle.len());
        std::fs::write(sb.path("hostile.sig"), &bundle).unwrap();
        let (peak_kb, code) = peak_rss_kb(
            &sb,
            &[
                "verify",
                "model",
                "--signature",
                "hostile.sig",
                "--public-key",
                public.to_str().unwrap(),
            ],
        );
        assert_eq!(code, expected_code, "{what}: the bundle is refused");
        let limit_kb = (4 * bundle.len() as u64 + (32 << 20)) / 1024;
        eprintln!(
            "{what}: {} MiB bundle, peak RSS {} MiB (limit {} MiB)",
            bundle.len() >> 20,
            peak_kb >> 10,
            limit_kb >> 10
        );
        assert!(peak_kb > 0, "{what}: no RSS sample");
        assert!(
            peak_kb <= limit_kb,
            "{what}: peak RSS {peak_kb} kB for a {} byte bundle",
            bundle.len()
        );
    }
}
