//! The signed payload: an in-toto Statement v1 carrying the OMS predicate.
//!
//! ```json
//! {
//!   "_type": "https://in-toto.io/Statement/v1",
//!   "subject": [{"name": "<model dir name>", "digest": {"sha256": "<subject digest>"}}],
//!   "predicateType": "https://model_signing/signature/v1.0",
//!   "predicate": {
//!     "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false,
//!                       "ignore_paths": [".git", "model.sig"]},
//!     "resources": [{"name": "config.json", "algorithm": "sha256", "digest": "<hex>"}]
//!   }
//! }
//! ```
//!
//! Parsing is strict and fails closed: duplicate keys, unknown fields
//! (including unknown predicate fields, which could carry semantics we would
//! otherwise ignore), unknown methods or hashes, unsafe resource names,
//! duplicate or unordered resources and a subject digest that does not match
//! the resources are all errors. A statement is always read from the exact
//! signed bytes and never re-serialized before checking.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::{Digest, HashAlgorithm};
use crate::error::FormatError;
use crate::json::parse_strict;
use crate::manifest::{Manifest, Method, ResourceKey, Serialization};
use crate::path::ResourcePath;

/// DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1 `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// OMS v1.0 predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatementJson {
    #[serde(rename = "_type")]
    type_: String,
    subject: Vec<SubjectJson>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: PredicateJson,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectJson {
    name: String,
    digest: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PredicateJson {
    serialization: SerializationJson,
    resources: Vec<ResourceJson>,
    /// modelseal's record of the empty files in `shards` mode (an empty
    /// file has no shard). `model_signing` ignores predicate fields it does
    /// not know, so its verification is unchanged; modelseal compares it
    /// path by path. Always written in `shards` mode, absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    modelseal_empty_files: Option<Vec<String>>,
    /// Entries of `ignore_paths` that may hide only a regular file or its
    /// absence (the checksums file and its signature `convert` leaves out),
    /// never a directory. Written only when there are some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    modelseal_ignored_files: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SerializationJson {
    method: String,
    hash_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard_size: Option<serde_json::Number>,
    allow_symlinks: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ignore_paths: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceJson {
    name: String,
    algorithm: String,
    digest: String,
}

/// Serialize `manifest` as the in-toto statement to sign: pretty-printed
/// JSON (2-space indent), fixed key order, no trailing newline.
pub fn to_payload(manifest: &Manifest) -> Vec<u8> {
    let ser = manifest.serialization();
    let algorithm = ser.resource_algorithm();
    let statement = StatementJson {
        type_: STATEMENT_TYPE.to_owned(),
        subject: vec![SubjectJson {
            name: manifest.model_name().to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), manifest.subject_digest().to_hex())]),
        }],
        predicate_type: PREDICATE_TYPE.to_owned(),
        predicate: PredicateJson {
            serialization: SerializationJson {
                method: match ser.method {
                    Method::Files => "files".to_owned(),
                    Method::Shards { .. } => "shards".to_owned(),
                },
                hash_type: ser.hash.name().to_owned(),
                shard_size: match ser.method {
                    Method::Files => None,
                    Method::Shards { shard_size } => Some(shard_size.into()),
                },
                allow_symlinks: ser.allow_symlinks,
                ignore_paths: (!ser.ignore_paths.is_empty()).then(|| {
                    ser.ignore_paths
                        .iter()
                        .map(|p| p.as_str().to_owned())
                        .collect()
                }),
            },
            resources: manifest
                .resources()
                .map(|(k, d)| ResourceJson {
                    name: k.name(),
                    algorithm: algorithm.clone(),
                    digest: d.to_hex(),
                })
                .collect(),
            modelseal_empty_files: manifest
                .empty_files()
                .map(|files| files.iter().map(|p| p.as_str().to_owned()).collect()),
            modelseal_ignored_files: (!manifest.ignored_files().is_empty()).then(|| {
                manifest
                    .ignored_files()
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect()
            }),
        },
    };
    // Serializing plain structs of strings, bools and numbers cannot fail.
    serde_json::to_vec_pretty(&statement).unwrap_or_default()
}

