//! Recognize a stream's format by its first bytes and hand it to the right
//! parser; archives come back here for each member.

use std::io::{self, Read};

use crate::ctx::Ctx;
use crate::input::Input;
use crate::pickle::{self, End, TORCH_LEGACY_MAGIC};
use crate::report::{FindingKind, Format};
use crate::{gguf, inflate, keras, npy, onnx, safetensors, tar, zip};

/// Pickle streams read back to back from one file (legacy `torch.save`
/// writes five; more is not a checkpoint).
const MAX_PICKLES: usize = 64;

/// An error a member's reader raises: a decompression bomb or corrupt
/// compressed data. The member is abandoned; the outer stream goes on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MemberError {
    /// Decompression would exceed the scan limits.
    #[error("decompression exceeds the scan limits ({0})")]
    Bomb(&'static str),
    /// The compressed data is corrupt.
    #[error("corrupt compressed data: {0}")]
    Corrupt(Corruption),
}

/// How compressed data is corrupt ([`MemberError::Corrupt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Corruption {
    /// The DEFLATE stream ends before its final block.
    #[error("truncated DEFLATE data")]
    TruncatedDeflate,
    /// The DEFLATE stream does not decode.
    #[error("DEFLATE error {0:?}")]
    Deflate(miniz_oxide::MZError),
    /// A gzip member header ends early.
    #[error("gzip: truncated header")]
    GzipTruncatedHeader,
    /// A gzip member without the magic and DEFLATE method.
    #[error("gzip: not a gzip member")]
    NotGzip,
    /// A gzip member without its CRC-32 and size trailer.
    #[error("gzip: truncated trailer")]
    GzipTruncatedTrailer,
}

impl MemberError {
    pub(crate) fn into_io(self) -> io::Error {
        io::Error::other(self)
    }

    /// The member error an I/O error carries, if it is one.
    pub(crate) fn of(e: &io::Error) -> Option<&MemberError> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<MemberError>())
    }
}

/// What the first bytes say.
fn detect(head: &[u8], size: Option<u64>, max_header: u64) -> Detected {
    let starts = |m: &[u8]| head.starts_with(m);
    if head.is_empty() {
        return Detected::Format(Format::Data);
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08PK\x03\x04") {
        return Detected::Format(Format::Zip);
    }
    if starts(b"\x1f\x8b") {
        return Detected::Format(Format::Gzip);
    }
    if starts(b"\xfd7zXZ\x00")
        || (starts(b"BZh") && head.get(4..10) == Some(b"1AY&SY".as_slice()))
        || starts(b"\x28\xb5\x2f\xfd")
        || starts(b"\x04\x22\x4d\x18")
        || starts(b"7z\xbc\xaf\x27\x1c")
    {
        return Detected::Format(Format::Compressed);
    }
    if starts(b"GGUF") {
        return Detected::Format(Format::Gguf);
    }
    if starts(b"\x93NUMPY") {
        return Detected::Format(Format::Numpy);
    }
    if tar::is_header(head) {
        return Detected::Format(Format::Tar);
    }
    if head.len() >= 10 && head[8] == b'{' && matches!(head[9], b'"' | b'}' | b' ' | b'\n') {
        let mut n = [0u8; 8];
        n.copy_from_slice(&head[..8]);
        let n = u64::from_le_bytes(n);
        // Out-of-bounds lengths are reported by the header check.
        let _ = (size, max_header);
        if n >= 2 {
            return Detected::Format(Format::Safetensors);
        }
    }
    if head[0] == 0x80 && head.get(1).is_some_and(|p| *p <= 5) {
        return Detected::Pickle { strong: true };
    }
    if onnx::looks_like(head) {
        return Detected::Format(Format::Onnx);
    }
    if pickle::is_opcode(head[0]) {
        return Detected::Pickle { strong: false };
    }
    Detected::Format(Format::Data)
}

enum Detected {
    Format(Format),
    /// A pickle: `strong` when it starts with a PROTO opcode, weak when its
    /// first byte merely is an opcode (text may start that way too).
    Pickle {
        strong: bool,
    },
}

/// Scan one stream (a file or an archive member) to its end; `depth` is
/// the archive nesting (0 for a file). Returns its format.
///
/// # Errors
/// I/O errors of the input (including [`MemberError`]s of a member's
/// decompression, which the archive parser catches).
pub(crate) fn scan_stream(
    input: &mut Input<'_>,
    ctx: &mut Ctx<'_>,
    size: Option<u64>,
    depth: u32,
) -> io::Result<Format> {
    let head = input.peek(512)?.to_vec();
    let format = match detect(&head, size, ctx.cfg.limits.max_header) {
        Detected::Pickle { strong } => scan_pickles(input, ctx, strong)?,
        Detected::Format(f) => {
            let archive = matches!(f, Format::Zip | Format::Tar | Format::Gzip);
            if archive && depth >= ctx.cfg.limits.max_depth {
                ctx.finding(
                    FindingKind::Unscannable,
                    input.offset(),
                    format!("{f} archive"),
                    format!(
                        "archives nested deeper than {} levels are not opened",
                        ctx.cfg.limits.max_depth
                    ),
                );
                input.drain()?;
                return Ok(f);
            }
            let mut f = f;
            match f {
                Format::Zip => f = zip::scan(input, ctx, depth)?,
                Format::Tar => tar::scan(input, ctx, depth)?,
                Format::Gzip => inflate::scan_gzip(input, ctx, depth)?,
                Format::Numpy => npy::scan(input, ctx)?,
                Format::Safetensors => safetensors::scan(input, ctx)?,
                Format::Gguf => gguf::scan(input, ctx, size)?,
                Format::Onnx => onnx::scan(input, ctx, size)?,
                Format::Compressed => ctx.finding(
                    FindingKind::Unscannable,
                    0,
                    "compressed data",
                    "compressed with a method the scanner cannot open (xz, bzip2, zstd, lz4, 7z)",
                ),
                _ => {}
            }
            f
        }
    };
    input.drain()?;
    Ok(format)
}

