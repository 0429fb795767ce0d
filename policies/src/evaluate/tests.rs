//! Truth tables for the decision combinators.

use super::*;
use crate::level::Level;

fn good(label: &str, key: &str, matched: &[usize]) -> SignatureFacts {
    let p = || Fact::pass("ok");
    SignatureFacts {
        label: label.into(),
        bundle: p(),
        signature: p(),
        statement: p(),
        algorithm: p(),
        chain: p(),
        tlog: p(),
        identity: p(),
        timestamp: p(),
        expiry: p(),
        revocation: p(),
        files: p(),
        matched: matched.to_vec(),
        signer_key: Some(key.into()),
    }
}

fn with(mut f: SignatureFacts, name: CheckName, fact: Fact) -> SignatureFacts {
    let slot = match name {
        CheckName::Bundle => &mut f.bundle,
        CheckName::Signature => &mut f.signature,
        CheckName::Statement => &mut f.statement,
        CheckName::Algorithm => &mut f.algorithm,
        CheckName::Chain => &mut f.chain,
        CheckName::Tlog => &mut f.tlog,
        CheckName::Identity => &mut f.identity,
        CheckName::Timestamp => &mut f.timestamp,
        CheckName::Expiry => &mut f.expiry,
        CheckName::Revocation => &mut f.revocation,
        CheckName::Files => &mut f.files,
        CheckName::Quorum | CheckName::Content => unreachable!(),
    };
    *slot = fact;
    f
}

#[test]
fn matching_truth_table() {
    let cases: &[(&[&[usize]], usize)] = &[
        (&[], 0),
        (&[&[]], 0),
        (&[&[0]], 1),
        (&[&[0], &[0]], 1),
        (&[&[0, 1]], 1),
        (&[&[0, 1], &[0]], 2),
        (&[&[0], &[0, 1]], 2),
        (&[&[], &[1]], 1),
        (&[&[0, 1], &[0, 1], &[0, 1]], 2),
        (&[&[2], &[2], &[0, 2], &[1]], 3),
    ];
    for (rows, want) in cases {
        let rows: Vec<Vec<usize>> = rows.iter().map(|r| r.to_vec()).collect();
        assert_eq!(max_matching(&rows), *want, "{rows:?}");
    }
}

#[test]
fn one_failing_check_per_level_truth_table() {
    for level in [Level::Strict, Level::Permissive, Level::Audit] {
        // A policy that requires a timestamp: the check follows authenticity.
        let mut actions = level.actions();
        actions.timestamp = actions.authenticity;
        for name in CheckName::PER_SIGNATURE {
            for bad in [
                Fact::fail("bad"),
                Fact::not_run("n/a"),
                Fact::skipped("none"),
            ] {
                let facts = [with(good("a.sig", "k", &[0]), name, bad.clone())];
                let d = decide(&actions, 1, &facts);
                let enforced = action(&actions, name) == Action::Enforce;
                assert_eq!(
                    d.accepted,
                    !enforced,
                    "{level} {} {:?}",
                    name.as_str(),
                    bad.status
                );
                assert_eq!(d.signatures, vec![!enforced]);
                let c = d.checks.iter().find(|c| c.name == name).unwrap();
                assert_eq!(c.level, action(&actions, name));
                assert_eq!(
                    c.outcome, bad.status,
                    "a logged check reports what it found"
                );
                assert_eq!(d.reason.is_some(), enforced);
                // Under audit, a broken chain or identity leaves no trusted
                // signer: the quorum fails, but only as a log entry.
                let q = d
                    .checks
                    .iter()
                    .find(|c| c.name == CheckName::Quorum)
                    .unwrap();
                let counted = !(enforced || matches!(name, CheckName::Chain | CheckName::Identity));
                assert_eq!(
                    q.outcome == Status::Pass,
                    counted,
                    "{level} {}",
                    name.as_str()
                );
            }
        }
        // Everything passing is accepted at every level.
        let d = decide(&actions, 1, &[good("a.sig", "k", &[0])]);
        assert!(
            d.accepted && d.reason.is_none() && d.signers == 1,
            "{level}"
        );
    }
}

#[test]
fn skipped_categories_report_skipped_whatever_was_found() {
    let mut actions = Level::Strict.actions();
    actions.set(Category::Expiry, Action::Skip).unwrap();
    actions.set(Category::Revocation, Action::Skip).unwrap();
    let facts = [with(
        with(
            good("a.sig", "k", &[0]),
            CheckName::Expiry,
            Fact::fail("expired"),
        ),
        CheckName::Revocation,
        Fact::fail("revoked"),
    )];
    let d = decide(&actions, 1, &facts);
    assert!(d.accepted);
    for name in [CheckName::Expiry, CheckName::Revocation] {
        let c = d.checks.iter().find(|c| c.name == name).unwrap();
        assert_eq!((c.level, c.outcome), (Action::Skip, Status::Skipped));
    }
    // Authenticity skipped: no quorum either.
    let mut actions = Level::Strict.actions();
    actions.set(Category::Authenticity, Action::Skip).unwrap();
    let facts = [with(
        good("a.sig", "k", &[]),
        CheckName::Chain,
        Fact::fail("untrusted"),
    )];
    let d = decide(&actions, 1, &facts);
    assert!(d.accepted);
    let q = d.checks.last().unwrap();
    assert_eq!((q.name, q.outcome), (CheckName::Quorum, Status::Skipped));
}

