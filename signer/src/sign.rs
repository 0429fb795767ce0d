//! Signing a model: manifest -> in-toto statement -> DSSE -> bundle.
//!
//! 1. The certificate (if any) must carry the signing key's public key and
//!    pass what `verify` will check of it: codeSigning EKU, digitalSignature,
//!    not a CA, every certificate valid at the signing time, and the leaf
//!    chaining to the given intermediates ([`check_certificates`]).
//! 2. The model is listed under the OMS rules (git metadata, the signature
//!    file and the user's ignore paths left out). An empty listing is
//!    refused, and so is one whose manifest would exceed what `verify`
//!    reads (counted from the listing, before any byte is hashed; shards
//!    below [`MIN_SHARD_SIZE`] are refused). Then it is hashed in one pass.
//! 3. The manifest becomes the in-toto statement (the exact payload bytes).
//! 4. The key signs the DSSE PAE of those bytes; `keyid` names the algorithm.
//! 5. The bundle carries the chain (leaf first) or the key hint.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cache::{Cache, Stamp};

use modelseal_manifest::HashOptions;
use modelseal_manifest::WalkOptions;
use modelseal_manifest::{
    Bundle, Digest, Envelope, HashAlgorithm, Manifest, Method, ResourceKey, ResourcePath,
    Serialization, VerificationMaterial,
};
use modelseal_manifest::{key_hint, pae};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::Error;
use crate::key::SigningKey;

/// Paths `model_signing` leaves out of every manifest; modelseal does too,
/// so that bundles verify the same with either tool.
pub const DEFAULT_IGNORE_PATHS: [&str; 4] = modelseal_manifest::DEFAULT_IGNORE_PATHS;

/// Smallest shard size `sign` accepts: smaller shards only multiply the
/// manifest (one digest per 1 KiB is already 10% of the data in digests).
pub const MIN_SHARD_SIZE: u64 = 1024;

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
    /// The signing time: the certificates must pass what `verify` checks
    /// ([`check_certificates`]) at that time. `None` checks only that they
    /// parse and the leaf carries the key (the library reads no clock; the
    /// CLI passes the current time).
    pub time: Option<SystemTime>,
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
            time: None,
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
    /// Bytes of model content read and hashed (files whose digests came
    /// from the cache are not read; 0 for [`sign_manifest`], whose caller
    /// hashed).
    pub bytes_hashed: u64,
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
    check_certificates(opts.certificates, opts.key, opts.time)?;
    if let Method::Shards { shard_size } = opts.method
        && shard_size < MIN_SHARD_SIZE
    {
        return Err(Error::InvalidOption {
            reason: format!(
                "shard size {shard_size} is below the minimum of {MIN_SHARD_SIZE} bytes"
            ),
        });
    }

    // The cache is signing state, never model content: inside the model it
    // would be hashed into the manifest and rewritten after signing.
    if let Some(cache) = opts.cache
        && modelseal_manifest::relative_inside(model, cache).is_some()
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
        .and_then(|s| modelseal_manifest::relative_inside(model, s))
        && !ignore_paths.contains(&rel)
    {
        ignore_paths.push(rel);
    }
    let walk_opts = WalkOptions {
        ignore_paths: ignore_paths.clone(),
        allow_symlinks: opts.allow_symlinks,
        ..WalkOptions::default()
    };
    let files = modelseal_manifest::walk(model, &walk_opts)?;
    if files.files().is_empty() {
        return Err(Error::EmptyModel {
            path: model.to_owned(),
        });
    }
    check_size(&files, opts.method, opts.hash)?;
    let serialization = Serialization {
        method: opts.method,
        hash: opts.hash,
        allow_symlinks: opts.allow_symlinks,
        ignore_paths,
    };
    let (manifest, cache, bytes_hashed) = match opts.cache {
        None => (
            modelseal_manifest::hash_model(&files, &serialization, &opts.hash_options)?,
            None,
            listed_bytes(&files),
        ),
        Some(path) => {
            let (m, stats, bytes) = hash_incrementally(model, files, &serialization, opts, path)?;
            (m, Some(stats), bytes)
        }
    };
    let mut signed = sign_manifest(manifest, opts.key, opts.certificates, opts.time)?;
    signed.cache = cache;
    signed.bytes_hashed = bytes_hashed;
    Ok(signed)
}

