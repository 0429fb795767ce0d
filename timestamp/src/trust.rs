//! The TSAs a verifier trusts.

use rustls_pki_types::{CertificateDer, TrustAnchor};

use crate::error::{Error, Malformation};

/// TSA roots (trust anchors) and, optionally, further untrusted
/// certificates (TSA leaves and intermediates a token may omit, as a
/// Sigstore trusted root lists them).
#[derive(Debug, Clone)]
pub struct TsaTrust {
    pub(crate) anchors: Vec<TrustAnchor<'static>>,
    pub(crate) roots: Vec<Vec<u8>>,
    pub(crate) certificates: Vec<Vec<u8>>,
}

impl TsaTrust {
    /// Trust anchors from DER root certificates.
    ///
    /// # Errors
    /// [`Error::NoTrustRoots`] for an empty list, [`Error::Malformed`] for
    /// a certificate that is not one.
    pub fn from_der(roots: &[Vec<u8>]) -> Result<Self, Error> {
        if roots.is_empty() {
            return Err(Error::NoTrustRoots);
        }
        let anchors = roots
            .iter()
            .map(|der| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                    .map(|a| a.to_owned())
                    .map_err(|e| Error::Malformed(Malformation::TsaRoot(e)))
            })
            .collect::<Result<_, _>>()?;
        Ok(TsaTrust {
            anchors,
            roots: roots.to_vec(),
            certificates: Vec::new(),
        })
    }

    /// Trust anchors from every `CERTIFICATE` block of a PEM text.
    ///
    /// # Errors
    /// As [`TsaTrust::from_der`], plus [`Error::Malformed`] for bad PEM.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        Self::from_der(&certificates_from_pem(pem)?)
    }

    /// Add untrusted certificates that may complete a TSA's path (its own
    /// certificate, intermediates).
    #[must_use]
    pub fn with_certificates(mut self, certificates: Vec<Vec<u8>>) -> Self {
        self.certificates.extend(certificates);
        self
    }

    /// Add the roots and certificates of `other`.
    pub fn extend(&mut self, other: TsaTrust) {
        self.anchors.extend(other.anchors);
        self.roots.extend(other.roots);
        self.certificates.extend(other.certificates);
    }

    /// The root certificates, DER.
    pub fn roots(&self) -> &[Vec<u8>] {
        &self.roots
    }
}

fn certificates_from_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    use rustls_pki_types::pem::PemObject;
    let mut out = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem) {
        let cert = item.map_err(|e| Error::Malformed(Malformation::Pem(e)))?;
        out.push(cert.as_ref().to_vec());
    }
    if out.is_empty() {
        return Err(Error::Malformed(Malformation::NoCertificate));
    }
    Ok(out)
}
