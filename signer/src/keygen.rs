//! New signing keys: `modelseal keygen`.
//!
//! Keys are drawn from the operating system's RNG and written as PKCS#8
//! PEM (optionally encrypted: PBES2, scrypt and AES-256-CBC, pkcs8's
//! defaults) with the public key beside them as SPKI PEM. Files are created,
//! never replaced: the private key mode 0600 before any byte is written, the
//! public key 0644. [`crate::pkcs11::generate`] makes keys inside a token.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use pkcs8::EncodePrivateKey;
use pkcs8::der::pem::LineEnding;
use zeroize::Zeroizing;

use crate::error::{Error, KeyError, Refusal};
use crate::key::{RsaScheme, SigningKey};

/// The algorithms `keygen` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA P-256 (SHA-256).
    EcdsaP256,
    /// ECDSA P-384 (SHA-384).
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA, 3072 bits.
    Rsa3072,
    /// RSA, 4096 bits.
    Rsa4096,
}

impl KeyAlgorithm {
    /// The name used on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384",
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::Rsa3072 => "rsa-3072",
            KeyAlgorithm::Rsa4096 => "rsa-4096",
        }
    }

    /// The same algorithm for [`crate::pkcs11::generate`].
    pub fn for_token(self) -> crate::pkcs11::TokenAlgorithm {
        use crate::pkcs11::TokenAlgorithm as T;
        match self {
            KeyAlgorithm::EcdsaP256 => T::EcdsaP256,
            KeyAlgorithm::EcdsaP384 => T::EcdsaP384,
            KeyAlgorithm::Ed25519 => T::Ed25519,
            KeyAlgorithm::Rsa3072 => T::Rsa(3072),
            KeyAlgorithm::Rsa4096 => T::Rsa(4096),
        }
    }
}

/// A new key pair, in memory.
pub struct Generated {
    /// PKCS#8 PEM (encrypted when a passphrase was given).
    pub private_pem: Zeroizing<String>,
    /// The public key as SPKI PEM.
    pub public_pem: String,
    /// SHA-256 of the SPKI DER, hex ([`SigningKey::fingerprint`]).
    pub fingerprint: String,
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Key(KeyError::Signing {
        detail: format!("key generation: {e}"),
    })
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, Error> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::fill(b.as_mut()).map_err(failed)?;
    Ok(b)
}

/// Generate a key pair; with `passphrase`, the private key is encrypted.
///
/// # Errors
/// [`Error::Key`] when the RNG or an encoder fails.
pub fn generate(algorithm: KeyAlgorithm, passphrase: Option<&[u8]>) -> Result<Generated, Error> {
    let der = match algorithm {
        KeyAlgorithm::EcdsaP256 => loop {
            // A random scalar is valid except with probability ~2^-128.
            if let Ok(k) = p256::ecdsa::SigningKey::from_slice(random::<32>()?.as_ref()) {
                break k.to_pkcs8_der().map_err(failed)?;
            }
        },
        KeyAlgorithm::EcdsaP384 => loop {
            if let Ok(k) = p384::ecdsa::SigningKey::from_slice(random::<48>()?.as_ref()) {
                break k.to_pkcs8_der().map_err(failed)?;
            }
        },
        KeyAlgorithm::Ed25519 => ed25519_dalek::SigningKey::from_bytes(&*random::<32>()?)
            .to_pkcs8_der()
            .map_err(failed)?,
        KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            let bits = if algorithm == KeyAlgorithm::Rsa3072 {
                3072
            } else {
                4096
            };
            rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
                .map_err(failed)?
                .to_pkcs8_der()
                .map_err(failed)?
        }
    };
    let plain = der.to_pem("PRIVATE KEY", LineEnding::LF).map_err(failed)?;
    // Load it back: the same checks as any key file, and the public key.
    let key = SigningKey::from_pem(plain.as_bytes(), None, RsaScheme::default())?;
    let private_pem = match passphrase {
        None => plain,
        Some(pass) => pkcs8::PrivateKeyInfoRef::try_from(der.as_bytes())
            .map_err(failed)?
            .encrypt_with_rng(&mut getrandom::SysRng, pass)
            .map_err(failed)?
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .map_err(failed)?,
    };
    Ok(Generated {
        private_pem,
        public_pem: key.public_key_pem(),
        fingerprint: key.fingerprint(),
    })
}

/// Write `generated` as `DIR/NAME.key` (0600) and `DIR/NAME.pub.pem`
/// (0644), creating `dir` if needed; existing files are never replaced.
///
/// # Errors
/// [`Error::Destination`] when a file exists, [`Error::Write`] for I/O.
pub fn write_files(
    dir: &Path,
    name: &str,
    generated: &Generated,
) -> Result<(PathBuf, PathBuf), Error> {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub.pem"));
    let write_err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    fs::create_dir_all(dir).map_err(write_err(dir))?;
    for p in [&private, &public] {
        if fs::symlink_metadata(p).is_ok() {
            return Err(Error::Destination {
                path: p.clone(),
                reason: Refusal::Exists,
            });
        }
    }
    let create = |path: &Path, mode: u32, bytes: &[u8]| -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    create(&private, 0o600, generated.private_pem.as_bytes()).map_err(write_err(&private))?;
    if let Err(e) = create(&public, 0o644, generated.public_pem.as_bytes()) {
        let _ = fs::remove_file(&private);
        return Err(write_err(&public)(e));
    }
    Ok((private, public))
}
