//! A forward-only, buffered reader with a position: every parser of this
//! crate reads through one, so a scan reads each byte once, in order, and
//! can run on the bytes the hashing engine reads (no seeking, ever).

use std::io::{self, Read};

/// Read buffer size.
const BUF: usize = 64 * 1024;

/// What [`Input::line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A whole line, without its `\n`.
    Full(Vec<u8>),
    /// A line longer than asked for (consumed).
    Long,
    /// The input ended before a `\n`.
    Eof,
}

/// Where the bytes come from.
enum Source<'r> {
    /// A stream: every byte is read, skipped ones too (a hashing reader
    /// must see them all).
    Reader(&'r mut dyn Read),
    /// A file read with `pread`: skipped bytes are not read at all.
    File {
        file: &'r std::fs::File,
        pos: u64,
        len: u64,
    },
}

impl Source<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Reader(r) => r.read(out),
            Source::File { file, pos, .. } => {
                let k = std::os::unix::fs::FileExt::read_at(*file, out, *pos)?;
                *pos += k as u64;
                Ok(k)
            }
        }
    }
}

/// A forward-only reader that counts what it consumed.
pub(crate) struct Input<'r> {
    inner: Source<'r>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Bytes consumed so far (the offset of the next byte).
    offset: u64,
    eof: bool,
}

impl<'r> Input<'r> {
    pub(crate) fn new(inner: &'r mut dyn Read) -> Self {
        Self::with(Source::Reader(inner))
    }

    /// Read `file` from its start; skipped bytes are not read.
    pub(crate) fn file(file: &'r std::fs::File, len: u64) -> Self {
        Self::with(Source::File { file, pos: 0, len })
    }

    fn with(inner: Source<'r>) -> Self {
        Self {
            inner,
            buf: vec![0; BUF],
            pos: 0,
            end: 0,
            offset: 0,
            eof: false,
        }
    }

    /// Offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Make at least `n` bytes (at most the buffer) available, unless the
    /// input ends first. Returns the bytes available.
    fn fill(&mut self, n: usize) -> io::Result<usize> {
        let n = n.min(self.buf.len());
        if self.end - self.pos >= n {
            return Ok(self.end - self.pos);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        while self.end < n && !self.eof {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.pos)
    }

    /// Up to `n` bytes (at most 64 KiB) without consuming them; fewer only
    /// at the end of the input.
    pub(crate) fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let have = self.fill(n)?;
        Ok(&self.buf[self.pos..self.pos + have.min(n)])
    }

    /// The next byte, `None` at the end.
    pub(crate) fn byte(&mut self) -> io::Result<Option<u8>> {
        if self.fill(1)? == 0 {
            return Ok(None);
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        self.offset += 1;
        Ok(Some(b))
    }

    /// Fill `out` completely; `false` when the input ended first (what was
    /// there is consumed).
    pub(crate) fn exact(&mut self, out: &mut [u8]) -> io::Result<bool> {
        let mut done = 0;
        while done < out.len() {
            let have = self.fill(out.len() - done)?;
            if have == 0 {
                return Ok(false);
            }
            let k = have.min(out.len() - done);
            out[done..done + k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
            self.pos += k;
            self.offset += k as u64;
            done += k;
        }
        Ok(true)
    }

    /// `n` bytes into a new vector (`n` is bounded by the caller); `None`
    /// when the input ended first.
    pub(crate) fn vec(&mut self, n: usize) -> io::Result<Option<Vec<u8>>> {
        let mut v = vec![0; n];
        Ok(self.exact(&mut v)?.then_some(v))
    }

    /// Consume up to `n` bytes; returns how many there were.
    pub(crate) fn skip(&mut self, n: u64) -> io::Result<u64> {
        let mut left = n;
        // What is buffered first; then a file skips without reading.
        let buffered =
            usize::try_from(left).map_or(self.end - self.pos, |l| l.min(self.end - self.pos));
        self.pos += buffered;
        self.offset += buffered as u64;
        left -= buffered as u64;
        if let Source::File { pos, len, .. } = &mut self.inner
            && left > 0
        {
            let k = left.min(len.saturating_sub(*pos));
            *pos += k;
            self.offset += k;
            left -= k;
        }
        while left > 0 {
            let have = self.fill(1)?;
            if have == 0 {
                break;
            }
            let k = usize::try_from(left).map_or(have, |l| l.min(have));
            self.pos += k;
            self.offset += k as u64;
            left -= k as u64;
        }
        Ok(n - left)
    }

    /// Consume everything that is left; returns how much.
    pub(crate) fn drain(&mut self) -> io::Result<u64> {
        self.skip(u64::MAX)
    }

    /// A line up to `\n` (consumed, not returned). A line longer than
    /// `max` is consumed whole and reported as [`Line::Long`].
    pub(crate) fn line(&mut self, max: usize) -> io::Result<Line> {
        let mut out = Vec::new();
        let mut long = false;
        loop {
            let have = self.fill(1)?;
            if have == 0 {
                return Ok(Line::Eof);
            }
            let chunk = &self.buf[self.pos..self.pos + have];
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (have, false),
            };
            if !long && out.len() + take <= max {
                out.extend_from_slice(&chunk[..take]);
            } else {
                long = true;
                out = Vec::new();
            }
            let used = take + usize::from(done);
            self.pos += used;
            self.offset += used as u64;
            if done {
                return Ok(if long { Line::Long } else { Line::Full(out) });
            }
        }
    }

    /// Whether the input has no more bytes.
    pub(crate) fn at_end(&mut self) -> io::Result<bool> {
        Ok(self.fill(1)? == 0)
    }
}

impl Read for Input<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let have = self.fill(1)?;
        let k = have.min(out.len());
        out[..k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
        self.pos += k;
        self.offset += k as u64;
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns one byte per call, to exercise refills.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || out.is_empty() {
                return Ok(0);
            }
            out[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn lines_bytes_skips_and_offsets() {
        let mut long = Trickle(b"0123456789\nx");
        let mut input = Input::new(&mut long);
        assert_eq!(input.line(4).unwrap(), Line::Long);
        assert_eq!(input.offset(), 11);
        let mut src = Trickle(b"abc\ndefgh\nrest");
        let mut input = Input::new(&mut src);
        assert_eq!(input.line(10).unwrap(), Line::Full(b"abc".to_vec()));
        assert_eq!(input.offset(), 4);
        assert_eq!(input.peek(3).unwrap(), b"def");
        assert_eq!(input.skip(2).unwrap(), 2);
        assert_eq!(input.byte().unwrap(), Some(b'f'));
        let mut two = [0; 2];
        assert!(input.exact(&mut two).unwrap());
        assert_eq!(&two, b"gh");
        assert_eq!(input.line(2).unwrap(), Line::Full(vec![]));
        assert_eq!(input.line(10).unwrap(), Line::Eof);
        assert!(input.at_end().unwrap());
        assert_eq!(input.offset(), 14);
    }
}
