//! Hostile certificates, PEM files and audit logs, as property tests, and
//! the size limits that keep allocation bounded, through the real binary.
//!
//! - Certificates: mutated DER of the fixture PKI through
//!   `CertInfo::from_der`, `TrustAnchors::from_der` and `modelseal_verifier::validate_chain`:
//!   never a panic, and a mutated chain that still validates must name the
//!   same signer (subject, SANs, key) under the same root key.
//! - PEM: mutated private keys (plain and encrypted), public keys and
//!   certificate files through `SigningKey::from_pem`, `PublicKey::from_pem`
//!   and `TrustAnchors::from_pem`: never a panic, and every private key that
//!   loads is consistent (its signatures verify under its public key; an
//!   inconsistent RSA-CRT key would leak its factors through one faulty
//!   signature).
//! - Audit logs: arbitrary bytes, and garbage spliced into a real log, never
//!   verify as intact records (the audit crate's own `tamper_prop` covers
//!   single-byte edits of a real log).
//! - Size limits: inputs over the limits are refused before they are read
//!   whole, shown with sparse files far larger than memory would allow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::OnceLock;

use modelseal_audit::{Event, Outcome, Verdict, Verifier, VerifierKey, Writer, WriterOptions};
use modelseal_manifest::SignatureAlgorithm;
use modelseal_signer::{RsaScheme, SigningKey};
use modelseal_testkit::mutate::{ByteEdit, apply, byte_edit};
use modelseal_verifier::certificates_from_pem;
use modelseal_verifier::{CertInfo, PublicKey, TrustAnchors};
use proptest::prelude::*;

use crate::common::Sandbox;
use modelseal_testkit as hostile;
use modelseal_testkit::{read_fixture, t2030 as at};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that matter to DER (tags, length forms) and PEM parsers.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(vec![
            0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x30, 0x31,
            0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x88, 0xa0, 0xa3, 0xff, b'-', b'\n', b'\r', b' ',
            b'=', b'A', b'/', b'+', b':',
        ]),
    ]
}

fn edit() -> impl Strategy<Value = ByteEdit> {
    byte_edit(interesting_byte, [4, 2, 2, 1, 1])
}

fn edits(max: usize) -> impl Strategy<Value = Vec<ByteEdit>> {
    prop::collection::vec(edit(), 1..=max)
}

// --------------------------------------------------------- certificates ---

/// A good chain of the fixture PKI: leaf, intermediate, root (DER).
struct Chain {
    leaf: Vec<u8>,
    intermediate: Vec<u8>,
    root: Vec<u8>,
}

fn chains() -> &'static Vec<Chain> {
    static C: OnceLock<Vec<Chain>> = OnceLock::new();
    C.get_or_init(|| {
        ["p256", "ed25519", "p384", "rsa"]
            .iter()
            .map(|d| {
                let one = |f: &str| {
                    certificates_from_pem(&read_fixture(&format!("pki/{d}/{f}.pem")))
                        .unwrap()
                        .remove(0)
                };
                let c = Chain {
                    leaf: one("leaf"),
                    intermediate: one("intermediate"),
                    root: one("root"),
                };
                let anchors = TrustAnchors::from_der(std::slice::from_ref(&c.root)).unwrap();
                modelseal_verifier::validate_chain(
                    &[c.leaf.clone(), c.intermediate.clone()],
                    &anchors,
                    at(),
                )
                .unwrap();
                c
            })
            .collect()
    })
}

/// The certificates of `fixtures/pki/bad`, which exercise other branches
/// (SHA-1, CA leaves, missing extensions, CRLs aside).
fn bad_certs() -> &'static Vec<Vec<u8>> {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        let dir = hostile::fixture("pki/bad");
        let mut out = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "pem") && !p.ends_with("revoked.crl.pem")
            })
            .collect();
        names.sort();
        for p in names {
            if let Ok(certs) = certificates_from_pem(&std::fs::read(&p).unwrap()) {
                out.extend(certs);
            }
        }
        assert!(out.len() > 20);
        out
    })
}

fn same_signer(a: &CertInfo, b: &CertInfo) -> bool {
    a.subject == b.subject && a.sans == b.sans && a.spki_der == b.spki_der
}

