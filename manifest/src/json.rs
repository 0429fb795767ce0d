//! Strict JSON reading for untrusted input.
//!
//! serde's derived structs already refuse duplicate *known* fields; this
//! pass refuses a duplicate key in any object at any depth, nesting deeper
//! than [`MAX_DEPTH`], and trailing bytes, before the typed parse runs.
//!
//! The pass keeps no values, and remembers the keys of an object by a
//! 64-bit hash keyed at random for each document (SipHash, as `HashMap`
//! uses), not by their text: memory stays a small multiple of the input
//! even for one object with millions of short keys. Two distinct keys of
//! one object collide with probability about `n^2 / 2^65`, and an attacker
//! cannot aim for it without the hash key; a collision rejects the
//! document (fails closed).

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;

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
    let keys = RandomState::new();
    Strict {
        depth: 0,
        keys: &keys,
    }
    .deserialize(&mut de)
    .map_err(json_err)?;
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
struct Strict<'k> {
    depth: usize,
    /// The document's hash key for object keys.
    keys: &'k RandomState,
}

impl<'k> Strict<'k> {
    fn nested<E: de::Error>(self) -> Result<Strict<'k>, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!(
                "nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(Strict {
            depth: self.depth + 1,
            keys: self.keys,
        })
    }
}

/// Reads one object key and returns its keyed hash, without keeping it.
struct KeyHash<'k>(&'k RandomState);

impl<'de> DeserializeSeed<'de> for KeyHash<'_> {
    type Value = u64;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyHash<'_> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<u64, E> {
        Ok(self.0.hash_one(key))
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
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
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key_seed(KeyHash(self.keys))? {
            if !seen.insert(key) {
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
        for bad in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"x":[{"k":1,"k":1}]}"#,
            br#"{"a\u0062":1,"ab":2}"#,
            "{\"\\u00e9\":1,\"é\":2}".as_bytes(),
        ] {
            let err = check_strict("t", bad).unwrap_err();
            assert!(err.to_string().contains("duplicate key"), "{err}");
        }
    }

    #[test]
    fn many_distinct_keys_are_not_duplicates() {
        let keys: Vec<String> = (0..100_000).map(|i| format!("\"k{i}\":{i}")).collect();
        let doc = format!("{{{}}}", keys.join(","));
        check_strict("t", doc.as_bytes()).unwrap();
        let dup = format!("{{{},\"k99999\":0}}", keys.join(","));
        assert!(check_strict("t", dup.as_bytes()).is_err());
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
