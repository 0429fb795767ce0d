//! Flags shared by several commands, and the parsers that turn them into
//! library inputs. A command flattens the groups it takes; each flag has
//! one name and one meaning in every command (older names stay as hidden
//! aliases).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Args, ValueEnum};
use modelseal_manifest::{DetachedPadding, DetachedScheme, MessageHash};
use modelseal_signer::{RsaHash, RsaPadding, RsaScheme};
use modelseal_signer::{SigningKey, load_key_file};
use modelseal_verifier::{
    BundleTrust, EvidenceSource, Identity, Matcher, PublicKey, Sigstore, Trust, TrustAnchors,
    TsaTimestamps,
};
use zeroize::Zeroizing;

use crate::files::{DEFAULT_SIGNATURE, read_small};
use crate::output::{CliError, Doc};

/// `--json`, `--quiet`: how a command reports.
#[derive(Debug, Clone, Args)]
pub(crate) struct OutputArgs {
    /// Print one JSON document on stdout (the contract in docs/json.md).
    #[arg(long)]
    pub(crate) json: bool,
    /// No progress bar and no success output.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
}

/// `--threads`: hashing parallelism.
#[derive(Debug, Clone, Args)]
pub(crate) struct HashingArgs {
    /// Hashing threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) threads: Option<u16>,
}

impl HashingArgs {
    /// Hashing threads, if set.
    pub(crate) fn threads(&self) -> Option<usize> {
        self.threads.map(usize::from)
    }
}

/// `--json`, `--quiet`, `--threads`, `--audit-*`: how a command that reads
/// a whole model (`sign`, `verify`, `convert`) reports, hashes and records
/// its decision.
#[derive(Debug, Clone, Args)]
pub(crate) struct CommonArgs {
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) hashing: HashingArgs,
    #[command(flatten)]
    pub(crate) audit: AuditArgs,
}

/// `--key`, `--passphrase-env`, `--cert`, `--chain`, `--signature`: what a
/// bundle is signed with and where it is written (`sign`, `convert`).
#[derive(Debug, Clone, Args)]
pub(crate) struct SigningArgs {
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    #[command(flatten)]
    pub(crate) certs: CertArgs,
    /// Where to write the bundle.
    #[arg(long, short = 's', value_name = "SIG", default_value = "model.sig")]
    pub(crate) signature: PathBuf,
}

/// `MODEL`, `--signature`: the model `verify` and `gate` check, and its
/// bundles.
#[derive(Debug, Clone, Args)]
pub(crate) struct ModelArgs {
    /// The model directory (or single file) to verify.
    #[arg(value_name = "MODEL")]
    pub(crate) model: PathBuf,
    /// The bundle to check against [default: model.sig]; repeatable with
    /// --policy (k-of-n).
    #[arg(long = "signature", short = 's', value_name = "SIG")]
    pub(crate) signatures: Vec<PathBuf>,
}

impl ModelArgs {
    /// The bundles given, or `model.sig`.
    pub(crate) fn signatures(&self) -> Vec<PathBuf> {
        if self.signatures.is_empty() {
            vec![PathBuf::from(DEFAULT_SIGNATURE)]
        } else {
            self.signatures.clone()
        }
    }

    /// The one bundle of a verification without a policy.
    pub(crate) fn signature(&self) -> Result<PathBuf, CliError> {
        let [signature] = self.signatures().try_into().map_err(|_| {
            CliError::usage(
                "several --signature bundles need --policy (which says how many distinct signers are required)",
            )
        })?;
        Ok(signature)
    }
}

