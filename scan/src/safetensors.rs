//! safetensors header sanity: what the `safetensors` crate checks before it
//! maps a file, so a hostile header is refused before any loader sees it.

use std::io;

use serde_json::Value;

use crate::ctx::Ctx;
use crate::input::Input;
use crate::report::FindingKind;

/// Bits per element of each dtype.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

/// Scan a safetensors stream (its first 8 bytes and `{` already seen).
///
/// # Errors
/// I/O errors of the input.
pub(crate) fn scan(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> io::Result<()> {
    let Some(n) = input.vec(8)? else {
        return Ok(());
    };
    let mut len = [0u8; 8];
    len.copy_from_slice(&n);
    let len = u64::from_le_bytes(len);
    let hostile = |ctx: &mut Ctx<'_>, at: u64, subject: &str, why: String| {
        ctx.finding(FindingKind::HostileHeader, at, subject.to_owned(), why);
    };
    if len > ctx.cfg.limits.max_header {
        hostile(
            ctx,
            0,
            "header length",
            format!("{len} bytes is over the limit"),
        );
        return Ok(());
    }
    let Some(header) = input.vec(len as usize)? else {
        hostile(
            ctx,
            0,
            "header length",
            format!("{len} bytes runs past the end of the file"),
        );
        return Ok(());
    };
    let data = input.drain()?;
    let value: Value = match serde_json::from_slice(&header) {
        Ok(v) => v,
        Err(e) => {
            hostile(ctx, 8, "header", format!("not valid JSON: {e}"));
            return Ok(());
        }
    };
    let Value::Object(map) = value else {
        hostile(ctx, 8, "header", "not a JSON object".into());
        return Ok(());
    };
    let mut ranges: Vec<(u64, u64, String)> = Vec::new();
    for (name, info) in &map {
        if name == "__metadata__" {
            let ok = info
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string));
            if !ok {
                hostile(ctx, 8, name, "metadata must map strings to strings".into());
            }
            continue;
        }
        match tensor(info) {
            Ok((begin, end)) => ranges.push((begin, end, name.clone())),
            Err(why) => hostile(ctx, 8, name, why.to_string()),
        }
    }
    ranges.sort();
    let mut next = 0u64;
    for (begin, end, name) in &ranges {
        if *begin != next {
            let why = if *begin < next {
                format!("data [{begin}, {end}) overlaps the tensor before it")
            } else {
                format!("data [{begin}, {end}) leaves a gap after offset {next}")
            };
            hostile(ctx, 8, name, why);
        }
        next = next.max(*end);
    }
    if next != data {
        hostile(
            ctx,
            8 + len,
            "data",
            format!("tensors cover {next} bytes but the file holds {data} after the header"),
        );
    }
    Ok(())
}

/// Why a tensor entry of a safetensors header is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum TensorError {
    #[error("entry is not an object")]
    NotObject,
    #[error("no dtype")]
    NoDtype,
    #[error("unknown dtype {0:?}")]
    UnknownDtype(String),
    #[error("no shape")]
    NoShape,
    #[error("shape holds a non-integer")]
    NonIntegerDimension,
    #[error("shape overflows")]
    ShapeOverflow,
    #[error("data_offsets must be [begin, end]")]
    OffsetsNotPair,
    #[error("data_offsets must be integers")]
    OffsetsNotIntegers,
    #[error("data_offsets [{begin}, {end}) run backwards")]
    Backwards { begin: u64, end: u64 },
    #[error("size overflows")]
    SizeOverflow,
    #[error("{dtype} x {elements} elements is not the {bytes} bytes of data_offsets")]
    SizeMismatch {
        dtype: String,
        elements: u64,
        bytes: u64,
    },
}

/// One tensor entry: its data range, if consistent.
fn tensor(info: &Value) -> Result<(u64, u64), TensorError> {
    let obj = info.as_object().ok_or(TensorError::NotObject)?;
    let dtype = obj
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or(TensorError::NoDtype)?;
    let bits = dtype_bits(dtype).ok_or_else(|| TensorError::UnknownDtype(dtype.to_owned()))?;
    let shape = obj
        .get("shape")
        .and_then(Value::as_array)
        .ok_or(TensorError::NoShape)?;
    let mut elements: u64 = 1;
    for d in shape {
        let d = d.as_u64().ok_or(TensorError::NonIntegerDimension)?;
        elements = elements.checked_mul(d).ok_or(TensorError::ShapeOverflow)?;
    }
    let offsets = obj
        .get("data_offsets")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .ok_or(TensorError::OffsetsNotPair)?;
    let (Some(begin), Some(end)) = (offsets[0].as_u64(), offsets[1].as_u64()) else {
        return Err(TensorError::OffsetsNotIntegers);
    };
    if begin > end {
        return Err(TensorError::Backwards { begin, end });
    }
    let total_bits = elements
        .checked_mul(bits)
        .ok_or(TensorError::SizeOverflow)?;
    if total_bits % 8 != 0 || total_bits / 8 != end - begin {
        return Err(TensorError::SizeMismatch {
            dtype: dtype.to_owned(),
            elements,
            bytes: end - begin,
        });
    }
    Ok((begin, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inconsistent_tensor_entries_say_why() {
        let t = |v: serde_json::Value| tensor(&v);
        use serde_json::json;
        assert_eq!(
            t(json!({"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})),
            Ok((0, 8))
        );
        for (entry, why) in [
            (json!([]), TensorError::NotObject),
            (json!({"shape": [1]}), TensorError::NoDtype),
            (
                json!({"dtype": "Q9", "shape": [1]}),
                TensorError::UnknownDtype("Q9".into()),
            ),
            (json!({"dtype": "F32"}), TensorError::NoShape),
            (
                json!({"dtype": "F32", "shape": [-1]}),
                TensorError::NonIntegerDimension,
            ),
            (
                json!({"dtype": "F32", "shape": [u64::MAX, 2]}),
                TensorError::ShapeOverflow,
            ),
            (
                json!({"dtype": "F32", "shape": [1], "data_offsets": [0]}),
                TensorError::OffsetsNotPair,
            ),
            (
                json!({"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}),
                TensorError::OffsetsNotIntegers,
            ),
            (
                json!({"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}),
                TensorError::Backwards { begin: 8, end: 4 },
            ),
            (
                json!({"dtype": "F32", "shape": [u64::MAX], "data_offsets": [0, 4]}),
                TensorError::SizeOverflow,
            ),
            (
                json!({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}),
                TensorError::SizeMismatch {
                    dtype: "F32".into(),
                    elements: 3,
                    bytes: 8,
                },
            ),
        ] {
            assert_eq!(t(entry.clone()), Err(why), "{entry}");
        }
    }
}
