//! `GeneralizedTime` as RFC 3161 allows it in `genTime`: UTC (`Z`), with
//! optional fractional seconds (no trailing zeros), which the `der` crate's
//! RFC 5280 profile refuses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Tag, Writer};

/// A parsed `genTime`: the instant and the exact bytes it was read from.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct GenTime {
    raw: Vec<u8>,
    at: SystemTime,
}

impl GenTime {
    /// The instant, to the nanosecond the TSA wrote.
    pub(crate) fn time(&self) -> SystemTime {
        self.at
    }
}

/// Longest accepted value: 14 digits, `.`, 9 fraction digits, `Z`.
const MAX_LEN: usize = 25;

fn parse(raw: &[u8]) -> Option<SystemTime> {
    let (z, body) = raw.split_last()?;
    if *z != b'Z' || body.len() < 14 {
        return None;
    }
    let (whole, frac) = body.split_at(14);
    if !whole.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        whole[r]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let nanos = match frac {
        [] => 0,
        [b'.', digits @ ..] => {
            // RFC 3161 §2.4.2: at least one digit, no trailing zero.
            if digits.is_empty()
                || digits.len() > 9
                || !digits.iter().all(u8::is_ascii_digit)
                || digits.last() == Some(&b'0')
            {
                return None;
            }
            let mut n = 0u32;
            for i in 0..9 {
                n = n * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
            }
            n
        }
        _ => return None,
    };
    let year = i32::try_from(num(0..4)).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4..6)).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(num(6..8)).ok()?).ok()?;
    let t = time::Time::from_hms_nano(
        u8::try_from(num(8..10)).ok()?,
        u8::try_from(num(10..12)).ok()?,
        u8::try_from(num(12..14)).ok()?,
        nanos,
    )
    .ok()?;
    let at = time::PrimitiveDateTime::new(date, t).assume_utc();
    let since = at - time::OffsetDateTime::UNIX_EPOCH;
    let secs = u64::try_from(since.whole_seconds()).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let len = usize::try_from(header.length())?;
        if len > MAX_LEN {
            return Err(Self::TAG.value_error().into());
        }
        let mut raw = vec![0u8; len];
        reader.read_into(&mut raw)?;
        let at = parse(&raw).ok_or_else(|| der::Error::from(Self::TAG.value_error()))?;
        Ok(GenTime { raw, at })
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.raw.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.raw)
    }
}

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_fractional_seconds() {
        let t = parse(b"20260102030405Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_767_323_045
        );
        let f = parse(b"20260102030405.25Z").unwrap();
        assert_eq!(f.duration_since(t).unwrap(), Duration::from_millis(250));
    }

    #[test]
    fn refuses_other_forms() {
        for bad in [
            &b"20260102030405"[..],
            b"20260102030405.Z",
            b"20260102030405.50Z",
            b"20260102030405+0100",
            b"2026010203040Z",
            b"20261302030405Z",
            b"20260230030405Z",
            b"20260102250405Z",
            b"2026010203040aZ",
        ] {
            assert!(parse(bad).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
