//! The digest manifest: every resource of a model paired with its digest.
//!
//! This is the in-memory form of the OMS predicate (`serialization` plus
//! `resources`). [`crate::statement`] turns it into the signed in-toto
//! payload and back.

use std::collections::BTreeMap;
use std::fmt;

use crate::digest::{Digest, HashAlgorithm};
use crate::path::ResourcePath;

/// How a model is cut into resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// One resource per file (OMS `files`, the default).
    Files,
    /// Each file cut into `shard_size`-byte shards (OMS `shards`); empty
    /// files have no shard.
    Shards {
        /// Shard length in bytes (the last shard of a file may be shorter).
        shard_size: u64,
    },
}

/// The parameters that determine a manifest, recorded in the signed payload
/// (OMS `predicate.serialization`) so a verifier recomputes the same thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    /// Files or shards.
    pub method: Method,
    /// The content hash.
    pub hash: HashAlgorithm,
    /// Whether symbolic links (to files inside the model) were followed.
    pub allow_symlinks: bool,
    /// Paths excluded from the manifest, relative to the model root; a
    /// directory excludes everything below it.
    pub ignore_paths: Vec<ResourcePath>,
}

impl Serialization {
    /// `files` with SHA-256, no symlinks, the given ignore list.
    pub fn files(hash: HashAlgorithm, ignore_paths: Vec<ResourcePath>) -> Self {
        Self {
            method: Method::Files,
            hash,
            allow_symlinks: false,
            ignore_paths,
        }
    }

    /// The `algorithm` string each resource carries: the hash name for
    /// `files`, `<hash>-sharded-<size>` for `shards` (as `model_signing`
    /// names its sharded digests).
    pub fn resource_algorithm(&self) -> String {
        match self.method {
            Method::Files => self.hash.name().to_owned(),
            Method::Shards { shard_size } => format!("{}-sharded-{shard_size}", self.hash.name()),
        }
    }

    /// Whether `path` is excluded by [`Serialization::ignore_paths`].
    pub fn ignores(&self, path: &ResourcePath) -> bool {
        self.ignore_paths.iter().any(|p| path.starts_with(p))
    }
}

/// What a resource covers: a whole file, or a byte range of one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    /// The file.
    pub path: ResourcePath,
    /// `Some((start, end))` for a shard: bytes `start..end`.
    pub range: Option<(u64, u64)>,
}

impl ResourceKey {
    /// A whole file.
    pub fn file(path: ResourcePath) -> Self {
        Self { path, range: None }
    }

    /// A shard of a file.
    pub fn shard(path: ResourcePath, start: u64, end: u64) -> Self {
        Self {
            path,
            range: Some((start, end)),
        }
    }

    /// The name as written in the manifest: `path` or `path:start:end`.
    pub fn name(&self) -> String {
        match self.range {
            None => self.path.as_str().to_owned(),
            Some((s, e)) => format!("{}:{s}:{e}", self.path),
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A model's manifest: resources in canonical order, each with its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    model_name: String,
    serialization: Serialization,
    resources: BTreeMap<ResourceKey, Digest>,
    empty_files: Option<Vec<ResourcePath>>,
    ignored_files: Vec<ResourcePath>,
}

/// How two manifests differ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestDiff {
    /// In the expected manifest, absent from the actual one.
    pub missing: Vec<ResourceKey>,
    /// In the actual manifest, absent from the expected one.
    pub extra: Vec<ResourceKey>,
    /// In both, with different digests.
    pub changed: Vec<ResourceKey>,
}

impl ManifestDiff {
    /// No difference at all.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.changed.is_empty()
    }
}

impl Manifest {
    /// Build a manifest. Resource keys are unique by construction (a map);
    /// callers that read untrusted lists check for duplicates first.
    pub fn new(
        model_name: String,
        serialization: Serialization,
        resources: BTreeMap<ResourceKey, Digest>,
    ) -> Self {
        Self {
            model_name,
            serialization,
            resources,
            empty_files: None,
            ignored_files: Vec::new(),
        }
    }

    /// Record the model's empty files (`shards` only: an empty file has no
    /// shard, so without this record a manifest cannot vouch for one).
    /// Sorted and deduplicated here.
    #[must_use]
    pub fn with_empty_files(mut self, mut files: Vec<ResourcePath>) -> Self {
        files.sort();
        files.dedup();
        self.empty_files = Some(files);
        self
    }

    /// The empty files the manifest vouches for in `shards` mode; `None`
    /// when it keeps no such record (`files` mode, where an empty file is
    /// a resource like any other, or a bundle written by `model_signing`,
    /// which leaves empty files out of shard manifests).
    pub fn empty_files(&self) -> Option<&[ResourcePath]> {
        self.empty_files.as_deref()
    }

