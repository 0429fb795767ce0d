//! Walking a JSON document while keeping the JSON pointer of every value,
//! so each problem names exactly where it is.

use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::Problem;

/// A JSON pointer (RFC 6901) under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ptr(String);

impl Ptr {
    /// The whole document.
    pub(crate) fn root() -> Ptr {
        Ptr(String::new())
    }

    /// A pointer already written out.
    pub(crate) fn at(pointer: &str) -> Ptr {
        Ptr(pointer.to_owned())
    }

    /// The member `key` of this object.
    pub(crate) fn key(&self, key: &str) -> Ptr {
        Ptr(format!(
            "{}/{}",
            self.0,
            key.replace('~', "~0").replace('/', "~1")
        ))
    }

    /// The element `i` of this array.
    pub(crate) fn index(&self, i: usize) -> Ptr {
        Ptr(format!("{}/{i}", self.0))
    }

    /// The pointer text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Every problem found so far.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<Problem>);

impl Problems {
    /// Record a problem at `ptr`.
    pub(crate) fn add(&mut self, ptr: &Ptr, reason: impl Into<String>) {
        self.0.push(Problem {
            pointer: ptr.0.clone(),
            reason: reason.into(),
        });
    }

    /// How many problems so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// Deepest nesting accepted.
pub(crate) const MAX_DEPTH: usize = 32;

/// Parse one JSON document strictly: no trailing bytes, nesting at most
/// [`MAX_DEPTH`], and no duplicate key in any object (each one is a problem
/// at the pointer of the duplicated member; the first value is kept).
///
/// # Errors
/// Problems: every duplicate key, or one for JSON that does not parse.
pub(crate) fn parse_strict(bytes: &[u8]) -> Result<Value, Vec<Problem>> {
    let dups = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let node = Node {
        ptr: Ptr::root(),
        depth: 0,
        dups: &dups,
    };
    let parsed = node.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    let value = parsed.map_err(|e| {
        vec![Problem {
            pointer: String::new(),
            reason: format!("not valid JSON: {e}"),
        }]
    })?;
    let dups = dups.into_inner();
    if dups.is_empty() {
        Ok(value)
    } else {
        Err(dups)
    }
}

struct Node<'p> {
    ptr: Ptr,
    depth: usize,
    dups: &'p RefCell<Vec<Problem>>,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut out = Vec::new();
        loop {
            let node = Node {
                ptr: self.ptr.index(out.len()),
                depth: self.depth + 1,
                dups: self.dups,
            };
            match seq.next_element_seed(node)? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let node = Node {
                ptr: self.ptr.key(&key),
                depth: self.depth + 1,
                dups: self.dups,
            };
            let at = node.ptr.clone();
            let v = map.next_value_seed(node)?;
            if out.contains_key(&key) {
                self.dups.borrow_mut().push(Problem {
                    pointer: at.0,
                    reason: "duplicate key: a member may appear only once".into(),
                });
            } else {
                out.insert(key, v);
            }
        }
        Ok(Value::Object(out))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An object with only the `allowed` members (each unknown one is a
/// problem) and all of the `required` ones.
pub(crate) fn object<'a>(
    v: &'a Value,
    ptr: &Ptr,
    allowed: &[&str],
    required: &[&str],
    p: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    let Value::Object(map) = v else {
        p.add(ptr, format!("expected an object, found {}", kind(v)));
        return None;
    };
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            p.add(
                &ptr.key(key),
                format!("unknown field (expected one of: {})", allowed.join(", ")),
            );
        }
    }
    for key in required {
        if !map.contains_key(*key) {
            p.add(&ptr.key(key), "required field is missing");
        }
    }
    Some(map)
}

/// A string.
pub(crate) fn string<'a>(v: &'a Value, ptr: &Ptr, p: &mut Problems) -> Option<&'a str> {
    match v {
        Value::String(s) => Some(s),
        other => {
            p.add(ptr, format!("expected a string, found {}", kind(other)));
            None
        }
    }
}

/// A non-empty string.
pub(crate) fn non_empty_string<'a>(v: &'a Value, ptr: &Ptr, p: &mut Problems) -> Option<&'a str> {
    let s = string(v, ptr, p)?;
    if s.is_empty() {
        p.add(ptr, "must not be empty");
        return None;
    }
    Some(s)
}

/// An array (optionally required to be non-empty); each element with its
/// pointer.
pub(crate) fn array<'a>(
    v: &'a Value,
    ptr: &Ptr,
    non_empty: bool,
    p: &mut Problems,
) -> Option<Vec<(Ptr, &'a Value)>> {
    let Value::Array(items) = v else {
        p.add(ptr, format!("expected an array, found {}", kind(v)));
        return None;
    };
    if non_empty && items.is_empty() {
        p.add(ptr, "must not be empty");
        return None;
    }
    Some(
        items
            .iter()
            .enumerate()
            .map(|(i, v)| (ptr.index(i), v))
            .collect(),
    )
}

