//! Hostile bundles and signed statements, as property tests against the
//! full verification path (`verify::verify`: bundle, trust, signature,
//! statement, identity, files, digests).
//!
//! The property for every mutated bundle: **it does not verify, or it
//! verifies exactly what the original signed** ([`hostile::Signed::
//! must_not_verify_other_content`]). "Semantically neutral" mutations, the
//! only ones allowed to pass, are those that leave the signed bytes and the
//! trust decision alone: JSON layout and escapes, key order, an emptied key
//! hint, transparency-log entries that are never verified. A mutation that
//! passes must therefore decode to the same payload, payload type and
//! signature and yield the same manifest and algorithm; anything else is a
//! forgery and fails the test.
//!
//! Statements are signed with a test key so that the parser behind the
//! signature check is reached: the signature check must pass, the statement
//! check must reject every hostile construct, and nothing may verify.
//!
//! Case counts are kept modest (see each `proptest_config`) so the whole
//! file runs in a few seconds; `PROPTEST_CASES` raises them for a deeper run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::hostile;
use std::collections::BTreeMap;

use modelseal_manifest::{
    Bundle, Digest, HashAlgorithm, Manifest, ResourceKey, ResourcePath, Serialization,
    SignatureAlgorithm,
};
use modelseal_manifest::{Envelope, VerificationMaterial, key_hint, pae};
use modelseal_testkit::mutate::{self, ByteEdit};
use modelseal_verifier::{CheckName, Error, SignatureError, Status};
use proptest::prelude::*;
use serde_json::Value;

use crate::hostile::{Signed, all, ed25519_key, p256_chain, rsa_key};

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

fn fixture_index() -> impl Strategy<Value = &'static Signed> {
    (0..3usize).prop_map(|i| all()[i])
}

// ---------------------------------------------------------------- bytes ---

/// Bytes that matter to a JSON or base64 parser.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(b"\"\\{}[],:0123456789eE+-.=/ \t\n\rAaZz\0\x7f\xc3\xff".to_vec()),
    ]
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    mutate::byte_edit(interesting_byte, [1, 1, 1, 1, 1])
}

proptest! {
    #![proptest_config(config(256))]

    /// Arbitrary bytes, and arbitrary bytes after a valid bundle's opening,
    /// never panic and never verify.
    #[test]
    fn arbitrary_bytes_never_verify(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        keep in any::<prop::sample::Index>(),
    ) {
        let s = p256_chain();
        prop_assert!(s.verify(&bytes).result.is_err());
        let mut spliced = s.json[..keep.index(s.json.len())].to_vec();
        spliced.extend_from_slice(&bytes);
        s.must_not_verify_other_content(&spliced);
    }
}

proptest! {
    #![proptest_config(config(1024))]

    /// One to four byte edits anywhere in a real bundle (JSON framing,
    /// base64 of payload, signature and certificates, keyid, hint).
    #[test]
    fn byte_mutations_never_verify_other_content(
        s in fixture_index(),
        edits in prop::collection::vec(byte_edit(), 1..=4),
    ) {
        let mutated = mutate::apply(&s.json, &edits);
        s.must_not_verify_other_content(&mutated);
    }
}

// ----------------------------------------------------------- structure ---

/// A JSON value as raw text, so that values `serde_json::Value` cannot hold
/// (huge numbers, lone surrogates, invalid UTF-8, duplicate keys) reach the
/// parser.
fn hostile_json() -> impl Strategy<Value = Vec<u8>> {
    let fixed: Vec<&'static [u8]> = vec![
        b"null",
        b"true",
        b"0",
        b"-0",
        b"-1",
        b"1.5",
        b"1e400",
        b"-1e400",
        b"18446744073709551616",
        b"123456789012345678901234567890123456789012345678901234567890",
        b"\"\"",
        b"\"\\u0000\"",
        b"\"\\ud800\"",
        b"\"\\udead\\ud800\"",
        b"\"a\\u0000b\"",
        b"\"\xff\xfe\"",
        b"\"\xc3\"",
        b"\"../../etc/passwd\"",
        b"\"/etc/passwd\"",
        b"\"ecdsa-p256-sha256\"",
        b"\"ed25519\"",
        b"\"application/vnd.in-toto+json\"",
        b"\"application/vnd.dev.sigstore.bundle.v0.3+json\"",
        b"\"e30=\"",
        b"\"====\"",
        b"[]",
        b"{}",
        b"[null]",
        b"{\"a\":1,\"a\":1}",
        b"{\"rawBytes\":\"\"}",
        b"{\"rawBytes\":\"MAA=\"}",
    ];
    prop_oneof![
        prop::sample::select(fixed).prop_map(<[u8]>::to_vec),
        (1..200usize).prop_map(|d| {
            let mut v = b"[".repeat(d);
            v.extend(b"]".repeat(d));
            v
        }),
        (1..100usize).prop_map(|d| {
            let mut v = b"{\"a\":".repeat(d);
            v.extend(b"1");
            v.extend(b"}".repeat(d));
            v
        }),
        (0..100_000usize).prop_map(|n| {
            let mut v = b"\"".to_vec();
            v.extend(b"A".repeat(n));
            v.push(b'"');
            v
        }),
        "[ -~]{0,40}".prop_map(|s| serde_json::to_vec(&s).unwrap()),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Idx(usize),
}