    /// Mark entries of [`Serialization::ignore_paths`] that may hide only a
    /// regular file of that name or its absence, never a directory (the
    /// checksums file and its signature `convert` leaves out). Sorted and
    /// deduplicated here.
    #[must_use]
    pub fn with_ignored_files(mut self, mut files: Vec<ResourcePath>) -> Self {
        files.sort();
        files.dedup();
        self.ignored_files = files;
        self
    }

    /// The ignore entries that hide only a regular file or its absence
    /// (see [`Manifest::with_ignored_files`]).
    pub fn ignored_files(&self) -> &[ResourcePath] {
        &self.ignored_files
    }

    /// The model name (the statement's subject name: the last component of
    /// the model path at signing). It is signed but not bound to the
    /// content; a verifier checks it only when told which names to expect
    /// (`--model-name`, a policy scope's `modelNames`).
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// The serialization parameters.
    pub fn serialization(&self) -> &Serialization {
        &self.serialization
    }

    /// Resources in canonical order.
    pub fn resources(&self) -> impl ExactSizeIterator<Item = (&ResourceKey, &Digest)> {
        self.resources.iter()
    }

    /// The digest of one resource.
    pub fn get(&self, key: &ResourceKey) -> Option<&Digest> {
        self.resources.get(key)
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// Whether there is no resource at all.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The OMS subject digest: SHA-256 over the raw resource digests
    /// concatenated in canonical order. It binds the digests, not the names;
    /// the names are bound by the signature over the whole payload.
    pub fn subject_digest(&self) -> Digest {
        let mut h = HashAlgorithm::Sha256.hasher();
        for d in self.resources.values() {
            h.update(d.as_bytes());
        }
        h.finish()
    }

    /// Compare against `actual` (a freshly computed manifest). The model
    /// name is not compared: it is informational.
    pub fn diff(&self, actual: &Manifest) -> ManifestDiff {
        let mut d = ManifestDiff::default();
        for (k, want) in &self.resources {
            match actual.resources.get(k) {
                None => d.missing.push(k.clone()),
                Some(got) if got != want => d.changed.push(k.clone()),
                Some(_) => {}
            }
        }
        d.extra = actual
            .resources
            .keys()
            .filter(|k| !self.resources.contains_key(k))
            .cloned()
            .collect();
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ResourceKey {
        ResourceKey::file(ResourcePath::new(s).unwrap())
    }

    fn manifest(items: &[(&str, &[u8])]) -> Manifest {
        let res = items
            .iter()
            .map(|(n, data)| (key(n), HashAlgorithm::Sha256.digest(data)))
            .collect();
        Manifest::new(
            "m".into(),
            Serialization::files(HashAlgorithm::Sha256, vec![]),
            res,
        )
    }

    #[test]
    fn subject_digest_is_sha256_of_concatenated_digests_in_order() {
        let m = manifest(&[("b", b"2"), ("a", b"1")]);
        let mut cat = HashAlgorithm::Sha256.digest(b"1").as_bytes().to_vec();
        cat.extend_from_slice(HashAlgorithm::Sha256.digest(b"2").as_bytes());
        assert_eq!(m.subject_digest(), HashAlgorithm::Sha256.digest(&cat));
    }

    #[test]
    fn shards_order_by_path_then_offsets() {
        let p = ResourcePath::new("w").unwrap();
        let mut keys = [
            ResourceKey::shard(p.clone(), 100, 150),
            ResourceKey::shard(p.clone(), 0, 100),
            key("a"),
        ];
        keys.sort();
        let names: Vec<_> = keys.iter().map(ResourceKey::name).collect();
        assert_eq!(names, ["a", "w:0:100", "w:100:150"]);
    }

    #[test]
    fn diff_names_missing_extra_and_changed() {
        let want = manifest(&[("a", b"1"), ("b", b"2"), ("c", b"3")]);
        let got = manifest(&[("a", b"1"), ("b", b"X"), ("d", b"4")]);
        let d = want.diff(&got);
        assert_eq!(d.missing, [key("c")]);
        assert_eq!(d.changed, [key("b")]);
        assert_eq!(d.extra, [key("d")]);
        assert!(want.diff(&want).is_empty());
    }

    #[test]
    fn resource_algorithm_names() {
        let mut s = Serialization::files(HashAlgorithm::Sha256, vec![]);
        assert_eq!(s.resource_algorithm(), "sha256");
        s.method = Method::Shards { shard_size: 1000 };
        assert_eq!(s.resource_algorithm(), "sha256-sharded-1000");
    }
}
