//! Opening a token, finding the key, signing with it.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use modelseal_manifest::{KeyKind, SignatureAlgorithm};
use sha2::Digest;
use spki::EncodePublicKey;
use zeroize::Zeroizing;

use super::uri::{PinSource, Pkcs11Uri};
use crate::error::{Error, KeyError};
use crate::key::{RsaHash, RsaPadding, RsaScheme};

const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// `PrintableString "edwards25519"`, the curve name PKCS#11 v3.0 allows.
const NAME_ED25519: &[u8] = b"\x13\x0cedwards25519";

/// Largest PIN file read.
const MAX_PIN_FILE: u64 = 1024;

#[derive(Debug, Clone, Copy)]
enum Family {
    Rsa { bits: usize, scheme: RsaScheme },
    P256,
    P384,
    Ed25519,
}

/// A private key inside a token, with its public key read from the token.
pub struct TokenKey {
    // The session borrows nothing, but must not outlive the module: fields
    // drop in order (session, then context).
    session: Mutex<Session>,
    _ctx: Pkcs11,
    key: ObjectHandle,
    family: Family,
    spki_der: Vec<u8>,
    label: String,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("key", &self.label)
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

fn token_err(what: &str) -> impl Fn(cryptoki::error::Error) -> Error + '_ {
    move |e| Error::Token {
        reason: format!("{what}: {e}"),
    }
}

fn token(reason: impl Into<String>) -> Error {
    Error::Token {
        reason: reason.into(),
    }
}

fn load_module(uri: &Pkcs11Uri, default_module: Option<&Path>) -> Result<Pkcs11, Error> {
    let module = uri
        .module_path
        .as_deref()
        .or(default_module)
        .ok_or_else(|| {
            token(
                "no PKCS#11 module: add module-path=PATH to the URI or set MODELSEAL_PKCS11_MODULE",
            )
        })?;
    let ctx = Pkcs11::new(module).map_err(|e| Error::Token {
        reason: format!("cannot load PKCS#11 module {}: {e}", module.display()),
    })?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(token_err("C_Initialize"))?;
    Ok(ctx)
}

fn find_slot(ctx: &Pkcs11, uri: &Pkcs11Uri) -> Result<Slot, Error> {
    let mut found = Vec::new();
    for slot in ctx
        .get_slots_with_token()
        .map_err(token_err("C_GetSlotList"))?
    {
        let info = ctx
            .get_token_info(slot)
            .map_err(token_err("C_GetTokenInfo"))?;
        let matches = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w == have.trim_end())
        };
        if matches(&uri.token, info.label())
            && matches(&uri.manufacturer, info.manufacturer_id())
            && matches(&uri.serial, info.serial_number())
            && matches(&uri.model, info.model())
        {
            found.push(slot);
        }
    }
    match found.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(token(format!(
            "no token matches {}",
            uri.token
                .as_deref()
                .map_or("the URI".into(), |t| format!("token={t}"))
        ))),
        _ => Err(token(format!(
            "{} tokens match the URI: name one (token=, serial=)",
            found.len()
        ))),
    }
}

fn read_pin(
    uri: &Pkcs11Uri,
    default_pin: Option<&Zeroizing<String>>,
) -> Result<Option<Zeroizing<String>>, Error> {
    use std::io::Read;
    match &uri.pin {
        Some(PinSource::Value(v)) => Ok(Some(v.clone())),
        Some(PinSource::File(path)) => {
            let err = |e: std::io::Error| token(format!("PIN file {}: {e}", path.display()));
            let file = std::fs::File::open(path).map_err(err)?;
            let mut buf = Zeroizing::new(Vec::with_capacity(MAX_PIN_FILE as usize + 1));
            file.take(MAX_PIN_FILE + 1)
                .read_to_end(&mut buf)
                .map_err(err)?;
            if buf.len() as u64 > MAX_PIN_FILE {
                return Err(token(format!("PIN file {} is too large", path.display())));
            }
            let text = std::str::from_utf8(&buf)
                .map_err(|_| token(format!("PIN file {} is not UTF-8", path.display())))?;
            let line = text.lines().next().unwrap_or_default();
            Ok(Some(Zeroizing::new(line.to_owned())))
        }
        None => Ok(default_pin.cloned()),
    }
}

fn template(class: ObjectClass, uri: &Pkcs11Uri) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

fn one_object(session: &Session, t: &[Attribute], what: &str) -> Result<ObjectHandle, Error> {
    let found = session
        .find_objects(t)
        .map_err(token_err("C_FindObjects"))?;
    match found.as_slice() {
        [h] => Ok(*h),
        [] => Err(token(format!("no {what} matches the URI"))),
        _ => Err(token(format!(
            "{} {what}s match the URI: name one (object=, id=)",
            found.len()
        ))),
    }
}

