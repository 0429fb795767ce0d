//! Verifying a token: imprint, nonce, CMS signature, TSA chain at genTime.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cms::cert::CertificateChoices;
use cms::signed_data::SignerIdentifier;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use webpki::{EndEntityCert, KeyUsage};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::asn1::{
    OID_CONTENT_TYPE, OID_MESSAGE_DIGEST, OID_SHA1, OID_SHA256, OID_SHA384, OID_SHA512,
    OID_SIGNING_CERT, OID_SIGNING_CERT_V2, OID_TST_INFO, SigningCertificate, SigningCertificateV2,
};
use crate::error::{Error, Malformation, Unsupported, Untrusted};
use crate::request::hex;
use crate::token::{Token, digest};
use crate::trust::TsaTrust;

/// id-kp-timeStamping, 1.3.6.1.5.5.7.3.8, as DER OID value bytes.
const TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// The signature algorithms modelseal accepts on certificates (TSA chains
/// here; signing chains in the verifier): no SHA-1, RSA of 2048 bits or
/// more.
pub static CERTIFICATE_SIGNATURE_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// A timestamp that verified: the TSA, trusted by the caller's roots,
/// signed that it saw the message at [`VerifiedTimestamp::gen_time`].
/// Only [`verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    gen_time: SystemTime,
    tsa_subject: String,
    tsa_serial: String,
    serial: String,
    policy: String,
}

impl VerifiedTimestamp {
    /// When the TSA saw the message.
    pub fn gen_time(&self) -> SystemTime {
        self.gen_time
    }

    /// The TSA certificate's subject (RFC 4514).
    pub fn tsa_subject(&self) -> &str {
        &self.tsa_subject
    }

    /// The TSA certificate's serial number, lowercase hex.
    pub fn tsa_serial(&self) -> &str {
        &self.tsa_serial
    }

    /// The token's serial number, lowercase hex.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The TSA policy OID, dotted.
    pub fn policy(&self) -> &str {
        &self.policy
    }
}

/// Verify `token` as a timestamp over `message`, issued by a TSA that
/// `trust` vouches for (steps 1–6 of the crate documentation). With
/// `nonce`, the token must carry it (a fresh reply); without, any nonce
/// is fine (a token read back from a bundle).
///
/// # Errors
/// The first failing step, as an [`Error`].
pub fn verify(
    token: &Token,
    message: &[u8],
    trust: &TsaTrust,
    nonce: Option<&[u8]>,
) -> Result<VerifiedTimestamp, Error> {
    if trust.anchors.is_empty() {
        return Err(Error::NoTrustRoots);
    }
    token.check_imprint(message)?;
    if let Some(n) = nonce {
        token.check_nonce(n)?;
    }
    let signer = verify_signature(token, &trust.certificates)?;
    let gen_time = token.gen_time();
    check_chain(token, &signer, trust, gen_time)?;
    let tbs = signer.cert.tbs_certificate();
    Ok(VerifiedTimestamp {
        gen_time,
        tsa_subject: tbs.subject().to_string(),
        tsa_serial: hex(tbs.serial_number().as_bytes()),
        serial: token.serial_hex(),
        policy: token.policy(),
    })
}

/// The certificate that signed a token, as found and checked.
pub(crate) struct Signer {
    pub(crate) cert: Certificate,
    pub(crate) der: Vec<u8>,
}

/// Every certificate the token carries, DER.
fn token_certificates(token: &Token) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    if let Some(set) = &token.signed_data.certificates {
        for choice in set.0.iter() {
            if let CertificateChoices::Certificate(c) = choice {
                out.push(c.to_der()?);
            }
        }
    }
    Ok(out)
}

