//! No super-linear blowups on pathological input.
//!
//! Each case grows one dimension of a hostile input (nesting, resources,
//! name length, PEM blocks, certificates, ...) and times the parser at size
//! `n` and `8 n`. Linear work takes about 8 times as long, `n log n` about 10
//! times, quadratic work 64 times: the test fails above 24 (3 times linear).
//! Timings are the best of several runs of each size, taken alternately so
//! both sizes see the same machine load, `n` is calibrated so that the
//! small run takes a few milliseconds, and a case is re-measured once
//! before it fails, so a loaded CI machine does not make it flaky.
//!
//! Everything runs in one test function, one case after the other, so that
//! the cases do not compete with each other for the CPU.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hostile;

use std::hint::black_box;
use std::time::{Duration, Instant};

use modelseal_manifest::{
    Bundle, Digest, HashAlgorithm, Manifest, ResourceKey, ResourcePath, Serialization,
};
use modelseal_manifest::{Envelope, VerificationMaterial, key_hint, pae};
use modelseal_signer::{RsaScheme, SigningKey};
use modelseal_verifier::certificates_from_pem;
use modelseal_verifier::{PublicKey, TrustAnchors};

/// Largest accepted ratio t(8n) / t(n).
const MAX_RATIO: f64 = 24.0;
/// The small run is grown until it takes at least this long.
const MIN_SMALL: Duration = Duration::from_millis(3);

