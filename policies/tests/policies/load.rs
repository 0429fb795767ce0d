//! Every load-time error, each at its exact JSON pointer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::common::{abs, fixture};
use modelseal_policies::{Error, PolicySet};
use serde_json::{Value, json};

fn good_policy() -> Value {
    json!({
        "name": "prod",
        "scopes": ["models/prod/**"],
        "level": "strict",
        "trustStores": ["release"],
        "trustedIdentities": ["email:release-a@modelseal.test"],
        "revocation": { "crls": [abs("pki/bad/revoked.crl.pem")] }
    })
}

fn good_doc() -> Value {
    json!({
        "version": "1",
        "trustStores": { "release": { "certificates": [abs("pki/p256/root.pem")] } },
        "policies": [good_policy()]
    })
}

/// Load `bytes` from a temporary directory; the problems as (pointer,
/// reason).
fn problems_of(dir: &Path, bytes: &[u8]) -> Vec<(String, String)> {
    match PolicySet::from_json(bytes, dir, Path::new("policy.json")) {
        Ok(_) => Vec::new(),
        Err(Error::Invalid { problems, .. }) => problems
            .into_iter()
            .map(|p| (p.pointer, p.reason))
            .collect(),
        Err(other) => panic!("not an Invalid error: {other}"),
    }
}

fn problems(doc: &Value) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    problems_of(dir.path(), &serde_json::to_vec(doc).unwrap())
}

/// Assert exactly one problem, at `pointer`, whose reason contains `why`.
#[track_caller]
fn one(doc: &Value, pointer: &str, why: &str) {
    let got = problems(doc);
    assert_eq!(
        got.len(),
        1,
        "expected one problem at {pointer}, got {got:#?}"
    );
    assert_eq!(got[0].0, pointer, "{got:#?}");
    assert!(
        got[0].1.contains(why),
        "{pointer}: {:?} lacks {why:?}",
        got[0].1
    );
}

fn with(mut doc: Value, ptr: &str, v: Value) -> Value {
    *doc.pointer_mut(ptr).unwrap_or_else(|| panic!("{ptr}")) = v;
    doc
}

fn without(mut doc: Value, ptr: &str) -> Value {
    let (parent, key) = ptr.rsplit_once('/').unwrap();
    doc.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    doc
}

fn push_policy(mut doc: Value, p: Value) -> Value {
    doc["policies"].as_array_mut().unwrap().push(p);
    doc
}

#[test]
fn the_good_document_loads() {
    assert_eq!(problems(&good_doc()), vec![]);
}

#[test]
fn document_level_errors() {
    one(
        &with(good_doc(), "/version", json!("2")),
        "/version",
        "unsupported version",
    );
    one(
        &with(good_doc(), "/version", json!(1)),
        "/version",
        "expected a string",
    );
    one(
        &without(good_doc(), "/version"),
        "/version",
        "required field is missing",
    );
    one(
        &without(good_doc(), "/policies"),
        "/policies",
        "required field is missing",
    );
    one(
        &with(good_doc(), "/policies", json!([])),
        "/policies",
        "must not be empty",
    );
    let mut extra = good_doc();
    extra["trustStore"] = json!({});
    one(&extra, "/trustStore", "unknown field");
    one(&json!([1, 2]), "", "expected an object");
    let dir = tempfile::tempdir().unwrap();
    let dup = br#"{"version":"1","version":"1","policies":[]}"#;
    let got = problems_of(dir.path(), dup);
    assert_eq!(got[0].0, "/version");
    assert!(got[0].1.contains("duplicate key"), "{got:?}");
    let got = problems_of(dir.path(), b"{\"version\": ");
    assert_eq!(got[0].0, "");
    assert!(got[0].1.contains("not valid JSON"), "{got:?}");
}

#[test]
fn duplicate_keys_deep_inside_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = serde_json::to_string(&good_doc()).unwrap().replace(
        "\"level\":\"strict\"",
        "\"level\":\"strict\",\"level\":\"skip\"",
    );
    let got = problems_of(dir.path(), text.as_bytes());
    assert_eq!(
        got,
        vec![(
            "/policies/0/level".into(),
            "duplicate key: a member may appear only once".into()
        )]
    );
}

