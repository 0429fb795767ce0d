//! Reading a private key from PEM: block framing, decryption and the
//! PKCS#8 / PKCS#1 / SEC1 structures.
//!
//! Every buffer that holds secret material (the decoded DER, the decrypted
//! PKCS#8 plaintext) is a [`Zeroizing`] buffer allocated at its final size, so
//! no copy is left behind by a reallocation. The passphrase is only borrowed.

use modelseal_manifest::describe_oid;
use pkcs8::der::pem::Decoder;
use pkcs8::der::{Decode, asn1::ObjectIdentifier};
use pkcs8::pkcs5;
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use rsa::pkcs1::RsaPrivateKeyRef;
use zeroize::Zeroizing;

use crate::error::{KeyError, KeyFormat};

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Smallest RSA modulus accepted for signing.
pub(crate) const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted (the `rsa` crate's limit).
pub(crate) const RSA_MAX_BITS: usize = 8192;

/// A decoded private key, before the RSA scheme is attached.
pub(crate) enum Loaded {
    Rsa(Box<rsa::PrivateKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    P256(Box<p256::ecdsa::SigningKey>),
    P384(Box<p384::ecdsa::SigningKey>),
}

/// Decodes the first private-key PEM block of `pem` (skipping `EC
/// PARAMETERS` blocks as `openssl ecparam -genkey` writes them), returning
/// the key and the format it was found in.
pub(crate) fn load(pem: &[u8], passphrase: Option<&[u8]>) -> Result<(Loaded, KeyFormat), KeyError> {
    let block = first_key_block(pem)?;
    let der = decode_block(&block)?;
    match block.label {
        "PRIVATE KEY" => Ok((pkcs8(&der, KeyFormat::Pkcs8)?, KeyFormat::Pkcs8)),
        "ENCRYPTED PRIVATE KEY" => {
            let passphrase = passphrase.ok_or(KeyError::PassphraseRequired)?;
            let plain = decrypt(&der, passphrase)?;
            let format = KeyFormat::EncryptedPkcs8;
            Ok((pkcs8(&plain, format)?, format))
        }
        "RSA PRIVATE KEY" => Ok((rsa_pkcs1(&der, KeyFormat::Pkcs1)?, KeyFormat::Pkcs1)),
        "EC PRIVATE KEY" => Ok((sec1(&der)?, KeyFormat::Sec1)),
        other => Err(KeyError::UnexpectedLabel {
            label: shown_label(other),
        }),
    }
}

/// One `-----BEGIN label-----` ... `-----END label-----` block.
struct Block<'a> {
    label: &'a str,
    /// The block from its BEGIN line through its END line.
    text: &'a [u8],
}

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

fn first_key_block(pem: &[u8]) -> Result<Block<'_>, KeyError> {
    // Scanning resumes after each block skipped (not after its BEGIN line),
    // so every byte is read a bounded number of times: hostile input made
    // of many EC PARAMETERS blocks costs linear, not quadratic, time.
    let mut offset = 0;
    let mut seen_any = false;
    while let Some(found) = pem.get(offset..).and_then(|rest| find(rest, BEGIN)) {
        let start = offset + found;
        // A boundary only counts at the start of a line.
        let at_line_start = start == 0 || pem.get(start - 1) == Some(&b'\n');
        if !at_line_start {
            offset = start + BEGIN.len();
            continue;
        }
        seen_any = true;
        let block = block_at(pem, start)?;
        if block.label == "EC PARAMETERS" {
            offset = start + block.text.len();
            continue;
        }
        return Ok(block);
    }
    if seen_any {
        // Only EC PARAMETERS blocks: parameters without a key.
        Err(KeyError::UnexpectedLabel {
            label: "EC PARAMETERS".to_owned(),
        })
    } else {
        Err(KeyError::NotPem)
    }
}