/// Parse the signed statement bytes into a manifest.
///
/// # Errors
/// [`FormatError`] for anything that is not a well-formed OMS v1.0 statement.
pub fn from_payload(payload: &[u8]) -> Result<Manifest, FormatError> {
    let st: StatementJson = parse_strict("in-toto statement", payload)?;
    if st.type_ != STATEMENT_TYPE {
        return Err(FormatError::unexpected("_type", STATEMENT_TYPE, &st.type_));
    }
    if st.predicate_type != PREDICATE_TYPE {
        return Err(FormatError::unexpected(
            "predicateType",
            PREDICATE_TYPE,
            &st.predicate_type,
        ));
    }
    let [subject] = <[SubjectJson; 1]>::try_from(st.subject).map_err(|v| {
        FormatError::unexpected(
            "subject",
            "exactly one subject",
            format!("{} subjects", v.len()),
        )
    })?;
    let subject_hex = match (subject.digest.len(), subject.digest.get("sha256")) {
        (1, Some(hex)) => hex,
        _ => {
            let keys: Vec<_> = subject.digest.keys().map(String::as_str).collect();
            return Err(FormatError::unexpected(
                "subject[0].digest",
                "exactly one sha256 digest",
                keys.join(","),
            ));
        }
    };
    let subject_digest = Digest::from_hex(HashAlgorithm::Sha256, subject_hex).map_err(|e| {
        FormatError::unexpected(
            "subject[0].digest.sha256",
            "64 lowercase hex characters",
            e.value,
        )
    })?;

    let serialization = parse_serialization(st.predicate.serialization)?;
    let algorithm = serialization.resource_algorithm();
    let mut resources = BTreeMap::new();
    let mut previous: Option<ResourceKey> = None;
    for (i, r) in st.predicate.resources.into_iter().enumerate() {
        let key = parse_resource_name(&r.name, serialization.method)?;
        if r.algorithm != algorithm {
            return Err(FormatError::unexpected(
                format!("resources[{i}].algorithm"),
                &algorithm,
                &r.algorithm,
            ));
        }
        let digest = Digest::from_hex(serialization.hash, &r.digest).map_err(|e| {
            FormatError::unexpected(
                format!("resources[{i}].digest"),
                format!("{} lowercase hex characters", e.expected),
                e.value,
            )
        })?;
        if let Some(prev) = &previous {
            if *prev == key {
                return Err(FormatError::DuplicateResource { name: r.name });
            }
            if *prev > key {
                return Err(FormatError::Unordered { name: r.name });
            }
        }
        previous = Some(key.clone());
        resources.insert(key, digest);
    }
    let empty_files = match (st.predicate.modelseal_empty_files, serialization.method) {
        (None, _) => None,
        (Some(list), Method::Shards { .. }) => Some(path_list(
            "predicate.modelseal_empty_files",
            &list,
            |p| {
                resources
                    .range(ResourceKey::file(p.clone())..)
                    .next()
                    .is_some_and(|(k, _)| k.path == *p)
            },
            "a path without shards",
        )?),
        (Some(_), Method::Files) => {
            return Err(FormatError::unexpected(
                "predicate.modelseal_empty_files",
                "absent for method files",
                "a list",
            ));
        }
    };
    let ignored_files = match st.predicate.modelseal_ignored_files {
        None => Vec::new(),
        Some(list) => {
            let ignored: std::collections::BTreeSet<&ResourcePath> =
                serialization.ignore_paths.iter().collect();
            path_list(
                "predicate.modelseal_ignored_files",
                &list,
                |p| !ignored.contains(p),
                "an entry of ignore_paths",
            )?
        }
    };
    let mut manifest =
        Manifest::new(subject.name, serialization, resources).with_ignored_files(ignored_files);
    if let Some(files) = empty_files {
        manifest = manifest.with_empty_files(files);
    }
    let expected = manifest.subject_digest();
    if expected != subject_digest {
        return Err(FormatError::SubjectDigest {
            expected: expected.to_hex(),
            found: subject_digest.to_hex(),
        });
    }
    Ok(manifest)
}