fn attribute(session: &Session, h: ObjectHandle, ty: AttributeType) -> Result<Attribute, Error> {
    session
        .get_attributes(h, &[ty])
        .map_err(token_err("C_GetAttributeValue"))?
        .into_iter()
        .next()
        .ok_or_else(|| token(format!("the key has no {ty:?} attribute")))
}

/// `CKA_EC_POINT` is a DER OCTET STRING around the point (PKCS#11), but
/// some modules return the bare point.
fn unwrap_point(point: &[u8], len: usize) -> &[u8] {
    match point {
        [0x04, l, rest @ ..] if usize::from(*l) == len && rest.len() == len => rest,
        [0x04, 0x81, l, rest @ ..] if usize::from(*l) == len && rest.len() == len => rest,
        _ => point,
    }
}

fn spki(
    session: &Session,
    public: ObjectHandle,
    key_type: KeyType,
) -> Result<(Vec<u8>, Family), Error> {
    let encode_err = |e: spki::Error| token(format!("cannot encode the public key: {e}"));
    if key_type == KeyType::RSA {
        let n = match attribute(session, public, AttributeType::Modulus)? {
            Attribute::Modulus(n) => n,
            _ => return Err(token("no modulus")),
        };
        let e = match attribute(session, public, AttributeType::PublicExponent)? {
            Attribute::PublicExponent(e) => e,
            _ => return Err(token("no public exponent")),
        };
        let key = rsa::PublicKey::new(
            rsa::BoxedUint::from_be_slice_vartime(&n),
            rsa::BoxedUint::from_be_slice_vartime(&e),
        )
        .map_err(|e| token(format!("RSA public key: {e}")))?;
        let bits = {
            use rsa::traits::PublicKeyParts;
            key.n().bit_width_vartime() as usize
        };
        let der = key.to_public_key_der().map_err(encode_err)?.into_vec();
        return Ok((
            der,
            Family::Rsa {
                bits,
                scheme: RsaScheme::default(),
            },
        ));
    }
    let params = match attribute(session, public, AttributeType::EcParams)? {
        Attribute::EcParams(p) => p,
        _ => return Err(token("no EC parameters")),
    };
    let point = match attribute(session, public, AttributeType::EcPoint)? {
        Attribute::EcPoint(p) => p,
        _ => return Err(token("no EC point")),
    };
    if key_type == KeyType::EC && params == OID_P256 {
        let pk = p256::PublicKey::from_sec1_bytes(unwrap_point(&point, 65))
            .map_err(|_| token("P-256 public point does not decode"))?;
        Ok((
            pk.to_public_key_der().map_err(encode_err)?.into_vec(),
            Family::P256,
        ))
    } else if key_type == KeyType::EC && params == OID_P384 {
        let pk = p384::PublicKey::from_sec1_bytes(unwrap_point(&point, 97))
            .map_err(|_| token("P-384 public point does not decode"))?;
        Ok((
            pk.to_public_key_der().map_err(encode_err)?.into_vec(),
            Family::P384,
        ))
    } else if key_type == KeyType::EC_EDWARDS && (params == OID_ED25519 || params == NAME_ED25519) {
        let raw: [u8; 32] = unwrap_point(&point, 32)
            .try_into()
            .map_err(|_| token("Ed25519 public key is not 32 bytes"))?;
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map_err(|_| token("Ed25519 public key does not decode"))?;
        Ok((
            vk.to_public_key_der().map_err(encode_err)?.into_vec(),
            Family::Ed25519,
        ))
    } else {
        Err(token(
            "unsupported key in token: only RSA, ECDSA P-256/P-384 and Ed25519 keys are supported",
        ))
    }
}

/// Open the key a `pkcs11:` URI names. `default_module` is used when the
/// URI has no `module-path`; `default_pin` when it has no PIN.
///
/// # Errors
/// [`Error::Token`] saying what could not be found or done (never the PIN).
pub fn open(
    uri: &Pkcs11Uri,
    default_module: Option<&Path>,
    default_pin: Option<&Zeroizing<String>>,
    rsa: RsaScheme,
) -> Result<TokenKey, Error> {
    let ctx = load_module(uri, default_module)?;
    let slot = find_slot(&ctx, uri)?;
    let session = ctx
        .open_ro_session(slot)
        .map_err(token_err("C_OpenSession"))?;
    if let Some(pin) = read_pin(uri, default_pin)? {
        let auth = AuthPin::from(pin.as_str());
        session
            .login(UserType::User, Some(&auth))
            .map_err(token_err("C_Login"))?;
    }
    let key = one_object(
        &session,
        &template(ObjectClass::PRIVATE_KEY, uri),
        "private key",
    )?;
    let key_type = match attribute(&session, key, AttributeType::KeyType)? {
        Attribute::KeyType(t) => t,
        _ => return Err(token("the private key has no key type")),
    };
    let public = one_object(
        &session,
        &template(ObjectClass::PUBLIC_KEY, uri),
        "public key",
    )?;
    let (spki_der, mut family) = spki(&session, public, key_type)?;
    if let Family::Rsa { bits, .. } = family {
        if bits < 2048 {
            return Err(Error::Key(KeyError::WeakRsaKey { bits }));
        }
        family = Family::Rsa { bits, scheme: rsa };
    }
    Ok(TokenKey {
        session: Mutex::new(session),
        _ctx: ctx,
        key,
        family,
        spki_der,
        label: uri.to_string(),
    })
}

