//! Property tests: the loader never panics on hostile documents, and the
//! scope globs agree with globset (ripgrep's matcher).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use std::path::Path;

use modelseal_policies::Glob;
use modelseal_policies::PolicySet;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Field names the loader knows, so random documents reach deep code.
const KEYS: &[&str] = &[
    "version",
    "description",
    "trustStores",
    "policies",
    "name",
    "scopes",
    "level",
    "override",
    "trustedIdentities",
    "requiredSignatures",
    "algorithms",
    "revocation",
    "certificates",
    "directories",
    "allowed",
    "rsaMinBits",
    "crls",
    "crlCoverage",
    "deny",
    "serials",
    "spkiSha256",
    "certSha256",
    "integrity",
    "authenticity",
    "expiry",
    "x",
];

const STRINGS: &[&str] = &[
    "1",
    "strict",
    "permissive",
    "audit",
    "skip",
    "enforce",
    "log",
    "*",
    "name:bert",
    "models/**",
    "/**",
    "models/[a-",
    "email:a@b",
    "CN=x,O=y",
    "ed25519",
    "leaf",
    "chain",
    "any",
    "release",
    "3003",
    "../pki/p256/root.pem",
    "/dev/null",
    "",
    "{a,b}",
    "a//b",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (0u64..5000).prop_map(|n| json!(n)),
        prop::sample::select(STRINGS).prop_map(|s| json!(s)),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<String, Value>>(),
                )
            }),
        ]
    })
}

fn example() -> Value {
    serde_json::from_slice(&std::fs::read(common::fixture("policies/example.json")).unwrap())
        .unwrap()
}

/// Every pointer of a document.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn load(bytes: &[u8]) {
    // The example's relative paths resolve against the fixtures.
    let base = common::fixture("policies");
    let _ = PolicySet::from_json(bytes, &base, Path::new("fuzz.json"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_documents_never_panic(v in value()) {
        load(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        load(&bytes);
    }

    #[test]
    fn mutated_examples_never_panic(pick in any::<prop::sample::Index>(), replacement in value(), delete in any::<bool>()) {
        let mut doc = example();
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let ptr = pick.get(&all).clone();
        if ptr.is_empty() {
            doc = replacement;
        } else if delete {
            let (parent, key) = ptr.rsplit_once('/').unwrap();
            match doc.pointer_mut(parent).unwrap() {
                Value::Object(m) => { m.remove(&key.replace("~1", "/").replace("~0", "~")); }
                Value::Array(a) => { a.remove(key.parse::<usize>().unwrap()); }
                _ => unreachable!(),
            }
        } else {
            *doc.pointer_mut(&ptr).unwrap() = replacement;
        }
        load(&serde_json::to_vec(&doc).unwrap());
    }
}

/// Glob patterns over a small alphabet, so that matches are frequent.
fn pattern() -> impl Strategy<Value = String> {
    let comp = prop::collection::vec(
        prop::sample::select(&["a", "b", ".", "*", "?", "[ab]", "[!a]", "[a-c]", "\\*"][..]),
        1..4,
    )
    .prop_map(|t| t.concat());
    let comp = prop_oneof![4 => comp, 1 => Just("**".to_owned())];
    prop::collection::vec(comp, 1..5).prop_map(|c| c.join("/"))
}

fn path() -> impl Strategy<Value = Vec<String>> {
    let comp = prop::collection::vec(prop::sample::select(&["a", "b", "c", ".", "*"][..]), 1..4)
        .prop_map(|t| t.concat());
    prop::collection::vec(comp, 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn globs_agree_with_globset(pat in pattern(), path in path()) {
        let Ok((_, mine)) = Glob::parse(&pat) else {
            // From this alphabet only `.`/`..` components and `**` inside a
            // component are refused.
            prop_assert!(
                pat.split('/').any(|c| c == "." || c == ".." || (c != "**" && c.contains("**"))),
                "{}", pat
            );
            return Ok(());
        };
        let theirs = globset::GlobBuilder::new(&pat)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .unwrap()
            .compile_matcher();
        let joined = path.join("/");
        prop_assert_eq!(mine.matches(&path), theirs.is_match(&joined), "{} vs {}", pat, joined);
    }

    #[test]
    fn intersection_is_never_missed(a in pattern(), b in pattern(), path in path()) {
        let (Ok((_, x)), Ok((_, y))) = (Glob::parse(&a), Glob::parse(&b)) else { return Ok(()) };
        if x.matches(&path) && y.matches(&path) {
            prop_assert!(x.intersects(&y), "{} and {} both match {:?}", a, b, path);
        }
        prop_assert_eq!(x.intersects(&y), y.intersects(&x));
    }
}
