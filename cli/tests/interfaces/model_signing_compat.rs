//! Key bundles as model_signing 0.2 to 1.0.1 wrote them: `"keyid": null`
//! and `verificationMaterial.publicKey.rawBytes` (the key's PEM) instead of
//! a hint. The key given on the command line decides.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{Sandbox, fixture};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

#[test]
fn raw_bytes_and_null_keyid_verify_with_the_given_key_only() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    sb.run([
        "sign",
        "model",
        "--key",
        key.to_str().unwrap(),
        "-s",
        "key.sig",
    ])
    .code(0);
    let mut b: Value = serde_json::from_slice(&std::fs::read(sb.path("key.sig")).unwrap()).unwrap();
    b["dsseEnvelope"]["signatures"][0]["keyid"] = Value::Null;
    let pem = std::fs::read(fixture("keys/p256.pub.pem")).unwrap();
    b["verificationMaterial"]["publicKey"] =
        json!({"rawBytes": B64.encode(&pem), "keyDetails": "PKIX_ECDSA_P256_SHA_256"});
    std::fs::write(sb.path("old.sig"), serde_json::to_vec(&b).unwrap()).unwrap();
    let public = fixture("keys/p256.pub.pem");
    sb.run([
        "verify",
        "model",
        "-s",
        "old.sig",
        "--public-key",
        public.to_str().unwrap(),
    ])
    .code(0);
    // A bundle key that differs from the given one is a rejection.
    let other = std::fs::read(fixture("keys/p384.pub.pem")).unwrap();
    b["verificationMaterial"]["publicKey"]["rawBytes"] = B64.encode(&other).into();
    std::fs::write(sb.path("old.sig"), serde_json::to_vec(&b).unwrap()).unwrap();
    sb.run([
        "verify",
        "model",
        "-s",
        "old.sig",
        "--public-key",
        public.to_str().unwrap(),
    ])
    .code(1)
    .stderr_has("another key");
    // Both a hint and rawBytes: malformed.
    b["verificationMaterial"]["publicKey"]["hint"] = "ab".into();
    std::fs::write(sb.path("old.sig"), serde_json::to_vec(&b).unwrap()).unwrap();
    sb.run([
        "verify",
        "model",
        "-s",
        "old.sig",
        "--public-key",
        public.to_str().unwrap(),
    ])
    .code(2);
}
