//! Revocation lists during path validation, against the fixtures PKI:
//! `bad/revoked` is listed by the CRL of `p256/intermediate`, `p256/leaf`
//! is not, and no list covers the intermediate itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use modelseal_verifier::{CertificateError, Coverage, Crl, CrlCheck, TrustAnchors};
use modelseal_verifier::{certificates_from_pem, validate_chain, validate_chain_with};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/pki")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap()
}

fn chain(rel: &str) -> Vec<Vec<u8>> {
    certificates_from_pem(&read(rel)).unwrap()
}

fn p256_root() -> TrustAnchors {
    TrustAnchors::from_pem(&read("p256/root.pem")).unwrap()
}

/// 2030-01-01T00:00:00Z: inside every good certificate's validity.
use modelseal_testkit::t2030;

fn crls() -> Vec<Crl> {
    Crl::from_file_bytes(&read("bad/revoked.crl.pem")).unwrap()
}

#[test]
fn pem_and_der_lists_parse_the_same() {
    let pem = crls();
    let der = Crl::from_file_bytes(&read("bad/revoked.crl.der")).unwrap();
    assert_eq!(pem.len(), 1);
    assert_eq!(der.len(), 1);
    assert_eq!(pem[0].sha256(), der[0].sha256());
    assert_eq!(pem[0].revoked_count(), 1);
    assert_eq!(pem[0].next_update(), 2_366_841_600); // 2045-01-01
    assert!(
        pem[0]
            .issuer()
            .to_string()
            .contains("intermediate CA P-256")
    );
}

#[test]
fn revoked_leaf_is_refused_only_with_the_list() {
    let anchors = p256_root();
    let revoked = chain("bad/revoked.fullchain.pem");
    validate_chain(&revoked, &anchors, t2030()).unwrap();
    let lists = crls();
    for coverage in [Coverage::Leaf, Coverage::Any] {
        let check = CrlCheck {
            crls: &lists,
            coverage,
        };
        let err = validate_chain_with(&revoked, &anchors, t2030(), Some(&check)).unwrap_err();
        match err {
            CertificateError::Revoked { subject } => {
                assert!(subject.contains("revoked"), "{subject}")
            }
            other => panic!("{coverage:?}: {other:?}"),
        }
    }
}

#[test]
fn unlisted_leaf_passes_and_coverage_is_enforced() {
    let anchors = p256_root();
    let good = chain("p256/fullchain.pem");
    let lists = crls();
    let check = |coverage| CrlCheck {
        crls: &lists,
        coverage,
    };
    validate_chain_with(&good, &anchors, t2030(), Some(&check(Coverage::Leaf))).unwrap();
    validate_chain_with(&good, &anchors, t2030(), Some(&check(Coverage::Any))).unwrap();
    // No list from the root covers the intermediate.
    assert!(matches!(
        validate_chain_with(&good, &anchors, t2030(), Some(&check(Coverage::Chain))),
        Err(CertificateError::Revocation { .. })
    ));
    // A list of another CA covers nothing of the RSA chain.
    let rsa = chain("rsa/fullchain.pem");
    let rsa_root = TrustAnchors::from_pem(&read("rsa/root.pem")).unwrap();
    assert!(matches!(
        validate_chain_with(&rsa, &rsa_root, t2030(), Some(&check(Coverage::Leaf))),
        Err(CertificateError::Revocation { .. })
    ));
    validate_chain_with(&rsa, &rsa_root, t2030(), Some(&check(Coverage::Any))).unwrap();
    // No lists at all: leaf coverage cannot hold.
    let none = CrlCheck {
        crls: &[],
        coverage: Coverage::Leaf,
    };
    assert!(matches!(
        validate_chain_with(&good, &anchors, t2030(), Some(&none)),
        Err(CertificateError::Revocation { .. })
    ));
}

#[test]
fn list_with_a_bad_signature_is_unusable() {
    let mut der = read("bad/revoked.crl.der");
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let forged = Crl::from_file_bytes(&der).unwrap();
    let check = CrlCheck {
        crls: &forged,
        coverage: Coverage::Any,
    };
    let err = validate_chain_with(
        &chain("p256/fullchain.pem"),
        &p256_root(),
        t2030(),
        Some(&check),
    )
    .unwrap_err();
    assert!(
        matches!(&err, CertificateError::Revocation { reason } if reason.contains("Crl")),
        "{err:?}"
    );
}

#[test]
fn staleness_is_judged_against_the_given_time() {
    let lists = crls();
    let check = CrlCheck {
        crls: &lists,
        coverage: Coverage::Leaf,
    };
    assert!(check.stale_at(1_893_456_000).is_none());
    assert!(check.stale_at(2_366_841_601).is_some());
}

/// Issue 19 item 11: an older list of the same intermediate that lists
/// nothing, given before the one that revokes, must not hide the revocation,
/// whether the lists come as two files or concatenated in one PEM.
#[test]
fn every_list_of_an_issuer_is_consulted_not_the_first() {
    let anchors = p256_root();
    let revoked = chain("bad/revoked.fullchain.pem");
    let old = read("bad/old-empty.crl.pem");
    let emergency = read("bad/revoked.crl.pem");
    let mut two_files = Crl::from_file_bytes(&old).unwrap();
    two_files.extend(Crl::from_file_bytes(&emergency).unwrap());
    let concatenated = Crl::from_file_bytes(&[old.clone(), emergency.clone()].concat()).unwrap();
    assert_eq!(concatenated.len(), 2);
    for (name, lists) in [("two files", &two_files), ("one PEM", &concatenated)] {
        assert_eq!(lists[0].revoked_count(), 0, "{name}");
        assert_eq!(lists[1].revoked_count(), 1, "{name}");
        for coverage in [Coverage::Leaf, Coverage::Any] {
            let check = CrlCheck {
                crls: lists,
                coverage,
            };
            match validate_chain_with(&revoked, &anchors, t2030(), Some(&check)) {
                Err(CertificateError::Revoked { subject }) => {
                    assert!(
                        subject.contains("revoked"),
                        "{name} {coverage:?}: {subject}"
                    )
                }
                other => panic!("{name} {coverage:?}: {other:?}"),
            }
        }
        // The unrevoked leaf still passes with both lists.
        let check = CrlCheck {
            crls: lists,
            coverage: Coverage::Leaf,
        };
        validate_chain_with(
            &chain("p256/fullchain.pem"),
            &anchors,
            t2030(),
            Some(&check),
        )
        .unwrap();
    }
    // The old list alone covers the revoked leaf and does not list it.
    let old_only = Crl::from_file_bytes(&old).unwrap();
    let check = CrlCheck {
        crls: &old_only,
        coverage: Coverage::Leaf,
    };
    validate_chain_with(&revoked, &anchors, t2030(), Some(&check)).unwrap();
}
