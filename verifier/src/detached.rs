//! Verifying OpenSSL-style detached ("raw") signatures over one file or
//! over the bytes of a checksums file.
//!
//! The checks, in order:
//! 1. **trust**: key mode, the given public key; certificate mode, the
//!    signer's certificate (given separately: a raw signature carries none)
//!    chains to one of the given roots at the verification time, for code
//!    signing ([`crate::chain`]).
//! 2. **signature**: the algorithm follows from the key and the options
//!    ([`DetachedScheme`], OpenSSL's defaults); the signature verifies over
//!    the message. RSA-PSS salts of any length are accepted
//!    ([`PssSaltLength::Auto`]), as `openssl dgst -verify` does: OpenSSL
//!    signs with the longest salt by default. A file is hashed in one
//!    streamed pass for RSA and ECDSA; pure Ed25519 reads it whole, up to
//!    [`MAX_WHOLE_MESSAGE_BYTES`].
//! 3. **identity**: with certificates, the leaf is one of the required
//!    identities.
//!
//! Success is a [`SignedBy`] (or a [`FileVerified`]), which only this
//! crate can make.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use modelseal_manifest::DEFAULT_BUFFER_SIZE;
use modelseal_manifest::SignatureAlgorithm;
use modelseal_manifest::{
    DetachedScheme, MAX_SIGNATURE_BYTES, MAX_WHOLE_MESSAGE_BYTES, MessageHash, hash_file,
};

use crate::chain;
use crate::error::{ConfigError, Error, RawSignatureError};
use crate::identity::IdentityRequirement;
use crate::report::{CheckName, Report};
use crate::signature::{PssSaltLength, PublicKey};
use crate::trust::Trust;
use crate::verify::{SignedBy, Signer};

/// Who must have made a raw signature, and how it was made.
#[derive(Clone, Copy)]
pub struct DetachedOptions<'a> {
    /// The public key, or the roots the signer's certificate must chain to.
    pub trust: &'a Trust,
    /// With [`Trust::Roots`]: the signer's certificate and any
    /// intermediates, DER, leaf first. Empty with [`Trust::PublicKey`].
    pub certificates: &'a [Vec<u8>],
    /// Which signers are accepted: chosen by the caller, never implied.
    pub identity: IdentityRequirement<'a>,
    /// The time certificates must be valid at.
    pub time: SystemTime,
    /// Digest and RSA padding, where the user named them.
    pub scheme: DetachedScheme,
}

/// A file whose raw signature verified.
#[derive(Debug, Clone)]
pub struct FileVerified {
    signed_by: SignedBy,
    bytes: u64,
}

impl FileVerified {
    /// The signer and algorithm.
    pub fn signed_by(&self) -> &SignedBy {
        &self.signed_by
    }

    /// Bytes of the file that were hashed.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The result of [`verify_file`]: every check with its status, and the
/// verdict.
#[derive(Debug)]
pub struct FileOutcome {
    /// What was checked.
    pub report: Report,
    /// [`FileVerified`] only if every check passed.
    pub result: Result<FileVerified, Error>,
}

/// The checks of a signed-file verification, in order.
pub const FILE_CHECKS: [CheckName; 3] =
    [CheckName::Trust, CheckName::Signature, CheckName::Identity];

/// Read a raw signature file: at most [`MAX_SIGNATURE_BYTES`], not empty,
/// not Base64 or PEM text (a common mix-up: `openssl base64` output).
///
/// # Errors
/// [`Error::Read`] for I/O errors, [`Error::RawSignature`] for the rest.
pub fn read_signature(path: &Path) -> Result<Vec<u8>, Error> {
    let read_err = |source| Error::Read {
        what: "raw signature",
        path: path.to_owned(),
        source,
    };
    let bad = |reason: RawSignatureError| Error::RawSignature {
        path: path.to_owned(),
        reason,
    };
    let bytes = modelseal_manifest::read_regular(path, MAX_SIGNATURE_BYTES).map_err(read_err)?;
    if bytes.is_empty() {
        return Err(bad(RawSignatureError::Empty));
    }
    if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
        return Err(bad(RawSignatureError::TooLarge {
            limit: MAX_SIGNATURE_BYTES,
        }));
    }
    if looks_like_text(&bytes) {
        return Err(bad(RawSignatureError::Text {
            path: path.to_owned(),
        }));
    }
    Ok(bytes)
}