/// Reads the block that starts at `start` (on its `-----BEGIN ` line).
fn block_at(pem: &[u8], start: usize) -> Result<Block<'_>, KeyError> {
    let malformed = |label: &str, detail: &str| KeyError::MalformedPem {
        label: shown_label(label),
        detail: detail.to_owned(),
    };
    let head = pem.get(start + BEGIN.len()..).unwrap_or_default();
    let label_len = find(head, DASHES).ok_or_else(|| malformed("", "unterminated BEGIN line"))?;
    let label = head
        .get(..label_len)
        .and_then(|l| std::str::from_utf8(l).ok())
        .filter(|l| l.len() <= 64 && l.bytes().all(|b| b == b' ' || b.is_ascii_graphic()))
        .ok_or_else(|| malformed("", "invalid label in BEGIN line"))?;
    let end_marker = format!("-----END {label}-----");
    let body_from = start + BEGIN.len() + label_len + DASHES.len();
    let body = pem.get(body_from..).unwrap_or_default();
    let end_at = find(body, end_marker.as_bytes())
        .ok_or_else(|| malformed(label, "no matching END line (truncated?)"))?;
    let end = body_from + end_at + end_marker.len();
    let text = pem
        .get(start..end)
        .ok_or_else(|| malformed(label, "no matching END line (truncated?)"))?;
    Ok(Block { label, text })
}

/// A label as errors may show it. What sits between `-----BEGIN ` and the
/// next `-----` is the label only if the file is intact; when the BEGIN
/// line has lost its dashes it runs into the Base64 body, i.e. the key. So
/// only label-shaped text is echoed: at most 40 bytes of uppercase letters,
/// digits and spaces, in words of at most 12 characters (`ENCRYPTED PRIVATE
/// KEY`, `OPENSSH PRIVATE KEY`, `CERTIFICATE`). Anything else is described
/// by its length alone.
pub(crate) fn shown_label(label: &str) -> String {
    let label_shaped = label.len() <= 40
        && label
            .bytes()
            .all(|b| b == b' ' || b.is_ascii_uppercase() || b.is_ascii_digit())
        && label.split(' ').all(|w| w.len() <= 12);
    if label_shaped {
        label.to_owned()
    } else {
        format!("<{} bytes, not shown: not a label>", label.len())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Base64-decodes a block into a zeroizing buffer of its exact size.
fn decode_block(block: &Block<'_>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if find(block.text, b"Proc-Type:").is_some() || find(block.text, b"DEK-Info:").is_some() {
        return Err(KeyError::LegacyEncryptedPem {
            label: shown_label(block.label),
        });
    }
    let malformed = |e: pkcs8::der::pem::Error| KeyError::MalformedPem {
        label: shown_label(block.label),
        detail: e.to_string(),
    };
    let mut decoder = Decoder::new_detect_wrap(block.text).map_err(malformed)?;
    let mut buf = Zeroizing::new(vec![0u8; decoder.remaining_len()]);
    let len = decoder.decode(&mut buf).map_err(malformed)?.len();
    if !decoder.is_finished() {
        return Err(malformed(pkcs8::der::pem::Error::Length));
    }
    buf.truncate(len);
    Ok(buf)
}

/// Decrypts an `EncryptedPrivateKeyInfo` into a zeroizing plaintext buffer.
fn decrypt(der: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let info = EncryptedPrivateKeyInfoRef::from_der(der).map_err(|e| KeyError::MalformedKey {
        format: KeyFormat::EncryptedPkcs8,
        detail: e.to_string(),
    })?;
    check_kdf_cost(&info.encryption_algorithm)?;
    let mut buf = Zeroizing::new(info.encrypted_data.as_bytes().to_vec());
    let len = match info
        .encryption_algorithm
        .decrypt_in_place(passphrase, &mut buf)
    {
        Ok(plain) => plain.len(),
        Err(pkcs5::Error::DecryptFailed) => return Err(KeyError::WrongPassphrase),
        Err(e) => {
            return Err(KeyError::UnsupportedEncryption {
                detail: e.to_string(),
            });
        }
    };
    buf.truncate(len);
    // A wrong passphrase yields valid CBC padding about once in 256 tries;
    // the plaintext is then garbage that does not parse as PrivateKeyInfo.
    if PrivateKeyInfoRef::from_der(&buf).is_err() {
        return Err(KeyError::WrongPassphrase);
    }
    Ok(buf)
}

/// Most PBKDF2 iterations an encrypted key may ask for (OpenSSL writes
/// 2048, OWASP suggests 600 000 for PBKDF2-HMAC-SHA256; about 0.3 s of work
/// at this bound).
pub(crate) const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// Most memory (`128 * r * N` bytes) an scrypt-encrypted key may ask for
/// (`openssl pkcs8 -scrypt` writes N=2^14, r=8: 16 MiB).
pub(crate) const MAX_SCRYPT_MEMORY: u64 = 256 << 20;
/// Most scrypt work (`N * r * p`) an encrypted key may ask for (about 1.5 s).
pub(crate) const MAX_SCRYPT_WORK: u64 = 1 << 22;

/// Refuses key-derivation parameters that would stall the process or
/// exhaust its memory before the passphrase is even checked.
fn check_kdf_cost(scheme: &pkcs5::EncryptionScheme) -> Result<(), KeyError> {
    let pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(()); // PBES1 is refused by the decryption itself.
    };
    let too_costly = |detail: String| Err(KeyError::UnsupportedEncryption { detail });
    if let Some(pbkdf2) = params.kdf.pbkdf2()
        && pbkdf2.iteration_count > MAX_PBKDF2_ITERATIONS
    {
        return too_costly(format!(
            "PBKDF2 iteration count {} exceeds the limit of {MAX_PBKDF2_ITERATIONS}; re-encrypt the key with fewer iterations",
            pbkdf2.iteration_count
        ));
    }
    if let Some(scrypt) = params.kdf.scrypt() {
        let n = scrypt.cost_parameter;
        let r = u64::from(scrypt.block_size);
        let p = u64::from(scrypt.parallelization);
        let memory = n.saturating_mul(r).saturating_mul(128);
        let work = n.saturating_mul(r).saturating_mul(p);
        if memory > MAX_SCRYPT_MEMORY || work > MAX_SCRYPT_WORK {
            return too_costly(format!(
                "scrypt parameters N={n}, r={r}, p={p} exceed the limits of 256 MiB (128*N*r) and N*r*p <= 2^22; re-encrypt the key with cheaper parameters (e.g. `openssl pkcs8 -topk8 -scrypt`)"
            ));
        }
    }
    Ok(())
}

