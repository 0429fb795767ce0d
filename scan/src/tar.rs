//! Tar archives (ustar, GNU and PAX extensions), member by member.
//!
//! Hand-written rather than the `tar` crate: that crate reads GNU long
//! names and PAX records whole, whatever size their header declares; here
//! they are bounded by [`crate::Limits::max_header`].

use std::io::{self, Read};

use crate::ctx::Ctx;
use crate::dispatch::scan_member;
use crate::input::Input;
use crate::report::FindingKind;

/// Whether a 512-byte block is a tar header: `ustar` magic, or (old tar)
/// a valid checksum over a named entry.
pub(crate) fn is_header(h: &[u8]) -> bool {
    if h.len() < 512 {
        return false;
    }
    if &h[257..262] == b"ustar" {
        return checksum_ok(h);
    }
    h[0] != 0 && checksum_ok(h) && h[..100].iter().all(|&b| b == 0 || b >= 0x20)
}

fn checksum_ok(h: &[u8]) -> bool {
    let Some(stored) = octal(&h[148..156]) else {
        return false;
    };
    let sum: u64 = h[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    stored == sum
}

/// An octal field (NUL/space terminated), or GNU base-256.
fn octal(f: &[u8]) -> Option<u64> {
    if f.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(f[0] & 0x3f);
        for &b in &f[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let s: Vec<u8> = f
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ')
        .collect();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(std::str::from_utf8(&s).ok()?, 8).ok()
}

fn cstr(f: &[u8]) -> String {
    let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    String::from_utf8_lossy(&f[..end]).into_owned()
}

/// Scan a tar archive.
///
/// # Errors
/// I/O errors of the input.
pub(crate) fn scan(input: &mut Input<'_>, ctx: &mut Ctx<'_>, depth: u32) -> io::Result<()> {
    let mut long_name: Option<String> = None;
    let mut pax_size: Option<u64> = None;
    let mut pax_path: Option<String> = None;
    let mut h = [0u8; 512];
    loop {
        let at = input.offset();
        if !input.exact(&mut h)? {
            if input.offset() != at {
                ctx.problem(at, "tar: truncated header");
            }
            return Ok(());
        }
        if h.iter().all(|&b| b == 0) {
            // End of archive: what follows is not read by tar readers.
            return Ok(());
        }
        if !checksum_ok(&h) {
            ctx.problem(at, "tar: bad header checksum");
            return Ok(());
        }
        let Some(mut size) = octal(&h[124..136]) else {
            ctx.problem(at, "tar: bad size field");
            return Ok(());
        };
        let kind = h[156];
        let padded = |n: u64| n.div_ceil(512).saturating_mul(512);
        match kind {
            b'L' | b'x' | b'K' | b'g' => {
                if size > ctx.cfg.limits.max_header {
                    ctx.finding(
                        FindingKind::Unscannable,
                        at,
                        "tar extension header",
                        "a long-name or PAX record larger than the scan limit",
                    );
                    return Ok(());
                }
                let Some(body) = input.vec(size as usize)? else {
                    ctx.problem(at, "tar: truncated extension header");
                    return Ok(());
                };
                input.skip(padded(size) - size)?;
                if kind == b'L' {
                    long_name = Some(cstr(&body));
                } else if kind == b'x' {
                    for (k, v) in pax_records(&body) {
                        match k.as_str() {
                            "path" => pax_path = Some(v),
                            "size" => pax_size = v.parse().ok(),
                            _ => {}
                        }
                    }
                }
                continue;
            }
            _ => {}
        }
        if let Some(s) = pax_size.take() {
            size = s;
        }
        let mut name = cstr(&h[..100]);
        if &h[257..262] == b"ustar" && h[345] != 0 {
            name = format!("{}/{}", cstr(&h[345..500]), name);
        }
        if let Some(n) = long_name.take() {
            name = n;
        }
        if let Some(n) = pax_path.take() {
            name = n;
        }
        // Python's tarfile skips data only for regular files and unknown
        // types; links, directories and devices carry none.
        if matches!(kind, b'1'..=b'6') {
            continue;
        }
        let start = input.offset();
        let mut take = (&mut *input).take(size);
        scan_member(&mut take, ctx, &name, Some(size), depth)?;
        io::copy(&mut take, &mut io::sink())?;
        if input.offset() - start < size {
            ctx.problem(at, format!("tar: member {name} is truncated"));
            return Ok(());
        }
        input.skip(padded(size) - size)?;
    }
}

/// PAX records: `LEN key=value\n`.
fn pax_records(body: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let Some(sp) = rest.iter().position(|&b| b == b' ') else {
            break;
        };
        let Some(len) = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            break;
        };
        if len <= sp || len > rest.len() {
            break;
        }
        let rec = &rest[sp + 1..len];
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(eq) = rec.iter().position(|&b| b == b'=') {
            out.push((
                String::from_utf8_lossy(&rec[..eq]).into_owned(),
                String::from_utf8_lossy(&rec[eq + 1..]).into_owned(),
            ));
        }
        rest = &rest[len..];
    }
    out
}