/// Who must have signed: roots or a public key, identities, and the time
/// at which certificates must be valid.
#[derive(Debug, Clone, Args)]
pub(crate) struct TrustArgs {
    /// PEM file of trusted root certificates (certificate mode); repeatable.
    #[arg(
        long = "trust-root",
        value_name = "ROOT.pem",
        conflicts_with = "public_key"
    )]
    pub(crate) trust_roots: Vec<PathBuf>,
    /// PEM public key the signature must be made with (key mode).
    #[arg(long = "public-key", value_name = "PUB.pem")]
    pub(crate) public_key: Option<PathBuf>,
    /// Required signer identity: a SAN (`email:`, `uri:`, `dns:`, `ip:` or a
    /// bare value) or a subject DN (`CN=...,O=...`); repeatable, any matches.
    /// Required with --trust-root; '*' accepts any signer the roots certify
    /// (with a warning).
    #[arg(long, value_name = "ID")]
    pub(crate) identity: Vec<String>,
    /// Check certificate validity at this time (RFC 3339, e.g.
    /// 2026-12-01T00:00:00Z) instead of now. Keyless bundles are checked at
    /// their logged or timestamped time instead.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) at: Option<String>,
    /// Sigstore keyless: the signer's identity, the Fulcio certificate's
    /// SAN (email or URI), exactly; needs --certificate-oidc-issuer[-regexp].
    #[arg(long = "certificate-identity", value_name = "ID", conflicts_with_all = ["public_key", "trust_roots", "identity"])]
    pub(crate) certificate_identity: Option<String>,
    /// Sigstore keyless: a regular expression the whole SAN must match.
    #[arg(long = "certificate-identity-regexp", value_name = "REGEX", conflicts_with_all = ["certificate_identity", "public_key", "trust_roots", "identity"])]
    pub(crate) certificate_identity_regexp: Option<String>,
    /// Sigstore keyless: the OIDC issuer that authenticated the signer (the
    /// Fulcio certificate's issuer extension), exactly.
    #[arg(long = "certificate-oidc-issuer", value_name = "URL", conflicts_with_all = ["public_key", "trust_roots", "identity"])]
    pub(crate) certificate_oidc_issuer: Option<String>,
    /// Sigstore keyless: a regular expression the whole OIDC issuer must
    /// match.
    #[arg(long = "certificate-oidc-issuer-regexp", value_name = "REGEX", conflicts_with_all = ["certificate_oidc_issuer", "public_key", "trust_roots", "identity"])]
    pub(crate) certificate_oidc_issuer_regexp: Option<String>,
    /// Sigstore trusted_root.json (Fulcio CAs, Rekor and CT logs, TSAs) for
    /// keyless bundles, and for the transparency-log entries and timestamps
    /// of key and certificate bundles [default: the Sigstore public-good
    /// root built in].
    #[arg(long = "trusted-root", value_name = "TRUSTED_ROOT.json")]
    pub(crate) trusted_root: Option<PathBuf>,
}

/// The evidence sources of one verification: the Sigstore root of a
/// [`BundleTrust`] (its timestamp checks left to `tsa` when TSA roots were
/// given), then `tsa`.
pub(crate) struct Evidence {
    sigstore: Sigstore,
    tsa: Option<TsaTimestamps>,
}

impl Evidence {
    /// The evidence for `trust`, with `tsa` when TSA roots were given.
    pub(crate) fn new(trust: &BundleTrust, tsa: Option<TsaTimestamps>) -> Self {
        let sigstore = if tsa.is_some() {
            trust.sigstore().clone().without_timestamps()
        } else {
            trust.sigstore().clone()
        };
        Self { sigstore, tsa }
    }

    /// As the verifier takes them.
    pub(crate) fn sources(&self) -> Vec<&dyn EvidenceSource> {
        let mut v: Vec<&dyn EvidenceSource> = vec![&self.sigstore];
        if let Some(t) = &self.tsa {
            v.push(t);
        }
        v
    }
}

impl TrustArgs {
    /// Whether any trust flag was given.
    pub(crate) fn any(&self) -> bool {
        self.public_key.is_some()
            || !self.trust_roots.is_empty()
            || !self.identity.is_empty()
            || self.at.is_some()
            || self.keyless()
            || self.trusted_root.is_some()
    }

    /// Whether a keyless (Sigstore) identity flag was given.
    pub(crate) fn keyless(&self) -> bool {
        self.certificate_identity.is_some()
            || self.certificate_identity_regexp.is_some()
            || self.certificate_oidc_issuer.is_some()
            || self.certificate_oidc_issuer_regexp.is_some()
    }

    /// `--trusted-root`, or the built-in public-good root.
    fn sigstore(&self) -> Result<Sigstore, CliError> {
        let invalid = |e: modelseal_verifier::Error, what: String| {
            CliError::error("invalid_trusted_root", format!("{what}: {e}"))
        };
        match &self.trusted_root {
            Some(path) => {
                let bytes = read_small("trusted root", path)?;
                Sigstore::from_json(&bytes, path.display().to_string())
                    .map_err(|e| invalid(e, format!("--trusted-root {}", path.display())))
            }
            None => Sigstore::public_good()
                .map_err(|e| invalid(e, "the built-in Sigstore trusted root".into())),
        }
    }