fn paths(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                here.push(Seg::Key(k.clone()));
                paths(c, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                here.push(Seg::Idx(i));
                paths(c, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn node<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    path.iter().fold(v, |v, s| match s {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Idx(i) => &mut v[*i],
    })
}

#[derive(Debug, Clone)]
enum JsonEdit {
    /// Replace the node with a hostile value.
    Replace(Vec<u8>),
    /// Remove the node from its parent.
    Remove,
    /// Add a member (objects) or element (arrays) holding a hostile value.
    Add(String, Vec<u8>),
    /// Repeat a member's key inside its object with a hostile value.
    DuplicateKey(Vec<u8>),
    /// Append a copy of an array's element (a second signature, certificate).
    RepeatElement,
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        hostile_json().prop_map(JsonEdit::Replace),
        Just(JsonEdit::Remove),
        (
            prop::sample::select(vec![
                "x",
                "",
                "messageSignature",
                "certificate",
                "publicKey",
                "x509CertificateChain",
                "keyid",
                "hint",
                "signatures",
                "timestampVerificationData",
            ]),
            hostile_json()
        )
            .prop_map(|(k, v)| JsonEdit::Add(k.to_owned(), v)),
        hostile_json().prop_map(JsonEdit::DuplicateKey),
        Just(JsonEdit::RepeatElement),
    ]
}

const HOLE: &str = "\u{1}HOSTILE\u{1}";
const HOLE_JSON: &[u8] = b"\"\\u0001HOSTILE\\u0001\"";

/// Apply `edit` at `path` of `doc`, returning the new document's bytes.
fn apply_json(doc: &Value, path: &[Seg], edit: &JsonEdit) -> Vec<u8> {
    let mut v = doc.clone();
    let mut raw: Option<Vec<u8>> = None;
    let mut hole_for = |raw_value: &Vec<u8>| {
        raw = Some(raw_value.clone());
        Value::String(HOLE.into())
    };
    match edit {
        JsonEdit::Replace(r) => *node(&mut v, path) = hole_for(r),
        JsonEdit::Remove => {
            if let Some((last, parent)) = path.split_last() {
                match (node(&mut v, parent), last) {
                    (Value::Object(m), Seg::Key(k)) => {
                        m.remove(k);
                    }
                    (Value::Array(a), Seg::Idx(i)) => {
                        a.remove(*i);
                    }
                    _ => {}
                }
            }
        }
        JsonEdit::Add(k, r) => match node(&mut v, path) {
            Value::Object(m) => {
                let h = hole_for(r);
                m.insert(k.clone(), h);
            }
            Value::Array(a) => {
                let h = hole_for(r);
                a.push(h);
            }
            other => *other = hole_for(r),
        },
        JsonEdit::DuplicateKey(r) => {
            if let Value::Object(m) = node(&mut v, path)
                && let Some(k) = m.keys().next().cloned()
            {
                let h = hole_for(r);
                m.insert(format!("{HOLE}{k}"), h);
            }
        }
        JsonEdit::RepeatElement => {
            if let Value::Array(a) = node(&mut v, path)
                && let Some(first) = a.first().cloned()
            {
                a.push(first);
            }
        }
    }
    let mut text = serde_json::to_vec(&v).unwrap();
    if let Some(r) = raw {
        // A duplicated key: its placeholder name becomes the real key.
        let dup = b"\"\\u0001HOSTILE\\u0001";
        if let Some(at) = find(&text, dup)
            && text.get(at + dup.len()) != Some(&b'"')
        {
            text.drain(at + 1..at + dup.len());
        }
        if let Some(at) = find(&text, HOLE_JSON) {
            text.splice(at..at + HOLE_JSON.len(), r);
        }
    }
    text
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn the_json_editor_does_what_it_says() {
    let doc: Value = serde_json::json!({"a": {"k": 1}, "b": [1, 2]});
    let a = vec![Seg::Key("a".into())];
    assert_eq!(
        apply_json(&doc, &a, &JsonEdit::DuplicateKey(b"2".to_vec())),
        br#"{"a":{"k":2,"k":1},"b":[1,2]}"#.to_vec()
    );
    assert_eq!(
        apply_json(&doc, &a, &JsonEdit::Replace(b"\"\xff\"".to_vec())),
        b"{\"a\":\"\xff\",\"b\":[1,2]}".to_vec()
    );
    let b0 = vec![Seg::Key("b".into()), Seg::Idx(0)];
    assert_eq!(
        apply_json(&doc, &b0, &JsonEdit::Remove),
        br#"{"a":{"k":1},"b":[2]}"#.to_vec()
    );
}

proptest! {
    #![proptest_config(config(768))]

    /// One or two structural edits at any node of a real bundle: removed,
    /// added, duplicated or retyped members, hostile values (deep nesting,
    /// huge numbers, long strings, NUL, lone surrogates, invalid UTF-8), a
    /// second signature or certificate.
    #[test]
    fn structural_mutations_never_verify_other_content(
        s in fixture_index(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), json_edit()), 1..=2),
    ) {
        let mut bytes = s.json.clone();
        for (at, edit) in &edits {
            let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else { break };
            let mut all_paths = Vec::new();
            paths(&doc, &mut Vec::new(), &mut all_paths);
            let path = &all_paths[at.index(all_paths.len())];
            bytes = apply_json(&doc, path, edit);
        }
        s.must_not_verify_other_content(&bytes);
    }

    /// The signed bytes themselves edited without re-signing (decoded,
    /// changed, re-encoded canonically): always an invalid signature.
    #[test]
    fn payload_and_signature_edits_are_invalid_signatures(
        s in fixture_index(),
        edits in prop::collection::vec(byte_edit(), 1..=3),
        target in 0..3u8,
    ) {
        let mut b = s.bundle.clone();
        match target {
            0 => b.envelope.payload = mutate::apply(&b.envelope.payload, &edits),
            1 => b.envelope.signature = mutate::apply(&b.envelope.signature, &edits),
            _ => {
                b.envelope.payload_type =
                    String::from_utf8_lossy(&mutate::apply(b.envelope.payload_type.as_bytes(), &edits))
                        .into_owned();
            }
        }
        prop_assume!(b != s.bundle);
        let out = s.verify(&b.to_json());
        prop_assert!(out.result.is_err());
        if target < 2 && !b.envelope.signature.is_empty() {
            prop_assert!(matches!(
                out.result,
                Err(Error::Signature(SignatureError::InvalidSignature))
            ), "{:?}", out.result);
        }
    }
}

