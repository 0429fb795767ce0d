//! The verification pipeline: what is known about one signature.
//!
//! [`gather`] runs every step of [`crate::verify`] except the model's
//! files, each on its own so that a caller (a trust policy) can see all of
//! them even when one fails:
//!
//! 1. **bundle**: parse the bundle once, strictly ([`ParsedBundle`]),
//!    with its certificates.
//! 2. **evidence**: every [`EvidenceSource`] examines the bundle; the
//!    earliest verified time becomes the time certificate validity is
//!    checked at ([`TrustContext::validity_time`]).
//! 3. **trust**: the [`TrustSource`] says whether the signer is trusted,
//!    at which time the chain validated, whether the path is valid at the
//!    validity time (expiry) and revoked under the given lists.
//! 4. **signature**: the DSSE signature verifies with the signer's own key
//!    (the leaf certificate's, or the key the trust source names for a bare
//!    key bundle), whether or not that key is trusted.
//! 5. **statement**: the verified payload is a well-formed OMS statement.
//! 6. **identity**: which required identities the leaf matches.
//!
//! The result, [`SignatureFacts`], is read-only outside this crate: only
//! the verifier turns it into an [`Authenticated`] manifest, strictly
//! ([`SignatureFacts::into_authenticated`]: every step passed) or for a
//! policy to decide over ([`SignatureFacts::signed`]: the signature
//! verified, trust is what the facts say).

use std::time::SystemTime;

use modelseal_manifest::{
    AnyBundle, Bundle, Digest, Envelope, HashAlgorithm, KeyKind, Manifest, MessageSignature,
    SignatureAlgorithm, VerificationMaterial,
};

use crate::cert::CertInfo;
use crate::crl::CrlCheck;
use crate::error::SignatureError;
use crate::error::{CertificateError, Error, IdentityError};
use crate::evidence::{self, Evidence, EvidenceSource, VerifiedTime};
use crate::identity::{self, Identity, IdentityRequirement};
use crate::report::Status;
use crate::signature::{PssSaltLength, PublicKey, algorithm_for};
use crate::trust::{TrustContext, TrustFacts, TrustSource};
use crate::verify::{Authenticated, Basis, SignedBy, Signer};

/// What was found for one step.
#[derive(Debug)]
pub struct Finding {
    status: Status,
    detail: String,
    input_error: bool,
    error: Option<Error>,
}

impl Finding {
    /// The step held.
    pub fn pass(detail: impl Into<String>) -> Finding {
        Finding::new(Status::Pass, detail.into())
    }

    /// The step failed with `error` (described by its message).
    pub fn fail(error: Error) -> Finding {
        let detail = error.to_string();
        Finding::fail_with(error, detail)
    }

    /// The step failed with `error`, described by `detail`.
    pub fn fail_with(error: Error, detail: impl Into<String>) -> Finding {
        Finding {
            input_error: !error.is_rejection(),
            error: Some(error),
            ..Finding::new(Status::Fail, detail.into())
        }
    }

    /// The step could not run (a prerequisite failed, or nothing to run
    /// it with).
    pub fn not_run(why: impl Into<String>) -> Finding {
        Finding::new(Status::NotRun, why.into())
    }

    /// There was nothing to check.
    pub fn skipped(why: impl Into<String>) -> Finding {
        Finding::new(Status::Skipped, why.into())
    }

    /// Mark a failure as about unreadable or malformed input rather than a
    /// definite "no".
    #[must_use]
    pub fn as_input_error(mut self) -> Finding {
        self.input_error = true;
        self
    }

    fn new(status: Status, detail: String) -> Finding {
        Finding {
            status,
            detail,
            input_error: false,
            error: None,
        }
    }

    /// Pass, fail, not run or skipped.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Whether the step held.
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }

    /// One line: what held, or why not.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The failure is about unreadable or malformed input.
    pub fn is_input_error(&self) -> bool {
        self.input_error
    }

    /// The error behind a failure, when there is one.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// This finding as a step result: `Ok(())` for pass or skipped, else
    /// the error (or one made of the detail).
    pub(crate) fn into_result(self) -> Result<(), Error> {
        match (self.status, self.error) {
            (Status::Pass | Status::Skipped, _) => Ok(()),
            (_, Some(e)) => Err(e),
            (_, None) => Err(Error::NotRun {
                reason: self.detail,
            }),
        }
    }
}