#[test]
fn nothing_given_is_rejected() {
    for level in [Level::Strict, Level::Permissive, Level::Audit] {
        let d = decide(&level.actions(), 1, &[]);
        assert!(
            !d.accepted,
            "{level}: an empty set of signatures must not pass"
        );
        assert_eq!(d.reason.as_deref(), Some("no signature was given"));
    }
}

#[test]
fn k_of_n_truth_table() {
    let strict = Level::Strict.actions();
    let permissive = Level::Permissive.actions();
    let audit = Level::Audit.actions();
    let a = || good("a.sig", "key-a", &[0]);
    let b = || good("b.sig", "key-b", &[1]);
    let revoked = |f| with(f, CheckName::Revocation, Fact::fail("revoked"));
    let cases: Vec<(&str, &Actions, Vec<SignatureFacts>, bool, usize)> = vec![
        ("A and B", &strict, vec![a(), b()], true, 2),
        ("A only", &strict, vec![a()], false, 1),
        (
            "A twice (same key)",
            &strict,
            vec![a(), good("a2.sig", "key-a", &[0])],
            false,
            1,
        ),
        (
            "A with two keys",
            &strict,
            vec![a(), good("a2.sig", "key-a2", &[0])],
            false,
            1,
        ),
        (
            "B revoked, strict",
            &strict,
            vec![a(), revoked(b())],
            false,
            1,
        ),
        (
            "B revoked, permissive",
            &permissive,
            vec![a(), revoked(b())],
            true,
            2,
        ),
        (
            "A, B and a revoked C",
            &strict,
            vec![a(), b(), revoked(good("c.sig", "key-c", &[0, 1]))],
            true,
            2,
        ),
        (
            "one signer matching both identities",
            &strict,
            vec![good("ab.sig", "key-ab", &[0, 1])],
            false,
            1,
        ),
        (
            "B untrusted chain",
            &strict,
            vec![a(), with(b(), CheckName::Chain, Fact::fail("untrusted"))],
            false,
            1,
        ),
        ("quorum short under audit", &audit, vec![a()], true, 1),
    ];
    for (what, actions, facts, accepted, signers) in cases {
        let d = decide(actions, 2, &facts);
        assert_eq!(d.accepted, accepted, "{what}: {:?}", d.reason);
        assert_eq!(d.signers, signers, "{what}");
        let q = d.checks.last().unwrap();
        assert_eq!(q.outcome == Status::Pass, signers >= 2, "{what}");
    }
}

#[test]
fn rejected_signatures_do_not_veto() {
    let d = decide(
        &Level::Strict.actions(),
        1,
        &[
            with(
                good("bad.sig", "k1", &[0]),
                CheckName::Signature,
                Fact::fail("invalid"),
            ),
            good("good.sig", "k2", &[0]),
        ],
    );
    assert!(d.accepted);
    assert_eq!(d.signatures, vec![false, true]);
}

#[test]
fn input_errors_make_no_decision_only_when_nothing_else_failed() {
    let malformed = |l: &str| with(good(l, l, &[0]), CheckName::Bundle, Fact::input("not JSON"));
    let d = decide(
        &Level::Strict.actions(),
        1,
        &[malformed("a"), malformed("b")],
    );
    assert!(!d.accepted && d.undecided);
    let d = decide(
        &Level::Strict.actions(),
        1,
        &[
            malformed("a"),
            with(
                good("b", "b", &[0]),
                CheckName::Signature,
                Fact::fail("invalid"),
            ),
        ],
    );
    assert!(!d.accepted && !d.undecided);
    let reason = d.reason.unwrap();
    assert!(reason.contains("a: bundle failed: not JSON"), "{reason}");
    assert!(reason.contains("b: signature failed: invalid"), "{reason}");
}

#[test]
fn the_timestamp_check_is_governed_by_its_own_action() {
    for (ts, accepted, outcome) in [
        (Action::Skip, true, Status::Skipped),
        (Action::Log, true, Status::Fail),
        (Action::Enforce, false, Status::Fail),
    ] {
        let mut actions = Level::Strict.actions();
        actions.timestamp = ts;
        let facts = [with(
            good("a.sig", "k", &[0]),
            CheckName::Timestamp,
            Fact::fail("no timestamp"),
        )];
        let d = decide(&actions, 1, &facts);
        assert_eq!(d.accepted, accepted, "{ts}");
        let c = d
            .checks
            .iter()
            .find(|c| c.name == CheckName::Timestamp)
            .unwrap();
        assert_eq!((c.level, c.outcome), (ts, outcome));
        assert_eq!(c.category, Category::Authenticity);
        if !accepted {
            assert!(
                d.reason
                    .as_deref()
                    .unwrap()
                    .contains("timestamp failed: no timestamp"),
                "{:?}",
                d.reason
            );
        }
    }
}

#[test]
fn a_failed_log_entry_is_an_authenticity_failure() {
    let bad = || {
        [with(
            good("a.sig", "k", &[0]),
            CheckName::Tlog,
            Fact::fail("transparency log entry 0: inclusion proof"),
        )]
    };
    let d = decide(&Level::Permissive.actions(), 1, &bad());
    assert!(!d.accepted);
    let c = d.checks.iter().find(|c| c.name == CheckName::Tlog).unwrap();
    assert_eq!((c.level, c.outcome), (Action::Enforce, Status::Fail));
    // Logged, not enforced, under audit.
    let d = decide(&Level::Audit.actions(), 1, &bad());
    assert!(d.accepted);
    assert_eq!(CheckName::Tlog.category(), Category::Authenticity);
}
