//! Pickle analysis by emulation of the unpickler (protocols 0 to 5).
//!
//! The emulator runs every opcode the way CPython's `_pickle` does, on
//! abstract values: the stack, the marks (as fences, like CPython) and the
//! memo are modelled, so names built at run time (`STACK_GLOBAL` fed from
//! the memo, protocol-0 strings, `INST`) are resolved. Every import is
//! judged against the [`Allowlist`]; whatever cannot be resolved to an
//! allowed global (an extension code, a call of a non-global, a `BUILD`
//! that patches an imported object, a value the emulator does not track) is
//! a finding too. Structural errors that make CPython stop (stack
//! underflow, a missing memo entry, an unknown opcode, truncation) end the
//! emulation as CPython's unpickler would end the load.

mod allow;

pub use allow::Allowlist;

use std::io;
use std::rc::Rc;

use crate::ctx::Ctx;
use crate::input::{Input, Line};
use crate::report::FindingKind;

/// Strings longer than this are not kept (no global name is this long).
const KEEP_STR: usize = 1024;
/// Protocol-0 lines that hold numbers or names are at most this long.
const MAX_LINE: usize = 64 * 1024;
/// The magic number legacy `torch.save` writes as its first pickle.
pub(crate) const TORCH_LEGACY_MAGIC: i128 = 0x1950a86a20f9469cfc6c;

/// An abstract Python value.
#[derive(Debug, Clone)]
enum V {
    None,
    Bool,
    /// An int; its value when it fits.
    Int(Option<i128>),
    Float,
    /// A str whose text is known.
    Str(Rc<str>),
    /// A str too long to keep, or not decodable.
    OtherStr,
    Bytes,
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
    /// An imported global, allowed or not (a finding was recorded then).
    Global {
        name: Rc<str>,
        allowed: bool,
    },
    /// What calling an allowed global returned.
    Object,
    /// What `persistent_load` returns (torch: a storage).
    PersId,
    /// Anything the emulator does not track; the finding that made it was
    /// already recorded.
    Unknown,
}

impl V {
    fn kind(&self) -> &'static str {
        match self {
            V::None => "None",
            V::Bool => "a bool",
            V::Int(_) => "an int",
            V::Float => "a float",
            V::Str(_) | V::OtherStr => "a str",
            V::Bytes => "bytes",
            V::Tuple => "a tuple",
            V::List => "a list",
            V::Dict => "a dict",
            V::Set | V::FrozenSet => "a set",
            V::Global { .. } => "an imported global",
            V::Object => "an object",
            V::PersId => "a persistent id",
            V::Unknown => "an unresolved value",
        }
    }
}

/// How one pickle stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// `STOP` reached; the value, when it was a known int.
    Stop(Option<i128>),
    /// The unpickler would have raised here (offset, why).
    Error(u64, String),
    /// The emulator's limits were reached (a finding was recorded).
    Limit,
}

/// Structural failure: CPython's unpickler raises.
struct Raise(String);

impl From<io::Error> for Flow {
    fn from(e: io::Error) -> Self {
        Flow::Io(e)
    }
}

enum Flow {
    Raise(Raise),
    Limit,
    Io(io::Error),
}

fn raise<T>(why: impl Into<String>) -> Result<T, Flow> {
    Err(Flow::Raise(Raise(why.into())))
}

struct Machine<'a, 'c> {
    ctx: &'a mut Ctx<'c>,
    stack: Vec<V>,
    /// Stack lengths at each MARK (the top one is the fence).
    marks: Vec<usize>,
    memo: std::collections::HashMap<u64, V>,
    proto: u8,
    /// Offset of the opcode being run.
    at: u64,
    /// Globals already reported in this stream (report each once).
    reported: std::collections::HashSet<Rc<str>>,
    /// Whether something not allowed was called.
    executed: bool,
}

/// What emulating one pickle stream found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Emulation {
    /// How the stream ended.
    pub(crate) end: End,
    /// Whether a global that is not allowed (or an unresolved value) was
    /// called before the end: the load would have run it.
    pub(crate) executed: bool,
}