    /// The keyless identity the four `--certificate-*` flags give.
    fn keyless_identity(&self) -> Result<Identity, CliError> {
        let matcher = |exact: &Option<String>, regexp: &Option<String>, flag: &str| match (
            exact, regexp,
        ) {
            (Some(s), None) => Ok(Matcher::Exact(s.clone())),
            (None, Some(r)) => {
                Matcher::regex(r).map_err(|e| CliError::usage(format!("--{flag}-regexp: {e}")))
            }
            _ => Err(CliError::usage(format!(
                "keyless verification needs --{flag} (or --{flag}-regexp): give both --certificate-identity and --certificate-oidc-issuer"
            ))),
        };
        Ok(Identity::keyless(
            matcher(
                &self.certificate_oidc_issuer,
                &self.certificate_oidc_issuer_regexp,
                "certificate-oidc-issuer",
            )?,
            matcher(
                &self.certificate_identity,
                &self.certificate_identity_regexp,
                "certificate-identity",
            )?,
        ))
    }

    /// Trust for a bundle: keyless (`--certificate-*`, against
    /// `--trusted-root` or the built-in root), or `--public-key` /
    /// `--trust-root` with their identities. Transparency-log entries are
    /// always checked against the Sigstore root; timestamps too when
    /// keyless or with `--trusted-root` (else only with TSA roots).
    pub(crate) fn bundle_trust(&self, doc: &mut Doc) -> Result<BundleTrust, CliError> {
        if self.keyless() {
            let identity = self.keyless_identity()?;
            return Ok(BundleTrust::keyless(self.sigstore()?, identity));
        }
        let trust = self.trust()?;
        let identities = self.identities(doc)?;
        Ok(BundleTrust::plain(
            trust,
            identities,
            self.sigstore()?,
            self.trusted_root.is_some(),
        ))
    }

    /// `--at`, or now.
    pub(crate) fn time(&self) -> Result<SystemTime, CliError> {
        parse_time(self.at.as_deref())
    }

    /// The identities the signer must match; `None` accepts any signer
    /// (`modelseal_verifier::IdentityRequirement::from_choice`).
    /// Certificate mode (`--trust-root`) needs an explicit choice: one or
    /// more `--identity`, or `--identity '*'` for any signer the roots
    /// certify, which `doc` then carries as a warning.
    /// Key mode without `--identity` accepts the key's holder.
    pub(crate) fn identities(&self, doc: &mut Doc) -> Result<Option<Vec<Identity>>, CliError> {
        let any = self.identity.iter().any(|i| i == ANY_IDENTITY);
        let certificate_mode = !self.trust_roots.is_empty();
        match (any, self.identity.len(), certificate_mode) {
            (true, 1, true) => {
                doc.warn(
                    "--identity '*': any signer these trust roots certify is accepted; name the expected signer with --identity",
                );
                Ok(None)
            }
            (true, 1, false) => Err(CliError::usage(
                "--identity '*' accepts any signer of the --trust-root roots; it means nothing without them",
            )),
            (true, _, _) => Err(CliError::usage(
                "--identity '*' (any signer) cannot be combined with other --identity values",
            )),
            (false, 0, true) => Err(CliError::usage(
                "certificate mode needs to know who must have signed: give --identity ID (a SAN such as email:release@example.com, or a subject DN; repeatable), or --identity '*' to accept any signer these roots certify",
            )),
            (false, 0, false) => Ok(None),
            _ => parse_identities(&self.identity).map(Some),
        }
    }

    /// The trust `--public-key` or `--trust-root` (exactly one kind) give.
    pub(crate) fn trust(&self) -> Result<Trust, CliError> {
        match (&self.public_key, self.trust_roots.as_slice()) {
            (Some(path), []) => Ok(Trust::PublicKey(load_public_key(path)?)),
            (None, [_, ..]) => Ok(Trust::Roots(load_roots(&self.trust_roots)?)),
            _ => Err(CliError::usage(
                "give --trust-root ROOT.pem (certificate mode), --public-key PUB.pem (key mode), or --certificate-identity ID --certificate-oidc-issuer URL (Sigstore keyless)",
            )),
        }
    }
}

/// The `--identity` value that accepts any signer the roots certify.
pub(crate) const ANY_IDENTITY: &str = "*";

