//! Property: any single-byte change, deletion or insertion anywhere in a log
//! is detected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{Log, event, intact_records};
use modelseal_audit::{Durability, Verdict, Verifier, WriterOptions};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn fixture() -> &'static (Log, Vec<u8>) {
    static F: OnceLock<(Log, Vec<u8>)> = OnceLock::new();
    F.get_or_init(|| {
        let l = Log::new();
        let mut w = l.writer(WriterOptions {
            durability: Durability::Group { max_records: 4 },
            rotate_bytes: None,
        });
        for i in 0..12 {
            w.append(&event(i)).unwrap();
        }
        drop(w);
        assert_eq!(intact_records(&l.verify_main()), 12);
        let bytes = std::fs::read(&l.log).unwrap();
        (l, bytes)
    })
}

fn verdict(bytes: &[u8]) -> Verdict {
    let (l, _) = fixture();
    let key = l.key();
    let mut v = Verifier::new(&key, None);
    v.feed(Path::new("audit.log"), bytes).unwrap();
    v.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn any_changed_byte_is_detected(pos in any::<prop::sample::Index>(), b in any::<u8>()) {
        let (_, orig) = fixture();
        let p = pos.index(orig.len());
        prop_assume!(orig[p] != b);
        let mut t = orig.clone();
        t[p] = b;
        prop_assert!(matches!(verdict(&t), Verdict::Tampered(_)), "byte {} -> {:?} undetected", p, b as char);
    }

    #[test]
    fn any_deleted_or_inserted_byte_is_detected(pos in any::<prop::sample::Index>(), b in any::<u8>(), insert in any::<bool>()) {
        let (_, orig) = fixture();
        let mut t = orig.clone();
        if insert {
            t.insert(pos.index(orig.len() + 1), b);
        } else {
            t.remove(pos.index(orig.len()));
        }
        prop_assert!(matches!(verdict(&t), Verdict::Tampered(_)));
    }
}

#[test]
fn the_untouched_fixture_is_intact() {
    let (_, orig) = fixture();
    assert_eq!(intact_records(&verdict(orig)), 12);
}
