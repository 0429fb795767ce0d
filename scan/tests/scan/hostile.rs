//! Random and mutated input never panics, never hangs, and is always read
//! to its end exactly once.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use modelseal_scan::{Config, scan_bytes};
use proptest::prelude::*;

/// A hang detector, not a performance bound: each case is a few KiB.
const HANG: Duration = Duration::from_secs(10);

/// First bytes of every format the scanner recognizes.
const MAGICS: &[&[u8]] = &[
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x80\x02",
    b"\x80\x04\x95",
    b"(",
    b"c",
    b"GGUF\x03\x00\x00\x00",
    b"\x93NUMPY\x01\x00",
    b"\x1f\x8b\x08\x00",
    b"\x08\x08\x12",
    b"\x10\x00\x00\x00\x00\x00\x00\x00{\"",
];

fn check(bytes: &[u8]) {
    let cfg = Config::default();
    let start = Instant::now();
    let report = scan_bytes(&cfg, "x", bytes);
    assert!(start.elapsed() < HANG, "took {:?}", start.elapsed());
    // Every byte is read (a hashing reader sees the whole file).
    assert_eq!(report.size, bytes.len() as u64);
    for f in &report.findings {
        assert!(!f.why.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_after_any_magic(magic in 0..MAGICS.len(), tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = MAGICS[magic].to_vec();
        bytes.extend(tail);
        check(&bytes);
    }

    #[test]
    fn random_pickle_opcodes(ops in proptest::collection::vec(
        prop_oneof![
            Just(b'('), Just(b'.'), Just(b'0'), Just(b'1'), Just(b'2'), Just(b'R'), Just(b'b'),
            Just(b't'), Just(b'l'), Just(b'd'), Just(b'e'), Just(b'u'), Just(b's'), Just(b'a'),
            Just(b'o'), Just(0x81), Just(0x92), Just(0x93), Just(0x94), Just(b'h'), Just(b'N'),
            Just(b')'), Just(b']'), Just(b'}'), Just(0x85), Just(0x8c), Just(0x8a), Just(b'Q'),
            Just(0x82), any::<u8>(),
        ], 0..512)) {
        let mut bytes = vec![0x80, 4];
        bytes.extend(ops);
        check(&bytes);
    }
}

/// Every single-byte change and truncation of small archives and headers.
#[test]
fn mutated_archives_and_headers() {
    let zip = {
        let mut z = Vec::new();
        let pickle = b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.";
        let name = b"a/data.pkl";
        z.extend(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        z.extend((pickle.len() as u32).to_le_bytes());
        z.extend((pickle.len() as u32).to_le_bytes());
        z.extend((name.len() as u16).to_le_bytes());
        z.extend(0u16.to_le_bytes());
        z.extend(name);
        z.extend(pickle);
        let cd = z.len() as u32;
        z.extend(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        z.extend((pickle.len() as u32).to_le_bytes());
        z.extend((pickle.len() as u32).to_le_bytes());
        z.extend((name.len() as u16).to_le_bytes());
        z.extend([0u8; 12]);
        z.extend(0u32.to_le_bytes());
        z.extend(name);
        let cd_len = z.len() as u32 - cd;
        z.extend(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
        z.extend(cd_len.to_le_bytes());
        z.extend(cd.to_le_bytes());
        z.extend(0u16.to_le_bytes());
        z
    };
    let gguf = {
        let mut g = b"GGUF".to_vec();
        g.extend(3u32.to_le_bytes());
        g.extend(1u64.to_le_bytes());
        g.extend(0u64.to_le_bytes());
        g.extend(1u64.to_le_bytes());
        g.push(b'w');
        g.extend(1u32.to_le_bytes());
        g.extend(4u64.to_le_bytes());
        g.extend(0u32.to_le_bytes());
        g.extend(0u64.to_le_bytes());
        g.resize(64, 0);
        g.extend([1u8; 16]);
        g
    };
    let cfg = Config::default();
    assert_eq!(
        scan_bytes(&cfg, "z", &zip).verdict(),
        modelseal_scan::Verdict::Clean
    );
    assert_eq!(
        scan_bytes(&cfg, "g", &gguf).verdict(),
        modelseal_scan::Verdict::Clean
    );
    for sample in [&zip, &gguf] {
        for i in 0..sample.len() {
            for v in [0x00, 0xff, 0x80, sample[i] ^ 1] {
                let mut m = sample.clone();
                m[i] = v;
                check(&m);
            }
            check(&sample[..i]);
        }
    }
}