/// Parse `--at`.
pub(crate) fn parse_time(at: Option<&str>) -> Result<SystemTime, CliError> {
    let Some(s) = at else {
        return Ok(SystemTime::now());
    };
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            CliError::usage(format!(
                "--at {s:?} is not an RFC 3339 time: give a date, a time and a zone, e.g. 2026-12-01T00:00:00Z"
            ))
        })?;
    Ok(SystemTime::from(t))
}

/// Parse `--identity` values.
pub(crate) fn parse_identities(ids: &[String]) -> Result<Vec<Identity>, CliError> {
    ids.iter()
        .map(|s| Identity::parse(s).map_err(|e| CliError::usage(format!("--identity {s:?}: {e}"))))
        .collect()
}

/// A PEM public key file.
pub(crate) fn load_public_key(path: &Path) -> Result<PublicKey, CliError> {
    let pem = read_small("public key", path)?;
    PublicKey::from_pem(&pem).map_err(|e| {
        CliError::error(
            "invalid_configuration",
            format!("public key {}: {e}", path.display()),
        )
    })
}

/// PEM files of trusted roots, merged.
pub(crate) fn load_roots(paths: &[PathBuf]) -> Result<TrustAnchors, CliError> {
    let load = |p: &PathBuf| {
        TrustAnchors::from_pem(&read_small("trust root", p)?).map_err(|e| {
            CliError::error(
                "invalid_configuration",
                format!("trust root {}: {e}", p.display()),
            )
        })
    };
    let Some((first, rest)) = paths.split_first() else {
        return Err(CliError::usage("no --trust-root given"));
    };
    let mut anchors = load(first)?;
    for p in rest {
        anchors.extend(load(p)?);
    }
    Ok(anchors)
}

/// Who must have made a raw signature: a public key, or roots plus the
/// signer's certificate chain.
pub(crate) struct DetachedTrust {
    pub(crate) trust: Trust,
    pub(crate) certificates: Vec<Vec<u8>>,
}

/// Load `--public-key` or `--trust-root` + `--raw-cert` for a raw signature.
pub(crate) fn load_detached_trust(
    trust: &TrustArgs,
    raw_cert: Option<&Path>,
) -> Result<DetachedTrust, CliError> {
    match (&trust.public_key, trust.trust_roots.as_slice(), raw_cert) {
        (Some(path), [], None) => Ok(DetachedTrust {
            trust: Trust::PublicKey(load_public_key(path)?),
            certificates: Vec::new(),
        }),
        (None, [_, ..], Some(leaf)) => Ok(DetachedTrust {
            trust: Trust::Roots(load_roots(&trust.trust_roots)?),
            certificates: read_certificates(leaf)?,
        }),
        (Some(_), _, Some(_)) => Err(CliError::usage(
            "--raw-cert goes with --trust-root; with --public-key no certificate is needed",
        )),
        (None, [_, ..], None) => Err(CliError::usage(
            "a raw signature carries no certificate: give the signer's certificate with --raw-cert LEAF.pem",
        )),
        _ => Err(CliError::usage(
            "a raw signature needs --public-key PUB.pem, or --raw-cert LEAF.pem with --trust-root ROOT.pem",
        )),
    }
}

/// Message digest choices of a signature.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum DigestArg {
    /// SHA-256 (default).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// RSA padding choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PaddingArg {
    /// RSASSA-PSS (default for bundles).
    Pss,
    /// RSASSA-PKCS1-v1_5 (default for raw signatures, as `openssl dgst -sign`).
    Pkcs1v15,
}

/// `--digest`, `--rsa-padding`: the signature scheme where the key leaves
/// a choice.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct SchemeArgs {
    /// Message digest of the signature. RSA: default sha256. ECDSA: the
    /// curve's (P-256 sha256, P-384 sha384). Ed25519: none.
    #[arg(long, value_enum, value_name = "HASH", alias = "rsa-hash")]
    pub(crate) digest: Option<DigestArg>,
    /// RSA padding: pss (default for bundles) or pkcs1v15 (default for raw
    /// signatures, as `openssl dgst -sign`).
    #[arg(long, value_enum, value_name = "PADDING")]
    pub(crate) rsa_padding: Option<PaddingArg>,
}

impl SchemeArgs {
    /// Whether either option was given.
    pub(crate) fn any(&self) -> bool {
        self.digest.is_some() || self.rsa_padding.is_some()
    }