/// What signed a bundle, as the bundle says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaterialKind {
    /// A certificate chain, leaf first.
    Certificates,
    /// A bare public key (only a hint to it).
    PublicKey,
    /// Verification material this verifier does not know: every trust
    /// source refuses it.
    Unsupported,
}

/// A bundle parsed once, with its certificates read: a DSSE envelope (an
/// OMS or other in-toto statement) or a message signature over one file
/// (`cosign sign-blob --bundle`).
#[derive(Debug)]
pub struct ParsedBundle {
    bundle: AnyBundle,
    certificates: Result<Vec<CertInfo>, CertificateError>,
}

impl ParsedBundle {
    /// Parse bundle bytes strictly.
    ///
    /// # Errors
    /// [`Error::Format`] when the bundle is malformed.
    pub fn parse(bytes: &[u8]) -> Result<ParsedBundle, Error> {
        Ok(ParsedBundle::from_any(AnyBundle::from_json(bytes)?))
    }

    /// Read the certificates of an already parsed DSSE bundle.
    pub fn new(bundle: Bundle) -> ParsedBundle {
        ParsedBundle::from_any(AnyBundle::Dsse(bundle))
    }

    /// Read the certificates of an already parsed bundle of any kind.
    pub fn from_any(bundle: AnyBundle) -> ParsedBundle {
        let certificates = match bundle.material() {
            VerificationMaterial::Certificates(ders) => ders
                .iter()
                .map(|d| CertInfo::from_der(d))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|c| {
                    if c.is_empty() {
                        Err(CertificateError::NoCertificate)
                    } else {
                        Ok(c)
                    }
                }),
            VerificationMaterial::PublicKey { .. } => Ok(Vec::new()),
            _ => Err(CertificateError::NoCertificate),
        };
        ParsedBundle {
            bundle,
            certificates,
        }
    }

    /// The bundle.
    pub fn bundle(&self) -> &AnyBundle {
        &self.bundle
    }

    /// The DSSE envelope, for a DSSE bundle.
    pub fn envelope(&self) -> Option<&Envelope> {
        match &self.bundle {
            AnyBundle::Dsse(b) => Some(&b.envelope),
            _ => None,
        }
    }

    /// The message signature, for a message-signature bundle.
    pub fn message(&self) -> Option<&MessageSignature> {
        match &self.bundle {
            AnyBundle::Message(m) => Some(&m.message),
            _ => None,
        }
    }

    /// The signature bytes (what an RFC 3161 timestamp's imprint covers).
    pub fn signature_bytes(&self) -> &[u8] {
        match &self.bundle {
            AnyBundle::Message(m) => &m.message.signature,
            AnyBundle::Dsse(b) => &b.envelope.signature,
            _ => &[],
        }
    }

    /// Certificate chain or bare key.
    pub fn material(&self) -> MaterialKind {
        match self.bundle.material() {
            VerificationMaterial::Certificates(_) => MaterialKind::Certificates,
            VerificationMaterial::PublicKey { .. } => MaterialKind::PublicKey,
            _ => MaterialKind::Unsupported,
        }
    }

    /// The chain's certificates as DER, leaf first (empty for a key
    /// bundle).
    pub fn chain_der(&self) -> &[Vec<u8>] {
        match self.bundle.material() {
            VerificationMaterial::Certificates(ders) => ders,
            _ => &[],
        }
    }

    /// The chain's certificates, read (empty for a key bundle).
    ///
    /// # Errors
    /// The first certificate that does not parse, or
    /// [`CertificateError::NoCertificate`] for an empty chain.
    pub fn certificates(&self) -> Result<&[CertInfo], &CertificateError> {
        self.certificates.as_deref()
    }

    /// The signing certificate, if the chain parsed.
    pub fn leaf(&self) -> Option<&CertInfo> {
        self.certificates.as_ref().ok().and_then(|c| c.first())
    }
}

