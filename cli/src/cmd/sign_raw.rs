//! `modelseal sign FILE --raw-signature SIG`: an OpenSSL-style detached
//! signature over one file (typically a checksums file), for pipelines
//! that still check `openssl dgst -verify` signatures.

use std::path::Path;

use modelseal_manifest::SignatureAlgorithm;
use modelseal_manifest::detached::MessageHash;
use modelseal_signer::detached::sign_file;
use modelseal_signer::load_key_file;
use serde_json::json;
use zeroize::Zeroizing;

use super::sign::{PaddingArg, RsaHashArg, SignArgs, rsa_scheme};
use super::verify_checksums::scheme;
use crate::exit::{CliError, Exit};
use crate::files::write_atomic;

/// The `openssl` command that verifies `sig` over `file` made with
/// `algorithm`, printed so users can check the result with the tool they
/// know.
pub(crate) fn openssl_verify_command(
    algorithm: SignatureAlgorithm,
    file: &Path,
    sig: &Path,
) -> String {
    let (file, sig) = (file.display(), sig.display());
    match MessageHash::of(algorithm) {
        None => format!(
            "openssl pkeyutl -verify -pubin -inkey PUB.pem -rawin -in {file} -sigfile {sig}"
        ),
        Some(hash) => {
            let pss = if algorithm.name().starts_with("rsa-pss") {
                " -sigopt rsa_padding_mode:pss"
            } else {
                ""
            };
            format!("openssl dgst -{hash} -verify PUB.pem{pss} -signature {sig} {file}")
        }
    }
}

/// Run `modelseal sign --raw-signature`.
pub(crate) fn run(args: &SignArgs, out: &Path) -> Result<Exit, CliError> {
    let passphrase =
        std::env::var_os(&args.passphrase_env).map(|v| Zeroizing::new(v.into_encoded_bytes()));
    let key = load_key_file(
        &args.key,
        passphrase.as_ref().map(|p| p.as_slice()),
        rsa_scheme(
            args.rsa_padding.unwrap_or(PaddingArg::Pkcs1v15),
            args.rsa_hash.unwrap_or(RsaHashArg::Sha256),
        ),
    )
    .map_err(|e| CliError::error("invalid_key", e.to_string()))?;
    // The options must mean the algorithm the key signs with (an ECDSA key
    // signs with its curve's hash; Ed25519 takes no digest).
    let wanted = scheme(args.rsa_hash, args.rsa_padding)
        .algorithm(key.key_kind())
        .map_err(|e| CliError::error("usage", format!("--raw-signature: {e}")))?;
    if wanted != key.algorithm() {
        return Err(CliError::error(
            "usage",
            format!(
                "--raw-signature: the options mean {wanted}, the key signs {}",
                key.algorithm()
            ),
        ));
    }
    if args.model.is_dir() {
        return Err(CliError::error(
            "usage",
            format!(
                "{} is a directory: a raw signature covers one file; make a checksums file (sha256sum) and sign that, or sign a bundle",
                args.model.display()
            ),
        ));
    }
    let (signature, bytes) = sign_file(&key, &args.model).map_err(|e| {
        let kind = e.kind();
        CliError::error(kind, format!("signing failed: {e}"))
    })?;
    write_atomic(out, &signature)?;
    let algorithm = key.algorithm();
    if args.common.json {
        let doc = json!({
            "verdict": "signed",
            "kind": "raw-signature",
            "file": args.model.display().to_string(),
            "signature": out.display().to_string(),
            "algorithm": algorithm.name(),
            "bytes": bytes,
            "openssl_verify": openssl_verify_command(algorithm, &args.model, out),
        });
        outln!("{doc:#}");
    } else if !args.common.quiet {
        outln!("signed: {} -> {}", args.model.display(), out.display());
        outln!("  algorithm: {algorithm} (raw OpenSSL-style signature, {bytes} bytes signed)");
        outln!(
            "  check it:  {}",
            openssl_verify_command(algorithm, &args.model, out)
        );
    }
    Ok(Exit::Success)
}
