//! Strict JSON reading for untrusted input.
//!
//! serde's derived structs already refuse duplicate *known* fields; this
//! pass refuses a duplicate key in any object at any depth, nesting deeper
//! than [`MAX_DEPTH`], and trailing bytes, before the typed parse runs.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::error::FormatError;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 32;

/// Check that `bytes` is one JSON value with no duplicate keys and bounded
/// nesting.
///
/// # Errors
/// [`FormatError::Json`] naming the problem and its position.
pub fn check_strict(what: &'static str, bytes: &[u8]) -> Result<(), FormatError> {
    let json_err = |e: serde_json::Error| FormatError::Json {
        what,
        reason: e.to_string(),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Strict { depth: 0 }.deserialize(&mut de).map_err(json_err)?;
    de.end().map_err(json_err)
}

/// Parse `bytes` strictly into `T`.
///
/// # Errors
/// [`FormatError::Json`] for malformed input, duplicate keys, unknown or
/// missing fields.
pub fn parse_strict<'a, T: serde::Deserialize<'a>>(
    what: &'static str,
    bytes: &'a [u8],
) -> Result<T, FormatError> {
    check_strict(what, bytes)?;
    serde_json::from_slice(bytes).map_err(|e| FormatError::Json {
        what,
        reason: e.to_string(),
    })
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
}

impl Strict {
    fn nested<E: de::Error>(self) -> Result<Strict, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(Strict {
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.nested()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.nested()?;
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !keys.insert(key) {
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_json() {
        check_strict("t", br#"{"a":[1,2,{"b":null}],"c":"x","d":1.5e3,"e":true}"#).unwrap();
    }

    #[test]
    fn refuses_duplicates_at_any_depth() {
        for bad in [&br#"{"a":1,"a":2}"#[..], br#"{"x":[{"k":1,"k":1}]}"#] {
            let err = check_strict("t", bad).unwrap_err();
            assert!(err.to_string().contains("duplicate key"), "{err}");
        }
    }

    #[test]
    fn refuses_deep_nesting_trailing_bytes_and_bad_utf8() {
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(
            check_strict("t", deep.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("nesting")
        );
        let ok_depth = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        check_strict("t", ok_depth.as_bytes()).unwrap();
        assert!(check_strict("t", b"{} x").is_err());
        assert!(check_strict("t", b"\"\xff\"").is_err());
        assert!(check_strict("t", b"").is_err());
    }
}