/// Base64 (or PEM armour) text. A binary signature of 64 bytes or more is
/// all printable Base64 characters with negligible probability, and a DER
/// ECDSA signature always holds 0x02 bytes.
fn looks_like_text(bytes: &[u8]) -> bool {
    bytes.starts_with(b"-----BEGIN")
        || (bytes.len() >= 16
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=\r\n".contains(b)))
}

/// Step 1: the key to verify with, and who it is.
fn trusted_key(opts: &DetachedOptions<'_>) -> Result<(PublicKey, Signer), Error> {
    match opts.trust {
        Trust::PublicKey(key) => {
            if !opts.certificates.is_empty() {
                return Err(ConfigError::CertificateWithKey.into());
            }
            let spki_sha256 = key.spki_sha256();
            Ok((key.clone(), Signer::Key { spki_sha256 }))
        }
        Trust::Roots(anchors) => {
            if opts.certificates.is_empty() {
                return Err(ConfigError::NoCertificate.into());
            }
            let v = chain::validate(opts.certificates, anchors, opts.time)?;
            let key = PublicKey::from_spki_der(&v.leaf.spki_der)?;
            Ok((
                key,
                Signer::Certificate {
                    leaf: Box::new(v.leaf),
                    intermediates: v.intermediates,
                    root_subject: v.root_subject,
                },
            ))
        }
    }
}

/// Steps 1–3, with `check` verifying the signature under the chosen key and
/// algorithm.
fn authenticate(
    opts: &DetachedOptions<'_>,
    report: &mut Report,
    what: &str,
    check: impl FnOnce(&PublicKey, SignatureAlgorithm) -> Result<(), Error>,
) -> Result<SignedBy, Error> {
    // 1. trust
    let (key, signer) = report.track(CheckName::Trust, trusted_key(opts), |(_, signer)| {
        signer.trust_detail()
    })?;

    // 2. signature
    let algorithm = report.track(
        CheckName::Signature,
        opts.scheme
            .algorithm(key.key_kind())
            .map_err(Error::from)
            .and_then(|alg| check(&key, alg).map(|()| alg)),
        |alg| format!("{alg} raw signature over {what} verifies"),
    )?;

    // 3. identity
    let identity = crate::verify::check_identity(&signer, opts.identity, report)?;
    Ok(SignedBy {
        signer,
        algorithm,
        identity,
    })
}

/// Verify a raw signature over `message` held in memory (a checksums
/// file's exact bytes). Records trust, signature and identity in `report`.
///
/// # Errors
/// The first check that fails, also recorded in `report`.
pub fn verify_message(
    message: &[u8],
    what: &str,
    signature: &[u8],
    opts: &DetachedOptions<'_>,
    report: &mut Report,
) -> Result<SignedBy, Error> {
    authenticate(opts, report, what, |key, alg| {
        key.verify_with_pss_salt(alg, message, signature, PssSaltLength::Auto)
            .map_err(Error::from)
    })
}

/// Verify a raw signature over the file at `path` (steps 1–3).
pub fn verify_file(path: &Path, signature: &[u8], opts: &DetachedOptions<'_>) -> FileOutcome {
    let mut report = Report::default();
    let mut bytes = 0;
    let what = path.display().to_string();
    let result = authenticate(opts, &mut report, &what, |key, alg| {
        bytes = check_file(path, key, alg, signature)?;
        Ok(())
    })
    .map(|signed_by| FileVerified { signed_by, bytes });
    report.finish_with(&FILE_CHECKS);
    FileOutcome { report, result }
}

/// Hash (or, for Ed25519, read) the file and verify; returns its length.
fn check_file(
    path: &Path,
    key: &PublicKey,
    alg: SignatureAlgorithm,
    signature: &[u8],
) -> Result<u64, Error> {
    let model_err = |source| {
        Error::Model(modelseal_manifest::ModelError::Io {
            path: path.to_owned(),
            source,
        })
    };
    let file = match modelseal_manifest::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(ConfigError::NotAFile {
                path: path.to_owned(),
            }
            .into());
        }
        Err(e) => return Err(model_err(e)),
    };
    let meta = file.metadata().map_err(model_err)?;
    match MessageHash::of(alg) {
        Some(hash) => {
            let mut buf = vec![0u8; DEFAULT_BUFFER_SIZE];
            let (digest, len) = hash_file(&file, hash, &mut buf).map_err(model_err)?;
            key.verify_prehashed(alg, &digest, signature, PssSaltLength::Auto)?;
            Ok(len)
        }
        None => {
            let message = read_whole(&file, path, meta.len())?;
            key.verify_with_pss_salt(alg, &message, signature, PssSaltLength::Auto)?;
            Ok(message.len() as u64)
        }
    }
}

