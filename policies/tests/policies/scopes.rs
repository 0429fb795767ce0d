//! Scope precedence: the most specific scope wins; no scope, no model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{abs, load};
use modelseal_policies::{Error, SymlinkRefusal};
use serde_json::{Value, json};

fn policy(name: &str, scopes: Value) -> Value {
    json!({
        "name": name,
        "scopes": scopes,
        "level": "permissive",
        "trustStores": ["p256"],
        "trustedIdentities": ["*"]
    })
}

fn doc(policies: Vec<Value>) -> Value {
    json!({
        "version": "1",
        "trustStores": { "p256": { "certificates": [abs("pki/p256/root.pem")] } },
        "policies": policies
    })
}

#[test]
fn most_specific_scope_wins() {
    let dir = tempfile::tempdir().unwrap();
    for d in [
        "models/prod/bert",
        "models/prod/special",
        "models/prod/deep/er/llama",
        "models/staging/llama",
        "models/staging/bert",
        "elsewhere/bert",
        "elsewhere/x",
    ] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let set = load(
        dir.path(),
        &doc(vec![
            policy("global", json!(["*"])),
            policy("models", json!(["models/**"])),
            policy("prod-direct", json!(["models/prod/*"])),
            policy("special", json!(["models/prod/special"])),
            policy("bert", json!(["name:bert"])),
            policy("staging", json!(["path:models/staging/*"])),
        ]),
    );
    let cases = [
        ("models/prod/bert", "prod-direct", "models/prod/*"),
        ("models/prod/special", "special", "models/prod/special"),
        ("models/prod/deep/er/llama", "models", "models/**"),
        ("models/staging/llama", "staging", "path:models/staging/*"),
        ("models/staging/bert", "staging", "path:models/staging/*"),
        ("elsewhere/bert", "bert", "name:bert"),
        ("elsewhere/x", "global", "*"),
    ];
    for (path, want, scope) in cases {
        let (_, sel) = set.select_path(&dir.path().join(path)).unwrap();
        assert_eq!(sel.policy.name(), want, "{path}");
        assert_eq!(sel.scope.text(), scope, "{path}");
    }
    // Paths are taken as given: `..` is removed lexically, and a symbolic
    // link that would change the policy, or any link below the winning
    // scope's root, is refused (issue 19 item 1).
    let via_dotdot = dir.path().join("models/staging/../prod/special");
    assert_eq!(
        set.select_path(&via_dotdot).unwrap().1.policy.name(),
        "special"
    );
    let link = dir.path().join("models/prod/link-to-x");
    std::os::unix::fs::symlink(dir.path().join("elsewhere/x"), &link).unwrap();
    let err = set.select_path(&link).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Symlink { reason, .. } if matches!(
                &**reason,
                SymlinkRefusal::OtherPolicy { other_policy, .. } if other_policy == "global"
            )
        ),
        "{err}"
    );
    assert!(!err.is_rejection());
    assert!(err.to_string().contains("\"global\""), "{err}");
    let same = dir.path().join("models/prod/link-to-bert");
    std::os::unix::fs::symlink(dir.path().join("models/prod/bert"), &same).unwrap();
    let err = set.select_path(&same).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Symlink { reason, .. } if matches!(
                &**reason,
                SymlinkRefusal::BelowScopeRoot { link, .. } if *link == same
            )
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("link-to-bert is a symbolic link below"),
        "{err}"
    );
}

#[test]
fn no_matching_scope_is_a_rejection() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("unlisted/m")).unwrap();
    let set = load(dir.path(), &doc(vec![policy("prod", json!(["models/**"]))]));
    let err = set.select_path(&dir.path().join("unlisted/m")).unwrap_err();
    assert!(matches!(err, Error::NoPolicy { .. }), "{err}");
    assert!(err.is_rejection());
    let err = set
        .select_path(&dir.path().join("does/not/exist"))
        .unwrap_err();
    assert!(matches!(err, Error::ModelPath { .. }), "{err}");
    assert!(!err.is_rejection());
}

#[test]
fn absolute_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("abs/model");
    std::fs::create_dir_all(&m).unwrap();
    let canonical = std::fs::canonicalize(&m).unwrap();
    let pattern = format!("{}/*", canonical.parent().unwrap().display());
    let set = load(dir.path(), &doc(vec![policy("abs", json!([pattern]))]));
    assert_eq!(set.select_path(&m).unwrap().1.policy.name(), "abs");
}