proptest! {
    #![proptest_config(config(512))]

    /// Mutated leaf or intermediate DER: parsing never panics, and a chain
    /// that still validates names the same signer with the same key.
    #[test]
    fn mutated_chains_never_validate_another_signer(
        which in 0..4usize,
        target in 0..2u8,
        e in edits(3),
    ) {
        let c = &chains()[which];
        let (leaf, inter) = if target == 0 {
            (apply(&c.leaf, &e), c.intermediate.clone())
        } else {
            (c.leaf.clone(), apply(&c.intermediate, &e))
        };
        let _ = CertInfo::from_der(&leaf);
        let _ = CertInfo::from_der(&inter);
        let anchors = TrustAnchors::from_der(std::slice::from_ref(&c.root)).unwrap();
        if let Ok(v) = modelseal_verifier::validate_chain(&[leaf.clone(), inter], &anchors, at()) {
            let original = CertInfo::from_der(&c.leaf).unwrap();
            prop_assert!(same_signer(&v.leaf, &original), "another signer validated");
        }
    }

    /// A mutated root: anchors load or fail cleanly, and a chain validates
    /// against it only if the root's name and key are unchanged (the
    /// anchor's own signature is, by design, never checked).
    #[test]
    fn mutated_roots_never_anchor_another_key(which in 0..4usize, e in edits(3)) {
        let c = &chains()[which];
        let root = apply(&c.root, &e);
        let Ok(anchors) = TrustAnchors::from_der(std::slice::from_ref(&root)) else {
            return Ok(());
        };
        if modelseal_verifier::validate_chain(&[c.leaf.clone(), c.intermediate.clone()], &anchors, at()).is_ok() {
            let (got, want) = (&anchors.roots()[0], CertInfo::from_der(&c.root).unwrap());
            prop_assert_eq!(&got.subject, &want.subject);
            prop_assert_eq!(&got.spki_der, &want.spki_der);
        }
    }

    /// Mutations of the bad fixtures (SHA-1, CA leaves, odd extensions) and
    /// DER-shaped noise through the certificate parsers.
    #[test]
    fn certificate_parsers_never_panic(
        pick in any::<prop::sample::Index>(),
        e in edits(4),
        noise in prop::collection::vec(any::<u8>(), 0..512),
        len_form in prop::sample::select(vec![
            vec![0x30, 0x80],
            vec![0x30, 0x81, 0xff],
            vec![0x30, 0x82, 0xff, 0xff],
            vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            vec![0x30, 0x88, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            vec![0x30, 0x03, 0x30, 0x01],
        ]),
    ) {
        let bad = bad_certs();
        let original = &bad[pick.index(bad.len())];
        let der = apply(original, &e);
        let _ = CertInfo::from_der(&der);
        let _ = TrustAnchors::from_der(std::slice::from_ref(&der));
        let mut shaped = len_form;
        shaped.extend(&noise);
        prop_assert!(CertInfo::from_der(&shaped).is_err());
        prop_assert!(TrustAnchors::from_der(std::slice::from_ref(&shaped)).is_err());
        let c = &chains()[0];
        let anchors = TrustAnchors::from_der(std::slice::from_ref(&c.root)).unwrap();
        // Some bad fixtures chain to the P-256 root (e.g. the one without
        // SANs); a mutated one that still validates is the same signer.
        if let Ok(v) = modelseal_verifier::validate_chain(&[der, c.intermediate.clone()], &anchors, at()) {
            prop_assert!(same_signer(&v.leaf, &CertInfo::from_der(original).unwrap()));
        }
        prop_assert!(modelseal_verifier::validate_chain(&[shaped], &anchors, at()).is_err());
    }
}

#[test]
fn deeply_nested_der_is_refused_without_a_stack_overflow() {
    // A certificate-shaped SEQUENCE nested 100 000 levels deep (definite
    // lengths) and 100 000 indefinite-length SEQUENCEs.
    let mut definite = Vec::new();
    for _ in 0..100_000 {
        let len = definite.len();
        let mut outer = vec![0x30, 0x84];
        outer.extend((len as u32).to_be_bytes());
        outer.extend(definite);
        definite = outer;
    }
    let indefinite: Vec<u8> = [0x30, 0x80].repeat(100_000);
    for der in [definite, indefinite] {
        assert!(CertInfo::from_der(&der).is_err());
        assert!(TrustAnchors::from_der(std::slice::from_ref(&der)).is_err());
    }
}

// ------------------------------------------------------------------ PEM ---

const PASSPHRASE: &[u8] = b"modelseal-test-passphrase";

/// (file, needs the passphrase)
const PRIVATE_KEYS: &[(&str, bool)] = &[
    ("keys/ed25519.pkcs8.pem", false),
    ("keys/p256.pkcs8.pem", false),
    ("keys/p256.sec1.pem", false),
    ("keys/p384.sec1.pem", false),
    ("keys/rsa2048.pkcs8.pem", false),
    ("keys/rsa3072.pkcs1.pem", false),
    ("keys/ed25519.pkcs8.enc.pem", true),
    ("keys/p256.pkcs8.enc.pem", true),
    ("pki/p256/leaf.key", false),
];

const PUBLIC_FILES: &[&str] = &[
    "keys/ed25519.pub.pem",
    "keys/p256.pub.pem",
    "keys/p384.pub.pem",
    "keys/rsa2048.pub.pem",
    "keys/rsa3072.pub.pem",
    "keys/secp256k1.pub.pem",
    "pki/p256/root.pem",
    "pki/rsa/fullchain.pem",
    "pki/ed25519/chain.pem",
];

/// A loaded key must be internally consistent: what it signs verifies
/// under the public key it reports.
fn assert_consistent(key: &SigningKey) {
    let msg = b"DSSEv1 consistency";
    let sig = key.sign(msg).unwrap();
    let public = PublicKey::from_spki_der(&key.public_key_der()).unwrap();
    assert_eq!(public.verify(key.algorithm(), msg, &sig), Ok(()));
}

/// PEM-shaped text: boundaries, labels, headers and base64 in any order.
fn pem_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "-----BEGIN PRIVATE KEY-----\n",
            "-----END PRIVATE KEY-----\n",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
            "-----END ENCRYPTED PRIVATE KEY-----\n",
            "-----BEGIN RSA PRIVATE KEY-----\n",
            "-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\n",
            "-----END EC PRIVATE KEY-----\n",
            "-----BEGIN EC PARAMETERS-----\n",
            "-----END EC PARAMETERS-----\n",
            "-----BEGIN PUBLIC KEY-----\n",
            "-----END PUBLIC KEY-----\n",
            "-----BEGIN CERTIFICATE-----\n",
            "-----END CERTIFICATE-----\n",
            "-----BEGIN -----\n",
            "-----BEGIN ",
            "-----",
            "Proc-Type: 4,ENCRYPTED\n",
            "DEK-Info: AES-128-CBC,00\n",
            "\n",
            "\r\n",
            "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n",
            "BggqhkjOPQMBBw==\n",
            "MC4CAQAwBQYDK2VwBCIEI\n",
            "====\n",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        "[A-Za-z0-9+/=]{0,100}\n".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..16),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config(384))]

    /// Mutated private-key PEM (plain and encrypted): an error, or a key
    /// that is consistent.
    #[test]
    fn mutated_private_keys_load_consistently_or_not_at_all(
        pick in 0..PRIVATE_KEYS.len(),
        e in edits(3),
    ) {
        let (file, encrypted) = PRIVATE_KEYS[pick];
        let pem = apply(&read_fixture(file), &e);
        let pass = encrypted.then_some(PASSPHRASE);
        if let Ok(key) = SigningKey::from_pem(&pem, pass, RsaScheme::default()) {
            assert_consistent(&key);
        }
        // A wrong passphrase never loads an encrypted key.
        if encrypted {
            prop_assert!(SigningKey::from_pem(&pem, Some(b"wrong"), RsaScheme::default()).is_err());
        }
    }

    /// Mutated public keys and certificate files: parse or fail cleanly; a
    /// key that loads re-encodes to a key that loads the same.
    #[test]
    fn mutated_public_pem_parses_or_fails_cleanly(
        pick in 0..PUBLIC_FILES.len(),
        e in edits(3),
    ) {
        let pem = apply(&read_fixture(PUBLIC_FILES[pick]), &e);
        if let Ok(k) = PublicKey::from_pem(&pem) {
            prop_assert_eq!(PublicKey::from_spki_der(k.spki_der()).unwrap(), k);
        }
        let _ = TrustAnchors::from_pem(&pem);
        let _ = certificates_from_pem(&pem);
    }

    /// PEM-shaped soup through every PEM entry point.
    #[test]
    fn pem_soup_never_panics(soup in pem_soup(), pass in any::<bool>()) {
        let p = pass.then_some(PASSPHRASE);
        if let Ok(key) = SigningKey::from_pem(&soup, p, RsaScheme::default()) {
            assert_consistent(&key);
        }
        let _ = PublicKey::from_pem(&soup);
        let _ = TrustAnchors::from_pem(&soup);
    }
}