// ---------------------------------------------- unauthenticated hints ---

/// Every name a `keyid` could carry that matters, plus junk.
fn keyid() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = SignatureAlgorithm::ALL
        .iter()
        .map(|a| a.name().to_owned())
        .collect();
    names.extend(["", "RSA-PSS-SHA256", "ecdsa-p256-sha256 ", "rsa-pss", "\0"].map(String::from));
    prop_oneof![prop::sample::select(names), ".{0,80}"]
}

/// Ways to make a bundle fail that a hint must not be able to undo.
#[derive(Debug, Clone, Copy)]
enum Breakage {
    /// The payload re-serialized (same statement, other bytes).
    Reserialized,
    /// Signed by another key of the same kind.
    OtherKey,
    /// The signature of another payload.
    OtherPayload,
    /// A truncated signature.
    Truncated,
}

/// Another key of the same kind as the fixture's.
fn other_key(s: &Signed) -> modelseal_signer::SigningKey {
    match s.what {
        "p256 chain" => hostile::key("keys/p256.pkcs8.pem", Default::default()),
        "ed25519 key" => hostile::key("pki/ed25519/leaf.key", Default::default()),
        _ => hostile::key("keys/rsa3072.pkcs8.pem", Default::default()),
    }
}

fn broken(s: &Signed, how: Breakage) -> Bundle {
    let mut b = s.bundle.clone();
    match how {
        Breakage::Reserialized => {
            let v: Value = serde_json::from_slice(&b.envelope.payload).unwrap();
            b.envelope.payload = serde_json::to_vec(&v).unwrap();
        }
        Breakage::OtherKey => {
            b.envelope.signature = other_key(s).sign(&b.envelope.pae()).unwrap();
        }
        Breakage::OtherPayload => {
            b.envelope.signature = s.key.sign(&pae(&b.envelope.payload_type, b"{}")).unwrap();
        }
        Breakage::Truncated => {
            b.envelope.signature.pop();
        }
    }
    b
}

