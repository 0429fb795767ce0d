//! GGUF header sanity: magic, version, counts and string lengths bounded by
//! the bytes that are there, tensor shapes and types known, tensor data in
//! range and not overlapping (what llama.cpp's loader relies on).

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::io;

use crate::ctx::Ctx;
use crate::input::Input;
use crate::report::FindingKind;

/// llama.cpp's limits: dimensions per tensor, bytes per tensor name.
const MAX_DIMS: u32 = 4;
const MAX_NAME: u64 = 64;
/// Key-value pairs and tensors per file.
const MAX_COUNT: u64 = 1 << 20;
/// Default data alignment.
const ALIGNMENT: u64 = 32;

/// (elements per block, bytes per block) of each ggml tensor type.
fn ggml_type(t: u32) -> Option<(u64, u64)> {
    Some(match t {
        0 => (1, 4),
        1 | 25 | 30 => (1, 2),
        2 | 20 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        9 => (32, 36),
        10 => (256, 84),
        11 | 21 => (256, 110),
        12 => (256, 144),
        13 => (256, 176),
        14 => (256, 210),
        15 => (256, 292),
        16 => (256, 66),
        17 => (256, 74),
        18 => (256, 98),
        19 => (256, 50),
        22 => (256, 82),
        23 => (256, 136),
        24 => (1, 1),
        26 => (1, 4),
        27 | 28 => (1, 8),
        29 => (256, 56),
        34 => (256, 54),
        35 => (256, 66),
        39 => (32, 17),
        _ => return None,
    })
}

struct Reader<'a, 'r, 'c, 'x> {
    input: &'a mut Input<'r>,
    ctx: &'x mut Ctx<'c>,
    v1: bool,
    /// Bytes the file still holds after the current position, if known.
    size: Option<u64>,
}

/// Why parsing stopped (already recorded).
struct Stop;

impl Reader<'_, '_, '_, '_> {
    fn hostile(&mut self, subject: impl Into<String>, why: impl Into<String>) -> Stop {
        let at = self.input.offset();
        self.ctx
            .finding(FindingKind::HostileHeader, at, subject, why);
        Stop
    }

    fn left(&self) -> u64 {
        self.size
            .map_or(u64::MAX, |s| s.saturating_sub(self.input.offset()))
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], Stop> {
        let mut b = [0u8; N];
        match self.input.exact(&mut b) {
            Ok(true) => Ok(b),
            Ok(false) => Err(self.hostile("header", "truncated")),
            Err(_) => Err(Stop),
        }
    }

    fn u32(&mut self) -> Result<u32, Stop> {
        Ok(u32::from_le_bytes(self.bytes::<4>()?))
    }

    fn u64(&mut self) -> Result<u64, Stop> {
        Ok(u64::from_le_bytes(self.bytes::<8>()?))
    }

    /// A count or length: u32 in version 1, u64 after.
    fn count(&mut self) -> Result<u64, Stop> {
        if self.v1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), Stop> {
        if n > self.left() {
            return Err(self.hostile(
                what.to_owned(),
                format!("{n} bytes run past the end of the file"),
            ));
        }
        match self.input.skip(n) {
            Ok(k) if k == n => Ok(()),
            Ok(_) => Err(self.hostile(what.to_owned(), "truncated")),
            Err(_) => Err(Stop),
        }
    }

    /// A string, returned when at most `keep` bytes.
    fn string(&mut self, keep: u64, what: &str) -> Result<Option<Vec<u8>>, Stop> {
        let n = self.count()?;
        if n > self.left() || n > self.ctx.cfg.limits.max_header {
            return Err(self.hostile(
                what.to_owned(),
                format!("string length {n} is out of bounds"),
            ));
        }
        if n <= keep {
            // Bounded by `keep`.
            return match self.input.vec(n as usize) {
                Ok(Some(v)) => Ok(Some(v)),
                Ok(None) => Err(self.hostile(what.to_owned(), "truncated")),
                Err(_) => Err(Stop),
            };
        }
        self.skip(n, what)?;
        Ok(None)
    }

    /// A metadata value of type `t`; the value when it is a u32.
    fn value(&mut self, t: u32, key: &str, in_array: bool) -> Result<Option<u64>, Stop> {
        match t {
            0 | 1 | 7 => self.skip(1, key).map(|()| None),
            2 | 3 => self.skip(2, key).map(|()| None),
            4 => self.u32().map(|v| Some(u64::from(v))),
            5 | 6 => self.skip(4, key).map(|()| None),
            10..=12 => self.skip(8, key).map(|()| None),
            8 => self.string(0, key).map(|_| None),
            9 if in_array => {
                Err(self.hostile(key.to_owned(), "nested arrays are not supported by loaders"))
            }
            9 => {
                let et = self.u32()?;
                let n = self.count()?;
                let size = match et {
                    0 | 1 | 7 => Some(1),
                    2 | 3 => Some(2),
                    4..=6 => Some(4),
                    10..=12 => Some(8),
                    8 => None,
                    9 => {
                        return Err(self.hostile(
                            key.to_owned(),
                            "nested arrays are not supported by loaders",
                        ));
                    }
                    _ => {
                        return Err(
                            self.hostile(key.to_owned(), format!("unknown value type {et}"))
                        );
                    }
                };
                match size {
                    Some(s) => {
                        let total = n
                            .checked_mul(s)
                            .ok_or_else(|| self.hostile(key.to_owned(), "array size overflows"))?;
                        self.skip(total, key)?;
                    }
                    None => {
                        // Each string takes at least its length field.
                        let min = if self.v1 { 4 } else { 8 };
                        if n > self.left() / min {
                            return Err(self.hostile(
                                key.to_owned(),
                                format!("array of {n} strings is larger than the file"),
                            ));
                        }
                        for _ in 0..n {
                            self.string(0, key)?;
                        }
                    }
                }
                Ok(None)
            }
            _ => Err(self.hostile(key.to_owned(), format!("unknown value type {t}"))),
        }
    }
}