    /// The signer's RSA scheme, with `padding` where none was given.
    pub(crate) fn rsa_scheme(&self, padding: PaddingArg) -> RsaScheme {
        RsaScheme::new(
            match self.rsa_padding.unwrap_or(padding) {
                PaddingArg::Pss => RsaPadding::Pss,
                PaddingArg::Pkcs1v15 => RsaPadding::Pkcs1v15,
            },
            match self.digest.unwrap_or(DigestArg::Sha256) {
                DigestArg::Sha256 => RsaHash::Sha256,
                DigestArg::Sha384 => RsaHash::Sha384,
                DigestArg::Sha512 => RsaHash::Sha512,
            },
        )
    }

    /// The raw-signature scheme named by the options (unset ones open).
    pub(crate) fn detached(&self) -> DetachedScheme {
        DetachedScheme {
            digest: self.digest.map(|d| match d {
                DigestArg::Sha256 => MessageHash::Sha256,
                DigestArg::Sha384 => MessageHash::Sha384,
                DigestArg::Sha512 => MessageHash::Sha512,
            }),
            rsa_padding: self.rsa_padding.map(|p| match p {
                PaddingArg::Pss => DetachedPadding::Pss,
                PaddingArg::Pkcs1v15 => DetachedPadding::Pkcs1v15,
            }),
        }
    }
}

/// `--key`, `--passphrase-env`: the private key to sign with.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyArgs {
    /// The signing key: a PEM private key file (PKCS#8, PKCS#1, SEC1 or
    /// encrypted PKCS#8; refused if group/world-readable), or a key in a
    /// PKCS#11 token as an RFC 7512 URI:
    /// `pkcs11:token=LABEL;object=KEY?module-path=LIB.so&pin-source=file:PINFILE`.
    #[arg(long, value_name = "KEY.pem|pkcs11:URI")]
    pub(crate) key: PathBuf,
    /// Environment variable holding the passphrase of an encrypted key.
    #[arg(long, value_name = "VAR", default_value = "MODELSEAL_KEY_PASSPHRASE")]
    pub(crate) passphrase_env: String,
}

/// The PKCS#11 module used when a `pkcs11:` URI has no `module-path`.
pub(crate) const PKCS11_MODULE_ENV: &str = "MODELSEAL_PKCS11_MODULE";
/// The token PIN used when a `pkcs11:` URI has neither `pin-value` nor
/// `pin-source`.
pub(crate) const PKCS11_PIN_ENV: &str = "MODELSEAL_PKCS11_PIN";

/// A `pkcs11:` URI given as `--key` (or `keygen --out`), if it is one.
pub(crate) fn pkcs11_uri(arg: &Path) -> Result<Option<modelseal_signer::Pkcs11Uri>, CliError> {
    use modelseal_signer::Pkcs11Uri;
    match arg.to_str() {
        Some(s) if Pkcs11Uri::is_uri(s) => Pkcs11Uri::parse(s)
            .map(Some)
            .map_err(|e| CliError::usage(e.to_string())),
        _ => Ok(None),
    }
}

/// The module and PIN defaults from the environment.
pub(crate) fn pkcs11_defaults() -> (Option<PathBuf>, Option<Zeroizing<String>>) {
    (
        std::env::var_os(PKCS11_MODULE_ENV).map(PathBuf::from),
        std::env::var(PKCS11_PIN_ENV).ok().map(Zeroizing::new),
    )
}

impl KeyArgs {
    /// Load the key, RSA keys with `rsa`.
    pub(crate) fn load(&self, rsa: RsaScheme) -> Result<SigningKey, CliError> {
        if let Some(uri) = pkcs11_uri(&self.key)? {
            let (module, pin) = pkcs11_defaults();
            let token =
                modelseal_signer::open_token_key(&uri, module.as_deref(), pin.as_ref(), rsa)
                    .map_err(|e| crate::output::signer_error(&e, &self.passphrase_env))?;
            return SigningKey::from_token(token)
                .map_err(|e| crate::output::signer_error(&e.into(), &self.passphrase_env));
        }
        let passphrase =
            std::env::var_os(&self.passphrase_env).map(|v| Zeroizing::new(v.into_encoded_bytes()));
        load_key_file(&self.key, passphrase.as_ref().map(|p| p.as_slice()), rsa)
            .map_err(|e| crate::output::signer_error(&e, &self.passphrase_env))
    }
}

