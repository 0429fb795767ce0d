//! The `TimeStampReq` sent to a TSA.

use der::Encode;
use der::asn1::{Int, OctetString};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;

use crate::asn1::{MessageImprint, OID_SHA256, TimeStampReq};
use crate::error::Error;

/// A timestamp request over one message: SHA-256 imprint, a fresh random
/// nonce, `certReq` set.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    der: Vec<u8>,
    nonce: Vec<u8>,
    imprint: [u8; 32],
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("imprint", &hex(&self.imprint))
            .field("nonce", &hex(&self.nonce))
            .finish()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Request {
    /// A request for a timestamp over `message` (modelseal passes the
    /// signature bytes).
    ///
    /// # Errors
    /// [`Error::Random`] when the OS has no randomness to give.
    pub fn new(message: &[u8]) -> Result<Self, Error> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(Error::Random)?;
        // Positive and minimal as a DER INTEGER: top bit clear, next set.
        nonce[0] = (nonce[0] & 0x7f) | 0x40;
        let imprint: [u8; 32] = Sha256::digest(message).into();
        let req = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: OID_SHA256,
                    parameters: None,
                },
                hashed_message: OctetString::new(imprint.to_vec())?,
            },
            req_policy: None,
            nonce: Some(Int::new(&nonce)?),
            cert_req: true,
        };
        Ok(Request {
            der: req.to_der()?,
            nonce: nonce.to_vec(),
            imprint,
        })
    }

    /// The DER `TimeStampReq`, the body to POST.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The nonce, as the big-endian bytes of a positive INTEGER.
    pub fn nonce(&self) -> &[u8] {
        &self.nonce
    }

    /// The SHA-256 of the message.
    pub fn imprint(&self) -> &[u8; 32] {
        &self.imprint
    }
}
