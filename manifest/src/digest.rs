//! Hash algorithms and digests of model content.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;
use subtle::ConstantTimeEq;

/// A content hash algorithm, as named in an OMS manifest (`hash_type`,
/// resource `algorithm`) or a checksums file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256, the OMS default.
    Sha256,
    /// SHA-512 (checksums files only; OMS has no such hash type).
    Sha512,
    /// BLAKE3 with a 32-byte output.
    Blake3,
    /// BLAKE2b-512 (`model_signing`'s "blake2" option, recorded as
    /// `blake2b`); verified, never written by modelseal.
    Blake2b,
}

impl HashAlgorithm {
    /// The name OMS and checksum tools use.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha512 => "sha512",
            HashAlgorithm::Blake3 => "blake3",
            HashAlgorithm::Blake2b => "blake2b",
        }
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 | HashAlgorithm::Blake3 => 32,
            HashAlgorithm::Sha512 | HashAlgorithm::Blake2b => 64,
        }
    }

    /// A fresh incremental hasher.
    pub fn hasher(self) -> Hasher {
        match self {
            HashAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            HashAlgorithm::Blake3 => Hasher::Blake3(Box::new(blake3::Hasher::new())),
            HashAlgorithm::Blake2b => Hasher::Blake2b(Box::new(blake2::Blake2b512::new())),
        }
    }

    /// Hash `data` in one call.
    pub fn digest(self, data: &[u8]) -> Digest {
        let mut h = self.hasher();
        h.update(data);
        h.finish()
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A hash name this crate does not implement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported hash algorithm {0:?}")]
pub struct UnknownHash(pub String);

impl FromStr for HashAlgorithm {
    type Err = UnknownHash;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha256" => Ok(HashAlgorithm::Sha256),
            "sha512" => Ok(HashAlgorithm::Sha512),
            "blake3" => Ok(HashAlgorithm::Blake3),
            "blake2b" => Ok(HashAlgorithm::Blake2b),
            other => Err(UnknownHash(crate::path::shorten(other))),
        }
    }
}

/// An incremental hasher for one [`HashAlgorithm`].
#[derive(Clone)]
#[non_exhaustive]
pub enum Hasher {
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
    /// BLAKE3 state (boxed: it is large).
    Blake3(Box<blake3::Hasher>),
    /// BLAKE2b-512 state.
    Blake2b(Box<blake2::Blake2b512>),
}

/// Inputs at least this long are hashed with BLAKE3's multi-threaded tree
/// mode; below it the threads cost more than they bring.
const BLAKE3_PARALLEL_MIN: usize = 512 * 1024;

impl Hasher {
    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Blake2b(h) => h.update(data),
            Hasher::Blake3(h) => {
                if data.len() >= BLAKE3_PARALLEL_MIN {
                    h.update_rayon(data);
                } else {
                    h.update(data);
                }
            }
        }
    }

    /// Finish and return the digest.
    pub fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest::from_parts(HashAlgorithm::Sha256, h.finalize().to_vec()),
            Hasher::Sha512(h) => Digest::from_parts(HashAlgorithm::Sha512, h.finalize().to_vec()),
            Hasher::Blake3(h) => {
                Digest::from_parts(HashAlgorithm::Blake3, h.finalize().as_bytes().to_vec())
            }
            Hasher::Blake2b(h) => Digest::from_parts(HashAlgorithm::Blake2b, h.finalize().to_vec()),
        }
    }
}

/// A digest with the algorithm that made it.
#[derive(Clone, Eq)]
pub struct Digest {
    algorithm: HashAlgorithm,
    value: Vec<u8>,
}

/// A digest string that is not valid for its algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {algorithm} digest {value:?}: expected {expected} lowercase hex characters")]
pub struct BadDigest {
    /// The algorithm it was meant for.
    pub algorithm: HashAlgorithm,
    /// The offending text (shortened).
    pub value: String,
    /// The expected number of hex characters.
    pub expected: usize,
}

