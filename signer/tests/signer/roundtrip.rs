//! Sign with every key kind and scheme, verify with the verifier's
//! `PublicKey`; tampering, wrong algorithms, weak keys and hostile PEM.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use modelseal_manifest::MessageHash;
use modelseal_manifest::{KeyKind, SignatureAlgorithm};
use modelseal_signer::{KeyError, KeyFormat, RsaHash, RsaPadding, RsaScheme, SigningKey};
use modelseal_verifier::{PssSaltLength, PublicKey, SignatureError};
use pkcs8::EncodePrivateKey;
use pkcs8::der::pem::LineEnding;
use rsa::pkcs1::EncodeRsaPrivateKey;

const MSG: &[u8] = b"DSSEv1 28 application/vnd.in-toto+json 2 {}";

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

fn rsa_pem(bits: usize) -> String {
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits).unwrap();
    key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

fn ed25519_pem() -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&random::<32>());
    key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

fn p256_pem() -> String {
    let key = p256::SecretKey::from_slice(&random::<32>()).unwrap();
    key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

fn p384_pem() -> String {
    let key = p384::SecretKey::from_slice(&random::<48>()).unwrap();
    key.to_sec1_pem(LineEnding::CRLF).unwrap().to_string()
}

fn load(pem: &str, scheme: RsaScheme) -> SigningKey {
    SigningKey::from_pem(pem.as_bytes(), None, scheme).unwrap()
}

/// Signs, verifies, and checks that every tampering and every other
/// algorithm fails.
fn check_round_trip(key: &SigningKey) {
    let alg = key.algorithm();
    let sig = key.sign(MSG).unwrap();
    let public = PublicKey::from_spki_der(&key.public_key_der()).unwrap();
    assert_eq!(public.key_kind(), key.key_kind());
    assert_eq!(
        PublicKey::from_pem(key.public_key_pem().as_bytes()).unwrap(),
        public
    );
    assert_eq!(public.verify(alg, MSG, &sig), Ok(()), "{alg}");

    // The prehashed paths (raw signatures over files) agree with the
    // whole-message ones.
    match MessageHash::of(alg) {
        Some(hash) => {
            let digest = hash.digest(MSG);
            let pre = key.sign_prehashed(&digest).unwrap();
            assert_eq!(public.verify(alg, MSG, &pre), Ok(()), "{alg}");
            let salt = PssSaltLength::HashLength;
            assert_eq!(public.verify_prehashed(alg, &digest, &sig, salt), Ok(()));
            let mut other = digest.clone();
            other[0] ^= 1;
            assert_eq!(
                public.verify_prehashed(alg, &other, &sig, salt),
                Err(SignatureError::InvalidSignature),
                "{alg}"
            );
        }
        None => assert_eq!(
            public.verify_prehashed(alg, &[0; 64], &sig, PssSaltLength::Auto),
            Err(SignatureError::WholeMessageRequired { algorithm: alg })
        ),
    }

    let mut msg = MSG.to_vec();
    msg[0] ^= 1;
    assert_eq!(
        public.verify(alg, &msg, &sig),
        Err(SignatureError::InvalidSignature),
        "{alg}: tampered message"
    );
    assert_eq!(
        public.verify(alg, &MSG[..MSG.len() - 1], &sig),
        Err(SignatureError::InvalidSignature),
        "{alg}: truncated message"
    );
    for position in [0, sig.len() / 2, sig.len() - 1] {
        let mut bad = sig.clone();
        bad[position] ^= 0x10;
        assert_eq!(
            public.verify(alg, MSG, &bad),
            Err(SignatureError::InvalidSignature),
            "{alg}: signature byte {position} flipped"
        );
    }
    let mut longer = sig.clone();
    longer.push(0);
    assert_eq!(
        public.verify(alg, MSG, &longer),
        Err(SignatureError::InvalidSignature),
        "{alg}: trailing byte"
    );
    assert_eq!(
        public.verify(alg, MSG, &sig[..sig.len() - 1]),
        Err(SignatureError::InvalidSignature),
        "{alg}: truncated signature"
    );

    for other in SignatureAlgorithm::ALL {
        if other == alg {
            continue;
        }
        let result = public.verify(other, MSG, &sig);
        if other.fits(key.key_kind()) {
            // Another RSA padding or hash over the same key.
            assert_eq!(
                result,
                Err(SignatureError::InvalidSignature),
                "{alg} as {other}"
            );
        } else {
            assert_eq!(
                result,
                Err(SignatureError::AlgorithmMismatch {
                    algorithm: other,
                    key: key.key_kind()
                }),
                "{alg} as {other}"
            );
        }
    }
}

#[test]
fn rsa_2048_every_scheme() {
    let pem = rsa_pem(2048);
    for padding in [RsaPadding::Pss, RsaPadding::Pkcs1v15] {
        for hash in [RsaHash::Sha256, RsaHash::Sha384, RsaHash::Sha512] {
            let scheme = RsaScheme::new(padding, hash);
            let key = load(&pem, scheme);
            assert_eq!(key.algorithm(), scheme.algorithm());
            assert_eq!(key.key_kind(), KeyKind::Rsa { bits: 2048 });
            assert_eq!(key.sign(MSG).unwrap().len(), 256);
            check_round_trip(&key);
        }
    }
}

#[test]
fn rsa_3072_pkcs1_pem_default_scheme() {
    let private = rsa::PrivateKey::new(&mut getrandom::SysRng, 3072).unwrap();
    let pem = private.to_pkcs1_pem(LineEnding::LF).unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let key = load(&pem, RsaScheme::default());
    assert_eq!(key.algorithm(), SignatureAlgorithm::RsaPssSha256);
    assert_eq!(key.key_kind(), KeyKind::Rsa { bits: 3072 });
    check_round_trip(&key);
    // PSS is randomized: two signatures differ, both verify.
    assert_ne!(key.sign(MSG).unwrap(), key.sign(MSG).unwrap());
}

#[test]
fn ed25519_and_ecdsa() {
    let ed = load(&ed25519_pem(), RsaScheme::default());
    assert_eq!(ed.algorithm(), SignatureAlgorithm::Ed25519);
    assert_eq!(ed.sign(MSG).unwrap().len(), 64);
    check_round_trip(&ed);

    let p256 = load(&p256_pem(), RsaScheme::default());
    assert_eq!(p256.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
    assert_eq!(p256.key_kind(), KeyKind::EcP256);
    let sig = p256.sign(MSG).unwrap();
    assert_eq!(sig[0], 0x30, "DER SEQUENCE");
    check_round_trip(&p256);

    // SEC1 PEM with CRLF line endings.
    let p384 = load(&p384_pem(), RsaScheme::default());
    assert_eq!(p384.algorithm(), SignatureAlgorithm::EcdsaP384Sha384);
    assert_eq!(p384.key_kind(), KeyKind::EcP384);
    check_round_trip(&p384);
    // ECDSA nonces are deterministic (RFC 6979).
    assert_eq!(p384.sign(MSG).unwrap(), p384.sign(MSG).unwrap());
}

#[test]
fn weak_rsa_keys_are_refused_at_load() {
    for bits in [1024, 1536] {
        let pem = rsa_pem(bits);
        assert_eq!(
            SigningKey::from_pem(pem.as_bytes(), None, RsaScheme::default()).unwrap_err(),
            KeyError::WeakRsaKey { bits }
        );
    }
    assert_eq!(
        KeyError::WeakRsaKey { bits: 1024 }.to_string(),
        "RSA-1024 key is too small: at least 2048 bits are required"
    );
}

#[test]
fn debug_shows_no_key_material() {
    let ed = load(&ed25519_pem(), RsaScheme::default());
    assert_eq!(
        format!("{ed:?}"),
        "SigningKey { key: Ed25519, algorithm: ed25519, .. }"
    );
    let rsa = load(
        &rsa_pem(2048),
        RsaScheme::new(RsaPadding::Pkcs1v15, RsaHash::Sha512),
    );
    assert_eq!(
        format!("{rsa:?}"),
        "SigningKey { key: RSA-2048, algorithm: rsa-pkcs1v15-sha512, .. }"
    );
}

#[test]
fn hostile_pem_is_an_error_never_a_panic() {
    let pem = p256_pem();
    let scheme = RsaScheme::default();
    // Every strict prefix (the last one only lacks the final newline, and is valid).
    for len in 0..pem.len() - 1 {
        let prefix = &pem.as_bytes()[..len];
        assert!(
            SigningKey::from_pem(prefix, None, scheme).is_err(),
            "prefix of {len} bytes loaded"
        );
    }
    assert!(SigningKey::from_pem(&pem.as_bytes()[..pem.len() - 1], None, scheme).is_ok());

    // Every single-byte corruption of the Base64 body fails or, where it
    // lands in the public-key copy inside the key, is caught as inconsistent.
    let body_start = pem.find('\n').unwrap() + 1;
    let body_end = pem.rfind("-----END").unwrap();
    for position in (body_start..body_end).step_by(7) {
        let mut bytes = pem.clone().into_bytes();
        if bytes[position] == b'\n' {
            continue;
        }
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        if let Ok(key) = SigningKey::from_pem(&bytes, None, scheme) {
            // Only a change that still decodes to a valid, self-consistent
            // key may load; then it must still produce verifiable signatures.
            check_round_trip(&key);
        }
    }

    for input in [
        &b""[..],
        b"\0\0\0",
        b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        assert!(SigningKey::from_pem(input, None, scheme).is_err());
    }
    assert_eq!(
        SigningKey::from_pem(b"just text", None, scheme).unwrap_err(),
        KeyError::NotPem
    );
    assert!(matches!(
        SigningKey::from_pem(
            b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
            None,
            scheme
        ),
        Err(KeyError::MalformedKey {
            format: KeyFormat::Pkcs8,
            ..
        })
    ));
    let public = load(&pem, scheme).public_key_pem();
    assert_eq!(
        SigningKey::from_pem(public.as_bytes(), None, scheme).unwrap_err(),
        KeyError::UnexpectedLabel {
            label: "PUBLIC KEY".to_owned()
        }
    );
}

#[test]
fn sign_manifest_refuses_sha512_manifests() {
    use modelseal_manifest::{HashAlgorithm, Manifest, Serialization};
    let key = load(&p256_pem(), RsaScheme::default());
    let manifest = |hash: HashAlgorithm| {
        let digest = hash.digest(b"weights");
        let resources = std::collections::BTreeMap::from([(
            modelseal_manifest::ResourceKey::file(
                modelseal_manifest::ResourcePath::new("w.bin").unwrap(),
            ),
            digest,
        )]);
        Manifest::new("m".into(), Serialization::files(hash, vec![]), resources)
    };
    assert!(matches!(
        modelseal_signer::sign_manifest(manifest(HashAlgorithm::Sha512), &key, &[], None),
        Err(modelseal_signer::Error::InvalidOption { .. })
    ));
    let signed =
        modelseal_signer::sign_manifest(manifest(HashAlgorithm::Sha256), &key, &[], None).unwrap();
    assert_eq!(signed.bundle.envelope.keyid, "ecdsa-p256-sha256");
    let empty = Manifest::new(
        "m".into(),
        Serialization::files(HashAlgorithm::Sha256, vec![]),
        std::collections::BTreeMap::new(),
    );
    assert!(matches!(
        modelseal_signer::sign_manifest(empty, &key, &[], None),
        Err(modelseal_signer::Error::EmptyModel { .. })
    ));
}