/// What to gather facts against. Build with [`Inputs::new`].
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Inputs<'a> {
    /// Who is trusted; `None` trusts nobody (trust is `not run`).
    pub trust: Option<&'a dyn TrustSource>,
    /// Sources of timestamps and log entries.
    pub evidence: &'a [&'a dyn EvidenceSource],
    /// Which signers are accepted.
    pub identity: IdentityRequirement<'a>,
    /// Revocation lists to check the path against.
    pub crls: Option<CrlCheck<'a>>,
    /// The subject names the signed statement may carry (any of them);
    /// empty allows any. Checked with the statement (step 5).
    pub model_names: &'a [String],
    /// The name of the file verified, when the model is one file: picks
    /// its subject in an in-toto statement about several artifacts.
    pub artifact: Option<&'a str>,
    /// The verification time (certificate validity without evidence, CRL
    /// freshness). The caller reads the clock, never the library.
    pub time: SystemTime,
}

impl<'a> Inputs<'a> {
    /// Facts against `trust` for the signers `identity` accepts, at
    /// `time`; no evidence or CRLs.
    pub fn new(
        trust: Option<&'a dyn TrustSource>,
        identity: IdentityRequirement<'a>,
        time: SystemTime,
    ) -> Inputs<'a> {
        Inputs {
            trust,
            evidence: &[],
            identity,
            crls: None,
            model_names: &[],
            artifact: None,
            time,
        }
    }
}

/// Everything the verifier found about one signature (see the module doc).
#[derive(Debug)]
pub struct SignatureFacts {
    pub(crate) bundle: Finding,
    pub(crate) parsed: Option<ParsedBundle>,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) validity_time: VerifiedTime,
    pub(crate) trust: TrustFacts,
    pub(crate) signature: Finding,
    pub(crate) statement: Finding,
    pub(crate) identity: Finding,
    pub(crate) algorithm: Option<SignatureAlgorithm>,
    pub(crate) key_kind: Option<KeyKind>,
    pub(crate) matched: Vec<usize>,
    pub(crate) matched_identity: Option<Identity>,
    pub(crate) manifest: Option<Manifest>,
}

/// Gather the facts about the bundle `bytes` (see the module doc).
pub fn gather(bytes: &[u8], inputs: &Inputs<'_>) -> SignatureFacts {
    match ParsedBundle::parse(bytes) {
        Ok(parsed) => gather_parsed(parsed, inputs),
        Err(e) => unparsed(Finding::fail(e), inputs.time),
    }
}

/// The facts about a bundle that could not even be read.
pub fn unparsed(bundle: Finding, time: SystemTime) -> SignatureFacts {
    let why = "the bundle could not be parsed";
    SignatureFacts {
        bundle,
        parsed: None,
        evidence: Vec::new(),
        validity_time: VerifiedTime::verification(time),
        trust: TrustFacts::new(Finding::not_run(why)),
        signature: Finding::not_run(why),
        statement: Finding::not_run(why),
        identity: Finding::not_run(why),
        algorithm: None,
        key_kind: None,
        matched: Vec::new(),
        matched_identity: None,
        manifest: None,
    }
}