#[test]
fn policy_field_errors() {
    let mut unknown = good_doc();
    unknown["policies"][0]["colour"] = json!("red");
    one(&unknown, "/policies/0/colour", "unknown field");
    one(
        &without(good_doc(), "/policies/0/level"),
        "/policies/0/level",
        "required field is missing",
    );
    one(
        &with(good_doc(), "/policies/0/level", json!("paranoid")),
        "/policies/0/level",
        "unknown level",
    );
    one(
        &with(good_doc(), "/policies/0/name", json!("")),
        "/policies/0/name",
        "must not be empty",
    );
    one(
        &push_policy(
            good_doc(),
            with(good_policy(), "/scopes", json!(["models/other/**"])),
        ),
        "/policies/1/name",
        "duplicate policy name \"prod\" (also /policies/0/name)",
    );
}

#[test]
fn override_errors() {
    for lowered in ["log", "skip"] {
        let doc = with(good_doc(), "/policies/0/level", json!("audit"));
        let mut doc = doc;
        doc["policies"][0]["override"] = json!({ "integrity": lowered });
        one(
            &doc,
            "/policies/0/override/integrity",
            "integrity cannot be lowered",
        );
    }
    let mut doc = good_doc();
    doc["policies"][0]["override"] = json!({ "expiry": "ignore" });
    one(&doc, "/policies/0/override/expiry", "unknown action");
    let mut doc = good_doc();
    doc["policies"][0]["override"] = json!({ "timestamp": "log" });
    one(&doc, "/policies/0/override/timestamp", "unknown field");
    let skip =
        json!({"name": "s", "scopes": ["tmp/**"], "level": "skip", "override": {"expiry": "log"}});
    one(
        &push_policy(good_doc(), skip),
        "/policies/1/override",
        "cannot be overridden",
    );
}

#[test]
fn scope_errors() {
    for (bad, why) in [
        ("models/{a,b}", "brace alternation"),
        ("models//x", "empty path component"),
        ("models/../x", "`..`"),
        ("models/a**", "whole path component"),
        ("models/[x", "unclosed"),
        ("name:", "empty model name"),
        ("name:a/b", "cannot contain `/`"),
    ] {
        one(
            &with(
                good_doc(),
                "/policies/0/scopes",
                json!(["models/ok/*", bad]),
            ),
            "/policies/0/scopes/1",
            why,
        );
    }
    one(
        &with(good_doc(), "/policies/0/scopes", json!([])),
        "/policies/0/scopes",
        "must not be empty",
    );
    one(
        &with(
            good_doc(),
            "/policies/0/scopes",
            json!(["models/a/*", "models/a/*"]),
        ),
        "/policies/0/scopes/1",
        "duplicate of /policies/0/scopes/0",
    );
}

#[test]
fn overlapping_scopes_of_equal_specificity() {
    // models/x* and models/*y both match models/xy, with equal specificity.
    let a = with(good_policy(), "/scopes", json!(["models/x*"]));
    let b = with(
        with(good_policy(), "/name", json!("other")),
        "/scopes",
        json!(["models/*y"]),
    );
    let doc = with(good_doc(), "/policies", json!([a, b]));
    one(
        &doc,
        "/policies/1/scopes/0",
        "overlaps /policies/0/scopes/0",
    );
    // Disjoint at equal specificity, or overlapping at different
    // specificity: both fine.
    let a = with(good_policy(), "/scopes", json!(["models/*.bin"]));
    let b = with(
        with(good_policy(), "/name", json!("other")),
        "/scopes",
        json!(["models/*.txt", "models/x*/**"]),
    );
    assert_eq!(
        problems(&with(good_doc(), "/policies", json!([a, b]))),
        vec![]
    );
    // A leading or inner `**` may match nothing: models/**/x* covers
    // models/xa, as models/x* does.
    let a = with(good_policy(), "/scopes", json!(["models/x*"]));
    let b = with(
        with(good_policy(), "/name", json!("other")),
        "/scopes",
        json!(["models/**/x*"]),
    );
    one(
        &with(good_doc(), "/policies", json!([a, b])),
        "/policies/1/scopes/0",
        "overlaps",
    );
    // Two global scopes.
    let a = with(good_policy(), "/scopes", json!(["*"]));
    let b = with(
        with(good_policy(), "/name", json!("other")),
        "/scopes",
        json!(["models/a", "*"]),
    );
    one(
        &with(good_doc(), "/policies", json!([a, b])),
        "/policies/1/scopes/1",
        "overlaps /policies/0/scopes/0",
    );
    // `name:` scopes are path patterns too: name:bert overlaps **/bert.
    let a = with(good_policy(), "/scopes", json!(["name:bert"]));
    let b = with(
        with(good_policy(), "/name", json!("other")),
        "/scopes",
        json!(["/**/bert"]),
    );
    one(
        &with(good_doc(), "/policies", json!([a, b])),
        "/policies/1/scopes/0",
        "overlaps",
    );
}

