//! ONNX models: protobuf limits (2 GiB per message, nesting depth) and
//! external-data locations that leave the model directory (the path
//! traversal of CVE-2022-25882), in one forward walk of the wire format.

use std::io;

use crate::ctx::Ctx;
use crate::input::Input;
use crate::report::FindingKind;

/// protobuf refuses messages of 2 GiB or more.
const MAX_MESSAGE: u64 = (2 << 30) - 1;
/// protobuf's default recursion limit.
const MAX_DEPTH: u32 = 100;
/// External-data strings kept.
const KEEP: u64 = 4096;

/// Top-level tags of an ONNX `ModelProto` after `ir_version`.
const MODEL_TAGS: [u8; 8] = [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72];

/// Whether `head` starts like an ONNX model: `ir_version` (field 1) with a
/// small value, then another `ModelProto` field.
pub(crate) fn looks_like(head: &[u8]) -> bool {
    head.len() >= 3
        && head[0] == 0x08
        && (1..=32).contains(&head[1])
        && MODEL_TAGS.contains(&head[2])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Msg {
    Model,
    Graph,
    Node,
    Attribute,
    Tensor,
    Sparse,
    Function,
    Entry,
    Other,
}

fn child(m: Msg, field: u64) -> Msg {
    match (m, field) {
        (Msg::Model, 7) | (Msg::Attribute, 6 | 11) => Msg::Graph,
        (Msg::Model, 25) => Msg::Function,
        (Msg::Graph, 1) | (Msg::Function, 7) => Msg::Node,
        (Msg::Node, 5) => Msg::Attribute,
        (Msg::Graph, 5) | (Msg::Attribute, 5 | 10) | (Msg::Sparse, 1 | 2) => Msg::Tensor,
        (Msg::Graph, 15) | (Msg::Attribute, 22 | 23) => Msg::Sparse,
        (Msg::Tensor, 13) => Msg::Entry,
        _ => Msg::Other,
    }
}

struct Walk<'a, 'r, 'c, 'x> {
    input: &'a mut Input<'r>,
    ctx: &'x mut Ctx<'c>,
}

/// Malformed (recorded) or an I/O error.
enum Stop {
    Malformed,
    Io(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

impl Walk<'_, '_, '_, '_> {
    fn malformed(&mut self, why: &str) -> Stop {
        let at = self.input.offset();
        self.ctx.problem(at, format!("onnx: {why}"));
        Stop::Malformed
    }

    fn varint(&mut self, left: &mut u64) -> Result<u64, Stop> {
        let mut v = 0u64;
        for i in 0..10 {
            if *left == 0 {
                return Err(self.malformed("truncated varint"));
            }
            let Some(b) = self.input.byte()? else {
                return Err(self.malformed("truncated"));
            };
            *left -= 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.malformed("varint too long"))
    }

    fn skip(&mut self, n: u64, left: &mut u64) -> Result<(), Stop> {
        if n > *left || self.input.skip(n)? < n {
            return Err(self.malformed("field runs past its message"));
        }
        *left -= n;
        Ok(())
    }

    fn message(&mut self, kind: Msg, mut left: u64, depth: u32) -> Result<(), Stop> {
        if depth > MAX_DEPTH {
            let at = self.input.offset();
            self.ctx.finding(
                FindingKind::HostileHeader,
                at,
                "nesting",
                format!("messages nested deeper than protobuf's limit of {MAX_DEPTH}"),
            );
            return Err(Stop::Malformed);
        }
        let mut key: Option<Vec<u8>> = None;
        let mut value: Option<Vec<u8>> = None;
        while left > 0 {
            if depth == 0 && self.input.at_end()? {
                break;
            }
            let tag = self.varint(&mut left)?;
            let field = tag >> 3;
            match tag & 7 {
                0 => {
                    self.varint(&mut left)?;
                }
                1 => self.skip(8, &mut left)?,
                5 => self.skip(4, &mut left)?,
                2 => {
                    let n = self.varint(&mut left)?;
                    if n > left {
                        return Err(self.malformed("field runs past its message"));
                    }
                    let sub = child(kind, field);
                    if kind == Msg::Entry && (field == 1 || field == 2) && n <= KEEP {
                        // Bounded by KEEP.
                        let Some(s) = self.input.vec(n as usize)? else {
                            return Err(self.malformed("truncated"));
                        };
                        left -= n;
                        if field == 1 {
                            key = Some(s);
                        } else {
                            value = Some(s);
                        }
                    } else if sub == Msg::Other {
                        self.skip(n, &mut left)?;
                    } else {
                        self.message(sub, n, depth + 1)?;
                        left -= n;
                    }
                }
                _ => return Err(self.malformed("unsupported wire type")),
            }
        }
        if kind == Msg::Entry && key.as_deref() == Some(b"location".as_slice()) {
            let loc = String::from_utf8_lossy(value.as_deref().unwrap_or_default()).into_owned();
            if leaves_directory(&loc) {
                let at = self.input.offset();
                self.ctx.finding(
                    FindingKind::HostileHeader,
                    at,
                    format!("external data {loc}"),
                    "an external-data location outside the model directory",
                );
            }
        }
        Ok(())
    }
}

/// Whether an external-data path can leave the directory of the model.
fn leaves_directory(p: &str) -> bool {
    p.is_empty()
        || p.starts_with('/')
        || p.starts_with('\\')
        || p.as_bytes().get(1) == Some(&b':')
        || p.split(['/', '\\']).any(|c| c == "..")
}

/// Scan an ONNX model; `size` is the stream's size if known.
///
/// # Errors
/// I/O errors of the input.
pub(crate) fn scan(input: &mut Input<'_>, ctx: &mut Ctx<'_>, size: Option<u64>) -> io::Result<()> {
    if let Some(s) = size
        && s > MAX_MESSAGE
    {
        ctx.finding(
            FindingKind::HostileHeader,
            0,
            "model size",
            "an ONNX model over 2 GiB cannot be parsed by protobuf (use external data)",
        );
        return Ok(());
    }
    let mut w = Walk { input, ctx };
    match w.message(Msg::Model, size.unwrap_or(MAX_MESSAGE), 0) {
        Ok(()) | Err(Stop::Malformed) => Ok(()),
        Err(Stop::Io(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::leaves_directory;

    #[test]
    fn traversal_is_caught() {
        assert!(leaves_directory("../../etc/passwd"));
        assert!(leaves_directory("/etc/passwd"));
        assert!(leaves_directory("a/../../b"));
        assert!(leaves_directory("C:\\x"));
        assert!(!leaves_directory("weights.bin"));
        assert!(!leaves_directory("data/w..bin"));
    }
}
