//! RFC 3161 against a real TSA: `openssl ts -reply` behind the HTTP server
//! of fixtures/tsa/serve.py, started by each test on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use modelseal_testkit::tsa::Tsa;
use modelseal_timestamp::{
    Error, Malformation, Request, Token, TransportError, TsaTrust, Untrusted, UrlError,
    request_timestamp, verify,
};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/tsa")
        .join(rel)
}

fn trust(root: &str) -> TsaTrust {
    TsaTrust::from_pem(&std::fs::read(fixture(root)).unwrap()).unwrap()
}

fn stamp(tsa: &Tsa, message: &[u8]) -> (Request, Token) {
    let req = Request::new(message).unwrap();
    // A URL with a path: the TSA serves any.
    let url = format!("{}tsa", tsa.url);
    let token = request_timestamp(&url, &req, Duration::from_secs(20)).unwrap();
    (req, token)
}

#[test]
fn a_fresh_token_verifies_at_gen_time() {
    let tsa = Tsa::start(&[]);
    let before = SystemTime::now() - Duration::from_secs(2);
    let (req, token) = stamp(&tsa, b"signature bytes");
    let v = verify(
        &token,
        b"signature bytes",
        &trust("root.pem"),
        Some(req.nonce()),
    )
    .unwrap();
    assert!(v.gen_time() >= before && v.gen_time() <= SystemTime::now() + Duration::from_secs(2));
    assert!(
        v.tsa_subject().contains("modelseal test TSA"),
        "{}",
        v.tsa_subject()
    );
    assert_eq!(v.policy(), "1.3.6.1.4.1.99999.3161.1");
    // Replayed from storage: no nonce to compare, still verifies.
    let again = Token::from_der(token.to_der()).unwrap();
    assert_eq!(
        verify(&again, b"signature bytes", &trust("root.pem"), None).unwrap(),
        v
    );
}

#[test]
fn rsa_tsa_and_ess_v1_verify() {
    for args in [&["--signer", "tsa-rsa"][..], &["--ess-alg", "sha1"]] {
        let tsa = Tsa::start(args);
        let (req, token) = stamp(&tsa, b"sig");
        verify(&token, b"sig", &trust("root.pem"), Some(req.nonce()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
}

#[test]
fn another_message_is_refused() {
    let tsa = Tsa::start(&[]);
    let (_, token) = stamp(&tsa, b"signature A");
    assert!(matches!(
        verify(&token, b"signature B", &trust("root.pem"), None),
        Err(Error::ImprintMismatch)
    ));
}

#[test]
fn another_nonce_is_refused() {
    let tsa = Tsa::start(&[]);
    let (_, token) = stamp(&tsa, b"sig");
    assert!(matches!(
        verify(&token, b"sig", &trust("root.pem"), Some(&[0x42; 16])),
        Err(Error::NonceMismatch)
    ));
}

#[test]
fn an_untrusted_tsa_is_refused() {
    let tsa = Tsa::start(&[]);
    let (_, token) = stamp(&tsa, b"sig");
    let err = verify(&token, b"sig", &trust("other-root.pem"), None).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::UntrustedTsa {
                reason: Untrusted::Path(webpki::Error::UnknownIssuer),
                ..
            }
        ) && err.to_string().contains("does not chain"),
        "{err}"
    );
}

#[test]
fn a_tsa_certificate_expired_at_gen_time_is_refused() {
    let tsa = Tsa::start(&["--signer", "expired"]);
    let (_, token) = stamp(&tsa, b"sig");
    let err = verify(&token, b"sig", &trust("root.pem"), None).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::UntrustedTsa {
                reason: Untrusted::Path(webpki::Error::CertExpired { .. }),
                ..
            }
        ) && err.to_string().contains("expired at genTime"),
        "{err}"
    );
}

#[test]
fn every_tampered_byte_is_refused() {
    let tsa = Tsa::start(&[]);
    let (_, token) = stamp(&tsa, b"sig");
    let der = token.to_der().to_vec();
    let trust = trust("root.pem");
    // Flip one bit in every byte in turn (the DER framing, the TSTInfo,
    // the signed attributes, the certificates, the signature).
    let mut accepted = Vec::new();
    for i in 0..der.len() {
        let mut t = der.clone();
        t[i] ^= 0x01;
        if let Ok(tok) = Token::from_der(&t)
            && let Ok(v) = verify(&tok, b"sig", &trust, None)
        {
            accepted.push((i, v));
        }
    }
    // The only harmless bytes are outside what is signed and bound:
    // none of them may change what the proof says.
    let original = verify(&token, b"sig", &trust, None).unwrap();
    for (i, v) in &accepted {
        assert_eq!(v, &original, "byte {i} changed the verified timestamp");
    }
    assert!(
        accepted.len() < der.len() / 4,
        "{} of {} tampered bytes accepted",
        accepted.len(),
        der.len()
    );
}

#[test]
fn an_unreachable_tsa_is_a_transport_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let req = Request::new(b"sig").unwrap();
    let err = request_timestamp(
        &format!("http://127.0.0.1:{port}/"),
        &req,
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                reason: TransportError::Connect { .. },
                ..
            }
        ),
        "{err}"
    );
    let err = request_timestamp("https://tsa.example/", &req, Duration::from_secs(5)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Url {
                reason: UrlError::Https,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn garbage_tokens_are_malformed_not_panics() {
    for bad in [&b""[..], b"\x30\x00", b"\x30\x80\x00\x00", &[0x30; 64]] {
        assert!(
            matches!(
                Token::from_der(bad),
                Err(Error::Malformed(Malformation::Der(_)))
            ),
            "{bad:?}"
        );
    }
    // A real token whose ContentInfo says "data", not "signedData".
    let tsa = Tsa::start(&[]);
    let (_, token) = stamp(&tsa, b"sig");
    let mut der = token.to_der().to_vec();
    let signed_data = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    let at = der
        .windows(signed_data.len())
        .position(|w| w == signed_data)
        .unwrap();
    der[at + signed_data.len() - 1] = 0x01;
    assert!(matches!(
        Token::from_der(&der),
        Err(Error::Malformed(Malformation::ContentType(_)))
    ));
    // TSA roots that are not certificates.
    assert!(matches!(
        TsaTrust::from_pem(b"no PEM here"),
        Err(Error::Malformed(Malformation::NoCertificate))
    ));
    assert!(matches!(
        TsaTrust::from_der(&[b"not a certificate".to_vec()]),
        Err(Error::Malformed(Malformation::TsaRoot(_)))
    ));
    let big = vec![0u8; modelseal_timestamp::MAX_TOKEN_BYTES + 1];
    assert!(matches!(Token::from_der(&big), Err(Error::TooLarge { .. })));
}
