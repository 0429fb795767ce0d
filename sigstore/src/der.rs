//! The little DER walking needed to rebuild a precertificate's TBS: read
//! a TLV, write one. Definite lengths only, as DER requires.

/// One TLV element: its tag byte, the whole encoding and the contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) whole: &'a [u8],
    pub(crate) contents: &'a [u8],
}

/// Read the element at the start of `input`; returns it and the rest.
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    if tag & 0x1f == 0x1f {
        return Err("multi-byte DER tags are not supported".into());
    }
    let (&first, rest) = rest.split_first().ok_or("truncated DER length")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length".into());
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 || rest[0] == 0 {
            return Err("non-minimal DER length".into());
        }
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err("DER element longer than its input".into());
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
pub(crate) fn elements(mut contents: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        let (tlv, rest) = read(contents)?;
        out.push(tlv);
        contents = rest;
    }
    Ok(out)
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
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x81, 0x05, 1, 2, 3, 4, 5],
            &[0x30, 0x82, 0x00, 0x90],
            &[0x30, 0x80, 0, 0],
            &[0x30, 0x05, 1],
            &[0x1f, 0x01, 0x00],
        ] {
            assert!(read(bad).is_err(), "{bad:?}");
        }
    }
}