#[test]
fn trust_store_errors() {
    one(
        &with(
            good_doc(),
            "/policies/0/trustStores",
            json!(["release", "missing"]),
        ),
        "/policies/0/trustStores/1",
        "no trust store named \"missing\"",
    );
    one(
        &without(good_doc(), "/policies/0/trustStores"),
        "/policies/0/trustStores",
        "required field is missing",
    );
    one(
        &with(
            good_doc(),
            "/trustStores/release/certificates/0",
            json!("/nonexistent/root.pem"),
        ),
        "/trustStores/release/certificates/0",
        "cannot read /nonexistent/root.pem",
    );
    one(
        &with(
            good_doc(),
            "/trustStores/release/certificates/0",
            json!(abs("pki/p256/leaf.key")),
        ),
        "/trustStores/release/certificates/0",
        "no CERTIFICATE block",
    );
    one(
        &with(
            good_doc(),
            "/trustStores/release/certificates/0",
            json!(abs("models/demo/config.json")),
        ),
        "/trustStores/release/certificates/0",
        "malformed certificate",
    );
    one(
        &with(good_doc(), "/trustStores/release", json!({})),
        "/trustStores/release",
        "holds no certificate",
    );
    one(
        &with(
            good_doc(),
            "/trustStores/release",
            json!({"certificates": [abs("pki/p256/root.pem")], "extra": 1}),
        ),
        "/trustStores/release/extra",
        "unknown field",
    );
    let mut doc = good_doc();
    doc["trustStores"]["a/b"] = json!({"certificates": [abs("pki/p256/root.pem")]});
    one(&doc, "/trustStores/a~1b", "invalid trust store name");
    // A store that failed to load is reported once, not again where used.
    let doc = with(
        good_doc(),
        "/trustStores/release/certificates",
        json!(["/nonexistent.pem"]),
    );
    assert_eq!(problems(&doc).len(), 1);
}

#[test]
fn directory_stores() {
    let dir = tempfile::tempdir().unwrap();
    let roots = dir.path().join("roots");
    std::fs::create_dir(&roots).unwrap();
    std::fs::write(roots.join("README.txt"), b"ignored").unwrap();
    let doc = with(
        good_doc(),
        "/trustStores/release",
        json!({"directories": [roots.display().to_string()]}),
    );
    one(
        &doc,
        "/trustStores/release/directories/0",
        "holds no certificate file",
    );
    std::fs::copy(fixture("pki/p256/root.pem"), roots.join("p256.PEM")).unwrap();
    std::fs::copy(fixture("pki/rsa/root.pem"), roots.join("rsa.crt")).unwrap();
    // DER too.
    let pem = std::fs::read(fixture("pki/ed25519/root.pem")).unwrap();
    let der = modelseal_verifier::certificates_from_pem(&pem)
        .unwrap()
        .remove(0);
    std::fs::write(roots.join("ed25519.der"), der).unwrap();
    let bytes = serde_json::to_vec(&doc).unwrap();
    let set = PolicySet::from_json(&bytes, dir.path(), Path::new("p.json")).unwrap();
    assert_eq!(set.trust_stores()[0].roots().len(), 3);
    std::fs::write(
        roots.join("broken.pem"),
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let got = problems_of(dir.path(), &bytes);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "/trustStores/release/directories/0");
    assert!(got[0].1.contains("broken.pem"), "{got:?}");
    // Relative paths resolve against the policy's directory.
    let rel = with(
        good_doc(),
        "/trustStores/release",
        json!({"certificates": ["roots/p256.PEM"]}),
    );
    assert_eq!(
        problems_of(dir.path(), &serde_json::to_vec(&rel).unwrap()),
        vec![]
    );
}

