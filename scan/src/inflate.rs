//! DEFLATE (zip members) and gzip, decompressed as a stream with bounded
//! output: a per-member ratio and a per-file total (decompression bombs
//! end in a finding, not in memory or time).

use std::io::{self, Read};

use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::config::Limits;
use crate::ctx::Ctx;
use crate::dispatch::{Corruption, MemberError, scan_member};
use crate::input::Input;

/// Output allowed before the ratio applies.
const RATIO_SLACK: u64 = 1 << 20;

/// Reads the decompressed bytes of one raw DEFLATE stream from `input`,
/// consuming exactly the compressed bytes (so what follows can be read).
pub(crate) struct Inflate<'a, 'r> {
    input: &'a mut Input<'r>,
    state: Box<InflateState>,
    /// Compressed bytes it may consume, if known.
    left: Option<u64>,
    consumed: u64,
    produced: u64,
    /// Decompressed bytes it may still produce (the file's budget).
    budget: u64,
    ratio: u64,
    done: bool,
    bombed: bool,
}

impl<'a, 'r> Inflate<'a, 'r> {
    pub(crate) fn new(
        input: &'a mut Input<'r>,
        left: Option<u64>,
        budget: u64,
        limits: &Limits,
    ) -> Self {
        Self {
            input,
            state: InflateState::new_boxed(DataFormat::Raw),
            left,
            consumed: 0,
            produced: 0,
            budget,
            ratio: limits.max_ratio,
            done: false,
            bombed: false,
        }
    }

    /// Whether the output exceeded the limits (the error was returned).
    pub(crate) fn bombed(&self) -> bool {
        self.bombed
    }

    /// Compressed bytes consumed and decompressed bytes produced.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.consumed, self.produced)
    }

    /// Whether the DEFLATE stream ended.
    pub(crate) fn finished(&self) -> bool {
        self.done
    }
}

impl Read for Inflate<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            let want = self.left.map_or(64 * 1024, |l| l.min(64 * 1024) as usize);
            let avail = self.input.peek(want.max(1))?;
            let avail = &avail[..avail.len().min(want)];
            let eof = avail.is_empty();
            let r = inflate(&mut self.state, avail, out, MZFlush::None);
            let used = r.bytes_consumed;
            self.input.skip(used as u64)?;
            self.consumed += used as u64;
            if let Some(l) = &mut self.left {
                *l -= used as u64;
            }
            self.produced += r.bytes_written as u64;
            if self.produced > self.budget {
                self.bombed = true;
                return Err(MemberError::Bomb("decompressed bytes").into_io());
            }
            if self.produced > self.consumed.saturating_mul(self.ratio) + RATIO_SLACK {
                self.bombed = true;
                return Err(MemberError::Bomb("compression ratio").into_io());
            }
            match r.status {
                Ok(MZStatus::StreamEnd) => {
                    self.done = true;
                    return Ok(r.bytes_written);
                }
                Ok(_) | Err(MZError::Buf) => {
                    if r.bytes_written > 0 {
                        return Ok(r.bytes_written);
                    }
                    if eof || (used == 0 && self.left == Some(0)) {
                        return Err(MemberError::Corrupt(Corruption::TruncatedDeflate).into_io());
                    }
                }
                Err(e) => {
                    return Err(MemberError::Corrupt(Corruption::Deflate(e)).into_io());
                }
            }
        }
    }
}

/// gzip: header, DEFLATE, trailer; members back to back, as `gzip -d` and
/// Python's `gzip` read them.
pub(crate) fn scan_gzip(input: &mut Input<'_>, ctx: &mut Ctx<'_>, depth: u32) -> io::Result<()> {
    let mut reader = Gzip {
        input,
        inflate: None,
        budget: ctx.cfg.limits.max_expanded.saturating_sub(ctx.expanded),
        limits: ctx.cfg.limits.clone(),
        produced: 0,
        started: false,
    };
    let result = scan_member(&mut reader, ctx, "(gzip)", None, depth);
    ctx.expanded += reader.produced;
    result?;
    Ok(())
}

struct Gzip<'a, 'r> {
    input: &'a mut Input<'r>,
    inflate: Option<(Box<InflateState>, u64, u64)>,
    budget: u64,
    limits: Limits,
    produced: u64,
    started: bool,
}