fn best_of(runs: usize, f: &dyn Fn()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

type Make = Box<dyn Fn(usize) -> Vec<u8>>;
type Run = Box<dyn Fn(&[u8])>;

/// One case: `make(n)` builds the input of size `n`, `run` parses it.
struct Case {
    name: &'static str,
    start: usize,
    max: usize,
    make: Make,
    run: Run,
}

fn measure(case: &Case) -> (usize, Duration, Duration) {
    let mut n = case.start;
    let mut small = (case.make)(n);
    let mut t_small = best_of(3, &|| (case.run)(&small));
    while t_small < MIN_SMALL && n * 16 <= case.max {
        n *= 2;
        small = (case.make)(n);
        t_small = best_of(3, &|| (case.run)(&small));
    }
    // Alternate the two sizes so that both see the same machine load.
    let large = (case.make)(n * 8);
    let (mut t_large, mut t_small) = (Duration::MAX, t_small);
    for _ in 0..4 {
        t_large = t_large.min(best_of(1, &|| (case.run)(&large)));
        t_small = t_small.min(best_of(1, &|| (case.run)(&small)));
    }
    (n, t_small, t_large)
}

fn check(case: &Case) {
    let mut report = String::new();
    for attempt in 0..2 {
        let (n, small, large) = measure(case);
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
        let line = format!(
            "{}: n={n}: {:?}, 8n: {:?}, ratio {ratio:.1}",
            case.name, small, large
        );
        eprintln!("{line}");
        if ratio <= MAX_RATIO || small < Duration::from_micros(200) && large < MIN_SMALL {
            return;
        }
        report.push_str(&format!("attempt {attempt}: {line}\n"));
    }
    panic!("super-linear time:\n{report}");
}

fn wrap(what: &str, n: usize, unit: &str) -> Vec<u8> {
    what.replace("{}", &unit.repeat(n)).into_bytes()
}

/// A valid statement with `n` resources named `r/000000..`.
fn manifest(n: usize, name_len: usize) -> Manifest {
    let digest = Digest::from_hex(HashAlgorithm::Sha256, &"ab".repeat(32)).unwrap();
    let pad = "p".repeat(name_len.saturating_sub(9));
    let resources = (0..n)
        .map(|i| {
            let name = format!("{pad}r/{i:07}");
            (
                ResourceKey::file(ResourcePath::new(&name).unwrap()),
                digest.clone(),
            )
        })
        .collect();
    Manifest::new(
        "m".into(),
        Serialization::files(HashAlgorithm::Sha256, vec![]),
        resources,
    )
}

fn signed(payload: Vec<u8>) -> Vec<u8> {
    let key = hostile::ed25519_key();
    let payload_type = modelseal_manifest::PAYLOAD_TYPE.to_owned();
    let signature = key.key.sign(&pae(&payload_type, &payload)).unwrap();
    Bundle {
        material: VerificationMaterial::PublicKey {
            hint: key_hint(&key.key.public_key_der()),
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

fn pem_key(pem: &[u8]) {
    let _ = black_box(SigningKey::from_pem(
        pem,
        Some(b"pass"),
        RsaScheme::default(),
    ));
}

fn cases() -> Vec<Case> {
    let root = hostile::read_fixture("pki/p256/root.pem");
    let root2 = root.clone();
    let p256 = hostile::read_fixture("keys/p256.pkcs8.pem");
    vec![
        Case {
            name: "bundle: nested arrays",
            start: 1 << 12,
            max: 1 << 26,
            make: Box::new(|n| wrap("{}", n, "[")),
            run: Box::new(|b| {
                let _ = black_box(Bundle::from_json(b));
            }),
        },
        Case {
            name: "bundle: nested objects in an unknown member",
            start: 1 << 12,
            max: 1 << 24,
            make: Box::new(|n| wrap(r#"{"x":{}1}"#, n, r#"{"a":"#)),
            run: Box::new(|b| {
                let _ = black_box(Bundle::from_json(b));
            }),
        },
        Case {
            name: "bundle: many distinct keys",
            start: 1 << 10,
            max: 1 << 22,
            make: Box::new(|n| {
                let mut s = String::from("{");
                for i in 0..n {
                    s.push_str(&format!("\"k{i}\":0,"));
                }
                s.push_str("\"z\":0}");
                s.into_bytes()
            }),
            run: Box::new(|b| {
                let _ = black_box(Bundle::from_json(b));
            }),
        },
        Case {
            name: "bundle: long string",
            start: 1 << 14,
            max: 1 << 26,
            make: Box::new(|n| wrap(r#"{"mediaType":"{}"}"#, n, "a")),
            run: Box::new(|b| {
                let _ = black_box(Bundle::from_json(b));
            }),
        },
        Case {
            name: "bundle: many tlog entries",
            start: 1 << 10,
            max: 1 << 22,
            make: Box::new(|n| {
                let good = String::from_utf8(hostile::ed25519_key().json.clone()).unwrap();
                let entries = vec!["{}"; n].join(",");
                good.replacen(
                    "\"tlogEntries\":[]",
                    &format!("\"tlogEntries\":[{entries}]"),
                    1,
                )
                .into_bytes()
            }),
            // Refused (more entries than a bundle may carry), in linear time.
            run: Box::new(|b| {
                assert!(black_box(Bundle::from_json(b)).is_err());
            }),
        },
        Case {
            name: "statement: many resources",
            start: 1 << 8,
            max: 1 << 20,
            make: Box::new(|n| modelseal_manifest::to_payload(&manifest(n, 10))),
            run: Box::new(|p| {
                black_box(modelseal_manifest::from_payload(p).unwrap());
            }),
        },
        Case {
            name: "statement: many resources with 4 KiB names",
            start: 1 << 4,
            max: 1 << 14,
            make: Box::new(|n| modelseal_manifest::to_payload(&manifest(n, 4096))),
            run: Box::new(|p| {
                black_box(modelseal_manifest::from_payload(p).unwrap());
            }),
        },
        Case {
            name: "verify: signed statement with many resources",
            start: 1 << 8,
            max: 1 << 18,
            make: Box::new(|n| signed(modelseal_manifest::to_payload(&manifest(n, 10)))),
            run: Box::new(|b| {
                let s = hostile::ed25519_key();
                assert!(s.verify(b).result.is_err());
            }),
        },
        Case {
            name: "private key PEM: many EC PARAMETERS blocks",
            start: 1 << 6,
            max: 1 << 18,
            make: Box::new(|n| {
                let mut v = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n".repeat(n);
                v.push_str("-----END EC PARAMETERS-----\n");
                v.into_bytes()
            }),
            run: Box::new(pem_key),
        },
        Case {
            name: "private key PEM: many BEGIN markers mid-line",
            start: 1 << 8,
            max: 1 << 20,
            make: Box::new(|n| "x-----BEGIN PRIVATE KEY-----".repeat(n).into_bytes()),
            run: Box::new(pem_key),
        },
        Case {
            name: "private key PEM: long body",
            start: 1 << 12,
            max: 1 << 24,
            make: Box::new(move |n| {
                let text = String::from_utf8(p256.clone()).unwrap();
                let body = "QUFB\n".repeat(n);
                text.replacen("-----\n", &format!("-----\n{body}"), 1)
                    .into_bytes()
            }),
            run: Box::new(pem_key),
        },
        Case {
            name: "public key PEM: long body",
            start: 1 << 12,
            max: 1 << 24,
            make: Box::new(|n| {
                let mut v = String::from("-----BEGIN PUBLIC KEY-----\n");
                v.push_str(&"QUFBQUFB\n".repeat(n));
                v.push_str("-----END PUBLIC KEY-----\n");
                v.into_bytes()
            }),
            run: Box::new(|b| {
                let _ = black_box(PublicKey::from_pem(b));
            }),
        },
        Case {
            name: "trust roots PEM: many certificates",
            start: 1 << 2,
            max: 1 << 12,
            make: Box::new(move |n| root.repeat(n)),
            run: Box::new(|b| {
                black_box(TrustAnchors::from_pem(b).unwrap());
            }),
        },
        Case {
            name: "trust roots PEM: many unterminated BEGIN lines",
            start: 1 << 8,
            max: 1 << 20,
            make: Box::new(|n| "-----BEGIN CERTIFICATE-----\n".repeat(n).into_bytes()),
            run: Box::new(|b| {
                let _ = black_box(certificates_from_pem(b));
            }),
        },
        Case {
            name: "chain: validate against many anchors",
            start: 1 << 2,
            max: 1 << 12,
            make: Box::new(move |n| root2.repeat(n)),
            run: Box::new(|b| {
                let anchors = TrustAnchors::from_pem(b).unwrap();
                let s = hostile::p256_chain();
                let modelseal_manifest::VerificationMaterial::Certificates(chain) =
                    &s.bundle.material
                else {
                    panic!()
                };
                black_box(
                    modelseal_verifier::validate_chain(chain, &anchors, hostile::at()).unwrap(),
                );
            }),
        },
    ]
}

#[test]
fn parsers_take_linear_time_on_pathological_input() {
    for case in cases() {
        check(&case);
    }
}
