//! OpenSSL-style detached ("raw") signatures over one file, for users whose
//! pipelines still check `openssl dgst -verify` signatures (prefer bundles).
//!
//! The signature is what `openssl dgst -<hash> -sign KEY -out SIG FILE`
//! writes for RSA (PKCS#1 v1.5 or, with the key loaded for PSS, RSA-PSS
//! with a salt as long as the hash, which `openssl dgst -verify -sigopt
//! rsa_padding_mode:pss` accepts) and ECDSA (DER, the curve's hash), and
//! what `openssl pkeyutl -sign -rawin` writes for Ed25519. RSA and ECDSA
//! sign a digest of the file streamed in one pass; Ed25519 reads the whole
//! file, up to [`MAX_WHOLE_MESSAGE_BYTES`].

use std::io::Read;
use std::path::Path;

use modelseal_manifest::DEFAULT_BUFFER_SIZE;
use modelseal_manifest::ModelError;
use modelseal_manifest::{MAX_WHOLE_MESSAGE_BYTES, MessageHash, hash_file};

use crate::error::Error;
use crate::key::SigningKey;

/// Sign the file at `path` with `key` (and its [`SigningKey::algorithm`]).
/// Returns the signature and the number of bytes signed.
///
/// # Errors
/// [`Error::Model`] when the file cannot be read, [`Error::InvalidOption`]
/// when it is not a regular file or too large for Ed25519, [`Error::Key`]
/// when signing fails.
pub fn sign_file(key: &SigningKey, path: &Path) -> Result<(Vec<u8>, u64), Error> {
    let io_err = |source| {
        Error::Model(ModelError::Io {
            path: path.to_owned(),
            source,
        })
    };
    let file = match modelseal_manifest::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(Error::InvalidOption {
                reason: format!(
                    "{} is not a regular file: a raw signature covers one file (sign a checksums file for a directory)",
                    path.display()
                ),
            });
        }
        Err(e) => return Err(io_err(e)),
    };
    let meta = file.metadata().map_err(io_err)?;
    match MessageHash::of(key.algorithm()) {
        Some(hash) => {
            let mut buf = vec![0u8; DEFAULT_BUFFER_SIZE];
            let (digest, len) = hash_file(&file, hash, &mut buf).map_err(io_err)?;
            Ok((key.sign_prehashed(&digest)?, len))
        }
        None => {
            let too_large = || Error::InvalidOption {
                reason: format!(
                    "{} is larger than {MAX_WHOLE_MESSAGE_BYTES} bytes: Ed25519 raw signatures need the whole file in memory; sign a checksums file instead",
                    path.display()
                ),
            };
            if meta.len() > MAX_WHOLE_MESSAGE_BYTES {
                return Err(too_large());
            }
            let mut message = Vec::new();
            file.take(MAX_WHOLE_MESSAGE_BYTES + 1)
                .read_to_end(&mut message)
                .map_err(io_err)?;
            if message.len() as u64 > MAX_WHOLE_MESSAGE_BYTES {
                return Err(too_large());
            }
            Ok((key.sign(&message)?, message.len() as u64))
        }
    }
}