#[test]
fn every_fixture_key_loads_consistently() {
    for (file, encrypted) in PRIVATE_KEYS {
        let key = SigningKey::from_pem(
            &read_fixture(file),
            encrypted.then_some(PASSPHRASE),
            RsaScheme::default(),
        )
        .unwrap();
        assert_consistent(&key);
    }
    assert_eq!(
        SigningKey::from_pem(
            &read_fixture("keys/p384.sec1.pem"),
            None,
            RsaScheme::default()
        )
        .unwrap()
        .algorithm(),
        SignatureAlgorithm::EcdsaP384Sha384
    );
}

// ----------------------------------------------------------- audit logs ---

struct AuditLog {
    _dir: tempfile::TempDir,
    key: VerifierKey,
    bytes: Vec<u8>,
    checkpoint: Vec<u8>,
}

fn audit_log() -> &'static AuditLog {
    static L: OnceLock<AuditLog> = OnceLock::new();
    L.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        modelseal_audit::keygen(&dir.path().join("keys")).unwrap();
        let log = dir.path().join("audit.log");
        let mut w = Writer::open(
            &log,
            &dir.path().join("keys/writer.key"),
            WriterOptions::default(),
        )
        .unwrap();
        for i in 0..4 {
            w.append(&Event {
                timestamp: time::OffsetDateTime::UNIX_EPOCH
                    + time::Duration::seconds(1_700_000_000 + i),
                action: "model.verify".into(),
                category: Vec::new(),
                types: Vec::new(),
                user_name: None,
                details: modelseal_audit::Details::default(),
                outcome: Outcome::Success,
                reason: Some(format!("record {i}")),
                user_id: "ci".into(),
                source_ip: "127.0.0.1".parse().unwrap(),
                host_name: "host".into(),
                file_path: Some("/models/m".into()),
                file_hash: None,
            })
            .unwrap();
        }
        let checkpoint = w
            .checkpoint(time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_800_000_000))
            .unwrap()
            .to_bytes();
        drop(w);
        let key = VerifierKey::load(&dir.path().join("keys/verifier.key")).unwrap();
        let bytes = std::fs::read(&log).unwrap();
        let l = AuditLog {
            _dir: dir,
            key,
            bytes,
            checkpoint,
        };
        assert_eq!(intact(&l.key, &l.bytes), Some(4));
        l
    })
}

