//! `modelseal sign FILE --raw-signature SIG`: an OpenSSL-style detached
//! signature over one file (typically a checksums file), for pipelines
//! that still check `openssl dgst -verify` signatures.

use std::path::Path;

use modelseal_manifest::SignatureAlgorithm;
use modelseal_manifest::detached::MessageHash;
use modelseal_signer::detached::sign_file;

use crate::args::{KeyArgs, OutputArgs, PaddingArg, SchemeArgs};
use crate::files::write_atomic;
use crate::output::{CliError, Doc, Exit};

/// The `openssl` command that verifies `sig` over `file` made with
/// `algorithm`, printed so users can check the result with the tool they
/// know.
fn openssl_verify_command(algorithm: SignatureAlgorithm, file: &Path, sig: &Path) -> String {
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

/// Sign `file` into the raw signature `out`.
pub(crate) fn run(
    file: &Path,
    out: &Path,
    key: &KeyArgs,
    scheme: &SchemeArgs,
    output: &OutputArgs,
    doc: &mut Doc,
) -> Result<Exit, CliError> {
    doc.set("kind", "raw-signature");
    doc.set("model", file.display().to_string());
    doc.set("signature", out.display().to_string());
    let key = key.load(scheme.rsa_scheme(PaddingArg::Pkcs1v15))?;
    // The options must mean the algorithm the key signs with (an ECDSA key
    // signs with its curve's hash; Ed25519 takes no digest).
    let wanted = scheme
        .detached()
        .algorithm(key.key_kind())
        .map_err(|e| CliError::usage(format!("--raw-signature: {e}")))?;
    if wanted != key.algorithm() {
        return Err(CliError::usage(format!(
            "--raw-signature: the options mean {wanted}, the key signs {}",
            key.algorithm()
        )));
    }
    if file.is_dir() {
        return Err(CliError::usage(format!(
            "{} is a directory: a raw signature covers one file; make a checksums file (sha256sum) and sign that, or sign a bundle",
            file.display()
        )));
    }
    let (signature, bytes) = sign_file(&key, file)
        .map_err(|e| CliError::error(e.kind(), format!("signing failed: {e}")))?;
    write_atomic(out, &signature)?;
    let algorithm = key.algorithm();
    let check = openssl_verify_command(algorithm, file, out);
    doc.set("algorithm", algorithm.name());
    doc.set("bytes", bytes);
    doc.set("openssl_verify", check.clone());
    if !output.json && !output.quiet {
        outln!("signed: {} -> {}", file.display(), out.display());
        outln!("  algorithm: {algorithm} (raw OpenSSL-style signature, {bytes} bytes signed)");
        outln!("  check it:  {check}");
    }
    Ok(Exit::Success)
}