/// `--cert`, `--chain`: the signer's own certificates, carried in a bundle.
#[derive(Debug, Clone, Args)]
pub(crate) struct CertArgs {
    /// The signer's certificate (PEM); without it a key bundle is written.
    #[arg(long, value_name = "LEAF.pem")]
    pub(crate) cert: Option<PathBuf>,
    /// Intermediate certificates (PEM) to carry after the leaf; repeatable.
    #[arg(long, value_name = "CHAIN.pem", requires = "cert")]
    pub(crate) chain: Vec<PathBuf>,
}

impl CertArgs {
    /// The leaf and its chain as DER, leaf first (empty without `--cert`).
    pub(crate) fn read(&self) -> Result<Vec<Vec<u8>>, CliError> {
        let Some(leaf) = &self.cert else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for path in std::iter::once(leaf).chain(&self.chain) {
            out.extend(read_certificates(path)?);
        }
        Ok(out)
    }
}

/// The certificates of one PEM file, as DER.
pub(crate) fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, CliError> {
    let pem = read_small("certificate", path)?;
    modelseal_verifier::certificates_from_pem(&pem).map_err(|e| {
        CliError::error(
            "invalid_certificate",
            format!("certificate {}: {e}", path.display()),
        )
    })
}

/// `--audit-*`: where to record each decision.
#[derive(Debug, Clone, Args)]
pub(crate) struct AuditArgs {
    /// Append one audit record per decision to this log (with --audit-key).
    #[arg(long = "audit-log", env = "MODELSEAL_AUDIT_LOG", value_name = "LOG")]
    pub(crate) audit_log: Option<PathBuf>,
    /// Writer key of the audit log (from `modelseal audit keygen`).
    #[arg(long = "audit-key", env = "MODELSEAL_AUDIT_KEY", value_name = "KEY")]
    pub(crate) audit_key: Option<PathBuf>,
    /// user.name of the records [default: the OS user]; user.id is always
    /// the real uid.
    #[arg(long = "audit-user", env = "MODELSEAL_AUDIT_USER", value_name = "NAME")]
    pub(crate) audit_user: Option<String>,
    /// source.ip of the records (where the request came from).
    #[arg(
        long = "audit-ip",
        env = "MODELSEAL_AUDIT_IP",
        value_name = "IP",
        default_value = "127.0.0.1"
    )]
    pub(crate) audit_ip: IpAddr,
    #[command(flatten)]
    pub(crate) syslog: SyslogArgs,
}

impl AuditArgs {
    /// Refuse half a configuration before any work is done.
    pub(crate) fn validate(&self) -> Result<(), CliError> {
        if self.audit_log.is_some() != self.audit_key.is_some() {
            return Err(CliError::usage(
                "--audit-log and --audit-key must be given together",
            ));
        }
        if self.syslog.syslog.is_some() && self.audit_log.is_none() {
            return Err(CliError::usage(
                "--syslog sends the audit record: give --audit-log and --audit-key too",
            ));
        }
        Ok(())
    }
}

/// `--syslog*`: also deliver each record to a syslog collector over TLS.
#[derive(Debug, Clone, Args)]
pub(crate) struct SyslogArgs {
    /// Also send each audit record to this syslog collector over TLS
    /// (RFC 5425).
    #[arg(long, value_name = "HOST:PORT", requires = "syslog_ca")]
    pub(crate) syslog: Option<String>,
    /// CA certificate(s) (PEM) the collector's certificate must chain to.
    #[arg(long, value_name = "CA.pem", requires = "syslog")]
    pub(crate) syslog_ca: Option<PathBuf>,
    /// Seconds the whole delivery (connect, TLS handshake, send) may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub(crate) syslog_timeout: u64,
}

impl SyslogArgs {
    /// The collector to deliver to, with its CA read (`None` without
    /// `--syslog`).
    pub(crate) fn config(&self) -> Result<Option<modelseal_audit::SyslogConfig>, CliError> {
        let (Some(address), Some(ca)) = (&self.syslog, &self.syslog_ca) else {
            return Ok(None);
        };
        let ca_pem =
            modelseal_manifest::read_regular(ca, crate::files::MAX_SMALL_FILE).map_err(|e| {
                CliError::error(
                    "syslog_config",
                    format!("cannot read --syslog-ca {}: {e}", ca.display()),
                )
            })?;
        Ok(Some(modelseal_audit::SyslogConfig {
            address: address.clone(),
            ca_pem,
            procid: std::process::id().to_string(),
            timeout: Duration::from_secs(self.syslog_timeout.max(1)),
        }))
    }
}