#[test]
fn identity_and_count_errors() {
    one(
        &with(
            good_doc(),
            "/policies/0/trustedIdentities",
            json!(["email:a@b", "CN="]),
        ),
        "/policies/0/trustedIdentities/1",
        "invalid identity",
    );
    one(
        &with(
            good_doc(),
            "/policies/0/trustedIdentities",
            json!(["*", "email:a@b"]),
        ),
        "/policies/0/trustedIdentities/0",
        "`*` must be the only trusted identity",
    );
    one(
        &without(good_doc(), "/policies/0/trustedIdentities"),
        "/policies/0/trustedIdentities",
        "required field is missing",
    );
    one(
        &with(good_doc(), "/policies/0/trustedIdentities", json!([])),
        "/policies/0/trustedIdentities",
        "must not be empty",
    );
    let mut doc = good_doc();
    doc["policies"][0]["requiredSignatures"] = json!(2);
    one(
        &doc,
        "/policies/0/requiredSignatures",
        "2 distinct signers required but only 1",
    );
    let mut doc = with(good_doc(), "/policies/0/trustedIdentities", json!(["*"]));
    doc["policies"][0]["requiredSignatures"] = json!(2);
    one(
        &doc,
        "/policies/0/requiredSignatures",
        "cannot be counted against `*`",
    );
    let mut doc = good_doc();
    doc["policies"][0]["requiredSignatures"] = json!(0);
    one(&doc, "/policies/0/requiredSignatures", "out of range");
    let mut doc = good_doc();
    doc["policies"][0]["requiredSignatures"] = json!("2");
    one(
        &doc,
        "/policies/0/requiredSignatures",
        "expected an integer",
    );
    let mut doc = good_doc();
    doc["policies"][0]["override"] = json!({"authenticity": "skip"});
    doc["policies"][0]["trustedIdentities"] = json!(["email:a@b", "email:c@d"]);
    doc["policies"][0]["requiredSignatures"] = json!(2);
    one(
        &doc,
        "/policies/0/requiredSignatures",
        "authenticity is skipped",
    );
    // Authenticity skipped: identities may be left out.
    let mut doc = without(good_doc(), "/policies/0/trustedIdentities");
    doc["policies"][0]["override"] = json!({"authenticity": "skip"});
    assert_eq!(problems(&doc), vec![]);
}

#[test]
fn skip_policy_errors() {
    let skip = |extra: Value| {
        let mut p = json!({"name": "s", "scopes": ["scratch/**"], "level": "skip"});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        push_policy(good_doc(), p)
    };
    assert_eq!(problems(&skip(json!({}))), vec![]);
    one(
        &skip(json!({"scopes": ["*"]})),
        "/policies/1/scopes/0",
        "cannot have the global scope",
    );
    one(
        &skip(json!({"trustStores": ["release"]})),
        "/policies/1/trustStores",
        "a skip policy checks nothing",
    );
    one(
        &skip(json!({"requiredSignatures": 1})),
        "/policies/1/requiredSignatures",
        "a skip policy checks nothing",
    );
}

