//! Zip archives in one forward pass.
//!
//! Loaders (Python's `zipfile`, torch's miniz reader) find members through
//! the central directory at the end; a forward pass meets the local headers
//! first. Every member is scanned as its local header leads to it, then
//! every central directory entry must name a member that was scanned, with
//! the same name, method and compressed size, and the end record must
//! locate that directory exactly: a loader can only read what was scanned,
//! or the archive is refused (fail closed).
//!
//! Members of a PyTorch archive under `<prefix>/data/` next to a
//! `<prefix>/data.pkl` are raw tensor storages that torch never unpickles:
//! they are not searched for pickles (tensor bytes can start like one).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::io::{self, Read};

use crate::ctx::Ctx;
use crate::dispatch::{MemberError, scan_member};
use crate::inflate::Inflate;
use crate::input::Input;
use crate::report::{FindingKind, Format};

const LOCAL: &[u8; 4] = b"PK\x03\x04";
const CENTRAL: &[u8; 4] = b"PK\x01\x02";
const DESCRIPTOR: &[u8; 4] = b"PK\x07\x08";
const END: &[u8; 4] = b"PK\x05\x06";
const END64: &[u8; 4] = b"PK\x06\x06";
const LOCATOR64: &[u8; 4] = b"PK\x06\x07";