/// `DigestInfo` prefixes (RFC 8017 §9.2 note 1).
const DIGEST_INFO_SHA256: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const DIGEST_INFO_SHA384: &[u8] = &[
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
const DIGEST_INFO_SHA512: &[u8] = &[
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

impl TokenKey {
    /// The public key, DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The URI of the key, without the PIN.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The signature algorithm this key signs with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self.family {
            Family::Rsa { scheme, .. } => scheme.algorithm(),
            Family::P256 => SignatureAlgorithm::EcdsaP256Sha256,
            Family::P384 => SignatureAlgorithm::EcdsaP384Sha384,
            Family::Ed25519 => SignatureAlgorithm::Ed25519,
        }
    }

    /// The key's family (and RSA size).
    pub fn key_kind(&self) -> KeyKind {
        match self.family {
            Family::Rsa { bits, .. } => KeyKind::Rsa { bits },
            Family::P256 => KeyKind::EcP256,
            Family::P384 => KeyKind::EcP384,
            Family::Ed25519 => KeyKind::Ed25519,
        }
    }

    fn digest(&self, msg: &[u8]) -> Vec<u8> {
        match self.family {
            Family::P256
            | Family::Rsa {
                scheme:
                    RsaScheme {
                        hash: RsaHash::Sha256,
                        ..
                    },
                ..
            } => sha2::Sha256::digest(msg).to_vec(),
            Family::P384
            | Family::Rsa {
                scheme:
                    RsaScheme {
                        hash: RsaHash::Sha384,
                        ..
                    },
                ..
            } => sha2::Sha384::digest(msg).to_vec(),
            Family::Rsa {
                scheme:
                    RsaScheme {
                        hash: RsaHash::Sha512,
                        ..
                    },
                ..
            } => sha2::Sha512::digest(msg).to_vec(),
            Family::Ed25519 => msg.to_vec(),
        }
    }

    fn raw_sign(&self, mechanism: &Mechanism<'_>, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let session = self.session.lock().map_err(|_| KeyError::Signing {
            detail: "token session poisoned".into(),
        })?;
        session
            .sign(mechanism, self.key, data)
            .map_err(|e| KeyError::Signing {
                detail: format!("token: {e}"),
            })
    }

    /// Sign `msg` (the whole message) in the token; the result is in the
    /// same encoding as a file key's, and verified before it is returned.
    ///
    /// # Errors
    /// [`KeyError::Signing`] when the token refuses, or returns a signature
    /// that does not verify with the public key.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self.family {
            Family::Ed25519 => {
                let sig = self.raw_sign(
                    &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                    msg,
                )?;
                self.checked(msg, sig)
            }
            _ => {
                let digest = self.digest(msg);
                let sig = self.sign_prehashed(&digest)?;
                self.checked(msg, sig)
            }
        }
    }

    /// Sign a digest (ECDSA, RSA; Ed25519 signs messages only).
    ///
    /// # Errors
    /// [`KeyError::Signing`] when the token refuses or for Ed25519.
    pub fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |detail: String| KeyError::Signing { detail };
        match self.family {
            Family::P256 | Family::P384 => {
                let raw = self.raw_sign(&Mechanism::Ecdsa, digest)?;
                let der = if matches!(self.family, Family::P256) {
                    p256::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec())
                } else {
                    p384::ecdsa::Signature::from_slice(&raw).map(|s| s.to_der().as_bytes().to_vec())
                };
                der.map_err(|_| failed("the token returned a malformed ECDSA signature".into()))
            }
            Family::Rsa { scheme, .. } => {
                let (hash_alg, mgf, prefix) = match scheme.hash {
                    RsaHash::Sha256 => (
                        MechanismType::SHA256,
                        PkcsMgfType::MGF1_SHA256,
                        DIGEST_INFO_SHA256,
                    ),
                    RsaHash::Sha384 => (
                        MechanismType::SHA384,
                        PkcsMgfType::MGF1_SHA384,
                        DIGEST_INFO_SHA384,
                    ),
                    RsaHash::Sha512 => (
                        MechanismType::SHA512,
                        PkcsMgfType::MGF1_SHA512,
                        DIGEST_INFO_SHA512,
                    ),
                };
                match scheme.padding {
                    RsaPadding::Pss => {
                        let params = PkcsPssParams {
                            hash_alg,
                            mgf,
                            s_len: (digest.len() as u64).into(),
                        };
                        self.raw_sign(&Mechanism::RsaPkcsPss(params), digest)
                    }
                    RsaPadding::Pkcs1v15 => {
                        let mut info = prefix.to_vec();
                        info.extend_from_slice(digest);
                        self.raw_sign(&Mechanism::RsaPkcs, &info)
                    }
                }
            }
            Family::Ed25519 => Err(failed("Ed25519 signs the whole message".into())),
        }
    }

    /// Verify the token's signature with its public key before use.
    fn checked(&self, msg: &[u8], sig: Vec<u8>) -> Result<Vec<u8>, KeyError> {
        let key = modelseal_verifier::PublicKey::from_spki_der(&self.spki_der).map_err(|e| {
            KeyError::Signing {
                detail: format!("token public key: {e}"),
            }
        })?;
        key.verify(self.algorithm(), msg, &sig)
            .map_err(|_| KeyError::Signing {
                detail: "the token's signature does not verify with its public key (mismatched key objects?)".into(),
            })?;
        Ok(sig)
    }
}