/// One pickle, or several back to back (legacy `torch.save`).
fn scan_pickles(input: &mut Input<'_>, ctx: &mut Ctx<'_>, strong: bool) -> io::Result<Format> {
    let before = ctx.findings.len();
    let first = pickle::emulate(input, ctx)?;
    match &first.end {
        End::Stop(_) | End::Limit => {}
        End::Error(at, why) if strong => {
            ctx.problem(*at, format!("malformed pickle: {why}"));
            return Ok(Format::Pickle);
        }
        End::Error(at, why) => {
            // Text or data whose first byte happens to be an opcode: a
            // pickle only if the load would have run something.
            let dangerous = ctx.findings[before..]
                .iter()
                .any(|f| f.kind == FindingKind::DangerousGlobal);
            if first.executed || dangerous {
                ctx.problem(*at, format!("malformed pickle: {why}"));
                return Ok(Format::Pickle);
            }
            ctx.findings.truncate(before);
            return Ok(Format::Data);
        }
    }
    if first.end == End::Limit {
        return Ok(Format::Pickle);
    }
    // Legacy torch.save: magic, protocol, system info, the object, the
    // storage keys; then raw storage bytes (not a pickle).
    let legacy = first.end == End::Stop(Some(TORCH_LEGACY_MAGIC));
    let more = if legacy { 4 } else { MAX_PICKLES - 1 };
    for _ in 0..more {
        let next = input.peek(2)?;
        let is_pickle = next.len() == 2 && next[0] == 0x80 && next[1] <= 5;
        if !is_pickle && !legacy {
            break;
        }
        let e = pickle::emulate(input, ctx)?;
        match e.end {
            End::Stop(_) => {}
            End::Limit => break,
            End::Error(at, why) => {
                ctx.problem(at, format!("malformed pickle: {why}"));
                break;
            }
        }
    }
    Ok(Format::Pickle)
}

/// Scan `reader` as the member `name` of an archive at `depth` (the
/// archive's depth). Member errors (bombs, corrupt compression) become
/// findings or problems; the caller drains what is left of the member.
///
/// # Errors
/// I/O errors of the outer input.
pub(crate) fn scan_member(
    reader: &mut dyn Read,
    ctx: &mut Ctx<'_>,
    name: &str,
    size: Option<u64>,
    depth: u32,
) -> io::Result<Option<Format>> {
    ctx.members += 1;
    if ctx.members > ctx.cfg.limits.max_members {
        if ctx.members == ctx.cfg.limits.max_members + 1 {
            ctx.finding(
                FindingKind::Unscannable,
                0,
                "archive members",
                format!(
                    "more than {} archive members are not opened",
                    ctx.cfg.limits.max_members
                ),
            );
        }
        return Ok(None);
    }
    ctx.member.push(printable(name));
    // A Keras config is read whole (bounded) to look for code in it.
    let mut config = Vec::new();
    if name.rsplit('/').next() == Some("config.json") {
        (&mut *reader)
            .take(ctx.cfg.limits.max_header)
            .read_to_end(&mut config)?;
        keras::check_config(&config, ctx);
    }
    let mut chained = (&config[..]).chain(reader);
    let mut input = Input::new(&mut chained);
    let result = scan_stream(&mut input, ctx, size, depth + 1);
    let offset = input.offset();
    let out = match result {
        Ok(f) => Ok(Some(f)),
        Err(e) => match MemberError::of(&e) {
            Some(MemberError::Bomb(what)) => {
                ctx.finding(
                    FindingKind::Unscannable,
                    offset,
                    *what,
                    "decompression exceeds the scan limits (a decompression bomb?)",
                );
                Ok(None)
            }
            Some(MemberError::Corrupt(why)) => {
                ctx.problem(offset, format!("corrupt compressed data: {why}"));
                Ok(None)
            }
            None => Err(e),
        },
    };
    ctx.member.pop();
    out
}

/// A member name as reports show it: at most 256 characters.
fn printable(name: &str) -> String {
    if name.chars().count() <= 256 {
        name.to_owned()
    } else {
        let mut s: String = name.chars().take(256).collect();
        s.push('…');
        s
    }
}
