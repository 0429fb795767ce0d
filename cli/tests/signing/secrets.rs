//! No secret in any error message, `Debug` output, `--json` document or
//! audit record: private keys (as PEM text, as DER, as hex) and passphrases
//! must never be echoed, whatever is wrong with the key file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::{Sandbox, fixture};
use modelseal_signer::{Error, KeyError, KeyFileError, RsaScheme, SigningKey, load_key_file};
use proptest::prelude::*;

const PASSPHRASE: &str = "modelseal-test-passphrase";

/// (file, encrypted)
const KEYS: &[(&str, bool)] = &[
    ("keys/ed25519.pkcs8.pem", false),
    ("keys/p256.pkcs8.pem", false),
    ("keys/p256.sec1.pem", false),
    ("keys/p384.pkcs8.pem", false),
    ("keys/rsa2048.pkcs8.pem", false),
    ("keys/rsa3072.pkcs1.pem", false),
    ("keys/ed25519.pkcs8.enc.pem", true),
    ("keys/p256.pkcs8.enc.pem", true),
    ("keys/rsa3072.pkcs8.enc.pem", true),
];

/// Minimal Base64 decoder for the test's own use (ignores anything that is
/// not in the alphabet).
fn b64decode(text: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let Some(v) = A.iter().position(|a| *a == c) else {
            continue;
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// What must never appear in output about a key file: 16-character windows
/// of its Base64 body, hex of any 8 consecutive bytes of its DER, and the
/// passphrases.
struct Secrets {
    windows: Vec<String>,
}

impl Secrets {
    fn of(pem: &str) -> Secrets {
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----") && !l.contains(':'))
            .collect();
        let mut windows: Vec<String> = body
            .as_bytes()
            .windows(16)
            .map(|w| String::from_utf8(w.to_vec()).unwrap())
            .collect();
        for w in b64decode(&body).windows(8) {
            let hex: String = w.iter().map(|b| format!("{b:02x}")).collect();
            windows.push(hex.to_uppercase());
            windows.push(hex);
        }
        windows.push(PASSPHRASE.into());
        windows.push("wrong-passphrase-8c1f".into());
        Secrets { windows }
    }

    #[track_caller]
    fn assert_absent(&self, what: &str, text: &str) {
        if let Some(w) = self.windows.iter().find(|w| text.contains(w.as_str())) {
            panic!("{what} shows secret material {w:?}:\n{text}");
        }
    }
}

fn read(rel: &str) -> String {
    fs::read_to_string(fixture(rel)).unwrap()
}

#[test]
fn loaded_keys_show_nothing_in_debug() {
    for (file, encrypted) in KEYS {
        let pem = read(file);
        let secrets = Secrets::of(&pem);
        let key = SigningKey::from_pem(
            pem.as_bytes(),
            encrypted.then_some(PASSPHRASE.as_bytes()),
            RsaScheme::default(),
        )
        .unwrap();
        secrets.assert_absent(file, &format!("{key:?} {key:#?}"));
    }
}

#[test]
fn passphrase_errors_show_neither_key_nor_passphrase() {
    for (file, encrypted) in KEYS.iter().filter(|(_, e)| *e) {
        let pem = read(file);
        let secrets = Secrets::of(&pem);
        for pass in [None, Some("wrong-passphrase-8c1f")] {
            let err =
                SigningKey::from_pem(pem.as_bytes(), pass.map(str::as_bytes), Default::default())
                    .unwrap_err();
            assert!(matches!(
                err,
                KeyError::PassphraseRequired | KeyError::WrongPassphrase
            ));
            secrets.assert_absent(file, &format!("{err} {err:?}"));
            let _ = encrypted;
        }
    }
}

#[test]
fn damaged_framing_never_echoes_the_body_as_a_label() {
    // A key whose BEGIN line lost its closing dashes and newline: the text
    // after "BEGIN " up to the next "-----" is Base64 of the key, and must
    // not come back as "the label" in an error.
    for (file, _) in KEYS {
        let pem = read(file);
        let secrets = Secrets::of(&pem);
        let body_line = pem.lines().nth(1).unwrap();
        let label = pem.lines().next().unwrap();
        for cut in [20, 40, 48] {
            let chunk = &body_line[..cut.min(body_line.len())];
            for damaged in [
                format!("{}--{chunk}-----\n", label.trim_end_matches('-')),
                format!("-----BEGIN {chunk}-----\n{pem}"),
                format!("{pem}\n-----BEGIN X{chunk}-----\nAAAA\n-----END X{chunk}-----\n")
                    .replacen("-----BEGIN", "-----BEGIN X", 1),
            ] {
                if let Err(err) =
                    SigningKey::from_pem(damaged.as_bytes(), None, RsaScheme::default())
                {
                    secrets.assert_absent(file, &format!("{err} {err:?}"));
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Xor(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Insert(prop::sample::Index, u8),
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever is wrong with a key file, its error names the problem, not
    /// the key.
    #[test]
    fn key_errors_never_echo_key_material(
        pick in 0..KEYS.len(),
        edits in prop::collection::vec(prop_oneof![
            (any::<prop::sample::Index>(), 1..=255u8).prop_map(|(i, m)| Edit::Xor(i, m)),
            any::<prop::sample::Index>().prop_map(Edit::Delete),
            (any::<prop::sample::Index>(), prop::sample::select(b"-\n \0A:".to_vec()))
                .prop_map(|(i, b)| Edit::Insert(i, b)),
        ], 1..=4),
        pass in prop::option::of(prop::sample::select(vec![PASSPHRASE, "wrong-passphrase-8c1f"])),
    ) {
        let (file, _) = KEYS[pick];
        let pem = read(file);
        let secrets = Secrets::of(&pem);
        let mut b = pem.clone().into_bytes();
        for e in &edits {
            match e {
                Edit::Xor(i, m) => { let i = i.index(b.len()); b[i] ^= m; }
                Edit::Delete(i) => { let i = i.index(b.len()); b.remove(i); }
                Edit::Insert(i, v) => { let i = i.index(b.len() + 1); b.insert(i, *v); }
            }
        }
        match SigningKey::from_pem(&b, pass.map(str::as_bytes), RsaScheme::default()) {
            Ok(key) => secrets.assert_absent(file, &format!("{key:?}")),
            Err(err) => secrets.assert_absent(file, &format!("{err} {err:?}")),
        }
    }
}

#[test]
fn key_file_errors_show_no_key_material() {
    let dir = tempfile::tempdir().unwrap();
    for (file, _) in KEYS {
        let pem = read(file);
        let secrets = Secrets::of(&pem);
        let path = dir.path().join("key.pem");
        // Readable by others: refused, path and mode named, nothing else.
        fs::write(&path, &pem).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_key_file(&path, None, RsaScheme::default()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::KeyFile {
                    reason: KeyFileError::Readable { mode: 0o644, .. },
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("0644"), "{err}");
        secrets.assert_absent(file, &format!("{err} {err:?}"));
        // Truncated, mode 0600: a key error, still without the key.
        fs::write(&path, &pem[..pem.len() / 2]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = load_key_file(&path, None, RsaScheme::default()).unwrap_err();
        secrets.assert_absent(file, &format!("{err} {err:?}"));
        fs::remove_file(&path).unwrap();
    }
}

#[test]
fn the_cli_never_prints_or_audits_a_passphrase_or_key() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let out = sb.run(["audit", "keygen", "--out", "keys"]);
    out.code(0);
    let pem = read("keys/p256.pkcs8.enc.pem");
    let secrets = Secrets::of(&pem);
    let key = sb.key("keys/p256.pkcs8.enc.pem");
    let key = key.to_str().unwrap();
    let audit = ["--audit-log", "audit.log", "--audit-key", "keys/writer.key"];
    // Wrong passphrase, text and JSON output, audit log on.
    for json in [false, true] {
        let mut args = vec!["sign", "model", "--key", key];
        args.extend(audit);
        if json {
            args.push("--json");
        }
        let run = sb.run_env(
            &args,
            &[("MODELSEAL_KEY_PASSPHRASE", "wrong-passphrase-8c1f")],
        );
        run.code(2).stderr_has("wrong passphrase");
        secrets.assert_absent("stderr", &run.stderr);
        secrets.assert_absent("stdout", &run.stdout);
    }
    // A damaged key file (BEGIN line run into the body).
    let damaged = sb.path("damaged.pem");
    let plain = read("keys/ed25519.pkcs8.pem");
    let plain_secrets = Secrets::of(&plain);
    let body = plain.lines().nth(1).unwrap();
    fs::write(
        &damaged,
        format!("-----BEGIN PRIVATE KEY--{}-----\n", &body[..40]),
    )
    .unwrap();
    fs::set_permissions(&damaged, fs::Permissions::from_mode(0o600)).unwrap();
    let mut args = vec!["sign", "model", "--key", damaged.to_str().unwrap()];
    args.extend(audit);
    let run = sb.run(&args);
    run.code(2);
    plain_secrets.assert_absent("stderr", &run.stderr);
    // The audit log recorded both failures, with reasons, and no secret.
    let log = fs::read_to_string(sb.path("audit.log")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.contains("wrong passphrase"), "{log}");
    secrets.assert_absent("audit log", &log);
    plain_secrets.assert_absent("audit log", &log);
    // The audit writer key itself never shows up either.
    let writer = fs::read_to_string(sb.path("keys/writer.key")).unwrap();
    let key_hex = writer
        .lines()
        .find_map(|l| l.strip_prefix("key "))
        .unwrap()
        .to_owned();
    assert!(!log.contains(&key_hex));
}
