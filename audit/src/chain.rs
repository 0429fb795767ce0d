//! The HMAC link between records.
//!
//! Record `i` carries `prev_mac = mac_{i-1}` (all zero for the first record)
//! inside its signed bytes, and `mac_i = HMAC-SHA256(m_e, signed bytes)` with
//! `m_e` the record MAC key of the record's epoch `e`. Changing, removing,
//! inserting or moving any record therefore breaks either its own MAC or the
//! `prev_mac` link of the record after it, and sequence numbers make every
//! gap or repetition visible.

use crate::error::Result;
use crate::key::{HmacSha256, KEY_LEN, MacBytes, mac_with};
use crate::record::{ChainFields, Event, finish_line, signed_bytes};

/// `prev_mac` of the first record of a log.
pub(crate) const GENESIS_MAC: MacBytes = [0u8; KEY_LEN];

/// Serialize `event` with `chain` into `out` as a complete line (with `\n`)
/// and return its MAC.
///
/// # Errors
/// [`crate::Error::InvalidEvent`] if the event is out of limits.
pub(crate) fn seal_line(
    prepared: &HmacSha256,
    event: &Event,
    chain: &ChainFields,
    out: &mut Vec<u8>,
) -> Result<MacBytes> {
    signed_bytes(event, chain, out)?;
    let mac = mac_with(prepared, out);
    finish_line(out, &mac);
    Ok(mac)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::key::{from_seed, mac_matches};
    use crate::record::parse_chain;

    #[test]
    fn sealed_line_verifies_and_links() {
        let (w, _) = from_seed(&[1u8; 48]);
        let prepared = w.key.record_mac();
        let ev = crate::test_support::event(0);
        let mut out = Vec::new();
        let c0 = ChainFields {
            log_id: w.log_id,
            epoch: 0,
            sequence: 0,
            prev_mac: GENESIS_MAC,
        };
        let m0 = seal_line(&prepared, &ev, &c0, &mut out).unwrap();
        let line = out.strip_suffix(b"\n").unwrap();
        let parsed = parse_chain(line).unwrap();
        assert_eq!(parsed.mac, m0);
        assert!(mac_matches(&prepared, &line[..parsed.signed_len], &m0));
        let c1 = ChainFields {
            sequence: 1,
            prev_mac: m0,
            ..c0
        };
        let m1 = seal_line(&prepared, &ev, &c1, &mut out).unwrap();
        assert_ne!(m0, m1);
        let p1 = parse_chain(out.strip_suffix(b"\n").unwrap()).unwrap();
        assert_eq!(p1.chain.prev_mac, m0);
    }
}
