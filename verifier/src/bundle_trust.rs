//! Who is trusted for one bundle, and what its evidence is checked against:
//! the one composition every caller (the CLI's `verify` and `gate`, the
//! Python package) uses, so a keyless, certificate or key verification means
//! the same thing everywhere.

use crate::{Identity, IdentityRequirement, Sigstore, Trust, TrustSource};

/// The trust source, the identities required and the Sigstore root that
/// checks a bundle's transparency-log entries (and timestamps, when keyless
/// or when the caller named the root).
#[derive(Debug)]
pub struct BundleTrust {
    /// Roots or a key; `None` for keyless (the Sigstore root trusts).
    plain: Option<Trust>,
    /// `None` accepts any signer `plain` trusts: the caller's explicit
    /// choice, or a key's holder.
    identities: Option<Vec<Identity>>,
    sigstore: Sigstore,
}

impl BundleTrust {
    /// Sigstore keyless: a Fulcio certificate of `sigstore`'s CAs naming
    /// `identity` (issuer and SAN), with its log entries, SCTs and
    /// timestamps checked against the same root.
    pub fn keyless(sigstore: Sigstore, identity: Identity) -> Self {
        Self {
            plain: None,
            identities: Some(vec![identity]),
            sigstore,
        }
    }

    /// Roots or a public key, with the identities required (`None`: any
    /// signer `trust` accepts, the caller's explicit choice). Every
    /// transparency-log entry the bundle carries is checked against
    /// `sigstore` (for a key bundle, the entry must record that key); its
    /// RFC 3161 timestamps only when `root_named`, i.e. the caller chose
    /// that root: the built-in public-good TSAs never vouch for tokens of a
    /// private TSA (`sign --tsa`), which are checked against TSA roots the
    /// caller gives instead.
    pub fn plain(
        trust: Trust,
        identities: Option<Vec<Identity>>,
        sigstore: Sigstore,
        root_named: bool,
    ) -> Self {
        let mut sigstore = if root_named {
            sigstore
        } else {
            sigstore.without_timestamps()
        };
        if let Trust::PublicKey(key) = &trust {
            sigstore = sigstore.with_key(key.clone());
        }
        Self {
            plain: Some(trust),
            identities,
            sigstore,
        }
    }

    /// The trust source for [`crate::Options::new`].
    pub fn source(&self) -> &dyn TrustSource {
        match &self.plain {
            Some(trust) => trust,
            None => &self.sigstore,
        }
    }

    /// The identity requirement for [`crate::Options::new`].
    pub fn requirement(&self) -> IdentityRequirement<'_> {
        IdentityRequirement::from_choice(self.identities.as_deref())
    }

    /// The Sigstore root, as the evidence source for log entries (and
    /// timestamps, see [`BundleTrust::plain`]).
    pub fn sigstore(&self) -> &Sigstore {
        &self.sigstore
    }
}