/// Read a whole file for pure Ed25519, refusing files above the limit.
fn read_whole(file: &File, path: &Path, size: u64) -> Result<Vec<u8>, Error> {
    let too_large = || {
        Error::Config(ConfigError::TooLargeForEd25519 {
            path: path.to_owned(),
            limit: MAX_WHOLE_MESSAGE_BYTES,
        })
    };
    if size > MAX_WHOLE_MESSAGE_BYTES {
        return Err(too_large());
    }
    let mut message = Vec::new();
    file.take(MAX_WHOLE_MESSAGE_BYTES + 1)
        .read_to_end(&mut message)
        .map_err(|source| {
            Error::Model(modelseal_manifest::ModelError::Io {
                path: PathBuf::from(path),
                source,
            })
        })?;
    if message.len() as u64 > MAX_WHOLE_MESSAGE_BYTES {
        return Err(too_large());
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_pem_text_are_recognised() {
        assert!(looks_like_text(b"-----BEGIN SIGNATURE-----"));
        assert!(looks_like_text(
            b"MEUCIQDx1bq7s2mU5g0f0yq3n3b3bG9hZGVyCg==\n"
        ));
        // DER ECDSA: SEQUENCE, INTEGER tags (0x02) are not Base64.
        assert!(!looks_like_text(&[
            0x30, 0x44, 0x02, 0x20, b'A', b'B', b'C', b'D', b'E', b'F', b'G', b'H', b'I', b'J',
            b'K', b'L'
        ]));
        assert!(!looks_like_text(b"short"));
    }

    #[test]
    fn signature_files_are_bounded_and_not_empty() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sig");
        std::fs::write(&p, b"").unwrap();
        assert!(matches!(
            read_signature(&p),
            Err(Error::RawSignature {
                reason: RawSignatureError::Empty,
                ..
            })
        ));
        std::fs::write(&p, vec![0u8; MAX_SIGNATURE_BYTES as usize + 1]).unwrap();
        assert!(matches!(
            read_signature(&p),
            Err(Error::RawSignature {
                reason: RawSignatureError::TooLarge {
                    limit: MAX_SIGNATURE_BYTES
                },
                ..
            })
        ));
        std::fs::write(&p, b"c2lnbmF0dXJlIGluIGJhc2U2NAo=\n").unwrap();
        let err = read_signature(&p).unwrap_err();
        assert!(
            matches!(&err, Error::RawSignature { reason: RawSignatureError::Text { path }, .. } if *path == p),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("-in {0} -out {0}.bin", p.display())),
            "{err}"
        );
        std::fs::write(&p, [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]).unwrap();
        assert_eq!(read_signature(&p).unwrap().len(), 8);
        assert!(matches!(
            read_signature(&d.path().join("absent")),
            Err(Error::Read { .. })
        ));
    }
}
