//! Signing a model: manifest -> in-toto statement -> DSSE -> bundle.
//!
//! 1. The certificate (if any) must carry the signing key's public key.
//! 2. The model is listed under the OMS rules (git metadata, the signature
//!    file and the user's ignore paths left out) and hashed in one pass.
//! 3. The manifest becomes the in-toto statement (the exact payload bytes).
//! 4. The key signs the DSSE PAE of those bytes; `keyid` names the algorithm.
//! 5. The bundle carries the chain (leaf first) or the key hint.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cache::{Cache, Stamp};

use modelseal_manifest::bundle::{key_hint, pae};
use modelseal_manifest::engine::{self, HashOptions};
use modelseal_manifest::walk::{self, WalkOptions};
use modelseal_manifest::{
    Bundle, Digest, Envelope, HashAlgorithm, Manifest, Method, ResourceKey, ResourcePath,
    Serialization, VerificationMaterial, statement,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::Error;
use crate::key::SigningKey;

/// Paths `model_signing` leaves out of every manifest; modelseal does too,
/// so that bundles verify the same with either tool.
pub const DEFAULT_IGNORE_PATHS: [&str; 4] = walk::DEFAULT_IGNORE_PATHS;

/// How to sign.
#[derive(Clone, Copy)]
pub struct SignOptions<'a> {
    /// The private key.
    pub key: &'a SigningKey,
    /// The signer's certificate chain as DER, leaf first; empty for a key
    /// bundle (no certificate).
    pub certificates: &'a [Vec<u8>],
    /// `files` (default) or `shards`.
    pub method: Method,
    /// Content hash (SHA-256 by default; BLAKE3 is faster but only
    /// modelseal's verifier and `model_signing`'s API read it).
    pub hash: HashAlgorithm,
    /// Follow symlinks to files inside the model.
    pub allow_symlinks: bool,
    /// Extra paths to leave out, relative to the model.
    pub ignore_paths: &'a [ResourcePath],
    /// Where the signature will be written; left out of the model if inside.
    pub signature_file: Option<&'a Path>,
    /// Hashing threads, buffer, progress.
    pub hash_options: HashOptions<'a>,
    /// Digest cache for incremental re-signing (`--update`): files whose
    /// change stamps match the cache are not read again. `None` hashes
    /// everything.
    pub cache: Option<&'a Path>,
}

impl<'a> SignOptions<'a> {
    /// Defaults for `key`: a key bundle (no certificate), `files` with
    /// SHA-256, no symlinks, no extra ignore paths, no cache. Override
    /// fields with struct update syntax.
    pub fn new(key: &'a SigningKey) -> Self {
        SignOptions {
            key,
            certificates: &[],
            method: Method::Files,
            hash: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: &[],
            signature_file: None,
            hash_options: HashOptions::default(),
            cache: None,
        }
    }
}

/// What the digest cache saved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Files whose digests came from the cache.
    pub reused: usize,
    /// Files hashed.
    pub hashed: usize,
    /// Why the refreshed cache could not be written, if it could not (the
    /// bundle is still complete and correct).
    pub store_error: Option<String>,
}

/// A signed model.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The bundle to write.
    pub bundle: Bundle,
    /// What was signed.
    pub manifest: Manifest,
    /// With a cache: how much it saved.
    pub cache: Option<CacheStats>,
}

/// Sign the model at `model`.
///
/// # Errors
/// [`Error::CertificateKeyMismatch`] or [`Error::Certificate`] for a bad
/// chain, [`Error::Model`] when the model cannot be read under the rules,
/// [`Error::InvalidOption`] for a zero shard size, [`Error::Key`] when
/// signing fails.
pub fn sign(model: &Path, opts: &SignOptions<'_>) -> Result<Signed, Error> {
    // 1. certificate <-> key
    check_certificate(opts.certificates, opts.key)?;
    if let Method::Shards { shard_size: 0 } = opts.method {
        return Err(Error::InvalidOption {
            reason: "shard size must be at least 1 byte".into(),
        });
    }

    // The cache is signing state, never model content: inside the model it
    // would be hashed into the manifest and rewritten after signing.
    if let Some(cache) = opts.cache
        && walk::relative_inside(model, cache).is_some()
    {
        return Err(Error::InvalidOption {
            reason: format!(
                "the digest cache {} lies inside the model; keep it outside (e.g. beside the signing key)",
                cache.display()
            ),
        });
    }

    // 2. list and hash
    let mut ignore_paths: Vec<ResourcePath> = DEFAULT_IGNORE_PATHS
        .iter()
        .filter_map(|p| ResourcePath::new(p).ok())
        .collect();
    for p in opts.ignore_paths {
        if !ignore_paths.contains(p) {
            ignore_paths.push(p.clone());
        }
    }
    if let Some(rel) = opts
        .signature_file
        .and_then(|s| walk::relative_inside(model, s))
        && !ignore_paths.contains(&rel)
    {
        ignore_paths.push(rel);
    }
    let walk_opts = WalkOptions {
        ignore_paths: ignore_paths.clone(),
        allow_symlinks: opts.allow_symlinks,
        ..WalkOptions::default()
    };
    let files = walk::walk(model, &walk_opts)?;
    let serialization = Serialization {
        method: opts.method,
        hash: opts.hash,
        allow_symlinks: opts.allow_symlinks,
        ignore_paths,
    };
    let (manifest, cache) = match opts.cache {
        None => (
            engine::hash_model(&files, &serialization, &opts.hash_options)?,
            None,
        ),
        Some(path) => {
            let (m, stats) = hash_incrementally(model, files, &serialization, opts, path)?;
            (m, Some(stats))
        }
    };
    let mut signed = sign_manifest(manifest, opts.key, opts.certificates)?;
    signed.cache = cache;
    Ok(signed)
}