fn breakage() -> impl Strategy<Value = Breakage> {
    prop::sample::select(vec![
        Breakage::Reserialized,
        Breakage::OtherKey,
        Breakage::OtherPayload,
        Breakage::Truncated,
    ])
}

fn with_hints(b: &Bundle, keyid: &str, hint: Option<&str>) -> Bundle {
    let mut b = b.clone();
    b.envelope.keyid = keyid.to_owned();
    if let (Some(h), VerificationMaterial::PublicKey { hint, .. }) = (hint, &mut b.material) {
        *hint = h.to_owned();
    }
    b
}

proptest! {
    #![proptest_config(config(256))]

    /// A failing bundle stays failing whatever `keyid` and key hint say.
    #[test]
    fn hints_never_turn_a_failing_bundle_into_a_passing_one(
        s in fixture_index(),
        how in breakage(),
        keyid in keyid(),
        hint in "[0-9a-f]{0,64}|.{0,20}",
    ) {
        let b = with_hints(&broken(s, how), &keyid, Some(&hint));
        prop_assert!(s.verify(&b.to_json()).result.is_err());
    }

    /// On a good bundle a `keyid` edit passes only if it names the same
    /// algorithm (or is empty and the key implies it); a hint edit passes
    /// only if the hint is empty or names the key.
    #[test]
    fn hint_edits_of_a_good_bundle_pass_only_when_they_change_nothing(
        s in fixture_index(),
        keyid in keyid(),
        hint_choice in 0..5u8,
        random_hint in "[0-9a-f]{64}|.{0,20}",
    ) {
        let own = key_hint(&s.key.public_key_der());
        let other = key_hint(&other_key(s).public_key_der());
        let hint_value = match hint_choice {
            0 => None,
            1 => Some(String::new()),
            2 => Some(own.clone()),
            3 => Some(other),
            _ => Some(random_hint),
        };
        let b = with_hints(&s.bundle, &keyid, hint_value.as_deref());
        let ok = s.verify(&b.to_json()).result.is_ok();
        let same_alg = match keyid.as_str() {
            "" => SignatureAlgorithm::infer(s.key.key_kind()) == Some(s.key.algorithm()),
            k => k == s.key.algorithm().name(),
        };
        let hint_ok = match (&b.material, hint_value.as_deref()) {
            (VerificationMaterial::PublicKey { .. }, Some(h)) => h.is_empty() || h == own,
            _ => true,
        };
        prop_assert_eq!(ok, same_alg && hint_ok, "keyid {:?} hint {:?}", keyid, hint_value);
        if ok {
            s.assert_same_content(&b.to_json(), &s.verify(&b.to_json()).result.unwrap());
        }
    }
}

#[test]
fn every_algorithm_name_in_keyid_is_tried_against_every_broken_bundle() {
    let names: Vec<&str> = SignatureAlgorithm::ALL
        .iter()
        .map(|a| a.name())
        .chain([""])
        .collect();
    for s in all() {
        for how in [
            Breakage::Reserialized,
            Breakage::OtherKey,
            Breakage::OtherPayload,
            Breakage::Truncated,
        ] {
            let b = broken(s, how);
            for k in &names {
                for h in ["", &key_hint(&s.key.public_key_der())] {
                    let b = with_hints(&b, k, Some(h));
                    assert!(
                        s.verify(&b.to_json()).result.is_err(),
                        "{} {how:?} keyid {k:?} hint {h:?} verified",
                        s.what
                    );
                }
            }
        }
    }
}

