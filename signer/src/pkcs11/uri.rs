//! RFC 7512 PKCS#11 URIs, as far as a signer needs them.
//!
//! `pkcs11:token=release;object=model-signing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin`
//!
//! - Path attributes (`;`-separated): `token`, `manufacturer`, `serial`,
//!   `model` select the token; `object`, `id`, `type` the key. Slots are
//!   never chosen by number (`slot-id` is refused: slot numbers change when
//!   tokens are added), and other slot or library attributes are refused
//!   rather than ignored.
//! - Query attributes (`&`-separated): `module-path`, `pin-source`
//!   (`file:` paths only), `pin-value`.
//! - Values are percent-decoded; `id` may hold any bytes. Every attribute
//!   may appear once.
//!
//! The PIN never leaves this module in text: [`Pkcs11Uri`]'s `Debug` and
//! `Display` replace `pin-value` by `***`, and errors name attributes, never
//! their values when they may be secret.

use std::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

/// Where the PIN comes from.
#[derive(Clone)]
#[non_exhaustive]
pub enum PinSource {
    /// `pin-value`: the PIN itself (visible in the process list: prefer a
    /// file).
    Value(Zeroizing<String>),
    /// `pin-source=file:PATH`: the file's first line.
    File(PathBuf),
}

impl fmt::Debug for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinSource::Value(_) => f.write_str("Value(***)"),
            PinSource::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// A parsed `pkcs11:` URI naming one private key.
#[derive(Debug, Clone, Default)]
pub struct Pkcs11Uri {
    /// Token label.
    pub token: Option<String>,
    /// Token manufacturer ID.
    pub manufacturer: Option<String>,
    /// Token serial number.
    pub serial: Option<String>,
    /// Token model.
    pub model: Option<String>,
    /// Key label (`CKA_LABEL`).
    pub object: Option<String>,
    /// Key identifier (`CKA_ID`), raw bytes.
    pub id: Option<Vec<u8>>,
    /// The PKCS#11 module to load.
    pub module_path: Option<PathBuf>,
    /// The user PIN.
    pub pin: Option<PinSource>,
}

/// Why a URI was refused. The messages name the attribute at fault but
/// never echo a value that could be a PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// The text does not start with `pkcs11:`.
    #[error("PKCS#11 URI: does not start with pkcs11:")]
    NotPkcs11,
    /// A `%XX` escape is not two hex digits.
    #[error("PKCS#11 URI: {attribute}: bad percent-encoding")]
    PercentEncoding {
        /// The attribute whose value it is.
        attribute: String,
    },
    /// A text attribute does not decode to UTF-8.
    #[error("PKCS#11 URI: {attribute}: not UTF-8")]
    NotUtf8 {
        /// The attribute.
        attribute: String,
    },
    /// An attribute is given twice.
    #[error("PKCS#11 URI: {attribute} appears twice")]
    Repeated {
        /// The attribute (`pin-value/pin-source` for the two PIN forms).
        attribute: String,
    },
    /// A path attribute has no `=`.
    #[error("PKCS#11 URI: path attribute without '=': {part:?}")]
    PathAttributeWithoutValue {
        /// The attribute as written.
        part: String,
    },
    /// A query attribute has no `=` (not echoed: a mistyped `pin-value`
    /// would be the PIN).
    #[error("PKCS#11 URI: a query attribute without '='")]
    QueryAttributeWithoutValue,
    /// `type=` names another object type than a private key.
    #[error("PKCS#11 URI: type={value}: a signing key is type=private")]
    NotPrivateKey {
        /// The type given.
        value: String,
    },
    /// `slot-id=` names a slot by number.
    #[error(
        "PKCS#11 URI: slot-id is not accepted: slot numbers change when tokens are added; name the token (token=LABEL or serial=)"
    )]
    SlotId,
    /// A path attribute RFC 7512 does not define or this signer does not use.
    #[error("PKCS#11 URI: unsupported path attribute {attribute:?}")]
    UnsupportedPathAttribute {
        /// The attribute.
        attribute: String,
    },
    /// A query attribute RFC 7512 does not define or this signer does not use.
    #[error("PKCS#11 URI: unsupported query attribute {attribute:?}")]
    UnsupportedQueryAttribute {
        /// The attribute.
        attribute: String,
    },
    /// `pin-source=` is not a `file:` URI.
    #[error("PKCS#11 URI: pin-source: only file:PATH is supported")]
    PinSourceNotFile,
    /// Neither `object=` nor `id=` names the key.
    #[error("PKCS#11 URI: name the key with object=LABEL or id=%XX...")]
    NoKeyName,
}