/// A strictly ascending list of resource paths, none of which is `bad`.
fn path_list(
    field: &str,
    list: &[String],
    bad: impl Fn(&ResourcePath) -> bool,
    expected: &str,
) -> Result<Vec<ResourcePath>, FormatError> {
    let mut out: Vec<ResourcePath> = Vec::with_capacity(list.len());
    for (i, name) in list.iter().enumerate() {
        let p = ResourcePath::new(name).map_err(|source| FormatError::BadResourceName {
            name: crate::path::shorten(name),
            source,
        })?;
        if out.last().is_some_and(|prev| *prev >= p) {
            return Err(FormatError::unexpected(
                format!("{field}[{i}]"),
                "paths in strictly ascending order",
                crate::path::shorten(name),
            ));
        }
        if bad(&p) {
            return Err(FormatError::unexpected(
                format!("{field}[{i}]"),
                expected,
                crate::path::shorten(name),
            ));
        }
        out.push(p);
    }
    Ok(out)
}

fn parse_serialization(s: SerializationJson) -> Result<Serialization, FormatError> {
    let hash: HashAlgorithm = s.hash_type.parse().map_err(|_| {
        FormatError::unexpected(
            "predicate.serialization.hash_type",
            "sha256 or blake3",
            &s.hash_type,
        )
    })?;
    if hash == HashAlgorithm::Sha512 {
        return Err(FormatError::unexpected(
            "predicate.serialization.hash_type",
            "sha256 or blake3",
            &s.hash_type,
        ));
    }
    let method = match (s.method.as_str(), s.shard_size) {
        ("files", None) => Method::Files,
        ("shards", Some(n)) => Method::Shards {
            shard_size: parse_shard_size(&n)?,
        },
        ("files", Some(_)) => {
            return Err(FormatError::unexpected(
                "predicate.serialization.shard_size",
                "absent for method files",
                "a shard size",
            ));
        }
        ("shards", None) => {
            return Err(FormatError::unexpected(
                "predicate.serialization.shard_size",
                "a shard size for method shards",
                "none",
            ));
        }
        (other, _) => {
            return Err(FormatError::unexpected(
                "predicate.serialization.method",
                "files or shards",
                other,
            ));
        }
    };
    let ignore_paths = s
        .ignore_paths
        .unwrap_or_default()
        .iter()
        .map(|p| {
            ResourcePath::new(p).map_err(|source| FormatError::BadResourceName {
                name: crate::path::shorten(p),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Serialization {
        method,
        hash,
        allow_symlinks: s.allow_symlinks,
        ignore_paths,
    })
}

/// `model_signing` writes `shard_size` through a protobuf Struct, so it
/// arrives as a float (`1000000000.0`): accept any number that is exactly a
/// positive integer.
fn parse_shard_size(n: &serde_json::Number) -> Result<u64, FormatError> {
    let bad = || {
        FormatError::unexpected(
            "predicate.serialization.shard_size",
            "a positive integer",
            n.to_string(),
        )
    };
    if let Some(v) = n.as_u64() {
        return if v > 0 { Ok(v) } else { Err(bad()) };
    }
    match n.as_f64() {
        // 2^53: every integer below is exactly representable.
        Some(f) if f.fract() == 0.0 && (1.0..=9_007_199_254_740_992.0).contains(&f) => Ok(f as u64),
        _ => Err(bad()),
    }
}

/// `path` for files; `path:start:end` for shards (split from the right, so a
/// path may itself hold `:`).
fn parse_resource_name(name: &str, method: Method) -> Result<ResourceKey, FormatError> {
    let path = |p: &str| {
        ResourcePath::new(p).map_err(|source| FormatError::BadResourceName {
            name: crate::path::shorten(name),
            source,
        })
    };
    match method {
        Method::Files => Ok(ResourceKey::file(path(name)?)),
        Method::Shards { .. } => {
            let mut parts = name.rsplitn(3, ':');
            let (end, start, p) = (parts.next(), parts.next(), parts.next());
            let (Some(end), Some(start), Some(p)) = (end, start, p) else {
                return Err(FormatError::unexpected(
                    "resource name",
                    "path:start:end",
                    name,
                ));
            };
            let offset = |s: &str| {
                let canonical = !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit())
                    && (s == "0" || !s.starts_with('0'));
                canonical.then(|| s.parse::<u64>().ok()).flatten()
            };
            match (offset(start), offset(end)) {
                (Some(s), Some(e)) if s < e => Ok(ResourceKey::shard(path(p)?, s, e)),
                _ => Err(FormatError::unexpected(
                    "resource name",
                    "path:start:end with start < end",
                    name,
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(method: Method) -> Manifest {
        let mut ser = Serialization::files(
            HashAlgorithm::Sha256,
            vec![ResourcePath::new(".git").unwrap()],
        );
        ser.method = method;
        let mut res = BTreeMap::new();
        let key = |n: &str, r: Option<(u64, u64)>| ResourceKey {
            path: ResourcePath::new(n).unwrap(),
            range: r,
        };
        match method {
            Method::Files => {
                res.insert(key("b.txt", None), HashAlgorithm::Sha256.digest(b"b"));
                res.insert(key("a/x", None), HashAlgorithm::Sha256.digest(b"a"));
            }
            Method::Shards { .. } => {
                res.insert(key("w", Some((0, 4))), HashAlgorithm::Sha256.digest(b"w0"));
                res.insert(key("w", Some((4, 6))), HashAlgorithm::Sha256.digest(b"w1"));
            }
        }
        Manifest::new("model".into(), ser, res)
    }

    #[test]
    fn round_trips_files_and_shards() {
        for m in [
            manifest(Method::Files),
            manifest(Method::Shards { shard_size: 4 }),
        ] {
            let payload = to_payload(&m);
            assert_eq!(from_payload(&payload).unwrap(), m);
        }
    }

    fn edit(m: &Manifest, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(&to_payload(m)).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn refuses_every_deviation() {
        let m = manifest(Method::Files);
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            (
                "_type",
                Box::new(|v| v["_type"] = "https://in-toto.io/Statement/v0.1".into()),
            ),
            (
                "predicateType",
                Box::new(|v| v["predicateType"] = "x".into()),
            ),
            (
                "unknown field",
                Box::new(|v| v["predicate"]["extra"] = 1.into()),
            ),
            (
                "method",
                Box::new(|v| v["predicate"]["serialization"]["method"] = "dirs".into()),
            ),
            (
                "hash_type",
                Box::new(|v| v["predicate"]["serialization"]["hash_type"] = "md5".into()),
            ),
            (
                "shard_size",
                Box::new(|v| v["predicate"]["serialization"]["shard_size"] = 5.into()),
            ),
            (
                "algorithm",
                Box::new(|v| v["predicate"]["resources"][0]["algorithm"] = "blake3".into()),
            ),
            (
                "digest",
                Box::new(|v| v["predicate"]["resources"][0]["digest"] = "00".into()),
            ),
            (
                "BadResourceName",
                Box::new(|v| v["predicate"]["resources"][0]["name"] = "../etc/passwd".into()),
            ),
            (
                "Absolute",
                Box::new(|v| v["predicate"]["resources"][0]["name"] = "/etc/passwd".into()),
            ),
            (
                "ignore",
                Box::new(|v| {
                    v["predicate"]["serialization"]["ignore_paths"] = serde_json::json!(["../x"])
                }),
            ),
            (
                "Unordered",
                Box::new(|v| {
                    let r = v["predicate"]["resources"].as_array_mut().unwrap();
                    r.swap(0, 1);
                }),
            ),
            (
                "Duplicate",
                Box::new(|v| {
                    let r = v["predicate"]["resources"].as_array_mut().unwrap();
                    let first = r[0].clone();
                    r.insert(0, first);
                }),
            ),
            (
                "subjects",
                Box::new(|v| {
                    let s = v["subject"][0].clone();
                    v["subject"].as_array_mut().unwrap().push(s);
                }),
            ),
            (
                "subject digest",
                Box::new(|v| v["subject"][0]["digest"]["sha256"] = "0".repeat(64).into()),
            ),
            (
                "subject algs",
                Box::new(|v| v["subject"][0]["digest"]["sha512"] = "00".into()),
            ),
        ];
        for (what, f) in cases {
            let bytes = edit(&m, f);
            assert!(from_payload(&bytes).is_err(), "{what} was accepted");
        }
    }

    #[test]
    fn modelseal_records_round_trip_and_are_checked() {
        let shards = manifest(Method::Shards { shard_size: 4 })
            .with_empty_files(vec![ResourcePath::new("e/x").unwrap()])
            .with_ignored_files(vec![ResourcePath::new(".git").unwrap()]);
        let payload = to_payload(&shards);
        let back = from_payload(&payload).unwrap();
        assert_eq!(back, shards);
        assert_eq!(back.empty_files().unwrap()[0].as_str(), "e/x");
        assert_eq!(back.ignored_files()[0].as_str(), ".git");
        // Without the fields (model_signing's bundles): no record.
        let plain = from_payload(&to_payload(&manifest(Method::Shards { shard_size: 4 }))).unwrap();
        assert_eq!(plain.empty_files(), None);
        assert!(plain.ignored_files().is_empty());
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            (
                "unordered",
                Box::new(|v| {
                    v["predicate"]["modelseal_empty_files"] = serde_json::json!(["z", "a"])
                }),
            ),
            (
                "duplicate",
                Box::new(|v| {
                    v["predicate"]["modelseal_empty_files"] = serde_json::json!(["a", "a"])
                }),
            ),
            (
                "has shards",
                Box::new(|v| v["predicate"]["modelseal_empty_files"] = serde_json::json!(["w"])),
            ),
            (
                "unsafe",
                Box::new(|v| v["predicate"]["modelseal_empty_files"] = serde_json::json!(["../x"])),
            ),
            (
                "not ignored",
                Box::new(|v| {
                    v["predicate"]["modelseal_ignored_files"] = serde_json::json!(["other"])
                }),
            ),
        ];
        for (what, f) in cases {
            assert!(
                from_payload(&edit(&shards, f)).is_err(),
                "{what} was accepted"
            );
        }
        // An empty-file record is for shards only.
        let files = manifest(Method::Files);
        let bad = edit(&files, |v| {
            v["predicate"]["modelseal_empty_files"] = serde_json::json!([]);
        });
        assert!(from_payload(&bad).is_err());
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let p = String::from_utf8(to_payload(&manifest(Method::Files))).unwrap();
        let dup = p.replacen("\"_type\"", "\"_type\": \"x\", \"_type\"", 1);
        assert!(matches!(
            from_payload(dup.as_bytes()),
            Err(FormatError::Json { .. })
        ));
    }

    #[test]
    fn shard_size_as_float_and_shard_names() {
        let m = manifest(Method::Shards { shard_size: 4 });
        let p = String::from_utf8(to_payload(&m))
            .unwrap()
            .replace("\"shard_size\": 4", "\"shard_size\": 4.0");
        assert!(p.contains("4.0"));
        assert_eq!(from_payload(p.as_bytes()).unwrap(), m);
        for bad in ["4.5", "0", "-4", "1e300"] {
            let q = p.replace("\"shard_size\": 4.0", &format!("\"shard_size\": {bad}"));
            assert!(from_payload(q.as_bytes()).is_err(), "{bad}");
        }
        for bad in ["w:4", "w:04:6", "w:6:4", "w:+0:4", ":0:4", "w:0:4:"] {
            assert!(
                parse_resource_name(bad, Method::Shards { shard_size: 4 }).is_err(),
                "{bad}"
            );
        }
        let k = parse_resource_name("a:b:0:4", Method::Shards { shard_size: 4 }).unwrap();
        assert_eq!(k.path.as_str(), "a:b");
    }
}

/// in-toto statement types accepted for artifact statements.
const ARTIFACT_STATEMENT_TYPES: &[&str] = &[STATEMENT_TYPE, "https://in-toto.io/Statement/v0.1"];

#[derive(Deserialize)]
struct PeekJson {
    #[serde(rename = "predicateType", default)]
    predicate_type: Option<String>,
}

/// Whether `payload` names the OMS predicate (or is not JSON at all, so
/// that the strict OMS parse reports why): the verifier reads OMS
/// statements with [`from_payload`], other in-toto statements with
/// [`artifact_from_payload`].
pub fn is_oms(payload: &[u8]) -> bool {
    serde_json::from_slice::<PeekJson>(payload).map_or(true, |p| {
        p.predicate_type.is_none_or(|t| t == PREDICATE_TYPE)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArtifactStatementJson {
    #[serde(rename = "_type")]
    type_: String,
    subject: Vec<SubjectJson>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default)]
    #[allow(dead_code)]
    predicate: Option<serde::de::IgnoredAny>,
}

/// An in-toto statement about one artifact (a GitHub artifact
/// attestation, SLSA provenance, PyPI publish attestation...): its one
/// subject's SHA-256 becomes the manifest of a one-file model, so the file
/// verified must have that digest. Returns the predicate type too.
///
/// # Errors
/// [`FormatError`] for a statement that is not in-toto, or whose subjects
/// are not exactly one with a SHA-256 digest.
pub fn artifact_from_payload(payload: &[u8]) -> Result<(String, Manifest), FormatError> {
    artifact_named(payload, None)
}

/// [`artifact_from_payload`] for the file named `file_name`: a statement
/// about several artifacts (a release's files) is accepted too, and its
/// subject named `file_name` (exactly, or as the last component of the
/// subject's name) is the one the file must match. The subject is chosen
/// by name, never by digest: the file is hashed after the statement is
/// trusted.
///
/// # Errors
/// As [`artifact_from_payload`], and when several subjects are listed but
/// not exactly one is named `file_name`.
pub fn artifact_named(
    payload: &[u8],
    file_name: Option<&str>,
) -> Result<(String, Manifest), FormatError> {
    let st: ArtifactStatementJson = parse_strict("in-toto statement", payload)?;
    if !ARTIFACT_STATEMENT_TYPES.contains(&st.type_.as_str()) {
        return Err(FormatError::unexpected("_type", STATEMENT_TYPE, &st.type_));
    }
    let count = st.subject.len();
    let mut subjects = st.subject.into_iter().enumerate();
    let (i, subject) = match (count, file_name) {
        (1, _) => subjects.next(),
        (0, _) | (_, None) => None,
        (_, Some(name)) => {
            let named = |s: &SubjectJson| s.name == name || s.name.rsplit('/').next() == Some(name);
            let mut matching: Vec<(usize, SubjectJson)> =
                subjects.filter(|(_, s)| named(s)).collect();
            if matching.len() == 1 {
                matching.pop()
            } else {
                return Err(FormatError::NotASubject {
                    name: name.to_owned(),
                    count,
                    named: matching.len(),
                });
            }
        }
    }
    .ok_or_else(|| {
        FormatError::unexpected(
            "subject",
            "exactly one subject (the file verified)",
            format!("{count} subjects"),
        )
    })?;
    let hex = subject.digest.get("sha256").ok_or_else(|| {
        let keys: Vec<_> = subject.digest.keys().map(String::as_str).collect();
        FormatError::unexpected(
            format!("subject[{i}].digest"),
            "a sha256 digest",
            keys.join(","),
        )
    })?;
    let digest = Digest::from_hex(HashAlgorithm::Sha256, hex).map_err(|e| {
        FormatError::unexpected(
            format!("subject[{i}].digest.sha256"),
            "64 lowercase hex digits",
            e.to_string(),
        )
    })?;
    Ok((st.predicate_type, one_file(subject.name, digest)))
}

/// The manifest of a one-file model whose file has `digest` (SHA-256).
pub fn one_file(name: String, digest: Digest) -> Manifest {
    let mut resources = std::collections::BTreeMap::new();
    resources.insert(
        crate::manifest::ResourceKey::file(crate::path::ResourcePath::file_root()),
        digest,
    );
    Manifest::new(
        name,
        Serialization::files(HashAlgorithm::Sha256, Vec::new()),
        resources,
    )
}

/// The predicate type of model_signing 0.2's statements: one subject per
/// file (`name`: its path in the model, `digest.sha256`), no predicate
/// content (`files` serialization, SHA-256, no symlinks).
pub const DIGESTS_V01_PREDICATE_TYPE: &str = "https://model_signing/Digests/v0.1";

/// The `predicateType` a payload names, if it is JSON with one.
pub fn predicate_type(payload: &[u8]) -> Option<String> {
    serde_json::from_slice::<PeekJson>(payload)
        .ok()
        .and_then(|p| p.predicate_type)
}

/// Parse a model_signing 0.2 statement ([`DIGESTS_V01_PREDICATE_TYPE`]):
/// every subject is a file of the model with its SHA-256; the manifest
/// has the `files` method and SHA-256, so the model must hold exactly
/// these files.
///
/// # Errors
/// [`FormatError`] for another statement, no subject, a subject whose name
/// is not a safe relative path or whose digest is not exactly one SHA-256,
/// or a name listed twice.
pub fn from_digests_v01_payload(payload: &[u8]) -> Result<Manifest, FormatError> {
    let st: ArtifactStatementJson = parse_strict("in-toto statement", payload)?;
    if !ARTIFACT_STATEMENT_TYPES.contains(&st.type_.as_str()) {
        return Err(FormatError::unexpected("_type", STATEMENT_TYPE, &st.type_));
    }
    if st.predicate_type != DIGESTS_V01_PREDICATE_TYPE {
        return Err(FormatError::unexpected(
            "predicateType",
            DIGESTS_V01_PREDICATE_TYPE,
            &st.predicate_type,
        ));
    }
    if st.subject.is_empty() {
        return Err(FormatError::unexpected(
            "subject",
            "one subject per file",
            "none",
        ));
    }
    let mut resources = BTreeMap::new();
    for (i, subject) in st.subject.into_iter().enumerate() {
        let key = parse_resource_name(&subject.name, Method::Files)?;
        let hex = match (subject.digest.len(), subject.digest.get("sha256")) {
            (1, Some(hex)) => hex,
            _ => {
                let keys: Vec<_> = subject.digest.keys().map(String::as_str).collect();
                return Err(FormatError::unexpected(
                    format!("subject[{i}].digest"),
                    "exactly one sha256 digest",
                    keys.join(","),
                ));
            }
        };
        let digest = Digest::from_hex(HashAlgorithm::Sha256, hex).map_err(|e| {
            FormatError::unexpected(
                format!("subject[{i}].digest.sha256"),
                "64 lowercase hex characters",
                e.value,
            )
        })?;
        if resources.insert(key, digest).is_some() {
            return Err(FormatError::DuplicateResource { name: subject.name });
        }
    }
    Ok(Manifest::new(
        String::new(),
        Serialization::files(HashAlgorithm::Sha256, Vec::new()),
        resources,
    ))
}

#[cfg(test)]
mod digests_v01 {
    use super::*;

    #[test]
    fn a_multi_subject_statement_names_the_file() {
        let p = serde_json::to_vec(&serde_json::json!({
            "_type": STATEMENT_TYPE,
            "subject": [
                {"name": "dist/a.whl", "digest": {"sha256": E}},
                {"name": "dist/b.tar.gz", "digest": {"sha256": E}},
            ],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {}
        }))
        .unwrap();
        assert!(artifact_from_payload(&p).is_err(), "no name: refused");
        let (_, m) = artifact_named(&p, Some("b.tar.gz")).unwrap();
        assert_eq!(m.model_name(), "dist/b.tar.gz");
        assert!(artifact_named(&p, Some("c.whl")).is_err());
        assert!(artifact_named(&p, Some("dist")).is_err());
    }

    fn statement(subjects: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": DIGESTS_V01_PREDICATE_TYPE,
        }))
        .unwrap()
    }

    const E: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn every_subject_is_a_file() {
        let p = statement(serde_json::json!([
            {"name": "weights/b.bin", "digest": {"sha256": E}},
            {"name": "a.json", "digest": {"sha256": E}},
        ]));
        assert_eq!(
            predicate_type(&p).as_deref(),
            Some(DIGESTS_V01_PREDICATE_TYPE)
        );
        let m = from_digests_v01_payload(&p).unwrap();
        let names: Vec<String> = m.resources().map(|(k, _)| k.name()).collect();
        assert_eq!(names, ["a.json", "weights/b.bin"]);
        assert_eq!(m.serialization().method, Method::Files);
    }

    #[test]
    fn hostile_subjects_are_refused() {
        for subjects in [
            serde_json::json!([]),
            serde_json::json!([{"name": "../x", "digest": {"sha256": E}}]),
            serde_json::json!([{"name": "/etc/passwd", "digest": {"sha256": E}}]),
            serde_json::json!([{"name": "a", "digest": {"sha512": E}}]),
            serde_json::json!([{"name": "a", "digest": {"sha256": "00"}}]),
            serde_json::json!([{"name": "a", "digest": {"sha256": E}}, {"name": "a", "digest": {"sha256": E}}]),
        ] {
            assert!(
                from_digests_v01_payload(&statement(subjects.clone())).is_err(),
                "{subjects}"
            );
        }
        // Not this predicate.
        let mut v: serde_json::Value = serde_json::from_slice(&statement(
            serde_json::json!([{"name": "a", "digest": {"sha256": E}}]),
        ))
        .unwrap();
        v["predicateType"] = PREDICATE_TYPE.into();
        assert!(from_digests_v01_payload(&serde_json::to_vec(&v).unwrap()).is_err());
    }
}