/// [`gather`] for a bundle already parsed.
pub fn gather_parsed(parsed: ParsedBundle, inputs: &Inputs<'_>) -> SignatureFacts {
    // 1. bundle
    let carried = parsed.bundle().evidence();
    let bundle = Finding::pass(format!(
        "{}, {} signature{}",
        match parsed.bundle() {
            AnyBundle::Message(_) => "Sigstore message-signature bundle",
            _ => "Sigstore DSSE bundle",
        },
        match parsed.material() {
            MaterialKind::PublicKey => "key",
            MaterialKind::Certificates => "certificate",
            MaterialKind::Unsupported => "unsupported",
        },
        if !carried.is_empty() && inputs.evidence.is_empty() {
            " (transparency-log entries and timestamps present but not verified)"
        } else {
            ""
        }
    ));

    // 2. evidence
    let evidence: Vec<Evidence> = inputs
        .evidence
        .iter()
        .flat_map(|s| s.examine(&parsed, inputs.time))
        .collect();
    let validity_time = evidence::earliest(&evidence)
        .cloned()
        .unwrap_or_else(|| VerifiedTime::verification(inputs.time));

    // 3. trust
    let ctx = TrustContext {
        now: inputs.time,
        signed_at: &validity_time,
        crls: inputs.crls,
        evidence: &evidence,
        identities: inputs.identity.identities(),
    };
    let trust = match inputs.trust {
        Some(source) => source.establish(&parsed, &ctx),
        None => TrustFacts::untrusted(&parsed, &ctx, "nothing is trusted"),
    };

    // 4. signature, with the signer's own key
    // Err: the signature step's finding without a key.
    let key: Result<PublicKey, Finding> = match (parsed.material(), parsed.leaf(), &trust.key) {
        (MaterialKind::Certificates, Some(leaf), _) => {
            PublicKey::from_spki_der(&leaf.spki_der).map_err(|e| Finding::fail(e.into()))
        }
        (MaterialKind::Certificates, None, _) => {
            Err(Finding::not_run("no usable signing certificate"))
        }
        (MaterialKind::PublicKey, _, Some(k)) => Ok(k.clone()),
        (MaterialKind::PublicKey, _, None) => Err(Finding::not_run(
            "no public key to verify a bare-key bundle with",
        )),
        (MaterialKind::Unsupported, _, _) => Err(Finding::not_run(
            "the bundle's verification material is not supported",
        )),
    };
    let (signature, algorithm, key) = match key {
        Ok(k) => {
            let (finding, alg) = verify_signature(&parsed, &k);
            (finding, alg, Some(k))
        }
        Err(finding) => (finding, None, None),
    };
    let key_kind = key.as_ref().map(PublicKey::key_kind);

    // 5. statement, only from a verified signature
    let (statement, manifest) = if signature.passed() {
        match signed_manifest(&parsed, inputs.artifact) {
            Ok((_, m))
                if !inputs.model_names.is_empty()
                    && !inputs.model_names.iter().any(|n| n == m.model_name()) =>
            {
                let e = Error::ModelName {
                    found: m.model_name().to_owned(),
                    expected: inputs.model_names.to_vec(),
                };
                (Finding::fail(e), None)
            }
            Ok((detail, m)) => (Finding::pass(detail), Some(m)),
            // A signed statement about other files: a definite "no".
            Err(Error::Format(e @ modelseal_manifest::FormatError::NotASubject { .. })) => {
                let reason = e.to_string();
                (
                    Finding::fail_with(
                        Error::NotRun {
                            reason: reason.clone(),
                        },
                        reason,
                    ),
                    None,
                )
            }
            Err(e) => (Finding::fail(e), None),
        }
    } else {
        (Finding::not_run("the signature did not verify"), None)
    };

    // 6. identity
    let (identity, matched, matched_identity) = identify(parsed.leaf(), inputs.identity);

    SignatureFacts {
        bundle,
        parsed: Some(parsed),
        evidence,
        validity_time,
        trust,
        signature,
        statement,
        identity,
        algorithm,
        key_kind,
        matched,
        matched_identity,
        manifest,
    }
}

/// Step 4 with `key`: the DSSE signature over the envelope's PAE, or a
/// message signature over the artifact's SHA-256. Returns the finding and
/// the algorithm, when the key and bundle determine one.
fn verify_signature(
    parsed: &ParsedBundle,
    key: &PublicKey,
) -> (Finding, Option<SignatureAlgorithm>) {
    if let Some(env) = parsed.envelope() {
        let alg = algorithm_for(key.key_kind(), &env.keyid);
        let finding = match alg
            .clone()
            .and_then(|alg| key.verify(alg, &env.pae(), &env.signature).map(|()| alg))
        {
            Ok(alg) => Finding::pass(format!("{alg} signature over the DSSE envelope verifies")),
            Err(e) => Finding::fail(e.into()),
        };
        return (finding, alg.ok());
    }
    let Some(m) = parsed.message() else {
        return (Finding::not_run("the bundle holds no signature"), None);
    };
    let alg = message_algorithm(key.key_kind());
    let finding = match alg.clone().and_then(|alg| {
        key.verify_prehashed(alg, &m.digest, &m.signature, PssSaltLength::HashLength)
            .map(|()| alg)
    }) {
        Ok(alg) => Finding::pass(format!(
            "{alg} message signature over the artifact's SHA-256 verifies"
        )),
        Err(e) => Finding::fail(e.into()),
    };
    (finding, alg.ok())
}

