//! A safetensors file read once, front to back, straight into the buffers
//! the caller's arrays will use: the header is parsed (and validated) by the
//! `safetensors` crate, each tensor's bytes are read into a new buffer of
//! exactly its size. Nothing here needs the GIL: the buffers are Rust
//! vectors, handed to numpy without a copy once the file verified
//! (`crate::model`), so several files load at once, one per core.
//!
//! A buffer is fresh zeroed memory (`calloc`: pages the kernel zeroes on
//! first touch), so the read is the only write of each byte, on the
//! reading thread, as the copy is in `safetensors.numpy.load_file`. No huge
//! pages: asking for them needs `madvise`, which is `unsafe`; buffers from
//! numpy's own allocator (which asks for them) cost more CPU here than
//! they saved, from the kernel compacting memory on demand
//! (bench/RESULTS.md).
//!
//! Reading from the gate's stream, these buffers hold the bytes the hash
//! saw; the caller sees them only after the file's digest matched.

use std::collections::HashMap;
use std::io::{self, Read};

use safetensors::tensor::Metadata;

/// The largest header the safetensors format allows (its crate's limit).
const MAX_HEADER: u64 = 100_000_000;

/// One tensor: its name, dtype (`F32`, `BF16`, ...), shape and bytes.
pub(crate) type Tensor = (String, String, Vec<usize>, Vec<u8>);

/// Everything in one file.
#[derive(Debug)]
pub(crate) struct Tensors {
    /// The header's `__metadata__`.
    pub(crate) metadata: Option<HashMap<String, String>>,
    /// The tensors, in file order.
    pub(crate) tensors: Vec<Tensor>,
}

/// Why a file could not be loaded (besides failing verification).
#[derive(Debug)]
pub(crate) enum LoadFailure {
    /// Reading failed (a tampered file surfaces here first; the gate's
    /// verdict then names the real reason).
    Io(io::Error),
    /// Not a valid safetensors file.
    Format(String),
    /// No memory for a tensor's buffer (its size).
    Memory(usize),
}

impl std::fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadFailure::Io(e) => write!(f, "read: {e}"),
            LoadFailure::Format(s) => write!(f, "not a valid safetensors file: {s}"),
            LoadFailure::Memory(n) => write!(f, "no memory for a tensor of {n} bytes"),
        }
    }
}

/// Read a whole safetensors file of `size` bytes from `reader`.
///
/// # Errors
/// [`LoadFailure::Format`] for a malformed header or a size that does not
/// match it; [`LoadFailure::Io`] for read errors.
pub(crate) fn load<R: Read + Send>(reader: &mut R, size: u64) -> Result<Tensors, LoadFailure> {
    let format = |s: String| LoadFailure::Format(s);
    let mut len = [0u8; 8];
    reader.read_exact(&mut len).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => format("shorter than its 8-byte header length".into()),
        _ => LoadFailure::Io(e),
    })?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER || n > size.saturating_sub(8) {
        return Err(format(format!(
            "header length {n} does not fit in {size} bytes (at most {MAX_HEADER})"
        )));
    }
    let mut header = vec![0u8; usize::try_from(n).map_err(|e| format(e.to_string()))?];
    reader.read_exact(&mut header).map_err(LoadFailure::Io)?;
    let meta: Metadata =
        serde_json::from_slice(&header).map_err(|e| format(format!("header: {e}")))?;
    let data = size - 8 - n;
    if meta.data_len() as u64 != data {
        return Err(format(format!(
            "the header describes {} bytes of tensors, the file holds {data}",
            meta.data_len()
        )));
    }
    let mut tensors = Vec::new();
    for name in meta.offset_keys() {
        let Some(info) = meta.info(&name) else {
            continue;
        };
        let (start, end) = info.data_offsets;
        let bytes = read_tensor(reader, end - start)?;
        tensors.push((name, format!("{:?}", info.dtype), info.shape.clone(), bytes));
    }
    Ok(Tensors {
        metadata: meta.metadata().clone(),
        tensors,
    })
}

/// The next `len` bytes of `reader`, in a buffer of exactly that size.
///
/// The buffer is fresh zeroed memory (`calloc`: pages the kernel zeroes on
/// first touch, which is the read's write), so the read writes each byte
/// once. `vec!` would abort the process when memory runs out: a fallible
/// reservation of the same size comes first, so that is an error instead.
fn read_tensor<R: Read>(reader: &mut R, len: usize) -> Result<Vec<u8>, LoadFailure> {
    Vec::<u8>::new()
        .try_reserve_exact(len)
        .map_err(|_| LoadFailure::Memory(len))?;
    let mut buf = vec![0u8; len];
    reader.read_exact(&mut buf).map_err(LoadFailure::Io)?;
    Ok(buf)
}
