//! Signing a model: manifest -> in-toto statement -> DSSE -> bundle.
//!
//! 1. The certificate (if any) must carry the signing key's public key.
//! 2. The model is listed under the OMS rules (git metadata, the signature
//!    file and the user's ignore paths left out) and hashed in one pass.
//! 3. The manifest becomes the in-toto statement (the exact payload bytes).
//! 4. The key signs the DSSE PAE of those bytes; `keyid` names the algorithm.
//! 5. The bundle carries the chain (leaf first) or the key hint.

use std::path::Path;

use modelseal_manifest::bundle::{key_hint, pae};
use modelseal_manifest::engine::{self, HashOptions};
use modelseal_manifest::walk::{self, WalkOptions};
use modelseal_manifest::{
    Bundle, Envelope, HashAlgorithm, Manifest, Method, ResourcePath, Serialization,
    VerificationMaterial, statement,
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
}

/// A signed model.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The bundle to write.
    pub bundle: Bundle,
    /// What was signed.
    pub manifest: Manifest,
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
        return Err(Error::InvalidOption(
            "shard size must be at least 1 byte".into(),
        ));
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
    let manifest = engine::hash_model(&files, &serialization, &opts.hash_options)?;
    sign_manifest(manifest, opts.key, opts.certificates)
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
        return Err(Error::InvalidOption(
            "OMS manifests have no sha512 hash type: sign a SHA-256 manifest".into(),
        ));
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
        bundle: Bundle {
            material,
            envelope,
            tlog_entries: 0,
            has_timestamps: false,
        },
        manifest,
    })
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