/// The algorithm of a message signature over a SHA-256 digest
/// (`cosign sign-blob`), from the key: ECDSA P-256 or RSA PKCS#1 v1.5.
fn message_algorithm(kind: KeyKind) -> Result<SignatureAlgorithm, SignatureError> {
    match kind {
        KeyKind::EcP256 => Ok(SignatureAlgorithm::EcdsaP256Sha256),
        KeyKind::Rsa { .. } => Ok(SignatureAlgorithm::RsaPkcs1Sha256),
        other => Err(SignatureError::UnsupportedKey {
            algorithm: format!("{other} for a message signature over a SHA-256 digest"),
        }),
    }
}

/// Step 5 from a verified signature: the manifest it signs, with a
/// description. An OMS statement is the model's manifest; another in-toto
/// statement (one subject, or the one named `artifact`) or a message
/// signature is the manifest of a one-file model whose file must have the
/// signed SHA-256.
fn signed_manifest(
    parsed: &ParsedBundle,
    artifact: Option<&str>,
) -> Result<(String, Manifest), Error> {
    if let Some(env) = parsed.envelope() {
        if modelseal_manifest::is_oms(&env.payload) {
            let m = modelseal_manifest::from_payload(&env.payload)?;
            let ser = m.serialization();
            let detail = format!(
                "{} resources, {} / {}",
                m.len(),
                crate::verify::method_name(ser.method),
                ser.hash
            );
            return Ok((detail, m));
        }
        if modelseal_manifest::predicate_type(&env.payload).as_deref()
            == Some(modelseal_manifest::DIGESTS_V01_PREDICATE_TYPE)
        {
            let m = modelseal_manifest::from_digests_v01_payload(&env.payload)?;
            let detail = format!(
                "model_signing 0.2 statement (Digests/v0.1): {} files / sha256",
                m.len()
            );
            return Ok((detail, m));
        }
        let (predicate, m) = modelseal_manifest::artifact_named(&env.payload, artifact)?;
        let digest = m.resources().next().map(|(_, d)| d.to_hex());
        let detail = format!(
            "in-toto statement ({predicate}) about one file, sha256:{}",
            digest.unwrap_or_default()
        );
        return Ok((detail, m));
    }
    let Some(msg) = parsed.message() else {
        return Err(Error::NotRun {
            reason: "the bundle holds no signed content".into(),
        });
    };
    let digest =
        Digest::from_hex(HashAlgorithm::Sha256, &crate::cert::hex(&msg.digest)).map_err(|e| {
            modelseal_manifest::FormatError::unexpected(
                "messageSignature.messageDigest.digest",
                "a SHA-256 digest",
                e.to_string(),
            )
        })?;
    let detail = format!(
        "message signature over one file, sha256:{}",
        digest.to_hex()
    );
    Ok((detail, modelseal_manifest::one_file(String::new(), digest)))
}

/// Step 6: skipped when any signer is accepted, refused for a bare key, else
/// the leaf must match one of the identities.
pub(crate) fn identify(
    leaf: Option<&CertInfo>,
    requirement: IdentityRequirement<'_>,
) -> (Finding, Vec<usize>, Option<Identity>) {
    let identities = match requirement {
        IdentityRequirement::Any => {
            return (
                Finding::skipped("any signer the trust source accepts (no identity required)"),
                Vec::new(),
                None,
            );
        }
        IdentityRequirement::OneOf(ids) => ids,
    };
    match leaf {
        None => (
            Finding::fail(Error::Identity(IdentityError::NoCertificate)),
            Vec::new(),
            None,
        ),
        Some(leaf) => {
            let matched: Vec<usize> = identities
                .iter()
                .enumerate()
                .filter(|(_, id)| id.matches(leaf))
                .map(|(i, _)| i)
                .collect();
            match identity::check(leaf, identities) {
                Ok(id) => (
                    Finding::pass(format!("signer matches {id}")),
                    matched,
                    Some(id),
                ),
                Err(e) => (Finding::fail(e.into()), matched, None),
            }
        }
    }
}