/// Records an intact log holds, `None` if it is tampered.
fn intact(key: &VerifierKey, bytes: &[u8]) -> Option<u64> {
    let mut v = Verifier::new(key, None);
    v.feed(Path::new("audit.log"), bytes).unwrap();
    match v.finish() {
        Verdict::Intact(s) => Some(s.records),
        Verdict::Tampered(_) => None,
    }
}

/// Lines that look like records: the chain fields a verifier reads first,
/// with arbitrary values.
fn record_like() -> impl Strategy<Value = Vec<u8>> {
    (
        "[0-9a-f]{32}|[ -~]{0,40}",
        "[0-9a-f]{64}|0{64}",
        "[0-9a-f]{64}",
        0..5u64,
        0..5u64,
    )
        .prop_map(|(log_id, prev, mac, seq, epoch)| {
            format!(
                "{{\"@timestamp\":\"2025-01-01T00:00:00.000000Z\",\"ecs\":{{\"version\":\"8.11.0\"}},\
                 \"event\":{{\"action\":\"model.verify\",\"dataset\":\"modelseal.audit\",\"kind\":\"event\",\
                 \"module\":\"modelseal\",\"outcome\":\"success\",\"sequence\":{seq}}},\"host\":{{\"name\":\"h\"}},\
                 \"source\":{{\"ip\":\"127.0.0.1\"}},\"user\":{{\"id\":\"u\"}},\"modelseal\":{{\"audit\":\
                 {{\"epoch\":{epoch},\"log_id\":{log_id:?},\"prev_mac\":\"{prev}\",\"mac\":\"{mac}\"}}}}}}\n"
            )
            .into_bytes()
        })
}