/// A member as its local header described it.
struct Local {
    name: u64,
    method: u16,
    csize: u64,
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64le(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// Sizes (and offset) from a zip64 extra field, in the order the spec
/// lists them, for the 32-bit fields that are `0xFFFFFFFF`.
fn zip64(extra: &[u8], want: &mut [&mut u64]) {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = u16le(extra, i);
        let len = usize::from(u16le(extra, i + 2));
        let body = &extra[i + 4..(i + 4 + len).min(extra.len())];
        if id == 1 {
            let mut at = 0;
            for w in want.iter_mut() {
                if **w == u64::from(u32::MAX) && at + 8 <= body.len() {
                    **w = u64le(body, at);
                    at += 8;
                }
            }
            return;
        }
        i += 4 + len;
    }
}

/// Scan a zip archive.
///
/// # Errors
/// I/O errors of the input.
pub(crate) fn scan(input: &mut Input<'_>, ctx: &mut Ctx<'_>, depth: u32) -> io::Result<Format> {
    let hasher = std::collections::hash_map::RandomState::new();
    let mut locals: HashMap<u64, Local> = HashMap::new();
    let mut torch_prefixes: Vec<String> = Vec::new();
    if input.peek(8)? == b"PK\x07\x08PK\x03\x04" {
        input.skip(4)?;
    }
    // Local headers and data.
    loop {
        let at = input.offset();
        let sig = input.peek(4)?.to_vec();
        if sig.as_slice() != LOCAL {
            break;
        }
        let Some(h) = input.vec(30)? else {
            ctx.problem(at, "zip: truncated local header");
            return Ok(Format::Zip);
        };
        let flags = u16le(&h, 6);
        let method = u16le(&h, 8);
        let mut csize = u64::from(u32le(&h, 18));
        let mut usize_ = u64::from(u32le(&h, 22));
        let name_len = usize::from(u16le(&h, 26));
        let extra_len = usize::from(u16le(&h, 28));
        let (Some(name), Some(extra)) = (input.vec(name_len)?, input.vec(extra_len)?) else {
            ctx.problem(at, "zip: truncated local header");
            return Ok(Format::Zip);
        };
        zip64(&extra, &mut [&mut usize_, &mut csize]);
        let name_text = String::from_utf8_lossy(&name).into_owned();
        let descriptor = flags & 8 != 0;
        let sized = !descriptor || csize != 0;
        if flags & 1 != 0 {
            ctx.finding(
                FindingKind::Unscannable,
                at,
                name_text.clone(),
                "zip member is encrypted",
            );
        } else if method != 0 && method != 8 {
            ctx.finding(
                FindingKind::Unscannable,
                at,
                name_text.clone(),
                format!(
                    "zip member compressed with method {method}, which the scanner cannot open"
                ),
            );
        }
        let storage = is_storage(&name_text, &torch_prefixes);
        if let Some(prefix) = name_text.strip_suffix("data.pkl") {
            torch_prefixes.push(prefix.to_owned());
        }
        let readable = flags & 1 == 0 && (method == 0 || method == 8);
        if !readable {
            if !sized {
                ctx.problem(at, "zip: cannot find the end of a member of unknown size");
                return Ok(Format::Zip);
            }
            if input.skip(csize)? < csize {
                ctx.problem(at, "zip: truncated member");
                return Ok(Format::Zip);
            }
        } else {
            let ok = member(
                input,
                ctx,
                depth,
                &name_text,
                method,
                sized.then_some(csize),
                usize_,
                storage,
            )?;
            let Some(used) = ok else {
                return Ok(Format::Zip);
            };
            csize = used;
        }
        if descriptor {
            // Optional signature, CRC-32, then 4- or 8-byte sizes.
            let d = input.peek(24)?.to_vec();
            let mut skip = if d.starts_with(DESCRIPTOR) { 4 } else { 0 };
            skip += 4;
            let small = d.len() >= skip + 8 && u64::from(u32le(&d, skip)) == csize;
            skip += if small { 8 } else { 16 };
            if d.len() < skip {
                ctx.problem(at, "zip: truncated data descriptor");
                return Ok(Format::Zip);
            }
            input.skip(skip as u64)?;
        }
        if locals.len() as u64 >= ctx.cfg.limits.max_members {
            ctx.finding(
                FindingKind::Unscannable,
                at,
                "zip members",
                "more members than the scan limit",
            );
            return Ok(Format::Zip);
        }
        locals.insert(
            at,
            Local {
                name: hasher.hash_one(&name),
                method,
                csize,
            },
        );
    }
    let format = if torch_prefixes.is_empty() {
        Format::Zip
    } else {
        Format::PytorchZip
    };
    central(input, ctx, &locals, &hasher)?;
    Ok(format)
}

/// Whether `name` is a tensor storage of a PyTorch archive seen so far.
fn is_storage(name: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| {
        name.strip_prefix(p.as_str())
            .and_then(|rest| rest.strip_prefix("data/"))
            .is_some_and(|key| {
                !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
    })
}

/// Scan one member's data; returns its compressed size, or `None` when
/// the archive cannot be followed further (recorded).
#[allow(clippy::too_many_arguments)]
fn member(
    input: &mut Input<'_>,
    ctx: &mut Ctx<'_>,
    depth: u32,
    name: &str,
    method: u16,
    csize: Option<u64>,
    usize_: u64,
    storage: bool,
) -> io::Result<Option<u64>> {
    let at = input.offset();
    let hint = Some(usize_).filter(|_| csize.is_some());
    if method == 8 {
        let budget = ctx.cfg.limits.max_expanded.saturating_sub(ctx.expanded);
        let limits = ctx.cfg.limits.clone();
        let mut inflate = Inflate::new(input, csize, budget, &limits);
        let result = if storage {
            drain_member(&mut inflate)
        } else {
            scan_member(&mut inflate, ctx, name, hint, depth).map(|_| ())
        };
        if result.is_ok() && inflate.bombed() {
            // Recorded by scan_member; the member's end cannot be found.
            ctx.expanded += inflate.counts().1;
            return Ok(None);
        }
        // Finish the DEFLATE stream to find where the member ends.
        let rest = result.and_then(|()| drain_member(&mut inflate));
        let (consumed, produced) = inflate.counts();
        let finished = inflate.finished();
        ctx.expanded += produced;
        match rest {
            Ok(()) => {}
            Err(e) => match MemberError::of(&e) {
                Some(MemberError::Bomb(_)) => {
                    ctx.member.push(name.to_owned());
                    ctx.finding(
                        FindingKind::Unscannable,
                        at,
                        "decompressed bytes",
                        "decompression exceeds the scan limits (a decompression bomb?)",
                    );
                    ctx.member.pop();
                    return Ok(None);
                }
                Some(MemberError::Corrupt(why)) => {
                    ctx.problem(at, format!("zip member {name}: {why}"));
                    return Ok(None);
                }
                None => return Err(e),
            },
        }
        match csize {
            Some(c) if c != consumed => {
                // Bytes after the DEFLATE end inside the member: skip them.
                if !finished || input.skip(c - consumed.min(c))? < c - consumed.min(c) {
                    ctx.problem(at, format!("zip member {name}: truncated"));
                    return Ok(None);
                }
                Ok(Some(c))
            }
            _ => Ok(Some(consumed)),
        }
    } else if let Some(c) = csize {
        if storage {
            input.skip(c)?;
        } else {
            let mut take = (&mut *input).take(c);
            scan_member(&mut take, ctx, name, Some(c), depth)?;
            io::copy(&mut take, &mut io::sink())?;
        }
        if input.offset() - at < c {
            ctx.problem(at, format!("zip member {name}: truncated"));
            return Ok(None);
        }
        Ok(Some(c))
    } else {
        let mut stored = StoredUntilDescriptor {
            input,
            count: 0,
            done: false,
        };
        if !storage {
            scan_member(&mut stored, ctx, name, None, depth)?;
        }
        io::copy(&mut stored, &mut io::sink())?;
        if !stored.done {
            ctx.problem(at, format!("zip member {name}: no data descriptor found"));
            return Ok(None);
        }
        Ok(Some(stored.count))
    }
}

fn drain_member(r: &mut dyn Read) -> io::Result<()> {
    io::copy(r, &mut io::sink()).map(|_| ())
}

/// A stored member of unknown size: its data ends where a data descriptor
/// whose compressed size equals the bytes so far begins.
struct StoredUntilDescriptor<'a, 'r> {
    input: &'a mut Input<'r>,
    count: u64,
    done: bool,
}

impl StoredUntilDescriptor<'_, '_> {
    /// Whether a descriptor at the start of `d` ends `count` bytes.
    fn ends_here(d: &[u8], count: u64) -> bool {
        if d.len() < 16 || !d.starts_with(DESCRIPTOR) {
            return false;
        }
        let c32 = u64::from(u32le(d, 8));
        let u32_ = u64::from(u32le(d, 12));
        if c32 == count && u32_ == count {
            return true;
        }
        d.len() >= 24 && u64le(d, 8) == count && u64le(d, 16) == count
    }
}

impl Read for StoredUntilDescriptor<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        const WINDOW: usize = 64 * 1024;
        if self.done || out.is_empty() {
            return Ok(0);
        }
        let window = self.input.peek(WINDOW)?;
        let full = window.len() == WINDOW;
        let mut give = window.len();
        let mut found = false;
        let mut from = 0;
        while let Some(i) = memchr::memmem::find(&window[from..], DESCRIPTOR) {
            let i = from + i;
            if full && window.len() - i < 24 && i > 0 {
                // Not enough lookahead: stop before the candidate; the
                // next read sees it at the start of a full window.
                give = i;
                break;
            }
            if Self::ends_here(&window[i..], self.count + i as u64) {
                give = i;
                found = true;
                break;
            }
            from = i + 1;
        }
        if found && give == 0 {
            self.done = true;
            return Ok(0);
        }
        let n = give.min(out.len());
        let n = self.input.read(&mut out[..n])?;
        self.count += n as u64;
        if found && n == give {
            self.done = true;
        }
        Ok(n)
    }
}