fn decode(attr: &str, value: &str) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| UriError::PercentEncoding {
                        attribute: attr.to_owned(),
                    })?;
                out.push(hex);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn text(attr: &str, value: &str) -> Result<String, UriError> {
    String::from_utf8(decode(attr, value)?).map_err(|_| UriError::NotUtf8 {
        attribute: attr.to_owned(),
    })
}

fn set<T>(slot: &mut Option<T>, attr: &str, value: T) -> Result<(), UriError> {
    if slot.replace(value).is_some() {
        return Err(UriError::Repeated {
            attribute: attr.to_owned(),
        });
    }
    Ok(())
}

impl Pkcs11Uri {
    /// Whether `s` is meant as a PKCS#11 URI (rather than a key file).
    pub fn is_uri(s: &str) -> bool {
        s.starts_with("pkcs11:")
    }

    /// Parse a `pkcs11:` URI.
    ///
    /// # Errors
    /// [`UriError`] naming the attribute at fault.
    pub fn parse(s: &str) -> Result<Pkcs11Uri, UriError> {
        let rest = s.strip_prefix("pkcs11:").ok_or(UriError::NotPkcs11)?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Pkcs11Uri::default();
        for part in path.split(';').filter(|p| !p.is_empty()) {
            let (attr, value) =
                part.split_once('=')
                    .ok_or_else(|| UriError::PathAttributeWithoutValue {
                        part: part.to_owned(),
                    })?;
            match attr {
                "token" => set(&mut uri.token, attr, text(attr, value)?)?,
                "manufacturer" => set(&mut uri.manufacturer, attr, text(attr, value)?)?,
                "serial" => set(&mut uri.serial, attr, text(attr, value)?)?,
                "model" => set(&mut uri.model, attr, text(attr, value)?)?,
                "object" => set(&mut uri.object, attr, text(attr, value)?)?,
                "id" => set(&mut uri.id, attr, decode(attr, value)?)?,
                "type" => {
                    if value != "private" {
                        return Err(UriError::NotPrivateKey {
                            value: value.to_owned(),
                        });
                    }
                }
                "slot-id" => {
                    return Err(UriError::SlotId);
                }
                other => {
                    return Err(UriError::UnsupportedPathAttribute {
                        attribute: other.to_owned(),
                    });
                }
            }
        }
        for part in query.split('&').filter(|p| !p.is_empty()) {
            // Not echoed: a mistyped `pin-value` would be the PIN.
            let (attr, value) = part
                .split_once('=')
                .ok_or(UriError::QueryAttributeWithoutValue)?;
            match attr {
                "module-path" => {
                    set(
                        &mut uri.module_path,
                        attr,
                        PathBuf::from(text(attr, value)?),
                    )?;
                }
                "pin-value" => {
                    let pin = Zeroizing::new(text(attr, value)?);
                    set(&mut uri.pin, "pin-value/pin-source", PinSource::Value(pin))?;
                }
                "pin-source" => {
                    let src = text(attr, value)?;
                    let path = src
                        .strip_prefix("file:")
                        .ok_or(UriError::PinSourceNotFile)?;
                    // file:///run/x and file:/run/x both name /run/x.
                    let path = path.strip_prefix("//").unwrap_or(path);
                    set(
                        &mut uri.pin,
                        "pin-value/pin-source",
                        PinSource::File(PathBuf::from(path)),
                    )?;
                }
                other => {
                    return Err(UriError::UnsupportedQueryAttribute {
                        attribute: other.to_owned(),
                    });
                }
            }
        }
        if uri.object.is_none() && uri.id.is_none() {
            return Err(UriError::NoKeyName);
        }
        Ok(uri)
    }
}