/// Scan a GGUF stream (magic already seen); `size` is the stream's size.
///
/// # Errors
/// I/O errors of the input.
pub(crate) fn scan(input: &mut Input<'_>, ctx: &mut Ctx<'_>, size: Option<u64>) -> io::Result<()> {
    let tensors = {
        let mut r = Reader {
            input: &mut *input,
            ctx: &mut *ctx,
            v1: false,
            size,
        };
        header(&mut r)
    };
    let after = input.offset();
    let rest = input.drain()?;
    if let Ok((tensors, alignment)) = tensors {
        let start = after.div_ceil(alignment).saturating_mul(alignment);
        let data = (after + rest).saturating_sub(start);
        let mut ranges = tensors;
        ranges.sort_unstable();
        let mut prev_end = 0u64;
        for (begin, len) in ranges {
            let end = begin.saturating_add(len);
            if end > data {
                ctx.finding(
                    FindingKind::HostileHeader,
                    start,
                    "tensor data",
                    format!("a tensor at [{begin}, {end}) lies outside the {data} data bytes"),
                );
                break;
            }
            if begin < prev_end {
                ctx.finding(
                    FindingKind::HostileHeader,
                    start,
                    "tensor data",
                    format!("a tensor at offset {begin} overlaps the one before it"),
                );
                break;
            }
            prev_end = end;
        }
    }
    Ok(())
}

/// Parse up to the tensor data: the (offset, bytes) of every tensor and the
/// alignment.
fn header(r: &mut Reader<'_, '_, '_, '_>) -> Result<(Vec<(u64, u64)>, u64), Stop> {
    r.bytes::<4>()?;
    let version = r.u32()?;
    if !(1..=3).contains(&version) {
        return Err(r.hostile("version", format!("unknown GGUF version {version}")));
    }
    r.v1 = version == 1;
    let n_tensors = r.count()?;
    let n_kv = r.count()?;
    if n_tensors > MAX_COUNT || n_kv > MAX_COUNT {
        return Err(r.hostile(
            "counts",
            format!("{n_tensors} tensors and {n_kv} metadata keys are over the limit"),
        ));
    }
    let mut alignment = ALIGNMENT;
    for _ in 0..n_kv {
        let key = r.string(256, "metadata key")?;
        let key = key.map_or_else(
            || "(long key)".to_owned(),
            |k| String::from_utf8_lossy(&k).into_owned(),
        );
        let t = r.u32()?;
        let v = r.value(t, &key, false)?;
        if key == "general.alignment" {
            match v {
                Some(a) if a.is_power_of_two() => alignment = a,
                _ => return Err(r.hostile(key, "alignment must be a power of two (u32)")),
            }
        }
    }
    let hasher = std::collections::hash_map::RandomState::new();
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for _ in 0..n_tensors {
        let Some(name) = r.string(MAX_NAME, "tensor name")? else {
            return Err(r.hostile("tensor name", format!("longer than {MAX_NAME} bytes")));
        };
        let shown = String::from_utf8_lossy(&name).into_owned();
        if !names.insert(hasher.hash_one(&name)) {
            return Err(r.hostile(shown, "duplicate tensor name"));
        }
        let dims = r.u32()?;
        if dims == 0 || dims > MAX_DIMS {
            return Err(r.hostile(shown, format!("{dims} dimensions")));
        }
        let mut shape = Vec::new();
        for _ in 0..dims {
            shape.push(r.count()?);
        }
        let t = r.u32()?;
        let offset = r.u64()?;
        let Some((block, bytes)) = ggml_type(t) else {
            return Err(r.hostile(shown, format!("unknown tensor type {t}")));
        };
        let mut elements: u64 = 1;
        for d in &shape {
            elements = elements
                .checked_mul(*d)
                .filter(|e| *e <= i64::MAX as u64)
                .ok_or_else(|| r.hostile(shown.clone(), "element count overflows"))?;
        }
        if shape[0] % block != 0 {
            return Err(r.hostile(
                shown,
                format!("first dimension is not a multiple of the block size {block}"),
            ));
        }
        if offset % alignment != 0 {
            return Err(r.hostile(
                shown,
                format!("data offset {offset} is not aligned to {alignment}"),
            ));
        }
        out.push((offset, elements / block * bytes));
    }
    Ok((out, alignment))
}