/// The central directory and end records: each entry must be a scanned
/// member.
fn central(
    input: &mut Input<'_>,
    ctx: &mut Ctx<'_>,
    locals: &HashMap<u64, Local>,
    hasher: &std::collections::hash_map::RandomState,
) -> io::Result<()> {
    let cd_start = input.offset();
    let mut entries = 0u64;
    let refuse = |ctx: &mut Ctx<'_>, at: u64, subject: String, why: &str| {
        ctx.finding(FindingKind::Unscannable, at, subject, why.to_owned());
    };
    while input.peek(4)? == CENTRAL {
        let at = input.offset();
        let Some(h) = input.vec(46)? else {
            ctx.problem(at, "zip: truncated central directory");
            return Ok(());
        };
        let method = u16le(&h, 10);
        let mut csize = u64::from(u32le(&h, 20));
        let mut usize_ = u64::from(u32le(&h, 24));
        let name_len = usize::from(u16le(&h, 28));
        let extra_len = usize::from(u16le(&h, 30));
        let comment_len = u64::from(u16le(&h, 32));
        let disk = u16le(&h, 34);
        let mut offset = u64::from(u32le(&h, 42));
        let (Some(name), Some(extra)) = (input.vec(name_len)?, input.vec(extra_len)?) else {
            ctx.problem(at, "zip: truncated central directory");
            return Ok(());
        };
        if input.skip(comment_len)? < comment_len {
            ctx.problem(at, "zip: truncated central directory");
            return Ok(());
        }
        zip64(&extra, &mut [&mut usize_, &mut csize, &mut offset]);
        let shown = String::from_utf8_lossy(&name).into_owned();
        entries += 1;
        if entries > ctx.cfg.limits.max_members {
            refuse(
                ctx,
                at,
                "zip members".into(),
                "more members than the scan limit",
            );
            return Ok(());
        }
        match locals.get(&offset) {
            None => refuse(
                ctx,
                at,
                shown,
                "the central directory lists a member the forward scan did not reach",
            ),
            Some(l) if l.name != hasher.hash_one(&name) => refuse(
                ctx,
                at,
                shown,
                "the central directory and the local header name this member differently",
            ),
            Some(l) if l.method != method || l.csize != csize => refuse(
                ctx,
                at,
                shown,
                "the central directory and the local header disagree on this member's size or method",
            ),
            Some(_) if disk != 0 => {
                refuse(ctx, at, shown, "multi-disk zip archives are not opened")
            }
            Some(_) => {}
        }
    }
    let cd_end = input.offset();
    let mut zip64_end = false;
    if input.peek(4)? == END64 {
        let at = input.offset();
        let Some(h) = input.vec(12)? else {
            ctx.problem(at, "zip: truncated zip64 end record");
            return Ok(());
        };
        let rest = u64le(&h, 4);
        if rest > 1 << 20 || input.skip(rest)? < rest {
            ctx.problem(at, "zip: bad zip64 end record");
            return Ok(());
        }
        zip64_end = true;
    }
    if input.peek(4)? == LOCATOR64 {
        input.skip(20)?;
    }
    let at = input.offset();
    if input.peek(4)? != END {
        refuse(
            ctx,
            at,
            "zip archive".into(),
            "unexpected data where the central directory or end record belongs",
        );
        return Ok(());
    }
    let Some(h) = input.vec(22)? else {
        ctx.problem(at, "zip: truncated end record");
        return Ok(());
    };
    let total = u64::from(u16le(&h, 10));
    let size = u64::from(u32le(&h, 12));
    let offset = u64::from(u32le(&h, 16));
    let comment = u64::from(u16le(&h, 20));
    let consistent = (zip64_end || total == entries || total == 0xffff)
        && (size == cd_end - cd_start || size == u64::from(u32::MAX))
        && (offset == cd_start || offset == u64::from(u32::MAX));
    if !consistent {
        refuse(
            ctx,
            at,
            "zip end record".into(),
            "the end record does not locate the central directory the scan read",
        );
    }
    if input.skip(comment)? < comment {
        ctx.problem(at, "zip: truncated comment");
    }
    if !input.at_end()? {
        refuse(
            ctx,
            input.offset(),
            "zip archive".into(),
            "data after the end record (a loader may find another directory there)",
        );
    }
    Ok(())
}
