//! A parsed, not yet verified, timestamp token.

use std::time::SystemTime;

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfo};
use der::asn1::OctetString;
use der::{Decode, Encode};

use crate::asn1::{OID_SHA256, OID_SHA384, OID_SHA512, OID_SIGNED_DATA, OID_TST_INFO, TstInfo};
use crate::error::{Error, Malformation, Unsupported};
use crate::request::hex;

/// Largest token accepted (a token with a three-certificate RSA chain is
/// about 6 KiB).
pub const MAX_TOKEN_BYTES: usize = 128 * 1024;

/// An RFC 3161 timestamp token as read: nothing in it is trusted until
/// [`crate::verify`] says so.
#[derive(Clone)]
pub struct Token {
    pub(crate) der: Vec<u8>,
    pub(crate) signed_data: SignedData,
    pub(crate) signer: SignerInfo,
    /// The DER `TSTInfo` (the signed content).
    pub(crate) tst_der: Vec<u8>,
    pub(crate) tst: TstInfo,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("serial", &self.serial_hex())
            .field("policy", &self.policy())
            .field("gen_time", &self.gen_time())
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Parse a token: a DER `ContentInfo` holding `SignedData` with one
    /// signer over a `TSTInfo` (RFC 3161 §2.4.2).
    ///
    /// # Errors
    /// [`Error::TooLarge`] above [`MAX_TOKEN_BYTES`], [`Error::Malformed`]
    /// for anything else that is not such a token.
    pub fn from_der(der: &[u8]) -> Result<Token, Error> {
        if der.len() > MAX_TOKEN_BYTES {
            return Err(Error::TooLarge {
                size: der.len(),
                limit: MAX_TOKEN_BYTES,
            });
        }
        let info = ContentInfo::from_der(der)?;
        if info.content_type != OID_SIGNED_DATA {
            return Err(Malformation::ContentType(info.content_type).into());
        }
        let signed_data = SignedData::from_der(&info.content.to_der()?)?;
        let encap = &signed_data.encap_content_info;
        if encap.econtent_type != OID_TST_INFO {
            return Err(Malformation::EncapsulatedType(encap.econtent_type).into());
        }
        let content = encap
            .econtent
            .as_ref()
            .ok_or(Error::Malformed(Malformation::NoTstInfo))?;
        let tst_der = content.decode_as::<OctetString>()?.into_bytes().into_vec();
        let tst = TstInfo::from_der(&tst_der)?;
        if tst.version != 1 {
            return Err(Malformation::Version(tst.version).into());
        }
        let signers = signed_data.signer_infos.0.as_slice();
        let [signer] = signers else {
            return Err(Malformation::SignerCount(signers.len()).into());
        };
        Ok(Token {
            der: der.to_vec(),
            signer: signer.clone(),
            signed_data,
            tst_der,
            tst,
        })
    }

    /// The token's DER bytes, as read.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The time the TSA says it saw the message (`genTime`).
    pub fn gen_time(&self) -> SystemTime {
        self.tst.gen_time.time()
    }

    /// The token's serial number, lowercase hex.
    pub fn serial_hex(&self) -> String {
        hex(self.tst.serial_number.as_bytes())
    }

    /// The TSA policy OID, dotted.
    pub fn policy(&self) -> String {
        self.tst.policy.to_string()
    }

    /// The nonce, if the TSA echoed one: big-endian INTEGER bytes.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.tst.nonce.as_ref().map(|n| n.as_bytes())
    }

    /// Whether the message imprint is the hash of `message` (SHA-256, -384
    /// or -512 as the token names).
    ///
    /// # Errors
    /// [`Error::ImprintMismatch`] when it is not, [`Error::UnsupportedAlgorithm`]
    /// for another hash.
    pub fn check_imprint(&self, message: &[u8]) -> Result<(), Error> {
        let imprint = &self.tst.message_imprint;
        let expected = digest(&imprint.hash_algorithm.oid, message)?;
        if imprint.hashed_message.as_bytes() == expected.as_slice() {
            Ok(())
        } else {
            Err(Error::ImprintMismatch)
        }
    }

    /// Whether the imprint is the SHA-256 digest `sha256` (a reply to a
    /// [`crate::Request`], which always asks for SHA-256).
    pub(crate) fn check_imprint_digest(&self, sha256: &[u8; 32]) -> Result<(), Error> {
        let imprint = &self.tst.message_imprint;
        if imprint.hash_algorithm.oid == OID_SHA256
            && imprint.hashed_message.as_bytes() == sha256.as_slice()
        {
            Ok(())
        } else {
            Err(Error::ImprintMismatch)
        }
    }

    /// Whether the token carries `nonce`.
    ///
    /// # Errors
    /// [`Error::NonceMismatch`] when it carries none or another.
    pub fn check_nonce(&self, nonce: &[u8]) -> Result<(), Error> {
        if self.nonce() == Some(nonce) {
            Ok(())
        } else {
            Err(Error::NonceMismatch)
        }
    }
}

/// Hash `data` with the digest `oid` names (SHA-2 only).
pub(crate) fn digest(oid: &der::asn1::ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, Error> {
    use sha2::Digest;
    Ok(match *oid {
        OID_SHA256 => sha2::Sha256::digest(data).to_vec(),
        OID_SHA384 => sha2::Sha384::digest(data).to_vec(),
        OID_SHA512 => sha2::Sha512::digest(data).to_vec(),
        other => return Err(Error::UnsupportedAlgorithm(Unsupported::Digest(other))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_and_unknown_digests_are_unsupported() {
        let sha1 = der::asn1::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
        assert!(matches!(
            digest(&sha1, b"x"),
            Err(Error::UnsupportedAlgorithm(Unsupported::Digest(oid))) if oid == sha1
        ));
        assert_eq!(digest(&OID_SHA256, b"").unwrap().len(), 32);
    }
}
