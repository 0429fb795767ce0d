//! Walking a JSON document while keeping the JSON pointer of every value,
//! so each problem names exactly where it is.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

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

/// Read a file of at most `limit` bytes.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > limit {
        return Err(format!("{} is larger than {limit} bytes", path.display()));
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
    fn strings_refuse_duplicates_and_empties() {
        let v: Value = serde_json::json!(["a", "", "a", 3]);
        let mut p = Problems::default();
        let ok = strings(&v, &Ptr::root(), true, &mut p).unwrap();
        assert_eq!(ok.len(), 1);
        let ptrs: Vec<&str> = p.0.iter().map(|q| q.pointer.as_str()).collect();
        assert_eq!(ptrs, vec!["/1", "/2", "/3"]);
    }
}