#[test]
fn algorithm_and_revocation_errors() {
    let mut doc = good_doc();
    doc["policies"][0]["algorithms"] = json!({"allowed": ["ecdsa-p256-sha256", "rsa-sha1"]});
    one(
        &doc,
        "/policies/0/algorithms/allowed/1",
        "unknown signature algorithm \"rsa-sha1\"",
    );
    doc["policies"][0]["algorithms"] = json!({"allowed": []});
    one(&doc, "/policies/0/algorithms/allowed", "must not be empty");
    doc["policies"][0]["algorithms"] = json!({"rsaMinBits": 1024});
    one(
        &doc,
        "/policies/0/algorithms/rsaMinBits",
        "out of range 2048..=8192",
    );
    doc["policies"][0]["algorithms"] = json!({"curves": []});
    one(&doc, "/policies/0/algorithms/curves", "unknown field");

    one(
        &with(
            good_doc(),
            "/policies/0/revocation/crls/0",
            json!(abs("pki/p256/root.pem")),
        ),
        "/policies/0/revocation/crls/0",
        "no X509 CRL block",
    );
    one(
        &with(
            good_doc(),
            "/policies/0/revocation/crls/0",
            json!("/nonexistent.crl"),
        ),
        "/policies/0/revocation/crls/0",
        "cannot read",
    );
    one(
        &with(
            good_doc(),
            "/policies/0/revocation",
            json!({"crls": [abs("pki/bad/revoked.crl.der")], "crlCoverage": "all"}),
        ),
        "/policies/0/revocation/crlCoverage",
        "unknown coverage",
    );
    one(
        &with(
            good_doc(),
            "/policies/0/revocation",
            json!({"deny": {"serials": ["12:zz"]}}),
        ),
        "/policies/0/revocation/deny/serials/0",
        "not a hexadecimal serial number",
    );
    one(
        &with(
            good_doc(),
            "/policies/0/revocation",
            json!({"deny": {"spkiSha256": ["abcd"]}}),
        ),
        "/policies/0/revocation/deny/spkiSha256/0",
        "64 hex digits",
    );
    // Enforced revocation needs something to check against.
    one(
        &without(good_doc(), "/policies/0/revocation"),
        "/policies/0/revocation",
        "revocation is enforced",
    );
    one(
        &with(good_doc(), "/policies/0/revocation", json!({})),
        "/policies/0/revocation",
        "revocation is enforced",
    );
    // Logged, it may have none.
    let doc = with(
        without(good_doc(), "/policies/0/revocation"),
        "/policies/0/level",
        json!("permissive"),
    );
    assert_eq!(problems(&doc), vec![]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut doc = good_doc();
    doc["version"] = json!("0");
    doc["policies"][0]["level"] = json!("loose");
    doc["policies"][0]["trustStores"] = json!(["nope"]);
    doc["policies"][0]["scopes"] = json!(["a//b"]);
    let got: Vec<String> = problems(&doc).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        got,
        vec![
            "/version",
            "/policies/0/level",
            "/policies/0/scopes/0",
            "/policies/0/trustStores/0"
        ]
    );
}

#[test]
fn the_example_policy_loads() {
    let set = PolicySet::load(&fixture("policies/example.json")).unwrap();
    let names: Vec<&str> = set.policies().iter().map(|p| p.name()).collect();
    assert_eq!(names, vec!["production", "staging", "vendored", "scratch"]);
    assert_eq!(set.policies()[0].required_signatures(), 2);
    assert_eq!(set.policies()[0].revocation().crls().len(), 1);
}

#[test]
fn unreadable_policy_file() {
    let err = PolicySet::load(Path::new("/nonexistent/policy.json")).unwrap_err();
    assert!(matches!(err, Error::Read { .. }), "{err}");
    assert_eq!(err.kind(), "unreadable_input");
}

#[test]
fn content_sections_are_validated() {
    let with = |content: Value| {
        let mut doc = good_doc();
        doc["policies"][0]["content"] = content;
        doc
    };
    let doc = with(
        json!({ "level": "log", "formats": ["safetensors", "gguf"], "allowGlobals": ["argparse.Namespace"] }),
    );
    let dir = tempfile::tempdir().unwrap();
    let set = PolicySet::from_json(
        &serde_json::to_vec(&doc).unwrap(),
        dir.path(),
        Path::new("p.json"),
    )
    .unwrap();
    let c = set.policies()[0].content().unwrap();
    assert_eq!(c.action(), modelseal_policies::Action::Log);
    assert_eq!(c.formats().unwrap().len(), 2);
    assert_eq!(c.allow_globals(), ["argparse.Namespace"]);
    assert!(set.policies()[0].content().is_some());

    one(
        &with(json!({ "level": "strict" })),
        "/policies/0/content/level",
        "expected enforce or log",
    );
    one(
        &with(json!({ "formats": ["pickle", "exe"] })),
        "/policies/0/content/formats/1",
        "unknown format \"exe\"",
    );
    one(
        &with(json!({ "allowGlobals": ["os"] })),
        "/policies/0/content/allowGlobals/0",
        "expected module.name",
    );
    one(
        &with(json!({ "scan": true })),
        "/policies/0/content/scan",
        "unknown field",
    );
    let mut skip = good_doc();
    skip["policies"][0] =
        json!({ "name": "dev", "scopes": ["models/dev/**"], "level": "skip", "content": {} });
    one(&skip, "/policies/0/content", "a skip policy checks nothing");
}