/// Percent-encode what RFC 7512 does not allow bare in a value.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~:[]@!$'()*+,=&/".contains(&b) && b != b'&' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl fmt::Display for Pkcs11Uri {
    /// The URI without its PIN (`pin-value=***`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = Vec::new();
        for (k, v) in [
            ("token", &self.token),
            ("manufacturer", &self.manufacturer),
            ("serial", &self.serial),
            ("model", &self.model),
            ("object", &self.object),
        ] {
            if let Some(v) = v {
                path.push(format!("{k}={}", encode(v.as_bytes())));
            }
        }
        if let Some(id) = &self.id {
            path.push(format!(
                "id={}",
                id.iter().map(|b| format!("%{b:02X}")).collect::<String>()
            ));
        }
        let mut query = Vec::new();
        if let Some(m) = &self.module_path {
            query.push(format!(
                "module-path={}",
                encode(m.to_string_lossy().as_bytes())
            ));
        }
        match &self.pin {
            Some(PinSource::Value(_)) => query.push("pin-value=***".into()),
            Some(PinSource::File(p)) => {
                query.push(format!(
                    "pin-source=file:{}",
                    encode(p.to_string_lossy().as_bytes())
                ));
            }
            None => {}
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_the_issue_example() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=release;object=model-signing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("release"));
        assert_eq!(u.object.as_deref(), Some("model-signing"));
        assert_eq!(
            u.module_path,
            Some(PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert!(
            matches!(u.pin, Some(PinSource::File(ref p)) if p == &PathBuf::from("/run/secrets/pin"))
        );
    }

    #[test]
    fn percent_encoding_and_ids() {
        let u = Pkcs11Uri::parse("pkcs11:token=my%20token;id=%01%02%ff").unwrap();
        assert_eq!(u.token.as_deref(), Some("my token"));
        assert_eq!(u.id, Some(vec![1, 2, 0xff]));
        assert_eq!(u.to_string(), "pkcs11:token=my%20token;id=%01%02%FF");
    }

    #[test]
    fn the_pin_never_shows() {
        let u = Pkcs11Uri::parse("pkcs11:object=k?pin-value=s3cret-1234").unwrap();
        assert!(!format!("{u:?}").contains("s3cret"));
        assert!(!u.to_string().contains("s3cret"));
        assert!(u.to_string().contains("pin-value=***"));
        let e = Pkcs11Uri::parse("pkcs11:object=k?pin-value=s3cret-1234&pin-value=s3cret-1234")
            .unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = Pkcs11Uri::parse("pkcs11:object=k?s3cret-1234").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let attribute = |a: &str| a.to_owned();
        for (bad, why) in [
            ("pkcs11:", UriError::NoKeyName),
            ("pkcs11:token=t", UriError::NoKeyName),
            ("pkcs11:object=k;slot-id=0", UriError::SlotId),
            (
                "pkcs11:object=k;type=cert",
                UriError::NotPrivateKey {
                    value: "cert".into(),
                },
            ),
            (
                "pkcs11:object=k;object=j",
                UriError::Repeated {
                    attribute: attribute("object"),
                },
            ),
            (
                "pkcs11:object=k;library-version=1",
                UriError::UnsupportedPathAttribute {
                    attribute: attribute("library-version"),
                },
            ),
            (
                "pkcs11:object=k?pin-source=env:PIN",
                UriError::PinSourceNotFile,
            ),
            (
                "pkcs11:object=k?module-name=softhsm2",
                UriError::UnsupportedQueryAttribute {
                    attribute: attribute("module-name"),
                },
            ),
            (
                "pkcs11:object=%zz",
                UriError::PercentEncoding {
                    attribute: attribute("object"),
                },
            ),
            (
                "pkcs11:object=%ff",
                UriError::NotUtf8 {
                    attribute: attribute("object"),
                },
            ),
            (
                "pkcs11:object",
                UriError::PathAttributeWithoutValue {
                    part: "object".into(),
                },
            ),
            ("pkcs11:object=k?pin", UriError::QueryAttributeWithoutValue),
            ("file:/x", UriError::NotPkcs11),
        ] {
            assert_eq!(Pkcs11Uri::parse(bad).err(), Some(why), "{bad}");
        }
        assert_eq!(
            UriError::SlotId.to_string(),
            "PKCS#11 URI: slot-id is not accepted: slot numbers change when tokens are added; \
             name the token (token=LABEL or serial=)"
        );
    }
}