/// Sign a manifest the caller has computed (and checked) already, e.g.
/// from verified checksums: steps 3–5 of [`sign()`], after the same
/// certificate check (at `time`, when given).
///
/// # Errors
/// [`Error::CertificateKeyMismatch`] or [`Error::Certificate`] for a bad
/// chain, [`Error::InvalidOption`] for a SHA-512 manifest (OMS has no such
/// hash type), [`Error::EmptyModel`] for a manifest without resources,
/// [`Error::Key`] when signing fails.
pub fn sign_manifest(
    manifest: Manifest,
    key: &SigningKey,
    certificates: &[Vec<u8>],
    time: Option<SystemTime>,
) -> Result<Signed, Error> {
    check_certificates(certificates, key, time)?;
    if manifest.serialization().hash == HashAlgorithm::Sha512 {
        return Err(Error::InvalidOption {
            reason: "OMS manifests have no sha512 hash type: sign a SHA-256 manifest".into(),
        });
    }
    if manifest.is_empty() {
        return Err(Error::EmptyModel {
            path: manifest.model_name().into(),
        });
    }

    // 3-4. statement, DSSE signature
    let payload = modelseal_manifest::to_payload(&manifest);
    let payload_type = modelseal_manifest::PAYLOAD_TYPE.to_owned();
    let signature = key.sign(&pae(&payload_type, &payload))?;

    // 5. bundle
    let material = if certificates.is_empty() {
        VerificationMaterial::PublicKey {
            hint: key_hint(&key.public_key_der()),
            raw: None,
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
        bytes_hashed: 0,
        bundle: Bundle {
            material,
            envelope,
            version: modelseal_manifest::BundleVersion::V0_3,
            evidence: modelseal_manifest::Evidence::default(),
        },
        manifest,
    })
}

/// Bytes the engine reads to hash `files`: each file's listed size (a
/// file whose size changed while it was hashed is an error).
fn listed_bytes(files: &modelseal_manifest::ModelFiles) -> u64 {
    files
        .files()
        .iter()
        .fold(0u64, |sum, f| sum.saturating_add(f.size))
}

/// Hash only the files whose change stamps differ from the cache, take
/// the others' digests from it, then refresh the cache; also returns the
/// bytes hashed.
fn hash_incrementally(
    model: &Path,
    mut files: modelseal_manifest::ModelFiles,
    serialization: &Serialization,
    opts: &SignOptions<'_>,
    cache_path: &Path,
) -> Result<(Manifest, CacheStats, u64), Error> {
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
    let bytes = listed_bytes(&files);
    let fresh = modelseal_manifest::hash_model(&files, serialization, &opts.hash_options)?;
    let mut resources: BTreeMap<ResourceKey, Digest> = fresh
        .resources()
        .map(|(k, d)| (k.clone(), d.clone()))
        .collect();
    resources.extend(reused);
    let mut manifest = Manifest::new(
        fresh.model_name().to_owned(),
        serialization.clone(),
        resources,
    );
    // Empty files have no shard, so none is reused: every one is in `fresh`.
    if let Some(empty) = fresh.empty_files() {
        manifest = manifest.with_empty_files(empty.to_vec());
    }
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
        bytes,
    ))
}

/// Bytes every resource adds to the bundle at least: its pretty-printed
/// JSON entry around the name and digest (about 89 bytes), before base64.
const RESOURCE_JSON_OVERHEAD: u64 = 80;

/// Refuse, before hashing, a listing whose manifest could not fit in a
/// bundle `verify` reads: a lower bound of the bundle size from the
/// resource names and digest length.
fn check_size(
    files: &modelseal_manifest::ModelFiles,
    method: Method,
    hash: HashAlgorithm,
) -> Result<(), Error> {
    let limit = modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES;
    let per = RESOURCE_JSON_OVERHEAD + 2 * hash.output_len() as u64;
    let (mut resources, mut json) = (0u64, 0u64);
    for f in files.files() {
        let name = f.path.as_str().len() as u64;
        let (n, extra) = match method {
            Method::Files => (1, 0),
            // `name:start:end`: two colons and at least one digit each.
            Method::Shards { shard_size } => (f.size.div_ceil(shard_size.max(1)), 4),
            // Another method: at least one resource per file (an estimate).
            _ => (1, 0),
        };
        resources = resources.saturating_add(n);
        json = json.saturating_add(n.saturating_mul(name + extra + per));
    }
    let estimated = json.saturating_mul(4) / 3;
    if estimated > limit {
        return Err(Error::ModelTooLarge {
            resources,
            estimated,
            limit,
            sharded: matches!(method, Method::Shards { .. }),
        });
    }
    Ok(())
}

