//! Content safety for model artifacts: refuse unsafe serialization before
//! anything loads it.
//!
//! A signature says who published a model, not that loading it is safe.
//! This crate looks at what a loader would deserialize:
//!
//! - **Pickles** (protocols 0 to 5) are emulated opcode by opcode (stack,
//!   marks, memo), and every global they import is judged against an
//!   [`Allowlist`] of what benign checkpoints need (torch's `weights_only`
//!   set and NumPy's reconstruction). Anything else, and anything the
//!   emulator cannot resolve, is a [`Finding`]: fail closed.
//! - **Archives** (zip: PyTorch, `.npz`, `.keras`; tar: NeMo; gzip) are
//!   opened member by member, recursively, with bounded depth, member count
//!   and decompressed size.
//! - **Safe formats** (safetensors, GGUF, ONNX, `.npy`) get header sanity
//!   checks so a hostile header cannot crash or balloon a loader.
//!
//! Formats are recognized by content, never by file name. Every parser
//! reads forward only, once: [`scan_reader`] can run on the bytes a hashing
//! pass reads (see `modelseal_manifest::engine`), so content and digest
//! are checked over the same bytes in one read.
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

mod config;
mod ctx;
mod dispatch;
mod gguf;
mod inflate;
mod input;
mod inspect;
mod keras;
mod npy;
mod onnx;
mod pickle;
mod report;
mod safetensors;
mod tar;
mod walk;
mod zip;

use std::io::{self, Read};

pub use config::{Config, Limits};
pub use inspect::ContentCheck;
pub use pickle::Allowlist;
pub use report::{FileReport, Finding, FindingKind, Format, Problem, Report, Verdict};
pub use walk::{ScanError, scan_path};

/// Scan everything `reader` yields as the file `path` (a name for the
/// report) of `size` bytes, if known. The reader is read to its end, once,
/// in order, whatever the content: a caller hashing the same reads sees
/// every byte.
///
/// # Errors
/// The reader's I/O errors.
pub fn scan_reader(
    cfg: &Config,
    path: &str,
    size: Option<u64>,
    reader: &mut dyn Read,
) -> io::Result<FileReport> {
    let mut ctx = ctx::Ctx::new(cfg);
    let mut input = input::Input::new(reader);
    let format = dispatch::scan_stream(&mut input, &mut ctx, size, 0)?;
    Ok(finish(path, format, input.offset(), ctx))
}

/// Scan an open file from its start. Unlike [`scan_reader`], bytes no
/// parser needs (tensor data, skipped payloads) are not read at all.
///
/// # Errors
/// The file's I/O errors.
pub fn scan_file(cfg: &Config, path: &str, file: &std::fs::File) -> io::Result<FileReport> {
    let len = file.metadata()?.len();
    let mut ctx = ctx::Ctx::new(cfg);
    let mut input = input::Input::file(file, len);
    let format = dispatch::scan_stream(&mut input, &mut ctx, Some(len), 0)?;
    Ok(finish(path, format, input.offset(), ctx))
}

fn finish(path: &str, format: Format, read: u64, ctx: ctx::Ctx<'_>) -> FileReport {
    let (findings, problems, members) = ctx.finish();
    FileReport {
        path: path.to_owned(),
        format,
        size: read,
        members,
        findings,
        problems,
    }
}

/// Scan bytes in memory (a sealed copy, a test sample).
pub fn scan_bytes(cfg: &Config, path: &str, bytes: &[u8]) -> FileReport {
    let mut r = bytes;
    match scan_reader(cfg, path, Some(bytes.len() as u64), &mut r) {
        Ok(report) => report,
        // Reading a slice cannot fail; a member error cannot escape.
        Err(e) => FileReport {
            path: path.to_owned(),
            format: Format::Data,
            size: bytes.len() as u64,
            members: 0,
            findings: Vec::new(),
            problems: vec![Problem {
                member: Vec::new(),
                offset: 0,
                message: e.to_string(),
            }],
        },
    }
}

/// `s` with control characters escaped, for terminals and logs.
pub fn escape(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
