//! The little DER walking needed to rebuild a precertificate's TBS: read
//! a TLV, write one. Definite lengths only, as DER requires.

/// One TLV element: its tag byte, the whole encoding and the contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) whole: &'a [u8],
    pub(crate) contents: &'a [u8],
}

/// Why bytes are not the DER a caller expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DerError {
    /// The input ends before an element's tag.
    #[error("truncated DER")]
    Truncated,
    /// The input ends before an element's length.
    #[error("truncated DER length")]
    TruncatedLength,
    /// A tag number above 30 (not used by the structures read here).
    #[error("multi-byte DER tags are not supported")]
    MultiByteTag,
    /// An indefinite length, or a length of more than 4 bytes or more than
    /// the input holds.
    #[error("bad DER length")]
    BadLength,
    /// A long-form length that the short form or fewer bytes would encode.
    #[error("non-minimal DER length")]
    NonMinimalLength,
    /// The length runs past the end of the input.
    #[error("DER element longer than its input")]
    Overrun,
    /// The input is not exactly one SEQUENCE (named: which structure).
    #[error("the {0} is not one DER SEQUENCE")]
    NotOneSequence(&'static str),
}

/// Read the element at the start of `input`; returns it and the rest.
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(DerError::MultiByteTag);
    }
    let (&first, rest) = rest.split_first().ok_or(DerError::TruncatedLength)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(DerError::BadLength);
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 || rest[0] == 0 {
            return Err(DerError::NonMinimalLength);
        }
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(DerError::Overrun);
    }
    let header = input.len() - rest.len();
    Ok((
        Tlv {
            tag,
            whole: &input[..header + len],
            contents: &rest[..len],
        },
        &rest[len..],
    ))
}

/// Every element of a sequence's contents.
pub(crate) fn elements(mut contents: &[u8]) -> Result<Vec<Tlv<'_>>, DerError> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        let (tlv, rest) = read(contents)?;
        out.push(tlv);
        contents = rest;
    }
    Ok(out)
}

/// The contents of the one SEQUENCE that is all of `input`; `what` names
/// the structure in the error.
pub(crate) fn one_sequence<'a>(input: &'a [u8], what: &'static str) -> Result<Tlv<'a>, DerError> {
    match read(input)? {
        (seq, []) if seq.tag == 0x30 => Ok(seq),
        _ => Err(DerError::NotOneSequence(what)),
    }
}

/// Encode `tag` with `contents`.
pub(crate) fn write(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 6);
    out.push(tag);
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_short_and_long_lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let body = vec![7u8; len];
            let enc = write(0x30, &body);
            let (tlv, rest) = read(&enc).unwrap();
            assert!(rest.is_empty());
            assert_eq!(
                (tlv.tag, tlv.contents.len(), tlv.whole.len()),
                (0x30, len, enc.len())
            );
        }
    }

    #[test]
    fn refuses_bad_encodings() {
        for (bad, why) in [
            (&[][..], DerError::Truncated),
            (&[0x30], DerError::TruncatedLength),
            (
                &[0x30, 0x81, 0x05, 1, 2, 3, 4, 5],
                DerError::NonMinimalLength,
            ),
            (&[0x30, 0x82, 0x00, 0x90], DerError::NonMinimalLength),
            (&[0x30, 0x80, 0, 0], DerError::BadLength),
            (&[0x30, 0x05, 1], DerError::Overrun),
            (&[0x1f, 0x01, 0x00], DerError::MultiByteTag),
        ] {
            assert_eq!(read(bad).err(), Some(why), "{bad:?}");
        }
        assert_eq!(
            one_sequence(&write(0x31, &[]), "set").err(),
            Some(DerError::NotOneSequence("set"))
        );
    }
}