/// Steps 4–5: find the signer's certificate, check the signed attributes
/// and the signature. The chain is not judged here.
#[allow(deprecated)] // webpki may still return the deprecated variant
pub(crate) fn verify_signature(token: &Token, extra: &[Vec<u8>]) -> Result<Signer, Error> {
    let si = &token.signer;
    let mut candidates = token_certificates(token)?;
    candidates.extend_from_slice(extra);
    let signer = candidates
        .into_iter()
        .find_map(|der| {
            let cert = Certificate::from_der(&der).ok()?;
            identifies(&si.sid, &cert).then_some(Signer { cert, der })
        })
        .ok_or(Error::SignerCertificateMissing)?;

    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or(Error::SignedAttributes("absent (RFC 3161 requires them)"))?;
    let single = |oid: ObjectIdentifier| -> Result<Option<&der::Any>, Error> {
        let mut found = attrs.iter().filter(|a| a.oid == oid);
        let Some(attr) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(Error::SignedAttributes("an attribute appears twice"));
        }
        match attr.values.as_slice() {
            [v] => Ok(Some(v)),
            _ => Err(Error::SignedAttributes(
                "an attribute without exactly one value",
            )),
        }
    };

    // Content type: TSTInfo.
    let ct =
        single(OID_CONTENT_TYPE)?.ok_or(Error::SignedAttributes("no content-type attribute"))?;
    if ct.decode_as::<ObjectIdentifier>()? != OID_TST_INFO {
        return Err(Error::SignedAttributes("content type is not TSTInfo"));
    }
    // Message digest: of the TSTInfo, with the signer's digest algorithm.
    let md = single(OID_MESSAGE_DIGEST)?
        .ok_or(Error::SignedAttributes("no message-digest attribute"))?;
    let expected = digest(&si.digest_alg.oid, &token.tst_der)?;
    if md.decode_as::<OctetString>()?.as_bytes() != expected.as_slice() {
        return Err(Error::SignedAttributes(
            "message digest does not match the TSTInfo",
        ));
    }
    // ESS signing certificate: binds the signer's certificate.
    check_ess(
        single(OID_SIGNING_CERT_V2)?,
        single(OID_SIGNING_CERT)?,
        &signer.der,
    )?;

    // The signature over the DER SET OF signed attributes.
    let signed = attrs.to_der()?;
    let cert_der = CertificateDer::from(signer.der.as_slice());
    let ee = EndEntityCert::try_from(&cert_der)
        .map_err(|e| Error::Malformed(Malformation::TsaCertificate(e)))?;
    let candidates = signature_algorithms(&si.signature_algorithm.oid, &si.digest_alg.oid)?;
    let sig = si.signature.as_bytes();
    let mut result = Err(Error::UnsupportedAlgorithm(Unsupported::ForKey(
        si.signature_algorithm.oid,
    )));
    for alg in candidates {
        match ee.verify_signature(*alg, &signed, sig) {
            Ok(()) => {
                result = Ok(());
                break;
            }
            Err(
                webpki::Error::UnsupportedSignatureAlgorithmForPublicKey
                | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_),
            ) => {}
            Err(_) => {
                result = Err(Error::BadSignature);
                break;
            }
        }
    }
    result.map(|()| signer)
}

/// Whether `sid` names `cert`.
fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            isn.issuer == *tbs.issuer() && isn.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    }
}

/// RFC 3161 §2.4.2 (RFC 5816): the first ESSCertID(v2) must hash the
/// signer's certificate.
fn check_ess(v2: Option<&der::Any>, v1: Option<&der::Any>, cert_der: &[u8]) -> Result<(), Error> {
    let (alg, hash) = if let Some(v2) = v2 {
        let sc = SigningCertificateV2::from_der(&v2.to_der()?)?;
        let first = sc
            .certs
            .into_iter()
            .next()
            .ok_or(Error::SigningCertificateAttribute("lists no certificate"))?;
        (
            first.hash_algorithm.map_or(OID_SHA256, |a| a.oid),
            first.cert_hash.into_bytes().into_vec(),
        )
    } else if let Some(v1) = v1 {
        let sc = SigningCertificate::from_der(&v1.to_der()?)?;
        let first = sc
            .certs
            .into_iter()
            .next()
            .ok_or(Error::SigningCertificateAttribute("lists no certificate"))?;
        (OID_SHA1, first.cert_hash.into_bytes().into_vec())
    } else {
        return Err(Error::SigningCertificateAttribute("is absent"));
    };
    let actual = if alg == OID_SHA1 {
        // SHA-1 only names the certificate here (a second preimage would
        // be needed to swap it); the signature itself never uses SHA-1.
        use sha1::Digest;
        sha1::Sha1::digest(cert_der).to_vec()
    } else {
        digest(&alg, cert_der)?
    };
    if actual == hash {
        Ok(())
    } else {
        Err(Error::SigningCertificateAttribute(
            "does not name the certificate that signed the token",
        ))
    }
}

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

