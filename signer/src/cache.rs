//! The digest cache behind `modelseal sign --update`.
//!
//! A release job that re-signs a model after changing one small file should
//! not re-hash 50 GB of unchanged weights. The cache remembers, for each
//! file, its identity and change stamps (device, inode, size, mtime and
//! ctime, in nanoseconds) when it was last hashed, with its digests. A file
//! whose stamps all match is not read again; any difference (including a
//! `touch -d` that restores mtime, which still moves ctime) re-hashes it.
//!
//! The cache only ever saves work at signing time. The verifier never reads
//! it, and a cache for other serialization parameters, another model
//! directory, or one that does not parse is ignored (everything is hashed).
//! Stamps are taken *before* a file is hashed, so a file modified while it
//! was being hashed gets new stamps and is hashed again next time.
//!
//! Trust: whoever can write the cache can make the signer sign digests of
//! their choosing for unchanged files (and later swap those files in). The
//! cache is therefore written mode 0600 and used only if it is owned by the
//! signing user and not writable by group or others; otherwise it is
//! ignored and everything is hashed. Keep it beside the signing key, not in
//! a shared model store.
//!
//! The cache never lies inside the model: [`crate::sign()`] refuses a cache
//! path inside the model directory (it would be hashed into the manifest
//! and rewritten after signing), and [`default_path`] picks a place beside
//! the signature or, when the signature is inside the model, beside the
//! model.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use modelseal_manifest::shard_ranges;
use modelseal_manifest::{Digest, Method, ResourceKey, ResourcePath, Serialization};
use serde::{Deserialize, Serialize};

/// Change stamps of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stamp {
    /// Stamp `path` (following a symlink when the model allows them).
    ///
    /// # Errors
    /// The OS error.
    pub(crate) fn of(path: &Path, follow: bool) -> std::io::Result<Stamp> {
        let m = if follow {
            std::fs::metadata(path)?
        } else {
            std::fs::symlink_metadata(path)?
        };
        Ok(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    stamp: Stamp,
    /// `(start, end, hex)` per shard, or one `(0, size, hex)` for a file.
    digests: Vec<(u64, u64, String)>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    version: u32,
    model: PathBuf,
    /// The serialization the digests belong to, as text.
    params: String,
    files: BTreeMap<String, Entry>,
}

const VERSION: u32 = 1;
/// Largest cache file read.
const MAX_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// Digests known from an earlier signing of the same model.
#[derive(Default)]
pub(crate) struct Cache {
    model: PathBuf,
    params: String,
    files: BTreeMap<String, Entry>,
}

/// Where `--update` keeps the cache when none is given: `SIGNATURE.cache`,
/// or `MODEL.cache` beside the model when the signature lies inside the
/// model (a bundle kept in the model directory). Never inside the model.
pub fn default_path(model: &Path, signature: &Path) -> PathBuf {
    let beside_signature = suffixed(signature, ".cache");
    if modelseal_manifest::relative_inside(model, &beside_signature).is_none() {
        return beside_signature;
    }
    let model = model
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect::<PathBuf>();
    let model = match model.file_name() {
        Some(_) => model,
        // `.` or `/`: name the directory itself.
        None => std::fs::canonicalize(&model).unwrap_or(model),
    };
    suffixed(&model, ".cache")
}

fn suffixed(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn params_of(s: &Serialization) -> String {
    let ignore: Vec<&str> = s.ignore_paths.iter().map(ResourcePath::as_str).collect();
    format!(
        "{:?}/{}/{}/{}",
        s.method,
        s.hash,
        s.allow_symlinks,
        ignore.join(",")
    )
}

impl Cache {
    /// Load the cache at `path` for `model` signed with `serialization`; an
    /// absent, unreadable, foreign or stale cache yields an empty one.
    pub(crate) fn load(path: &Path, model: &Path, serialization: &Serialization) -> Cache {
        let model = std::fs::canonicalize(model).unwrap_or_else(|_| model.to_owned());
        let params = params_of(serialization);
        let empty = Cache {
            model: model.clone(),
            params: params.clone(),
            files: BTreeMap::new(),
        };
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return empty;
        };
        let private = meta.is_file()
            && meta.uid() == rustix::process::geteuid().as_raw()
            && meta.mode() & 0o022 == 0;
        if !private || meta.len() > MAX_CACHE_BYTES {
            return empty;
        }
        let Ok(bytes) = modelseal_manifest::read_regular(path, MAX_CACHE_BYTES) else {
            return empty;
        };
        match serde_json::from_slice::<CacheFile>(&bytes) {
            Ok(c) if c.version == VERSION && c.model == model && c.params == params => Cache {
                model,
                params,
                files: c.files,
            },
            _ => empty,
        }
    }

    /// The cached resources of `path` under `serialization`, if its stamp
    /// still matches and the cached entry is complete.
    pub(crate) fn lookup(
        &self,
        path: &ResourcePath,
        stamp: &Stamp,
        serialization: &Serialization,
    ) -> Option<Vec<(ResourceKey, Digest)>> {
        let e = self.files.get(path.as_str())?;
        if e.stamp != *stamp {
            return None;
        }
        // Compare the count first: the ranges of a huge file are listed
        // only when the cache holds that many digests already.
        let expected = match serialization.method {
            Method::Files => 1,
            Method::Shards { shard_size } => stamp.size.div_ceil(shard_size.max(1)),
            // A method this cache does not know: a miss, the file is hashed.
            _ => return None,
        };
        if expected != e.digests.len() as u64 {
            return None;
        }
        let keys: Vec<ResourceKey> = match serialization.method {
            Method::Files => vec![ResourceKey::file(path.clone())],
            Method::Shards { shard_size } => shard_ranges(stamp.size, shard_size)
                .map(|(s, e)| ResourceKey::shard(path.clone(), s, e))
                .collect(),
            _ => return None,
        };
        if keys.len() != e.digests.len() {
            return None;
        }
        keys.into_iter()
            .zip(&e.digests)
            .map(|(key, (start, end, hex))| {
                let (s, e) = key.range.unwrap_or((0, stamp.size));
                if (s, e) != (*start, *end) {
                    return None;
                }
                Some((key, Digest::from_hex(serialization.hash, hex).ok()?))
            })
            .collect()
    }

    /// Replace the entries with the files of a fresh manifest.
    pub(crate) fn update(
        &mut self,
        stamps: &BTreeMap<ResourcePath, Stamp>,
        manifest: &modelseal_manifest::Manifest,
    ) {
        let mut files: BTreeMap<String, Entry> = BTreeMap::new();
        for (key, digest) in manifest.resources() {
            let Some(stamp) = stamps.get(&key.path) else {
                continue;
            };
            let (start, end) = key.range.unwrap_or((0, stamp.size));
            files
                .entry(key.path.as_str().to_owned())
                .or_insert_with(|| Entry {
                    stamp: *stamp,
                    digests: Vec::new(),
                })
                .digests
                .push((start, end, digest.to_hex()));
        }
        self.files = files;
    }

    /// Write the cache (atomically: temporary file, then rename).
    ///
    /// # Errors
    /// The OS error.
    pub(crate) fn store(&self, path: &Path) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Out<'a> {
            version: u32,
            model: &'a Path,
            params: &'a str,
            files: &'a BTreeMap<String, Entry>,
        }
        let out = Out {
            version: VERSION,
            model: &self.model,
            params: &self.params,
            files: &self.files,
        };
        let bytes = serde_json::to_vec(&out).map_err(std::io::Error::other)?;
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let written = f.write_all(&bytes).and_then(|()| f.sync_all());
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }
}