#[test]
fn a_reserialized_equivalent_payload_fails_the_signature() {
    // The signature covers the exact payload bytes. The same statement
    // re-serialized (compact, or with reordered keys) parses to the same
    // manifest, yet must fail: modelseal never re-serializes before checking.
    for s in all() {
        let v: Value = serde_json::from_slice(&s.bundle.envelope.payload).unwrap();
        let compact = serde_json::to_vec(&v).unwrap();
        let spaced = String::from_utf8(s.bundle.envelope.payload.clone())
            .unwrap()
            .replace("\": ", "\" : ")
            .into_bytes();
        let escaped = String::from_utf8(s.bundle.envelope.payload.clone())
            .unwrap()
            .replacen("\"_type\"", "\"\\u005ftype\"", 1)
            .into_bytes();
        for payload in [compact, spaced, escaped] {
            assert_ne!(payload, s.bundle.envelope.payload);
            assert_eq!(
                modelseal_manifest::from_payload(&payload).unwrap(),
                s.manifest,
                "{}: the re-serialized payload is equivalent",
                s.what
            );
            let mut b = s.bundle.clone();
            b.envelope.payload = payload;
            let out = s.verify(&b.to_json());
            assert!(
                matches!(
                    out.result,
                    Err(Error::Signature(SignatureError::InvalidSignature))
                ),
                "{}: {:?}",
                s.what,
                out.result
            );
            let sig = out
                .report
                .checks
                .iter()
                .find(|c| c.name == CheckName::Signature)
                .unwrap();
            assert_eq!(sig.status, Status::Fail);
        }
    }
}

#[test]
fn the_signature_covers_the_payload_type() {
    // DSSE's PAE binds the payload type: the same payload and signature
    // under another type fail (the bundle parser also refuses other types).
    let s = ed25519_key();
    let other = pae("application/json", &s.bundle.envelope.payload);
    assert!(
        s.trust_key()
            .verify(s.key.algorithm(), &other, &s.bundle.envelope.signature)
            .is_err()
    );
}

trait TrustKey {
    fn trust_key(&self) -> &modelseal_verifier::PublicKey;
}

impl TrustKey for Signed {
    fn trust_key(&self) -> &modelseal_verifier::PublicKey {
        match &self.trust {
            modelseal_verifier::Trust::PublicKey(k) => k,
            _ => panic!("not a key bundle"),
        }
    }
}

// ------------------------------------------------- signed statements ---

/// Resource names that must never be accepted.
const BAD_NAMES: &[&str] = &[
    "..",
    "../x",
    "a/../b",
    "a/..",
    "./a",
    "a/./b",
    "/etc/passwd",
    "/",
    "a//b",
    "a/",
    "",
    "a\0b",
    "\0",
    "a\nb",
    "a\rb",
    "a\tb",
    "\u{7f}",
    "\u{85}x",
    "a\\..\\b",
    "..\\x",
    "C:\\x",
];

#[derive(Debug, Clone)]
enum StatementEdit {
    /// A resource renamed to one of [`BAD_NAMES`].
    BadName(prop::sample::Index, usize),
    /// A resource name longer than 4096 bytes.
    LongName(prop::sample::Index, usize),
    /// A resource listed twice.
    Duplicate(prop::sample::Index),
    /// Two resources swapped (out of canonical order).
    Swap(prop::sample::Index, prop::sample::Index),
    /// A resource digest spelled wrongly.
    BadDigest(prop::sample::Index, &'static str),
    /// A resource algorithm other than the serialization's.
    BadAlgorithm(prop::sample::Index, &'static str),
    /// The subject digest replaced.
    SubjectDigest([u8; 32]),
    /// `shard_size` set to a hostile number (with method files).
    ShardSize(&'static str),
    /// A field replaced by nesting deeper than 32 levels.
    DeepNesting(usize),
    /// An unknown member.
    UnknownField,
    /// Invalid UTF-8 inside the subject name.
    NotUtf8,
    /// A NUL escape inside the subject name is fine by itself (it is free
    /// text), but a raw control byte in a JSON string is not.
    RawControl,
}

impl StatementEdit {
    /// Whether the edit makes the statement invalid by itself (some edits
    /// are no-ops on a statement without resources).
    fn invalidates(&self, resources: usize) -> bool {
        match self {
            StatementEdit::BadName(..)
            | StatementEdit::LongName(..)
            | StatementEdit::Duplicate(_)
            | StatementEdit::BadDigest(..)
            | StatementEdit::BadAlgorithm(..) => resources > 0,
            StatementEdit::Swap(..) => false,
            _ => true,
        }
    }
}

fn statement_edit() -> impl Strategy<Value = StatementEdit> {
    let ix = any::<prop::sample::Index>;
    prop_oneof![
        (ix(), 0..BAD_NAMES.len()).prop_map(|(i, n)| StatementEdit::BadName(i, n)),
        (ix(), 4097..6000usize).prop_map(|(i, n)| StatementEdit::LongName(i, n)),
        ix().prop_map(StatementEdit::Duplicate),
        (ix(), ix()).prop_map(|(a, b)| StatementEdit::Swap(a, b)),
        (
            ix(),
            prop::sample::select(vec!["", "00", "ZZ", "uppercase", "long", "\u{0}"])
        )
            .prop_map(|(i, d)| StatementEdit::BadDigest(i, d)),
        (
            ix(),
            prop::sample::select(vec!["sha512", "blake3", "", "SHA256", "sha256 "])
        )
            .prop_map(|(i, a)| StatementEdit::BadAlgorithm(i, a)),
        any::<[u8; 32]>().prop_map(StatementEdit::SubjectDigest),
        prop::sample::select(vec![
            "0",
            "-1",
            "1e400",
            "18446744073709551616",
            "1.5",
            "4",
            "\"4\"",
            "[4]",
            "123456789012345678901234567890123456789012345678901234567890"
        ])
        .prop_map(StatementEdit::ShardSize),
        (33..300usize).prop_map(StatementEdit::DeepNesting),
        Just(StatementEdit::UnknownField),
        Just(StatementEdit::NotUtf8),
        Just(StatementEdit::RawControl),
    ]
}

/// A valid resource name (never one of the model's real files, which have
/// dots in their names).
fn good_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}(/[a-z]{1,6}){0,3}",
        "[a-z\u{e9}\u{65e5}\u{672c}:#=~ -]{1,12}"
            .prop_filter("valid", |n| { ResourcePath::new(n).is_ok() }),
        (1..=4096usize).prop_map(|n| "n".repeat(n)),
    ]
}