/// Sign a manifest the caller has computed (and checked) already, e.g.
/// from verified checksums: steps 3–5 of [`sign()`], after the same
/// certificate check.
///
/// # Errors
/// [`Error::CertificateKeyMismatch`] or [`Error::Certificate`] for a bad
/// chain, [`Error::InvalidOption`] for a SHA-512 manifest (OMS has no such
/// hash type), [`Error::Key`] when signing fails.
pub fn sign_manifest(
    manifest: Manifest,
    key: &SigningKey,
    certificates: &[Vec<u8>],
) -> Result<Signed, Error> {
    check_certificate(certificates, key)?;
    if manifest.serialization().hash == HashAlgorithm::Sha512 {
        return Err(Error::InvalidOption {
            reason: "OMS manifests have no sha512 hash type: sign a SHA-256 manifest".into(),
        });
    }

    // 3-4. statement, DSSE signature
    let payload = statement::to_payload(&manifest);
    let payload_type = statement::PAYLOAD_TYPE.to_owned();
    let signature = key.sign(&pae(&payload_type, &payload))?;

    // 5. bundle
    let material = if certificates.is_empty() {
        VerificationMaterial::PublicKey {
            hint: key_hint(&key.public_key_der()),
        }
    } else {
        VerificationMaterial::Certificates(certificates.to_vec())
    };
    let envelope = Envelope {
        payload_type,
        payload,
        signature,
        keyid: key.algorithm().name().to_owned(),
    };
    Ok(Signed {
        cache: None,
        bundle: Bundle {
            material,
            envelope,
            tlog_entries: 0,
            has_timestamps: false,
            timestamps: Vec::new(),
        },
        manifest,
    })
}

/// Hash only the files whose change stamps differ from the cache, take
/// the others' digests from it, then refresh the cache.
fn hash_incrementally(
    model: &Path,
    mut files: walk::ModelFiles,
    serialization: &Serialization,
    opts: &SignOptions<'_>,
    cache_path: &Path,
) -> Result<(Manifest, CacheStats), Error> {
    let mut cache = Cache::load(cache_path, model, serialization);
    let follow = opts.allow_symlinks || !files.is_dir();
    let mut stamps = BTreeMap::new();
    let mut reused = BTreeMap::new();
    for f in files.files() {
        let fs_path = files.file_path(&f.path);
        // Stamp before hashing: a file that changes while it is hashed gets
        // a new stamp, so it is hashed again next time.
        let stamp =
            Stamp::of(&fs_path, follow).map_err(|source| modelseal_manifest::ModelError::Io {
                path: fs_path.clone(),
                source,
            })?;
        if let Some(resources) = cache.lookup(&f.path, &stamp, serialization) {
            reused.extend(resources);
        }
        stamps.insert(f.path.clone(), stamp);
    }
    let total = files.files().len();
    let reused_paths: std::collections::BTreeSet<&ResourcePath> =
        reused.keys().map(|k: &ResourceKey| &k.path).collect();
    files.retain(|f| !reused_paths.contains(&f.path));
    let hashed = files.files().len();
    let fresh = engine::hash_model(&files, serialization, &opts.hash_options)?;
    let mut resources: BTreeMap<ResourceKey, Digest> = fresh
        .resources()
        .map(|(k, d)| (k.clone(), d.clone()))
        .collect();
    resources.extend(reused);
    let manifest = Manifest::new(
        fresh.model_name().to_owned(),
        serialization.clone(),
        resources,
    );
    cache.update(&stamps, &manifest);
    let store_error = cache
        .store(cache_path)
        .err()
        .map(|e| format!("{}: {e}", cache_path.display()));
    Ok((
        manifest,
        CacheStats {
            reused: total - hashed,
            hashed,
            store_error,
        },
    ))
}

/// The leaf must carry the signing key: a bundle whose certificate names
/// another key would never verify, and is a sign of a mixed-up release job.
fn check_certificate(certs: &[Vec<u8>], key: &SigningKey) -> Result<(), Error> {
    for (i, der) in certs.iter().enumerate() {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| Error::Certificate {
            reason: format!("certificate {}: {e}", i + 1),
        })?;
        if !rest.is_empty() {
            return Err(Error::Certificate {
                reason: format!("certificate {}: trailing bytes", i + 1),
            });
        }
        if i == 0 && cert.public_key().raw != key.public_key_der().as_slice() {
            return Err(Error::CertificateKeyMismatch);
        }
    }
    if certs.len() > modelseal_manifest::bundle::MAX_CERTIFICATES {
        return Err(Error::Certificate {
            reason: format!(
                "{} certificates, more than {}",
                certs.len(),
                modelseal_manifest::bundle::MAX_CERTIFICATES
            ),
        });
    }
    Ok(())
}
