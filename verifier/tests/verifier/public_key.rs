//! Loading public keys and the checks `PublicKey::verify` makes before any
//! cryptography: algorithm fit, RSA key size, hint resolution.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use getrandom::SysRng;
use modelseal_manifest::{KeyKind, SignatureAlgorithm};
use modelseal_verifier::{PssSaltLength, PublicKey, SignatureError, algorithm_for};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::EncodePublicKey;
use sha2::Sha256;

// RFC 8410 §10.1 test key (Ed25519 SPKI).
const ED25519_SPKI: &str =
    "302a300506032b657003210019bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rsa_key(bits: usize) -> rsa::PrivateKey {
    rsa::PrivateKey::new(&mut SysRng, bits).unwrap()
}

#[test]
fn ed25519_spki_loads_and_round_trips() {
    let der = hex(ED25519_SPKI);
    let key = PublicKey::from_spki_der(&der).unwrap();
    assert_eq!(key.key_kind(), KeyKind::Ed25519);
    assert_eq!(key.spki_der(), &der[..]);
    assert_eq!(format!("{key:?}"), "PublicKey { kind: Ed25519, .. }");
}

#[test]
fn malformed_der_is_refused_without_panic() {
    let der = hex(ED25519_SPKI);
    let mut trailing = der.clone();
    trailing.push(0);
    let mut ber_length = vec![0x30, 0x81, 0x2a];
    ber_length.extend_from_slice(&der[2..]);
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"garbage".to_vec(),
        der[..der.len() - 1].to_vec(),
        trailing,
        ber_length,
    ];
    for input in inputs {
        assert!(
            matches!(
                PublicKey::from_spki_der(&input),
                Err(SignatureError::MalformedKey { .. })
            ),
            "{input:02x?}"
        );
    }
    // Every prefix of a real key fails cleanly.
    let rsa_der = rsa_key(1024).to_public_key().to_public_key_der().unwrap();
    for len in 0..rsa_der.as_bytes().len() {
        assert!(PublicKey::from_spki_der(&rsa_der.as_bytes()[..len]).is_err());
    }
}

#[test]
fn unsupported_algorithms_and_curves_are_named() {
    // Ed448 (RFC 8410 shape, 57-byte key).
    let mut ed448 = hex("3043300506032b6571033a00");
    ed448.extend_from_slice(&[7u8; 57]);
    let err = PublicKey::from_spki_der(&ed448).unwrap_err();
    assert_eq!(
        err,
        SignatureError::UnsupportedKey {
            algorithm: "Ed448 (1.3.101.113)".to_owned()
        }
    );
    // id-ecPublicKey on secp256k1: refused by curve before the point is read.
    let mut k256 = hex("3056301006072a8648ce3d020106052b8104000a034200");
    k256.push(4);
    k256.extend_from_slice(&[1u8; 64]);
    let err = PublicKey::from_spki_der(&k256).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported public key on curve secp256k1 (1.3.132.0.10): only RSA, Ed25519 and ECDSA P-256/P-384 keys are supported"
    );
}

#[test]
fn pem_labels_and_pkcs1_are_handled() {
    let key = rsa_key(1024).to_public_key();
    let spki_pem = key.to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let pkcs1_pem = key.to_pkcs1_pem(rsa::pkcs8::LineEnding::CRLF).unwrap();
    let a = PublicKey::from_pem(spki_pem.as_bytes()).unwrap();
    let b = PublicKey::from_pem(pkcs1_pem.as_bytes()).unwrap();
    assert_eq!(a, b, "PKCS#1 and SPKI of one key are the same key");
    assert_eq!(a.key_kind(), KeyKind::Rsa { bits: 1024 });
    assert_eq!(a.spki_der(), key.to_public_key_der().unwrap().as_bytes());

    // Surrounding whitespace and a preamble are fine.
    let padded = format!("  comment line\n{spki_pem}\n\n");
    assert_eq!(PublicKey::from_pem(padded.as_bytes()).unwrap(), a);

    let cert = spki_pem.replace("PUBLIC KEY", "CERTIFICATE");
    assert_eq!(
        PublicKey::from_pem(cert.as_bytes()).unwrap_err(),
        SignatureError::UnexpectedPemLabel {
            label: "CERTIFICATE".to_owned()
        }
    );
    let truncated = &spki_pem[..spki_pem.len() - 30];
    assert!(matches!(
        PublicKey::from_pem(truncated.as_bytes()),
        Err(SignatureError::MalformedKey { .. })
    ));
    let corrupted = spki_pem.replacen('M', "*", 2);
    assert!(matches!(
        PublicKey::from_pem(corrupted.as_bytes()),
        Err(SignatureError::MalformedKey { .. })
    ));
    assert!(PublicKey::from_pem(b"").is_err());
    assert!(PublicKey::from_pem(&[0xff; 100]).is_err());
}