type Alg = &'static dyn SignatureVerificationAlgorithm;

/// The webpki algorithms a SignerInfo's (signature, digest) pair may
/// mean; the certificate's key picks among them.
fn signature_algorithms(
    sig: &ObjectIdentifier,
    digest: &ObjectIdentifier,
) -> Result<&'static [Alg], Error> {
    use webpki::ring as r;
    static RSA256: &[Alg] = &[r::RSA_PKCS1_2048_8192_SHA256];
    static RSA384: &[Alg] = &[r::RSA_PKCS1_2048_8192_SHA384];
    static RSA512: &[Alg] = &[r::RSA_PKCS1_2048_8192_SHA512];
    static PSS256: &[Alg] = &[r::RSA_PSS_2048_8192_SHA256_LEGACY_KEY];
    static PSS384: &[Alg] = &[r::RSA_PSS_2048_8192_SHA384_LEGACY_KEY];
    static PSS512: &[Alg] = &[r::RSA_PSS_2048_8192_SHA512_LEGACY_KEY];
    static EC256: &[Alg] = &[r::ECDSA_P256_SHA256, r::ECDSA_P384_SHA256];
    static EC384: &[Alg] = &[r::ECDSA_P256_SHA384, r::ECDSA_P384_SHA384];
    static ED: &[Alg] = &[r::ED25519];
    let unsupported = || {
        Err(Error::UnsupportedAlgorithm(Unsupported::Signature {
            signature: *sig,
            digest: *digest,
        }))
    };
    match *sig {
        OID_RSA_SHA256 => Ok(RSA256),
        OID_RSA_SHA384 => Ok(RSA384),
        OID_RSA_SHA512 => Ok(RSA512),
        OID_ECDSA_SHA256 => Ok(EC256),
        OID_ECDSA_SHA384 => Ok(EC384),
        OID_ED25519 => Ok(ED),
        OID_RSA => match *digest {
            OID_SHA256 => Ok(RSA256),
            OID_SHA384 => Ok(RSA384),
            OID_SHA512 => Ok(RSA512),
            _ => unsupported(),
        },
        OID_RSA_PSS => match *digest {
            OID_SHA256 => Ok(PSS256),
            OID_SHA384 => Ok(PSS384),
            OID_SHA512 => Ok(PSS512),
            _ => unsupported(),
        },
        OID_EC_PUBLIC_KEY => match *digest {
            OID_SHA256 => Ok(EC256),
            OID_SHA384 => Ok(EC384),
            _ => unsupported(),
        },
        _ => unsupported(),
    }
}

/// Step 6: the TSA certificate chains to a trusted root at genTime and may
/// issue timestamps.
fn check_chain(
    token: &Token,
    signer: &Signer,
    trust: &TsaTrust,
    at: SystemTime,
) -> Result<(), Error> {
    let subject = signer.cert.tbs_certificate().subject().to_string();
    let untrusted = |reason: Untrusted| Error::UntrustedTsa {
        subject: subject.clone(),
        reason,
    };
    let cert_der = CertificateDer::from(signer.der.as_slice());
    let ee = EndEntityCert::try_from(&cert_der).map_err(|e| untrusted(Untrusted::Unparsable(e)))?;
    let mut pool = token_certificates(token)?;
    pool.extend(trust.certificates.iter().cloned());
    let intermediates: Vec<CertificateDer<'_>> = pool
        .iter()
        .filter(|c| c.as_slice() != signer.der.as_slice())
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let time = UnixTime::since_unix_epoch(at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO));
    ee.verify_for_usage(
        CERTIFICATE_SIGNATURE_ALGORITHMS,
        &trust.anchors,
        &intermediates,
        time,
        KeyUsage::required(TIME_STAMPING),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| untrusted(Untrusted::Path(e)))
}