fn manifest_strategy() -> impl Strategy<Value = Manifest> {
    (
        prop::collection::btree_map(good_name(), any::<[u8; 32]>(), 0..40),
        prop_oneof!["[a-z]{1,10}", (0..200_000usize).prop_map(|n| "m".repeat(n))],
    )
        .prop_map(|(res, name)| {
            let resources: BTreeMap<ResourceKey, Digest> = res
                .into_iter()
                .map(|(n, d)| {
                    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
                    (
                        ResourceKey::file(ResourcePath::new(&n).unwrap()),
                        Digest::from_hex(HashAlgorithm::Sha256, &hex).unwrap(),
                    )
                })
                .collect();
            Manifest::new(
                name,
                Serialization::files(HashAlgorithm::Sha256, vec![]),
                resources,
            )
        })
}

/// Apply statement edits to the payload of `m`; returns the payload bytes
/// and whether the edits made the statement invalid.
fn hostile_payload(m: &Manifest, edits: &[StatementEdit]) -> (Vec<u8>, bool) {
    let mut v: Value = serde_json::from_slice(&modelseal_manifest::to_payload(m)).unwrap();
    let mut raw_subject: Option<&'static [u8]> = None;
    let mut raw_shard: Option<&'static str> = None;
    let mut deep: Option<usize> = None;
    for e in edits {
        let res = v["predicate"]["resources"].as_array_mut().unwrap();
        let n = res.len();
        match e {
            StatementEdit::BadName(i, b) if n > 0 => {
                res[i.index(n)]["name"] = BAD_NAMES[*b].into();
            }
            StatementEdit::LongName(i, len) if n > 0 => {
                res[i.index(n)]["name"] = "l".repeat(*len).into();
            }
            StatementEdit::Duplicate(i) if n > 0 => {
                let at = i.index(n);
                let copy = res[at].clone();
                res.insert(at, copy);
            }
            StatementEdit::Swap(a, b) if n > 1 => res.swap(a.index(n), b.index(n)),
            StatementEdit::BadDigest(i, d) if n > 0 => {
                let r = &mut res[i.index(n)]["digest"];
                let good = r.as_str().unwrap().to_owned();
                *r = match *d {
                    "uppercase" => good.to_uppercase().replace(char::is_numeric, "A"),
                    "long" => good.repeat(2),
                    other => other.to_owned(),
                }
                .into();
            }
            StatementEdit::BadAlgorithm(i, a) if n > 0 => {
                res[i.index(n)]["algorithm"] = (*a).into();
            }
            StatementEdit::SubjectDigest(d) => {
                let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
                v["subject"][0]["digest"]["sha256"] = hex.into();
            }
            StatementEdit::ShardSize(s) => raw_shard = Some(s),
            StatementEdit::DeepNesting(d) => deep = Some(*d),
            StatementEdit::UnknownField => v["predicate"]["extra"] = 1.into(),
            StatementEdit::NotUtf8 => raw_subject = Some(b"\"m\xff\xfe\""),
            StatementEdit::RawControl => raw_subject = Some(b"\"m\x01\""),
            _ => {}
        }
    }
    // Swaps can undo each other: judge the order from the result.
    let names: Vec<Option<ResourcePath>> = v["predicate"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().and_then(|n| ResourcePath::new(n).ok()))
        .collect();
    let unordered = names.windows(2).any(|w| match (&w[0], &w[1]) {
        (Some(a), Some(b)) => a >= b,
        _ => false,
    });
    let invalid = unordered
        || edits
            .iter()
            .any(|e| !matches!(e, StatementEdit::Swap(..)) && e.invalidates(m.len()));
    if raw_subject.is_some() {
        v["subject"][0]["name"] = HOLE.into();
    }
    if raw_shard.is_some() {
        v["predicate"]["serialization"]["shard_size"] = "\u{1}SHARD\u{1}".into();
    }
    if deep.is_some() {
        v["predicate"]["serialization"]["allow_symlinks"] = "\u{1}DEEP\u{1}".into();
    }
    let mut text = serde_json::to_vec_pretty(&v).unwrap();
    let mut splice = |hole: &[u8], with: Vec<u8>| {
        if let Some(at) = find(&text, hole) {
            text.splice(at..at + hole.len(), with);
        }
    };
    if let Some(r) = raw_subject {
        splice(HOLE_JSON, r.to_vec());
    }
    if let Some(s) = raw_shard {
        splice(b"\"\\u0001SHARD\\u0001\"", s.as_bytes().to_vec());
    }
    if let Some(d) = deep {
        let mut nested = b"[".repeat(d);
        nested.extend(b"]".repeat(d));
        splice(b"\"\\u0001DEEP\\u0001\"", nested);
    }
    (text, invalid)
}