/// Check the signer's certificates as `verify` will, so that a bundle is
/// never written that its verifier must refuse: every certificate parses
/// (at most [`modelseal_manifest::MAX_CERTIFICATES`]); the leaf
/// carries the signing key, codeSigning and digitalSignature and is no CA;
/// every certificate is valid at `time`; and with intermediates, the
/// leaf's path through them validates at `time` up to the last one given
/// (rustls-webpki, as the verifier does). Without `time` (a library
/// caller that judges certificates itself, e.g. to build bundles a
/// verifier must refuse) only the parse, count and key checks run.
///
/// # Errors
/// [`Error::CertificateKeyMismatch`] for another key, [`Error::Certificate`]
/// naming what `verify` would refuse.
pub fn check_certificates(
    certs: &[Vec<u8>],
    key: &SigningKey,
    time: Option<SystemTime>,
) -> Result<(), Error> {
    use modelseal_verifier::{CertInfo, TrustAnchors};
    let bad = |reason: String| Error::Certificate { reason };
    if certs.len() > modelseal_manifest::MAX_CERTIFICATES {
        return Err(bad(format!(
            "{} certificates, more than {}",
            certs.len(),
            modelseal_manifest::MAX_CERTIFICATES
        )));
    }
    let mut infos = Vec::with_capacity(certs.len());
    for (i, der) in certs.iter().enumerate() {
        let (rest, _) = X509Certificate::from_der(der)
            .map_err(|e| bad(format!("certificate {}: {e}", i + 1)))?;
        if !rest.is_empty() {
            return Err(bad(format!("certificate {}: trailing bytes", i + 1)));
        }
        infos
            .push(CertInfo::from_der(der).map_err(|e| bad(format!("certificate {}: {e}", i + 1)))?);
    }
    let Some(leaf) = infos.first() else {
        return Ok(());
    };
    // The same key may be encoded another way in the certificate (a
    // compressed point): compare canonical encodings.
    if modelseal_verifier::canonical_spki(&leaf.spki_der)
        != modelseal_verifier::canonical_spki(&key.public_key_der())
    {
        return Err(Error::CertificateKeyMismatch {
            certificate: leaf.spki_sha256.clone(),
            key: key.fingerprint(),
        });
    }
    let Some(time) = time else {
        // No signing time: the caller judges the certificates itself.
        return Ok(());
    };
    let subject = leaf.subject.to_string();
    if !leaf.code_signing {
        return Err(bad(format!(
            "{subject} lacks the codeSigning extended key usage; verification would refuse it"
        )));
    }
    if !leaf.digital_signature {
        return Err(bad(format!(
            "{subject} lacks the digitalSignature key usage; verification would refuse it"
        )));
    }
    if leaf.is_ca {
        return Err(bad(format!(
            "{subject} is a CA certificate, not a signing certificate; verification would refuse it"
        )));
    }
    let now = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    for c in &infos {
        if now < c.not_before || now > c.not_after {
            return Err(bad(format!(
                "{} is not valid now (valid {} to {}); verification would refuse it",
                c.subject,
                rfc3339(c.not_before),
                rfc3339(c.not_after)
            )));
        }
    }
    if let [path @ .., last] = certs
        && !path.is_empty()
    {
        let anchors = TrustAnchors::from_der(std::slice::from_ref(last))
            .map_err(|e| bad(format!("last chain certificate: {e}")))?;
        modelseal_verifier::validate_chain(path, &anchors, time).map_err(|e| {
            bad(format!(
                "the leaf does not chain to the given intermediates: {e}"
            ))
        })?;
    }
    Ok(())
}

fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}