impl Gzip<'_, '_> {
    /// Read a member header; `false` at the end of the input (after at
    /// least one member).
    fn header(&mut self) -> io::Result<bool> {
        let corrupt = |why: Corruption| MemberError::Corrupt(why).into_io();
        let mut h = [0u8; 10];
        if self.started && self.input.at_end()? {
            return Ok(false);
        }
        if !self.input.exact(&mut h)? {
            return Err(corrupt(Corruption::GzipTruncatedHeader));
        }
        if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
            return Err(corrupt(Corruption::NotGzip));
        }
        let flags = h[3];
        if flags & 4 != 0 {
            let mut x = [0u8; 2];
            if !self.input.exact(&mut x)? {
                return Err(corrupt(Corruption::GzipTruncatedHeader));
            }
            let n = u64::from(u16::from_le_bytes(x));
            if self.input.skip(n)? < n {
                return Err(corrupt(Corruption::GzipTruncatedHeader));
            }
        }
        for bit in [8u8, 16] {
            if flags & bit != 0 {
                loop {
                    match self.input.byte()? {
                        Some(0) => break,
                        Some(_) => {}
                        None => return Err(corrupt(Corruption::GzipTruncatedHeader)),
                    }
                }
            }
        }
        if flags & 2 != 0 && self.input.skip(2)? < 2 {
            return Err(corrupt(Corruption::GzipTruncatedHeader));
        }
        self.started = true;
        Ok(true)
    }
}

impl Read for Gzip<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.inflate.is_none() {
                if !self.header()? {
                    return Ok(0);
                }
                self.inflate = Some((InflateState::new_boxed(DataFormat::Raw), 0, 0));
            }
            let Some((state, consumed, produced)) = &mut self.inflate else {
                return Ok(0);
            };
            // Reuse Inflate's logic on a fresh view of the input.
            let mut one = Inflate {
                input: &mut *self.input,
                state: std::mem::replace(state, InflateState::new_boxed(DataFormat::Raw)),
                left: None,
                consumed: *consumed,
                produced: *produced,
                budget: self.budget.saturating_sub(self.produced - *produced),
                ratio: self.limits.max_ratio,
                done: false,
                bombed: false,
            };
            let n = one.read(out);
            let done = one.done;
            let (c, p) = one.counts();
            *state = one.state;
            self.produced += p - *produced;
            *consumed = c;
            *produced = p;
            let n = n?;
            if done {
                // CRC-32 and size.
                if self.input.skip(8)? < 8 {
                    return Err(MemberError::Corrupt(Corruption::GzipTruncatedTrailer).into_io());
                }
                self.inflate = None;
            }
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corruption(compressed: &[u8]) -> Option<Corruption> {
        let mut bytes = compressed;
        let mut input = Input::new(&mut bytes);
        let mut gz = Gzip {
            input: &mut input,
            inflate: None,
            budget: 1 << 20,
            limits: Limits::default(),
            produced: 0,
            started: false,
        };
        let mut out = Vec::new();
        let e = gz.read_to_end(&mut out).err()?;
        match MemberError::of(&e)? {
            MemberError::Corrupt(c) => Some(*c),
            MemberError::Bomb(_) => None,
        }
    }

    #[test]
    fn corrupt_gzip_says_how() {
        let header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        assert_eq!(
            corruption(&header[..5]),
            Some(Corruption::GzipTruncatedHeader)
        );
        assert_eq!(
            corruption(b"PK\x03\x04 not gzip"),
            Some(Corruption::NotGzip)
        );
        // A stored empty final block, then no trailer.
        let stored = [&header[..], &[0x01, 0x00, 0x00, 0xff, 0xff]].concat();
        assert_eq!(corruption(&stored), Some(Corruption::GzipTruncatedTrailer));
        // A final block of the reserved type 3.
        let reserved = [&header[..], &[0x07, 0x00]].concat();
        assert!(matches!(
            corruption(&reserved),
            Some(Corruption::Deflate(_))
        ));
        // A stored block that promises more bytes than follow.
        let short = [&header[..], &[0x01, 0x05, 0x00, 0xfa, 0xff, b'a']].concat();
        assert_eq!(corruption(&short), Some(Corruption::TruncatedDeflate));
    }
}