/// An array of non-empty strings without duplicates; the valid ones with
/// their pointers.
pub(crate) fn strings<'a>(
    v: &'a Value,
    ptr: &Ptr,
    non_empty: bool,
    p: &mut Problems,
) -> Option<Vec<(Ptr, &'a str)>> {
    let items = array(v, ptr, non_empty, p)?;
    let mut out: Vec<(Ptr, &str)> = Vec::with_capacity(items.len());
    for (ptr, v) in items {
        if let Some(s) = non_empty_string(v, &ptr, p) {
            if let Some((first, _)) = out.iter().find(|(_, seen)| *seen == s) {
                p.add(&ptr, format!("duplicate of {}", first.as_str()));
                continue;
            }
            out.push((ptr, s));
        }
    }
    Some(out)
}

/// An integer in `min..=max`.
pub(crate) fn integer(v: &Value, ptr: &Ptr, min: u64, max: u64, p: &mut Problems) -> Option<u64> {
    match v.as_u64() {
        Some(n) if (min..=max).contains(&n) => Some(n),
        Some(n) => {
            p.add(ptr, format!("{n} is out of range {min}..={max}"));
            None
        }
        None => {
            p.add(
                ptr,
                format!("expected an integer in {min}..={max}, found {}", kind(v)),
            );
            None
        }
    }
}

/// A path from the policy, resolved against the policy's directory.
pub(crate) fn resolve(base: &Path, written: &str) -> PathBuf {
    let p = Path::new(written);
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}

/// Why a file or directory a policy names is unusable; its message
/// becomes the [`Problem`] reason at the naming field.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    /// The file cannot be opened or read (or is not a regular file).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than the limit for its kind.
    #[error("{} is larger than {limit} bytes", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    /// The directory cannot be listed.
    #[error("cannot read directory {}: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The directory holds more certificate files than the limit.
    #[error("{} holds more than {limit} certificate files", dir.display())]
    TooManyFiles { dir: PathBuf, limit: usize },
    /// The directory holds no certificate file.
    #[error("{} holds no certificate file (.pem, .crt, .cer, .der)", dir.display())]
    NoCertificateFile { dir: PathBuf },
    /// A certificate or CRL file does not parse.
    #[error("{}: {source}", path.display())]
    Certificate {
        path: PathBuf,
        #[source]
        source: modelseal_verifier::CertificateError,
    },
}

/// Read a file of at most `limit` bytes.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let bytes =
        modelseal_manifest::read_regular(path, limit).map_err(|source| FileError::Read {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_per_rfc6901() {
        let p = Ptr::root().key("trustStores").key("a/b~c").index(3);
        assert_eq!(p.as_str(), "/trustStores/a~1b~0c/3");
    }

    #[test]
    fn unknown_and_missing_fields_are_reported_where_they_are() {
        let v: Value = serde_json::json!({"a": 1, "zz": 2});
        let mut p = Problems::default();
        object(&v, &Ptr::root().key("x"), &["a", "b"], &["b"], &mut p);
        let got: Vec<(&str, bool)> =
            p.0.iter()
                .map(|q| (q.pointer.as_str(), q.reason.contains("unknown")))
                .collect();
        assert_eq!(got, vec![("/x/zz", true), ("/x/b", false)]);
    }

    #[test]
    fn strict_parse_names_every_duplicate_key() {
        let err = parse_strict(br#"{"a":1,"p":[{"k":1,"k":2}],"a":3}"#).unwrap_err();
        let ptrs: Vec<&str> = err.iter().map(|q| q.pointer.as_str()).collect();
        assert_eq!(ptrs, vec!["/p/0/k", "/a"]);
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(
            parse_strict(deep.as_bytes()).unwrap_err()[0]
                .reason
                .contains("nesting")
        );
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        parse_strict(ok.as_bytes()).unwrap();
        for bad in [&b""[..], b"{} x", b"\"\xff\"", b"{\"a\":}"] {
            assert!(parse_strict(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_strict(b"{\"x\": 1.5}").unwrap()["x"], 1.5);
    }

    #[test]
    fn strings_refuse_duplicates_and_empties() {
        let v: Value = serde_json::json!(["a", "", "a", 3]);
        let mut p = Problems::default();
        let ok = strings(&v, &Ptr::root(), true, &mut p).unwrap();
        assert_eq!(ok.len(), 1);
        let ptrs: Vec<&str> = p.0.iter().map(|q| q.pointer.as_str()).collect();
        assert_eq!(ptrs, vec!["/1", "/2", "/3"]);
    }
}