proptest! {
    #![proptest_config(config(256))]

    /// Arbitrary bytes and record-shaped lines never verify as records.
    #[test]
    fn arbitrary_audit_logs_hold_no_intact_record(
        junk in prop::collection::vec(any::<u8>(), 0..4096),
        lines in prop::collection::vec(record_like(), 0..6),
    ) {
        let key = &audit_log().key;
        prop_assert!(matches!(intact(key, &junk), None | Some(0)));
        prop_assert!(matches!(intact(key, &lines.concat()), None | Some(0)));
        let _ = modelseal_audit::Checkpoint::parse(&junk, Path::new("cp"));
    }

    /// Garbage spliced into a real log anywhere (at a line boundary or
    /// not) is always detected.
    #[test]
    fn garbage_spliced_into_a_real_log_is_detected(
        at_line in any::<prop::sample::Index>(),
        anywhere in any::<prop::sample::Index>(),
        on_boundary in any::<bool>(),
        garbage in prop_oneof![
            prop::collection::vec(any::<u8>(), 1..300),
            record_like(),
            Just(b"\n".to_vec()),
        ],
    ) {
        let l = audit_log();
        let mut boundaries: Vec<usize> = vec![0];
        boundaries.extend(l.bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1));
        let pos = if on_boundary {
            boundaries[at_line.index(boundaries.len())]
        } else {
            anywhere.index(l.bytes.len() + 1)
        };
        let mut t = l.bytes.clone();
        t.splice(pos..pos, garbage);
        prop_assert_eq!(intact(&l.key, &t), None);
    }
}

/// The checkpoint of the fixture log with its epoch and record count set to
/// `epoch` (still canonical, so it parses; its MAC no longer holds).
fn forged_checkpoint(epoch: u64) -> modelseal_audit::Checkpoint {
    let text = String::from_utf8(audit_log().checkpoint.clone()).unwrap();
    let field = |text: &str, name: &str, value: u64| {
        let start = text.find(&format!("\"{name}\":")).unwrap() + name.len() + 3;
        let end = start + text[start..].find(|c: char| !c.is_ascii_digit()).unwrap();
        format!("{}{value}{}", &text[..start], &text[end..])
    };
    let forged = field(&field(&text, "records", epoch), "epoch", epoch);
    modelseal_audit::Checkpoint::parse(forged.as_bytes(), Path::new("cp")).unwrap()
}

fn verdict_with(cp: modelseal_audit::Checkpoint) -> Verdict {
    let l = audit_log();
    let mut v = Verifier::new(&l.key, Some((cp, "cp".into())));
    v.feed(Path::new("audit.log"), l.bytes.as_slice()).unwrap();
    v.finish()
}

#[test]
fn a_forged_checkpoint_epoch_costs_bounded_work() {
    // The genuine checkpoint holds.
    let genuine =
        modelseal_audit::Checkpoint::parse(&audit_log().checkpoint, Path::new("cp")).unwrap();
    assert!(matches!(verdict_with(genuine), Verdict::Intact(_)));
    // An epoch far beyond the log would cost one key step per epoch; it is
    // refused without them, whatever the number.
    for epoch in [(1 << 20) + 100, 1 << 40, u64::MAX] {
        let t = std::time::Instant::now();
        match verdict_with(forged_checkpoint(epoch)) {
            Verdict::Tampered(f) => {
                assert_eq!(f.kind, modelseal_audit::TamperKind::BadCheckpoint, "{f:?}");
                assert!(f.detail.contains("implausibly far"), "{}", f.detail);
            }
            Verdict::Intact(_) => panic!("forged checkpoint accepted"),
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
    }
    // Within the bound: authenticated (and refused) with bounded work.
    match verdict_with(forged_checkpoint(1000)) {
        Verdict::Tampered(f) => assert_eq!(f.kind, modelseal_audit::TamperKind::BadCheckpoint),
        Verdict::Intact(_) => panic!("forged checkpoint accepted"),
    }
}

// ---------------------------------------------------------- size limits ---

/// A sparse file of `size` bytes (no disk space used).
fn sparse(path: &Path, size: u64) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
}