impl SignatureFacts {
    /// Step 1: the bundle parsed.
    pub fn bundle(&self) -> &Finding {
        &self.bundle
    }

    /// The parsed bundle, when it parsed.
    pub fn parsed(&self) -> Option<&ParsedBundle> {
        self.parsed.as_ref()
    }

    /// Step 2: every item of evidence examined.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }

    /// The time certificate validity was checked at, and what vouches for
    /// it.
    pub fn validity_time(&self) -> &VerifiedTime {
        &self.validity_time
    }

    /// Step 3: trust, chain, expiry and revocation as the trust source
    /// found them.
    pub fn trust(&self) -> &TrustFacts {
        &self.trust
    }

    /// Step 4: the signature with the signer's own key.
    pub fn signature(&self) -> &Finding {
        &self.signature
    }

    /// Step 5: the signed statement.
    pub fn statement(&self) -> &Finding {
        &self.statement
    }

    /// Step 6: the required identities.
    pub fn identity(&self) -> &Finding {
        &self.identity
    }

    /// The signature algorithm, when the key and bundle determine one.
    pub fn algorithm(&self) -> Option<SignatureAlgorithm> {
        self.algorithm
    }

    /// The signing key's kind, when the key is usable.
    pub fn key_kind(&self) -> Option<KeyKind> {
        self.key_kind
    }

    /// Indices of the given identities the leaf matches.
    pub fn matched(&self) -> &[usize] {
        &self.matched
    }

    /// The signing certificate, when the bundle carries one that parsed.
    pub fn leaf(&self) -> Option<&CertInfo> {
        self.parsed.as_ref().and_then(ParsedBundle::leaf)
    }

    /// The manifest, when the signature verified and the statement parsed.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// Who signed, when the signature verified with the signer's own key
    /// (step 4), whether or not the signer is trusted or the rest passed:
    /// the trust source's signer when trusted, else the bundle's leaf
    /// certificate as found (its `root_subject` empty). `None` when the
    /// signature did not verify: then nobody is known to have signed.
    pub fn verified_signer(&self) -> Option<Signer> {
        if !self.signature.passed() {
            return None;
        }
        self.signer()
    }

    /// Who signed: the trust source's signer when trusted, else the
    /// bundle's leaf certificate (or the key) as found.
    fn signer(&self) -> Option<Signer> {
        if let Some(s) = &self.trust.signer {
            return Some(s.clone());
        }
        let certs = self.parsed.as_ref()?.certificates().ok()?;
        let (leaf, rest) = certs.split_first()?;
        Some(Signer::Certificate {
            leaf: Box::new(leaf.clone()),
            intermediates: rest.to_vec(),
            root_subject: String::new(),
        })
    }

    /// The manifest signed by this signature, for a trust policy to decide
    /// over: the signature verified with the signer's own key and the
    /// statement parsed; whether the signer is trusted is what
    /// [`SignatureFacts::trust`] says ([`Authenticated::is_trusted`] is
    /// true only when every step passed).
    pub fn signed(&self) -> Option<Authenticated> {
        let manifest = self.manifest.clone()?;
        let algorithm = self.algorithm?;
        let signer = self.signer()?;
        let trusted = self.trust.trust.passed()
            && matches!(self.identity.status, Status::Pass | Status::Skipped);
        Some(Authenticated {
            manifest,
            signed_by: SignedBy {
                signer,
                algorithm,
                identity: self.matched_identity.clone(),
            },
            basis: if trusted {
                Basis::Verifier
            } else {
                Basis::SignatureOnly
            },
            signed_at: matches!(
                self.validity_time.source,
                crate::evidence::TimeSource::Evidence { .. }
            )
            .then(|| self.validity_time.clone()),
        })
    }
}