/// Emulate one pickle stream from `input`, recording findings in `ctx`.
///
/// # Errors
/// Only I/O errors of the input.
pub(crate) fn emulate(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> io::Result<Emulation> {
    let mut m = Machine {
        ctx,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: std::collections::HashMap::new(),
        proto: 0,
        at: input.offset(),
        reported: std::collections::HashSet::new(),
        executed: false,
    };
    let end = loop {
        m.at = input.offset();
        let Some(op) = input.byte()? else {
            break End::Error(m.at, "truncated: no STOP".into());
        };
        match m.step(op, input) {
            Ok(Some(end)) => break end,
            Ok(None) => {}
            Err(Flow::Raise(Raise(why))) => break End::Error(m.at, why),
            Err(Flow::Limit) => break End::Limit,
            Err(Flow::Io(e)) => return Err(e),
        }
    };
    Ok(Emulation {
        end,
        executed: m.executed,
    })
}

/// Whether `b` can start a pickle (is an opcode).
pub(crate) fn is_opcode(b: u8) -> bool {
    matches!(
        b,
        b'(' | b'.'
            | b'0'
            | b'1'
            | b'2'
            | b'F'
            | b'I'
            | b'J'
            | b'K'
            | b'L'
            | b'M'
            | b'N'
            | b'P'
            | b'Q'
            | b'R'
            | b'S'
            | b'T'
            | b'U'
            | b'V'
            | b'X'
            | b'a'
            | b'b'
            | b'c'
            | b'd'
            | b'}'
            | b'e'
            | b'g'
            | b'h'
            | b'i'
            | b'j'
            | b'l'
            | b']'
            | b'o'
            | b'p'
            | b'q'
            | b'r'
            | b's'
            | b't'
            | b')'
            | b'u'
            | b'G'
            | b'B'
            | b'C'
            | 0x80..=0x98
    )
}

impl Machine<'_, '_> {
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, v: V) -> Result<(), Flow> {
        if self.stack.len() >= self.ctx.cfg.limits.max_stack {
            self.limit("the pickle stack");
            return Err(Flow::Limit);
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> Result<V, Flow> {
        if self.stack.len() <= self.fence() {
            return raise("unpickling stack underflow");
        }
        match self.stack.pop() {
            Some(v) => Ok(v),
            None => raise("unpickling stack underflow"),
        }
    }

    fn top(&mut self) -> Result<&mut V, Flow> {
        if self.stack.len() <= self.fence() {
            return raise("unpickling stack underflow");
        }
        match self.stack.last_mut() {
            Some(v) => Ok(v),
            None => raise("unpickling stack underflow"),
        }
    }

    /// Pop everything down to the last mark, and the mark.
    fn pop_mark(&mut self) -> Result<Vec<V>, Flow> {
        let Some(at) = self.marks.pop() else {
            return raise("could not find MARK");
        };
        Ok(self.stack.split_off(at.min(self.stack.len())))
    }

    fn limit(&mut self, what: &str) {
        self.ctx.finding(
            FindingKind::Unscannable,
            self.at,
            what,
            "exceeds the scanner's limits",
        );
    }

    fn unresolvable(&mut self, subject: impl Into<String>, why: impl Into<String>) {
        self.ctx
            .finding(FindingKind::Unresolvable, self.at, subject, why);
    }

    fn memo_put(&mut self, key: u64) -> Result<(), Flow> {
        let v = self.top()?.clone();
        if self.memo.len() >= self.ctx.cfg.limits.max_memo && !self.memo.contains_key(&key) {
            self.limit("the pickle memo");
            return Err(Flow::Limit);
        }
        self.memo.insert(key, v);
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Result<(), Flow> {
        match self.memo.get(&key) {
            Some(v) => {
                let v = v.clone();
                self.push(v)
            }
            None => raise(format!("memo value {key} not found")),
        }
    }

    /// Import `module.name`: judge it and push the global.
    fn import(&mut self, module: &str, name: &str) -> Result<(), Flow> {
        if !is_dotted_identifier(module) || !is_dotted_identifier(name) {
            // `__import__`/`getattr` fail on such names: the load stops.
            return raise(format!("no module or attribute {module:?}.{name:?}"));
        }
        let module = if self.proto < 3 {
            allow::python3_module(module)
        } else {
            module
        };
        let full: Rc<str> = Rc::from(format!("{module}.{name}"));
        let allowed = self.ctx.cfg.allow.contains(module, name);
        if !allowed && self.reported.insert(full.clone()) {
            match allow::denied(module, name) {
                Some(why) => {
                    self.ctx
                        .finding(FindingKind::DangerousGlobal, self.at, full.to_string(), why)
                }
                None => self.ctx.finding(
                    FindingKind::UnallowedGlobal,
                    self.at,
                    full.to_string(),
                    "imports a global that is not on the allowlist",
                ),
            }
        }
        self.push(V::Global {
            name: full,
            allowed,
        })
    }

    /// An import whose names are values on the stack.
    fn import_values(&mut self, module: V, name: V, op: &str) -> Result<(), Flow> {
        match (module, name) {
            (V::Str(m), V::Str(n)) => self.import(&m, &n),
            (V::OtherStr, _) | (_, V::OtherStr) => {
                self.unresolvable(op, "imports a name the scanner cannot read");
                self.push(V::Unknown)
            }
            (V::Unknown, _) | (_, V::Unknown) => {
                self.unresolvable(op, "imports a name computed at load time");
                self.push(V::Unknown)
            }
            _ => raise(format!("{op} requires str")),
        }
    }

    /// Call `callable` (REDUCE, NEWOBJ, OBJ, INST).
    fn call(&mut self, callable: &V, op: &str) -> Result<(), Flow> {
        let result = match callable {
            V::Global {
                allowed: true,
                name,
            } => match &**name {
                "collections.OrderedDict" | "collections.Counter" => V::Dict,
                "builtins.set" => V::Set,
                "builtins.frozenset" => V::FrozenSet,
                "_codecs.encode" | "builtins.bytearray" => V::Bytes,
                _ => V::Object,
            },
            // Reported when imported.
            V::Global { allowed: false, .. } | V::Unknown => {
                self.executed = true;
                V::Unknown
            }
            other => {
                self.executed = true;
                let kind = other.kind();
                self.unresolvable(op, format!("calls {kind}, not an imported global"));
                V::Unknown
            }
        };
        self.push(result)
    }

    fn line(&mut self, input: &mut Input<'_>, what: &str) -> Result<Vec<u8>, Flow> {
        match input.line(MAX_LINE)? {
            Line::Full(l) => Ok(l),
            Line::Long => {
                self.limit(what);
                Err(Flow::Limit)
            }
            Line::Eof => raise("truncated"),
        }
    }

    fn bytes_arg(&mut self, input: &mut Input<'_>, n: usize) -> Result<Vec<u8>, Flow> {
        match input.vec(n)? {
            Some(v) => Ok(v),
            None => raise("truncated"),
        }
    }

    fn le(&mut self, input: &mut Input<'_>, n: usize) -> Result<u64, Flow> {
        let b = self.bytes_arg(input, n)?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// A counted string or bytes argument: kept when short, skipped else.
    fn counted(&mut self, input: &mut Input<'_>, n: u64) -> Result<Option<Vec<u8>>, Flow> {
        if n <= KEEP_STR as u64 {
            // Bounded by KEEP_STR.
            return Ok(Some(self.bytes_arg(input, n as usize)?));
        }
        if input.skip(n)? < n {
            return raise("truncated");
        }
        Ok(None)
    }

    fn str_value(bytes: Option<Vec<u8>>) -> V {
        match bytes.map(String::from_utf8) {
            Some(Ok(s)) => V::Str(Rc::from(s)),
            _ => V::OtherStr,
        }
    }

    /// Run one opcode. `Some` when the stream ended.
    #[allow(clippy::too_many_lines)]
    fn step(&mut self, op: u8, input: &mut Input<'_>) -> Result<Option<End>, Flow> {
        match op {
            // --- stack and marks
            b'(' => {
                if self.marks.len() >= self.ctx.cfg.limits.max_stack {
                    self.limit("the pickle marks");
                    return Err(Flow::Limit);
                }
                self.marks.push(self.stack.len());
            }
            b'0' => {
                // POP: CPython pops a mark sitting on top of the stack.
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let v = self.top()?.clone();
                self.push(v)?;
            }
            b'.' => {
                let v = self.pop()?;
                let int = match v {
                    V::Int(i) => i,
                    _ => None,
                };
                return Ok(Some(End::Stop(int)));
            }
            0x80 => {
                let p = self.bytes_arg(input, 1)?[0];
                if p > 5 {
                    return raise(format!("unsupported pickle protocol: {p}"));
                }
                self.proto = p;
            }
            0x95 => {
                // FRAME: a length hint only.
                self.bytes_arg(input, 8)?;
            }
            // --- constants
            b'N' => self.push(V::None)?,
            0x88 | 0x89 => self.push(V::Bool)?,
            b'I' => {
                let l = self.line(input, "INT")?;
                // CPython parses with strtol (base 0, then base 10):
                // unknown spellings are kept, not refused.
                let v = match l.as_slice() {
                    b"00" | b"01" => V::Bool,
                    s => V::Int(parse_int(s)),
                };
                self.push(v)?;
            }
            b'L' => {
                let l = self.line(input, "LONG")?;
                let s = l.strip_suffix(b"L").unwrap_or(&l);
                self.push(V::Int(parse_int(s)))?;
            }
            b'F' => {
                self.line(input, "FLOAT")?;
                self.push(V::Float)?;
            }
            b'G' => {
                self.bytes_arg(input, 8)?;
                self.push(V::Float)?;
            }
            b'J' => {
                let v = self.le(input, 4)? as u32 as i32;
                self.push(V::Int(Some(i128::from(v))))?;
            }
            b'K' => {
                let v = self.le(input, 1)?;
                self.push(V::Int(Some(i128::from(v))))?;
            }
            b'M' => {
                let v = self.le(input, 2)?;
                self.push(V::Int(Some(i128::from(v))))?;
            }
            0x8a | 0x8b => {
                let n = if op == 0x8a {
                    self.le(input, 1)?
                } else {
                    let n = self.le(input, 4)? as u32 as i32;
                    if n < 0 {
                        return raise("LONG pickle has negative byte count");
                    }
                    n as u64
                };
                let v = match self.counted(input, n)? {
                    Some(b) if b.len() <= 16 => Some(le_signed(&b)),
                    _ => None,
                };
                self.push(V::Int(v))?;
            }
            // --- strings and bytes
            b'S' => {
                let v = match input.line(MAX_LINE)? {
                    Line::Full(l) => match unquote(&l) {
                        Some(s) => Self::str_value(Some(s)),
                        None => return raise("the STRING opcode argument must be quoted"),
                    },
                    Line::Long => V::OtherStr,
                    Line::Eof => return raise("truncated"),
                };
                self.push(v)?;
            }
            b'V' => {
                let v = match input.line(MAX_LINE)? {
                    Line::Full(l) => {
                        raw_unicode_escape(&l).map_or(V::OtherStr, |s| V::Str(Rc::from(s)))
                    }
                    Line::Long => V::OtherStr,
                    Line::Eof => return raise("truncated"),
                };
                self.push(v)?;
            }
            b'T' | b'U' | b'X' | 0x8c | 0x8d => {
                let n = match op {
                    b'U' | 0x8c => self.le(input, 1)?,
                    b'T' => {
                        let n = self.le(input, 4)? as u32 as i32;
                        if n < 0 {
                            return raise("BINSTRING pickle has negative byte count");
                        }
                        n as u64
                    }
                    b'X' => self.le(input, 4)?,
                    _ => self.le(input, 8)?,
                };
                let b = self.counted(input, n)?;
                self.push(Self::str_value(b))?;
            }
            b'B' | b'C' | 0x8e | 0x96 => {
                let n = match op {
                    b'C' => self.le(input, 1)?,
                    b'B' => self.le(input, 4)?,
                    _ => self.le(input, 8)?,
                };
                self.counted(input, n)?;
                self.push(V::Bytes)?;
            }
            0x97 => {
                // NEXT_BUFFER: an out-of-band buffer, data only.
                self.push(V::Bytes)?;
            }
            0x98 => {
                self.top()?;
            }
            // --- containers
            b')' => self.push(V::Tuple)?,
            b']' => self.push(V::List)?,
            b'}' => self.push(V::Dict)?,
            0x8f => self.push(V::Set)?,
            b't' => {
                self.pop_mark()?;
                self.push(V::Tuple)?;
            }
            0x85..=0x87 => {
                for _ in 0..(op - 0x84) {
                    self.pop()?;
                }
                self.push(V::Tuple)?;
            }
            b'l' => {
                self.pop_mark()?;
                self.push(V::List)?;
            }
            b'd' => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return raise("odd number of items for DICT");
                }
                self.push(V::Dict)?;
            }
            0x91 => {
                self.pop_mark()?;
                self.push(V::FrozenSet)?;
            }
            b'a' => {
                self.pop()?;
                self.mutate("APPEND")?;
            }
            b'e' => {
                self.pop_mark()?;
                self.mutate("APPENDS")?;
            }
            b's' => {
                self.pop()?;
                self.pop()?;
                self.mutate("SETITEM")?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return raise("odd number of items for SETITEMS");
                }
                self.mutate("SETITEMS")?;
            }
            0x90 => {
                self.pop_mark()?;
                self.mutate("ADDITEMS")?;
            }
            // --- memo
            b'p' => {
                let l = self.line(input, "PUT")?;
                let k = parse_index(&l).ok_or_else(bad_int)?;
                self.memo_put(k)?;
            }
            b'q' => {
                let k = self.le(input, 1)?;
                self.memo_put(k)?;
            }
            b'r' => {
                let k = self.le(input, 4)?;
                self.memo_put(k)?;
            }
            0x94 => {
                let k = self.memo.len() as u64;
                self.memo_put(k)?;
            }
            b'g' => {
                let l = self.line(input, "GET")?;
                let k = parse_index(&l).ok_or_else(bad_int)?;
                self.memo_get(k)?;
            }
            b'h' => {
                let k = self.le(input, 1)?;
                self.memo_get(k)?;
            }
            b'j' => {
                let k = self.le(input, 4)?;
                self.memo_get(k)?;
            }
            // --- imports and calls
            b'c' => {
                let module = self.line(input, "GLOBAL")?;
                let name = self.line(input, "GLOBAL")?;
                let (Ok(module), Ok(name)) = (String::from_utf8(module), String::from_utf8(name))
                else {
                    return raise("GLOBAL names must be UTF-8");
                };
                self.import(&module, &name)?;
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                self.import_values(module, name, "STACK_GLOBAL")?;
            }
            b'i' => {
                let module = self.line(input, "INST")?;
                let name = self.line(input, "INST")?;
                let (Ok(module), Ok(name)) = (String::from_utf8(module), String::from_utf8(name))
                else {
                    return raise("INST names must be UTF-8");
                };
                self.pop_mark()?;
                self.import(&module, &name)?;
                let class = self.pop()?;
                self.call(&class, "INST")?;
            }
            0x82..=0x84 => {
                let n = match op {
                    0x82 => 1,
                    0x83 => 2,
                    _ => 4,
                };
                let code = self.le(input, n)?;
                self.unresolvable(
                    format!("extension code {code}"),
                    "imports a global through the copyreg extension registry",
                );
                self.push(V::Unknown)?;
            }
            b'R' => {
                let _args = self.pop()?;
                let callable = self.pop()?;
                self.call(&callable, "REDUCE")?;
            }
            0x81 => {
                let _args = self.pop()?;
                let class = self.pop()?;
                self.call(&class, "NEWOBJ")?;
            }
            0x92 => {
                let _kwargs = self.pop()?;
                let _args = self.pop()?;
                let class = self.pop()?;
                self.call(&class, "NEWOBJ_EX")?;
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return raise("OBJ without a class");
                }
                let class = items.swap_remove(0);
                self.call(&class, "OBJ")?;
            }
            b'b' => {
                let _state = self.pop()?;
                let target = self.top()?.clone();
                if let V::Global { name, .. } = target {
                    self.unresolvable(
                        format!("BUILD on {name}"),
                        "sets attributes of an imported global",
                    );
                }
            }
            b'P' => {
                let _pid = self.line(input, "PERSID")?;
                self.push(V::PersId)?;
            }
            b'Q' => {
                self.pop()?;
                self.push(V::PersId)?;
            }
            other => return raise(format!("invalid load key, {other:#04x}")),
        }
        Ok(None)
    }

    /// APPEND/SETITEM/ADDITEMS on the value now on top: on an imported
    /// global this calls its methods (`append`, `__setitem__`) directly.
    fn mutate(&mut self, op: &str) -> Result<(), Flow> {
        let target = self.top()?.clone();
        if let V::Global { name, .. } = target {
            self.unresolvable(
                format!("{op} on {name}"),
                "calls a method of an imported global",
            );
        }
        Ok(())
    }
}