#[test]
fn timestamp_sections_are_validated() {
    let tsa_doc = |timestamps: Value| {
        let mut doc = good_doc();
        doc["trustStores"]["tsa"] = json!({ "certificates": [abs("tsa/root.pem")] });
        doc["policies"][0]["timestamps"] = timestamps;
        doc
    };
    let load = |doc: &Value| {
        let dir = tempfile::tempdir().unwrap();
        PolicySet::from_json(
            &serde_json::to_vec(doc).unwrap(),
            dir.path(),
            Path::new("p.json"),
        )
        .unwrap()
    };
    use modelseal_policies::Action;
    // Required: the timestamp check follows authenticity.
    let set = load(&tsa_doc(
        json!({ "trustStores": ["tsa"], "required": true }),
    ));
    let p = &set.policies()[0];
    let t = p.timestamps().unwrap();
    assert!(t.required());
    assert_eq!(t.trust_store_names(), ["tsa"]);
    assert_eq!(t.root_count(), 1);
    assert_eq!(p.actions().timestamp, Action::Enforce);
    // Optional: only logged; under authenticity skip, skipped.
    let set = load(&tsa_doc(json!({ "trustStores": ["tsa"] })));
    assert!(!set.policies()[0].timestamps().unwrap().required());
    assert_eq!(set.policies()[0].actions().timestamp, Action::Log);
    let mut doc = tsa_doc(json!({ "trustStores": ["tsa"], "required": true }));
    doc["policies"][0]["level"] = json!("audit");
    assert_eq!(load(&doc).policies()[0].actions().timestamp, Action::Log);
    // None: skipped.
    let set = load(&good_doc());
    assert!(set.policies()[0].timestamps().is_none());
    assert_eq!(set.policies()[0].actions().timestamp, Action::Skip);

    one(
        &tsa_doc(json!({ "required": true })),
        "/policies/0/timestamps/trustStores",
        "required field is missing",
    );
    one(
        &tsa_doc(json!({ "trustStores": [] })),
        "/policies/0/timestamps/trustStores",
        "must not be empty",
    );
    one(
        &tsa_doc(json!({ "trustStores": ["nope"] })),
        "/policies/0/timestamps/trustStores/0",
        "no trust store named \"nope\"",
    );
    one(
        &tsa_doc(json!({ "trustStores": ["release"] })),
        "/policies/0/timestamps/trustStores/0",
        "keep TSA roots in a store of their own",
    );
    one(
        &tsa_doc(json!({ "trustStores": ["tsa"], "required": "yes" })),
        "/policies/0/timestamps/required",
        "expected true or false",
    );
    one(
        &tsa_doc(json!({ "trustStores": ["tsa"], "rfc3161": true })),
        "/policies/0/timestamps/rfc3161",
        "unknown field",
    );
    let mut skip = tsa_doc(json!({ "trustStores": ["tsa"] }));
    skip["policies"][0] = json!({ "name": "dev", "scopes": ["models/dev/**"], "level": "skip", "timestamps": { "trustStores": ["tsa"] } });
    one(
        &skip,
        "/policies/0/timestamps",
        "a skip policy checks nothing",
    );
}

#[test]
fn timestamps_and_sigstore_roots_do_not_mix() {
    let mut doc = good_doc();
    doc["trustStores"]["tsa"] = json!({ "certificates": [abs("tsa/root.pem")] });
    doc["trustStores"]["sigstore"] = json!({ "sigstore": "public-good" });
    doc["policies"][0]["timestamps"] = json!({ "trustStores": ["sigstore"] });
    one(
        &doc,
        "/policies/0/timestamps/trustStores/0",
        "is a Sigstore trusted root",
    );
    doc["policies"][0]["trustStores"] = json!(["release", "sigstore"]);
    doc["policies"][0]["timestamps"] = json!({ "trustStores": ["tsa"] });
    one(
        &doc,
        "/policies/0/timestamps",
        "timestampAuthorities vouch for timestamps",
    );
}