#[test]
fn weak_rsa_keys_load_but_never_verify() {
    for bits in [1024, 1536] {
        let private = rsa_key(bits);
        let der = private.to_public_key().to_public_key_der().unwrap();
        let key = PublicKey::from_spki_der(der.as_bytes()).unwrap();
        assert_eq!(key.key_kind(), KeyKind::Rsa { bits });
        // A genuine signature by the weak key is still refused, by size.
        let sig = private.pkcs1v15_sign::<Sha256>(b"msg").unwrap();
        assert_eq!(
            key.verify(SignatureAlgorithm::RsaPkcs1Sha256, b"msg", &sig),
            Err(SignatureError::WeakKey { bits })
        );
        let sig = private.pss_sign::<Sha256>(b"msg").unwrap();
        assert_eq!(
            key.verify_with_pss_salt(
                SignatureAlgorithm::RsaPssSha256,
                b"msg",
                &sig,
                PssSaltLength::Auto
            ),
            Err(SignatureError::WeakKey { bits })
        );
    }
}

/// Ed25519 SPKI for a raw 32-byte public key.
fn ed25519_spki(public: &[u8]) -> Vec<u8> {
    let mut der = hex("302a300506032b6570032100");
    der.extend_from_slice(public);
    der
}

#[test]
fn ed25519_verification_is_strict() {
    // RFC 8032 §7.1 TEST 1 (empty message).
    let public = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let sig = hex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    let key = PublicKey::from_spki_der(&ed25519_spki(&public)).unwrap();
    assert_eq!(key.verify(SignatureAlgorithm::Ed25519, b"", &sig), Ok(()));

    // The same signature with S + L (non-canonical S) is refused.
    let order = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let mut malleated = sig.clone();
    let mut carry = 0u16;
    for (s, l) in malleated[32..].iter_mut().zip(&order) {
        let sum = u16::from(*s) + u16::from(*l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    assert_eq!(
        key.verify(SignatureAlgorithm::Ed25519, b"", &malleated),
        Err(SignatureError::InvalidSignature)
    );

    // A small-order public key (the identity) with R = identity, S = 0
    // satisfies the cofactorless equation for every message; non-strict
    // verification would accept it, strict verification refuses.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = PublicKey::from_spki_der(&ed25519_spki(&identity)).unwrap();
    let mut forged = [0u8; 64];
    forged[0] = 1;
    for msg in [&b""[..], b"any message at all"] {
        assert_eq!(
            weak.verify(SignatureAlgorithm::Ed25519, msg, &forged),
            Err(SignatureError::InvalidSignature)
        );
    }
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
    let forged = ed25519_dalek::Signature::from_bytes(&forged);
    assert!(
        dalek.verify_strict(b"x", &forged).is_err()
            && signature::Verifier::verify(&dalek, b"x", &forged).is_ok(),
        "the forgery is one that only strict verification catches"
    );
}

#[test]
fn ecdsa_accepts_both_s_forms_and_only_der() {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).unwrap();
    let signing = p256::ecdsa::SigningKey::from_slice(&secret).unwrap();
    let der = signing.verifying_key().to_public_key_der().unwrap();
    let key = PublicKey::from_spki_der(der.as_bytes()).unwrap();
    let alg = SignatureAlgorithm::EcdsaP256Sha256;

    let sig: p256::ecdsa::Signature = signature::Signer::sign(&signing, b"msg");
    let (r, s) = sig.split_scalars();
    let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    let (low, high) = match sig.normalize_s() == sig {
        true => (sig, twin),
        false => (twin, sig),
    };
    assert_ne!(low, high);
    // Low-S and high-S forms both verify (no low-S rule in ECDSA).
    assert_eq!(key.verify(alg, b"msg", low.to_der().as_bytes()), Ok(()));
    assert_eq!(key.verify(alg, b"msg", high.to_der().as_bytes()), Ok(()));
    // The fixed-size r || s (IEEE P1363) form is refused: DER only.
    assert_eq!(
        key.verify(alg, b"msg", &low.to_bytes()),
        Err(SignatureError::InvalidSignature)
    );
}

#[test]
fn algorithm_must_fit_the_key() {
    let ed = PublicKey::from_spki_der(&hex(ED25519_SPKI)).unwrap();
    for alg in SignatureAlgorithm::ALL {
        if alg == SignatureAlgorithm::Ed25519 {
            continue;
        }
        assert_eq!(
            ed.verify(alg, b"m", &[0; 64]),
            Err(SignatureError::AlgorithmMismatch {
                algorithm: alg,
                key: KeyKind::Ed25519
            })
        );
    }
    assert_eq!(
        ed.verify(SignatureAlgorithm::Ed25519, b"m", &[0; 64]),
        Err(SignatureError::InvalidSignature)
    );
    assert_eq!(
        ed.verify(SignatureAlgorithm::Ed25519, b"m", &[]),
        Err(SignatureError::InvalidSignature)
    );
}

#[test]
fn hints_resolve_to_an_algorithm_that_fits() {
    let rsa = KeyKind::Rsa { bits: 3072 };
    assert_eq!(
        algorithm_for(rsa, ""),
        Err(SignatureError::AmbiguousRsaPadding { key: rsa })
    );
    assert_eq!(
        algorithm_for(rsa, "rsa-pkcs1v15-sha384"),
        Ok(SignatureAlgorithm::RsaPkcs1Sha384)
    );
    assert_eq!(
        algorithm_for(KeyKind::EcP256, ""),
        Ok(SignatureAlgorithm::EcdsaP256Sha256)
    );
    assert_eq!(
        algorithm_for(KeyKind::EcP384, ""),
        Ok(SignatureAlgorithm::EcdsaP384Sha384)
    );
    assert_eq!(
        algorithm_for(KeyKind::Ed25519, ""),
        Ok(SignatureAlgorithm::Ed25519)
    );
    assert_eq!(
        algorithm_for(KeyKind::EcP256, "ecdsa-p384-sha384"),
        Err(SignatureError::AlgorithmMismatch {
            algorithm: SignatureAlgorithm::EcdsaP384Sha384,
            key: KeyKind::EcP256
        })
    );
    let long = "x".repeat(1000);
    assert_eq!(
        algorithm_for(KeyKind::Ed25519, &long),
        Err(SignatureError::UnknownAlgorithm {
            name: "x".repeat(64)
        })
    );
    assert_eq!(
        algorithm_for(KeyKind::Ed25519, "ED25519"),
        Err(SignatureError::UnknownAlgorithm {
            name: "ED25519".to_owned()
        })
    );
}

#[test]
fn errors_read_well() {
    assert_eq!(
        SignatureError::WeakKey { bits: 1024 }.to_string(),
        "RSA-1024 key is too weak: at least 2048 bits are required"
    );
    assert_eq!(
        SignatureError::AlgorithmMismatch {
            algorithm: SignatureAlgorithm::Ed25519,
            key: KeyKind::Rsa { bits: 4096 }
        }
        .to_string(),
        "signature algorithm ed25519 does not fit the RSA-4096 key"
    );
    assert_eq!(
        SignatureError::InvalidSignature.to_string(),
        "invalid signature"
    );
}

/// DER TLV with a definite length.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

fn pem_der(rel: &str) -> Vec<u8> {
    let pem = std::fs::read_to_string(modelseal_testkit::fixture(rel)).unwrap();
    let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap();
    der
}

/// Issue 19 item 13: one key, two encodings, one identity. A P-256 key with
/// a compressed point and an RSA key without the rsaEncryption NULL
/// parameters have the canonical SPKI (and so the `spkiSha256`) of the
/// usual encoding; other bytes stay as given.
#[test]
fn one_key_has_one_canonical_encoding() {
    use modelseal_verifier::canonical_spki;
    // P-256: 26 bytes of algorithm, then 04 || X || Y.
    let ec = pem_der("keys/p256.pub.pem");
    assert_eq!(ec.len(), 91);
    let (x, y) = (&ec[27..59], &ec[59..91]);
    let mut point = vec![0x02 | (y[31] & 1)];
    point.extend_from_slice(x);
    let mut bits = vec![0u8];
    bits.extend(point);
    let algorithm = &ec[2..23];
    let compressed = tlv(0x30, &[algorithm, &tlv(0x03, &bits)].concat());
    assert_ne!(compressed, ec);
    // It is the same key: it verifies, and is identified as the usual form.
    PublicKey::from_spki_der(&compressed).unwrap();
    assert_eq!(canonical_spki(&compressed), ec);
    assert_eq!(canonical_spki(&ec), ec);
    assert_eq!(
        PublicKey::from_spki_der(&compressed).unwrap().spki_sha256(),
        PublicKey::from_spki_der(&ec).unwrap().spki_sha256()
    );

    // RSA: AlgorithmIdentifier { rsaEncryption, NULL } or with no
    // parameters at all.
    let rsa = pem_der("keys/rsa3072.pub.pem");
    let null_alg = tlv(
        0x30,
        &[&tlv(0x06, &hex("2a864886f70d010101"))[..], &[0x05, 0x00]].concat(),
    );
    let absent_alg = tlv(0x30, &tlv(0x06, &hex("2a864886f70d010101")));
    let at = rsa
        .windows(null_alg.len())
        .position(|w| w == null_alg.as_slice())
        .unwrap();
    let bit_string = &rsa[at + null_alg.len()..];
    let absent = tlv(0x30, &[&absent_alg[..], bit_string].concat());
    assert_ne!(absent, rsa);
    assert_eq!(canonical_spki(&absent), rsa);
    assert_eq!(canonical_spki(&rsa), rsa);

    // Bytes that are no key modelseal reads stay as they are.
    assert_eq!(canonical_spki(b"not a key"), b"not a key");
}