#[test]
fn oversized_bundles_are_refused_before_parsing() {
    use modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES;
    use modelseal_manifest::FormatError;
    // The limit is checked before the JSON parser sees a byte: garbage
    // over the limit is "too large", not "invalid JSON".
    let garbage = vec![b'['; 1001];
    assert!(matches!(
        modelseal_manifest::Bundle::from_json_limited(&garbage, 1000),
        Err(FormatError::TooLarge {
            size: 1001,
            limit: 1000,
            ..
        })
    ));
    // A 16 GiB bundle file is refused after reading at most limit + 1
    // bytes: quickly, and without 16 GiB of memory.
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.sig");
    sparse(&huge, 16 << 30);
    let t = std::time::Instant::now();
    let err = modelseal_verifier::read_bundle(&huge, DEFAULT_MAX_BUNDLE_BYTES).unwrap_err();
    // The real size and the limit, not the limit + 1 bytes read.
    assert!(
        err.to_string().contains(&format!(
            "bundle is {} bytes, more than the {DEFAULT_MAX_BUNDLE_BYTES}-byte limit",
            16u64 << 30
        )),
        "{err}"
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    // The CLI says the same, plain and under a policy.
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sparse(&sb.path("big.sig"), 100 << 20);
    let want = format!(
        "bundle is {} bytes, more than the {DEFAULT_MAX_BUNDLE_BYTES}-byte limit",
        100u64 << 20
    );
    let root = hostile::fixture("pki/p256/root.pem");
    let policy = sb.path("policy.json");
    std::fs::write(
        &policy,
        serde_json::json!({
            "version": "1",
            "trustStores": { "r": { "certificates": [root] } },
            "policies": [{
                "name": "all", "scopes": ["*"], "level": "permissive",
                "trustStores": ["r"], "trustedIdentities": ["*"]
            }]
        })
        .to_string(),
    )
    .unwrap();
    sb.run([
        "verify",
        "model",
        "-s",
        "big.sig",
        "--trust-root",
        root.to_str().unwrap(),
        "--identity",
        "*",
    ])
    .code(2)
    .no_panic()
    .stderr_has(&want);
    sb.run([
        "verify",
        "model",
        "-s",
        "big.sig",
        "--policy",
        policy.to_str().unwrap(),
    ])
    .code(2)
    .no_panic()
    .stderr_has(&want);
}

#[test]
fn oversized_keys_certificates_and_audit_keys_are_refused_unread() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let giant = 8u64 << 30; // 8 GiB: reading it whole would exhaust memory
    for name in [
        "pub.pem",
        "root.pem",
        "key.pem",
        "cert.pem",
        "verifier.key",
        "log",
    ] {
        sparse(&sb.path(name), giant);
        std::fs::set_permissions(sb.path(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let key = sb.key("keys/p256.pkcs8.pem");
    let key = key.to_str().unwrap();
    let leaf = hostile::fixture("pki/p256/leaf.pem");
    let leaf = leaf.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["verify", "model", "--public-key", "pub.pem"],
            "larger than 1048576 bytes",
        ),
        (
            vec!["verify", "model", "--trust-root", "root.pem"],
            "larger than 1048576 bytes",
        ),
        (
            vec!["sign", "model", "--key", "key.pem"],
            "larger than 65536 bytes",
        ),
        (
            vec!["sign", "model", "--key", key, "--cert", "cert.pem"],
            "larger than 1048576 bytes",
        ),
        (
            vec![
                "sign", "model", "--key", key, "--cert", leaf, "--chain", "cert.pem",
            ],
            "larger than 1048576 bytes",
        ),
        (
            vec!["audit", "verify", "--log", "log", "--key", "verifier.key"],
            "too large",
        ),
    ];
    for (args, want) in cases {
        let t = std::time::Instant::now();
        sb.run(&args).code(2).no_panic().stderr_has(want);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(20),
            "{args:?} took {:?}",
            t.elapsed()
        );
    }
}