/// Sign `payload` with the Ed25519 test key into a key bundle.
fn signed_bundle(payload: Vec<u8>) -> Vec<u8> {
    let s = ed25519_key();
    let payload_type = modelseal_manifest::PAYLOAD_TYPE.to_owned();
    let signature = s.key.sign(&pae(&payload_type, &payload)).unwrap();
    Bundle {
        material: VerificationMaterial::PublicKey {
            hint: key_hint(&s.key.public_key_der()),
            raw: None,
        },
        envelope: Envelope {
            payload_type,
            payload,
            signature,
            keyid: String::new(),
        },
        version: modelseal_manifest::BundleVersion::V0_3,
        evidence: modelseal_manifest::Evidence::default(),
    }
    .to_json()
}

fn status(out: &modelseal_verifier::Outcome, name: CheckName) -> Status {
    out.report
        .checks
        .iter()
        .find(|c| c.name == name)
        .map_or(Status::NotRun, |c| c.status)
}

proptest! {
    #![proptest_config(config(512))]

    /// Validly signed statements with hostile content: the signature check
    /// passes (the statement parser is reached), the statement check
    /// rejects every hostile construct and accepts everything else, and
    /// nothing verifies (the model on disk is not what these list).
    #[test]
    fn signed_hostile_statements_are_rejected_by_the_statement_check(
        m in manifest_strategy(),
        edits in prop::collection::vec(statement_edit(), 0..=3),
        flips in prop::collection::vec(byte_edit(), 0..=1),
    ) {
        let (mut payload, invalid) = hostile_payload(&m, &edits);
        let flipped = !flips.is_empty();
        if flipped {
            payload = mutate::apply(&payload, &flips);
        }
        let s = ed25519_key();
        let out = s.verify(&signed_bundle(payload.clone()));
        prop_assert_eq!(status(&out, CheckName::Signature), Status::Pass);
        prop_assert!(out.result.is_err());
        let parsed = modelseal_manifest::from_payload(&payload);
        if invalid && modelseal_manifest::is_oms(&payload) {
            prop_assert!(parsed.is_err(), "{:?} accepted", edits);
            prop_assert_eq!(status(&out, CheckName::Statement), Status::Fail);
            prop_assert!(matches!(out.result, Err(Error::Format(_))), "{:?}", out.result);
        } else if invalid {
            // The flip moved the predicate type off OMS: the signer signed
            // some other in-toto statement, read as one about one artifact
            // (its predicate unread). The statement check passes exactly
            // when that reading does; the model's files never match it.
            let generic = modelseal_manifest::artifact_from_payload(&payload);
            prop_assert_eq!(
                status(&out, CheckName::Statement) == Status::Pass,
                generic.is_ok(),
                "{:?}",
                generic
            );
        } else if !flipped {
            prop_assert_eq!(parsed.as_ref().ok(), Some(&m));
            prop_assert_eq!(status(&out, CheckName::Statement), Status::Pass);
        }
    }
}