fn pkcs8(der: &[u8], format: KeyFormat) -> Result<Loaded, KeyError> {
    let malformed = |detail: String| KeyError::MalformedKey { format, detail };
    let info = PrivateKeyInfoRef::from_der(der).map_err(|e| malformed(e.to_string()))?;
    let oid = info.algorithm.oid;
    if oid == OID_RSA {
        rsa_pkcs1(info.private_key.as_bytes(), format)
    } else if oid == OID_ED25519 {
        ed25519_dalek::SigningKey::try_from(info)
            .map(|k| Loaded::Ed25519(Box::new(k)))
            .map_err(|e| malformed(e.to_string()))
    } else if oid == OID_EC {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|e| malformed(format!("EC key without a named curve: {e}")))?;
        if curve == OID_P256 {
            p256::SecretKey::try_from(info)
                .map(|s| Loaded::P256(Box::new(p256::ecdsa::SigningKey::from(&s))))
                .map_err(|e| malformed(e.to_string()))
        } else if curve == OID_P384 {
            p384::SecretKey::try_from(info)
                .map(|s| Loaded::P384(Box::new(p384::ecdsa::SigningKey::from(&s))))
                .map_err(|e| malformed(e.to_string()))
        } else {
            Err(KeyError::UnsupportedCurve {
                curve: describe_oid(&curve.to_string()),
            })
        }
    } else {
        Err(KeyError::UnsupportedKeyType {
            algorithm: describe_oid(&oid.to_string()),
        })
    }
}

fn sec1(der: &[u8]) -> Result<Loaded, KeyError> {
    let malformed = |detail: String| KeyError::MalformedKey {
        format: KeyFormat::Sec1,
        detail,
    };
    let key = sec1::EcPrivateKey::from_der(der).map_err(|e| malformed(e.to_string()))?;
    let curve = key
        .parameters
        .and_then(|p| p.named_curve())
        .ok_or_else(|| malformed("no named curve in the key's parameters".to_owned()))?;
    if curve == OID_P256 {
        p256::SecretKey::try_from(key)
            .map(|s| Loaded::P256(Box::new(p256::ecdsa::SigningKey::from(&s))))
            .map_err(|e| malformed(e.to_string()))
    } else if curve == OID_P384 {
        p384::SecretKey::try_from(key)
            .map(|s| Loaded::P384(Box::new(p384::ecdsa::SigningKey::from(&s))))
            .map_err(|e| malformed(e.to_string()))
    } else {
        Err(KeyError::UnsupportedCurve {
            curve: describe_oid(&curve.to_string()),
        })
    }
}