impl Digest {
    fn from_parts(algorithm: HashAlgorithm, value: Vec<u8>) -> Self {
        debug_assert_eq!(value.len(), algorithm.output_len());
        Self { algorithm, value }
    }

    /// Parse lowercase hex of the right length for `algorithm`.
    ///
    /// Uppercase is refused too: manifests are compared as written, and one
    /// digest must have one spelling.
    ///
    /// # Errors
    /// [`BadDigest`] when the length or a character is wrong.
    pub fn from_hex(algorithm: HashAlgorithm, hex: &str) -> Result<Self, BadDigest> {
        let bad = || BadDigest {
            algorithm,
            value: crate::path::shorten(hex),
            expected: algorithm.output_len() * 2,
        };
        if hex.len() != algorithm.output_len() * 2 {
            return Err(bad());
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut value = Vec::with_capacity(algorithm.output_len());
        for pair in hex.as_bytes().chunks_exact(2) {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(h), Some(l)) => value.push(h << 4 | l),
                _ => return Err(bad()),
            }
        }
        Ok(Self { algorithm, value })
    }

    /// Parse hex in either case (checksums files written by other tools).
    ///
    /// # Errors
    /// [`BadDigest`] when the length or a character is wrong.
    pub fn from_hex_any_case(algorithm: HashAlgorithm, hex: &str) -> Result<Self, BadDigest> {
        Self::from_hex(algorithm, &hex.to_ascii_lowercase())
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.value
    }

    /// Lowercase hex, as manifests write it.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(self.value.len() * 2);
        for b in &self.value {
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
        s
    }
}

impl PartialEq for Digest {
    /// Constant-time in the digest bytes.
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm && bool::from(self.value.ct_eq(&other.value))
    }
}

impl std::hash::Hash for Digest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.algorithm.hash(state);
        self.value.hash(state);
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(
            HashAlgorithm::Sha256.digest(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            HashAlgorithm::Blake3.digest(b"").to_hex(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(HashAlgorithm::Sha512.digest(b"").as_bytes().len(), 64);
        assert_eq!(
            HashAlgorithm::Blake2b.digest(b"abc").to_hex(),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1\
             7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        );
    }

    #[test]
    fn blake3_parallel_path_matches_serial() {
        let data: Vec<u8> = (0..3 * BLAKE3_PARALLEL_MIN)
            .map(|i| (i * 7) as u8)
            .collect();
        let mut serial = blake3::Hasher::new();
        serial.update(&data);
        assert_eq!(
            HashAlgorithm::Blake3.digest(&data).as_bytes(),
            serial.finalize().as_bytes()
        );
    }

    #[test]
    fn hex_round_trip_and_strictness() {
        let d = HashAlgorithm::Sha256.digest(b"x");
        assert_eq!(
            Digest::from_hex(HashAlgorithm::Sha256, &d.to_hex()).unwrap(),
            d
        );
        let upper = d.to_hex().to_uppercase();
        assert!(Digest::from_hex(HashAlgorithm::Sha256, &upper).is_err());
        assert_eq!(
            Digest::from_hex_any_case(HashAlgorithm::Sha256, &upper).unwrap(),
            d
        );
        assert!(Digest::from_hex(HashAlgorithm::Sha256, "ab").is_err());
        assert!(Digest::from_hex(HashAlgorithm::Sha256, &"g".repeat(64)).is_err());
        assert_ne!(HashAlgorithm::Blake3.digest(b"x"), d);
    }

    #[test]
    fn names_parse() {
        for a in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha512,
            HashAlgorithm::Blake3,
        ] {
            assert_eq!(a.name().parse::<HashAlgorithm>().unwrap(), a);
        }
        assert!("blake2".parse::<HashAlgorithm>().is_err());
        assert!("md5".parse::<HashAlgorithm>().is_err());
    }
}