#[test]
fn the_base64_in_bundles_is_canonical() {
    // A second spelling of the same bytes would be a neutral mutation the
    // properties above have to tolerate; there is none: padding is required
    // and non-zero trailing bits are refused.
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut tried = 0;
    for s in all() {
        let text = String::from_utf8(s.json.clone()).unwrap();
        let v: Value = serde_json::from_slice(&s.json).unwrap();
        let mut fields = vec![
            v["dsseEnvelope"]["payload"].as_str().unwrap().to_owned(),
            v["dsseEnvelope"]["signatures"][0]["sig"]
                .as_str()
                .unwrap()
                .to_owned(),
        ];
        if let Some(certs) =
            v["verificationMaterial"]["x509CertificateChain"]["certificates"].as_array()
        {
            fields.extend(
                certs
                    .iter()
                    .map(|c| c["rawBytes"].as_str().unwrap().to_owned()),
            );
        }
        for b64 in fields.iter().filter(|f| f.ends_with('=')) {
            let body = b64.trim_end_matches('=');
            let last = body.chars().last().unwrap();
            let sibling = ALPHABET.as_bytes()[ALPHABET.find(last).unwrap() ^ 1] as char;
            let unpadded = text.replace(b64.as_str(), body);
            let trailing = text.replace(
                b64.as_str(),
                &format!("{}{sibling}{}", &body[..body.len() - 1], &b64[body.len()..]),
            );
            for variant in [unpadded, trailing] {
                assert_ne!(variant, text);
                assert!(s.verify(variant.as_bytes()).result.is_err(), "{}", s.what);
                tried += 1;
            }
        }
    }
    assert!(tried >= 4, "only {tried} padded fields");
}

#[test]
fn keyid_of_another_padding_is_refused_for_rsa() {
    // PSS and PKCS#1 v1.5 with one RSA key: naming the other padding fails
    // (the hint selects the verification, it never widens it).
    let s = rsa_key();
    for alg in SignatureAlgorithm::ALL {
        let b = with_hints(&s.bundle, alg.name(), None);
        let ok = s.verify(&b.to_json()).result.is_ok();
        assert_eq!(ok, alg == s.key.algorithm(), "{alg}");
    }
}

/// The case the property above once found: an invalid OMS statement (a
/// resource with a bad digest) whose predicate type a flipped byte moved off
/// OMS. It is no longer an OMS statement but a signed in-toto statement about
/// one artifact, read as such (predicate unread); the model's files never
/// match it, so nothing verifies.
#[test]
fn an_invalid_oms_statement_under_another_predicate_type_is_read_as_a_generic_statement() {
    let m = modelseal_manifest::one_file(
        "model".into(),
        modelseal_manifest::Digest::from_hex(HashAlgorithm::Sha256, &"ab".repeat(32)).unwrap(),
    );
    let mut v: Value = serde_json::from_slice(&modelseal_manifest::to_payload(&m)).unwrap();
    v["predicate"]["resources"][0]["digest"] = "ZZ".into();
    let payload = serde_json::to_vec(&v).unwrap();
    assert!(modelseal_manifest::from_payload(&payload).is_err());
    let text = String::from_utf8(payload).unwrap();
    let moved = text.replace(
        modelseal_manifest::PREDICATE_TYPE,
        "https://model_signing/signature/v1.1",
    );
    assert_ne!(moved, text);
    let payload = moved.into_bytes();
    assert!(!modelseal_manifest::is_oms(&payload));
    assert!(modelseal_manifest::artifact_from_payload(&payload).is_ok());
    let out = ed25519_key().verify(&signed_bundle(payload));
    assert_eq!(status(&out, CheckName::Signature), Status::Pass);
    assert_eq!(status(&out, CheckName::Statement), Status::Pass);
    assert!(out.result.is_err(), "{:?}", out.result);
}