/// Algorithms `generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenAlgorithm {
    /// ECDSA P-256.
    EcdsaP256,
    /// ECDSA P-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA with this many bits.
    Rsa(usize),
}

/// Generate a key pair inside the token the URI names, labelled with its
/// `object` (and `id`, or a random one): private key sensitive, not
/// extractable, for signing only. Refuses when a key with that label or id
/// exists. Returns the public key (DER SubjectPublicKeyInfo).
///
/// # Errors
/// [`Error::Token`] for anything the token refuses.
pub fn generate(
    uri: &Pkcs11Uri,
    default_module: Option<&Path>,
    default_pin: Option<&Zeroizing<String>>,
    algorithm: TokenAlgorithm,
) -> Result<Vec<u8>, Error> {
    let label = uri
        .object
        .clone()
        .ok_or_else(|| token("name the new key with object=LABEL"))?;
    let ctx = load_module(uri, default_module)?;
    let slot = find_slot(&ctx, uri)?;
    let session = ctx
        .open_rw_session(slot)
        .map_err(token_err("C_OpenSession"))?;
    let pin =
        read_pin(uri, default_pin)?.ok_or_else(|| token("a PIN is needed to create a key"))?;
    session
        .login(UserType::User, Some(&AuthPin::from(pin.as_str())))
        .map_err(token_err("C_Login"))?;
    for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
        let mut by_label = vec![
            Attribute::Class(class),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        if !session
            .find_objects(&by_label)
            .map_err(token_err("C_FindObjects"))?
            .is_empty()
        {
            return Err(token(format!("a key labelled {label:?} exists already")));
        }
        if let Some(id) = &uri.id {
            by_label = vec![Attribute::Class(class), Attribute::Id(id.clone())];
            if !session
                .find_objects(&by_label)
                .map_err(token_err("C_FindObjects"))?
                .is_empty()
            {
                return Err(token("a key with that id exists already"));
            }
        }
    }
    let id = match &uri.id {
        Some(id) => id.clone(),
        None => {
            let mut id = [0u8; 8];
            getrandom::fill(&mut id).map_err(|e| token(format!("no randomness: {e}")))?;
            id.to_vec()
        }
    };
    let common_pub = vec![
        Attribute::Token(true),
        Attribute::Verify(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    let private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id),
    ];
    let (mechanism, mut public) = match algorithm {
        TokenAlgorithm::EcdsaP256 => (
            Mechanism::EccKeyPairGen,
            vec![Attribute::EcParams(OID_P256.to_vec())],
        ),
        TokenAlgorithm::EcdsaP384 => (
            Mechanism::EccKeyPairGen,
            vec![Attribute::EcParams(OID_P384.to_vec())],
        ),
        TokenAlgorithm::Ed25519 => (
            Mechanism::EccEdwardsKeyPairGen,
            vec![Attribute::EcParams(OID_ED25519.to_vec())],
        ),
        TokenAlgorithm::Rsa(bits) => (
            Mechanism::RsaPkcsKeyPairGen,
            vec![
                Attribute::ModulusBits((bits as u64).into()),
                Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
            ],
        ),
    };
    public.extend(common_pub);
    let (public, _) = session
        .generate_key_pair(&mechanism, &public, &private)
        .map_err(token_err("C_GenerateKeyPair"))?;
    let key_type = match algorithm {
        TokenAlgorithm::Rsa(_) => KeyType::RSA,
        TokenAlgorithm::Ed25519 => KeyType::EC_EDWARDS,
        _ => KeyType::EC,
    };
    Ok(spki(&session, public, key_type)?.0)
}