fn bad_int() -> Flow {
    Flow::Raise(Raise("invalid literal for int()".into()))
}

/// `a.b_c.D1`: what `__import__` and `getattr` can find.
fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|c| {
            let mut chars = c.chars();
            chars.next().is_some_and(|f| f == '_' || f.is_alphabetic())
                && chars.all(|ch| ch == '_' || ch.is_alphanumeric())
        })
}

/// A decimal int that fits in i128.
fn parse_int(s: &[u8]) -> Option<i128> {
    std::str::from_utf8(s).ok()?.trim().parse().ok()
}

fn parse_index(s: &[u8]) -> Option<u64> {
    std::str::from_utf8(s).ok()?.trim().parse().ok()
}

/// Little-endian two's complement (LONG1/LONG4), at most 16 bytes.
fn le_signed(b: &[u8]) -> i128 {
    if b.is_empty() {
        return 0;
    }
    let mut v: i128 = 0;
    for (i, &x) in b.iter().enumerate() {
        v |= i128::from(x) << (8 * i);
    }
    let bits = 8 * b.len();
    if bits < 128 && b[b.len() - 1] & 0x80 != 0 {
        v -= 1i128 << bits;
    }
    v
}

/// The body of a protocol-0 `STRING` argument: quoted, with Python escapes.
fn unquote(l: &[u8]) -> Option<Vec<u8>> {
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    if l.len() < 2 || l[0] != l[l.len() - 1] || !matches!(l[0], b'\'' | b'"') {
        return None;
    }
    let body = &l[1..l.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *body.get(i)?;
        i += 1;
        match e {
            b'\\' | b'\'' | b'"' => out.push(e),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\n' => {}
            b'x' => {
                let h = std::str::from_utf8(body.get(i..i + 2)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut k = 0;
                while k < 2 && i < body.len() && (b'0'..=b'7').contains(&body[i]) {
                    v = v * 8 + u32::from(body[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push((v & 0xff) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// Python's `raw-unicode-escape` decoding (`\uXXXX`, `\UXXXXXXXX`; other
/// bytes are Latin-1).
fn raw_unicode_escape(l: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(l.len());
    let mut i = 0;
    while i < l.len() {
        let c = l[i];
        if c == b'\\' && matches!(l.get(i + 1), Some(b'u' | b'U')) {
            let n = if l[i + 1] == b'u' { 4 } else { 8 };
            let h = std::str::from_utf8(l.get(i + 2..i + 2 + n)?).ok()?;
            out.push(char::from_u32(u32::from_str_radix(h, 16).ok()?)?);
            i += 2 + n;
        } else {
            out.push(char::from(c));
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn run(data: &[u8]) -> (End, Vec<String>) {
        let cfg = Config::default();
        let mut ctx = Ctx::new(&cfg);
        let mut r = data;
        let mut input = Input::new(&mut r);
        let e = emulate(&mut input, &mut ctx).unwrap();
        let (f, _, _) = ctx.finish();
        (e.end, f.into_iter().map(|f| f.subject).collect())
    }

    #[test]
    fn protocol_0_global_and_reduce() {
        let (end, f) = run(b"cos\nsystem\n(S'id'\ntR.");
        assert!(matches!(end, End::Stop(None)));
        assert_eq!(f, ["os.system"]);
    }

    #[test]
    fn stack_global_from_the_memo() {
        // PROTO 4, "os" MEMOIZE, "system" MEMOIZE, POP, POP, GET 0, GET 1,
        // STACK_GLOBAL, "id", TUPLE1, REDUCE, STOP.
        let mut p = vec![0x80, 4];
        p.extend([0x8c, 2]);
        p.extend(b"os");
        p.push(0x94);
        p.extend([0x8c, 6]);
        p.extend(b"system");
        p.extend([0x94, b'0', b'0', b'h', 0, b'h', 1, 0x93, 0x8c, 2]);
        p.extend(b"id");
        p.extend([0x85, b'R', b'.']);
        let (end, f) = run(&p);
        assert!(matches!(end, End::Stop(_)), "{end:?}");
        assert_eq!(f, ["os.system"]);
    }

    #[test]
    fn strings_and_ints() {
        assert_eq!(unquote(b"'a\\x41\\n'").unwrap(), b"aA\n");
        assert_eq!(unquote(b"\"\\101\"").unwrap(), b"A");
        assert!(unquote(b"'x").is_none());
        assert_eq!(raw_unicode_escape(b"a\\u0041").unwrap(), "aA");
        assert_eq!(le_signed(&[0xff]), -1);
        assert_eq!(le_signed(&[0x00, 0x80]), -32768);
        assert_eq!(
            le_signed(&[0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]),
            TORCH_LEGACY_MAGIC
        );
    }

    #[test]
    fn structural_errors_end_the_stream() {
        assert!(matches!(run(b"0").0, End::Error(0, _)));
        assert!(matches!(run(b"(.").0, End::Error(1, _)));
        assert!(matches!(run(b"\x80\x02h\x05.").0, End::Error(2, _)));
        assert!(matches!(run(b"\x80\x09N.").0, End::Error(0, _)));
        assert!(matches!(run(b"N").0, End::Error(1, _)));
    }
}