/// Decodes a PKCS#1 `RSAPrivateKey`, refusing sizes outside 2048..=8192
/// bits before any arithmetic is done on the key.
fn rsa_pkcs1(der: &[u8], format: KeyFormat) -> Result<Loaded, KeyError> {
    let malformed = |detail: String| KeyError::MalformedKey { format, detail };
    let parsed = RsaPrivateKeyRef::from_der(der).map_err(|e| malformed(e.to_string()))?;
    let bits = uint_bits(parsed.modulus.as_bytes());
    if bits < RSA_MIN_BITS {
        return Err(KeyError::WeakRsaKey { bits });
    }
    if bits > RSA_MAX_BITS {
        return Err(KeyError::RsaKeyTooLarge { bits });
    }
    let key = rsa::PrivateKey::try_from(parsed).map_err(|e| malformed(e.to_string()))?;
    key.validate().map_err(|e| malformed(e.to_string()))?;
    Ok(Loaded::Rsa(Box::new(key)))
}

/// Bit length of a big-endian unsigned integer.
fn uint_bits(bytes: &[u8]) -> usize {
    let mut digits = bytes.iter().skip_while(|b| **b == 0);
    match digits.next() {
        None => 0,
        Some(first) => digits.count() * 8 + (8 - first.leading_zeros() as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_ignores_leading_zeros() {
        assert_eq!(uint_bits(&[]), 0);
        assert_eq!(uint_bits(&[0, 0]), 0);
        assert_eq!(uint_bits(&[1]), 1);
        assert_eq!(uint_bits(&[0, 0x80, 0]), 16);
        assert_eq!(uint_bits(&[0x7f, 0xff]), 15);
    }

    #[test]
    fn ec_parameters_blocks_are_skipped() {
        let pem = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
                    -----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        let block = first_key_block(pem).unwrap();
        assert_eq!(block.label, "EC PRIVATE KEY");
        assert!(block.text.starts_with(b"-----BEGIN EC PRIVATE KEY-----"));
        assert!(block.text.ends_with(b"-----END EC PRIVATE KEY-----"));
    }

    #[test]
    fn only_label_shaped_labels_are_echoed() {
        for ok in [
            "PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "X509 CRL",
            "",
        ] {
            assert_eq!(shown_label(ok), ok);
        }
        for hidden in [
            "PRIVATE KEY--MC4CAQAwBQYDK2VwBCIE",
            "PRIVATE KEYMC4CAQAWBQYDK2VWBCIEIN4O",
            "private key",
            "A B C D E F G H I J K L M N O P Q R S T U",
        ] {
            assert_eq!(
                shown_label(hidden),
                format!("<{} bytes, not shown: not a label>", hidden.len())
            );
        }
        // Through the loader: a BEGIN line run into the body.
        let pem = b"-----BEGIN PRIVATE KEY--MC4CAQAwBQYDK2VwBCIEIN4oGHSs-----\nAAAA\n";
        match load(pem, None) {
            Err(KeyError::MalformedPem { label, .. }) => {
                assert_eq!(label, "<41 bytes, not shown: not a label>");
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("loaded"),
        }
    }

    #[test]
    fn skipped_blocks_are_skipped_whole() {
        // A key block inside an EC PARAMETERS block is not a key block.
        let nested = b"-----BEGIN EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\nAAAA\n\
                       -----END EC PRIVATE KEY-----\n-----END EC PARAMETERS-----\n";
        assert!(matches!(
            first_key_block(nested),
            Err(KeyError::UnexpectedLabel { label }) if label == "EC PARAMETERS"
        ));
        // Many parameter blocks before the key: found after one pass.
        let mut many =
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                .repeat(1000);
        many.push_str("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        let block = first_key_block(many.as_bytes()).unwrap();
        assert_eq!(block.label, "EC PRIVATE KEY");
    }

    #[test]
    fn framing_errors_are_precise() {
        assert!(matches!(first_key_block(b"hello"), Err(KeyError::NotPem)));
        assert!(matches!(
            first_key_block(b"x -----BEGIN PRIVATE KEY-----"),
            Err(KeyError::NotPem)
        ));
        assert!(matches!(
            first_key_block(b"-----BEGIN PRIVATE KEY-----\nAAAA\n"),
            Err(KeyError::MalformedPem { label, .. }) if label == "PRIVATE KEY"
        ));
        assert!(matches!(
            first_key_block(b"-----BEGIN PRIVATE KEY"),
            Err(KeyError::MalformedPem { .. })
        ));
        assert!(matches!(
            first_key_block(
                b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
            ),
            Err(KeyError::UnexpectedLabel { label }) if label == "EC PARAMETERS"
        ));
    }

    /// An encrypted key whose KDF parameters are refused before any work.
    fn encrypted_with(params: pkcs5::pbes2::Parameters) -> String {
        use pkcs8::der::{Encode, asn1::OctetStringRef};
        let info = EncryptedPrivateKeyInfoRef {
            encryption_algorithm: params.into(),
            encrypted_data: OctetStringRef::new(&[0u8; 48]).unwrap(),
        };
        let der = info.to_der().unwrap();
        pkcs8::der::pem::encode_string(
            "ENCRYPTED PRIVATE KEY",
            pkcs8::der::pem::LineEnding::LF,
            &der,
        )
        .unwrap()
    }

    #[test]
    fn costly_key_derivation_is_refused() {
        // The reviews' keys: 10M PBKDF2 iterations (1-3.4 s), scrypt N=2^20,
        // r=8, p=8 (21.5 s, 1 GiB) both refused before any derivation.
        let params = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
            10_000_000, &[1; 16], [2; 16],
        )
        .unwrap();
        let pem = encrypted_with(params);
        let start = std::time::Instant::now();
        assert!(matches!(
            load(pem.as_bytes(), Some(b"pass")),
            Err(KeyError::UnsupportedEncryption { detail }) if detail.contains("10000000")
        ));
        for (log_n, r, p) in [(20, 8, 8), (19, 8, 1), (16, 8, 128)] {
            let mut params =
                pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(2048, &[1; 16], [2; 16])
                    .unwrap();
            let scrypt = pkcs5::scrypt::Params::new(log_n, r, p).unwrap();
            params.kdf = pkcs5::pbes2::ScryptParams::from_params_and_salt(scrypt, &[1; 16])
                .unwrap()
                .into();
            let pem = encrypted_with(params);
            assert!(matches!(
                load(pem.as_bytes(), Some(b"pass")),
                Err(KeyError::UnsupportedEncryption { detail }) if detail.contains("256 MiB")
            ));
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        // What `openssl pkcs8 -scrypt` writes is within the limits.
        let mut params =
            pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(2048, &[1; 16], [2; 16])
                .unwrap();
        let scrypt = pkcs5::scrypt::Params::new(14, 8, 1).unwrap();
        params.kdf = pkcs5::pbes2::ScryptParams::from_params_and_salt(scrypt, &[1; 16])
            .unwrap()
            .into();
        assert!(matches!(
            load(encrypted_with(params).as_bytes(), Some(b"pass")),
            Err(KeyError::WrongPassphrase)
        ));

        let mut params =
            pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(2048, &[1; 16], [2; 16])
                .unwrap();
        let scrypt = pkcs5::scrypt::Params::new(20, 16, 1).unwrap();
        params.kdf = pkcs5::pbes2::ScryptParams::from_params_and_salt(scrypt, &[1; 16])
            .unwrap()
            .into();
        let pem = encrypted_with(params);
        assert!(matches!(
            load(pem.as_bytes(), Some(b"pass")),
            Err(KeyError::UnsupportedEncryption { detail }) if detail.contains("N=1048576, r=16")
        ));

        // Within the limits the passphrase is what fails.
        let params =
            pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(2048, &[1; 16], [2; 16])
                .unwrap();
        let pem = encrypted_with(params);
        assert!(matches!(
            load(pem.as_bytes(), Some(b"pass")),
            Err(KeyError::WrongPassphrase)
        ));
    }

    #[test]
    fn legacy_encrypted_pem_is_named() {
        let pem = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                    DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n\
                    -----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            load(pem, None),
            Err(KeyError::LegacyEncryptedPem { label }) if label == "RSA PRIVATE KEY"
        ));
    }
}
