//! `modelseal sign FILE --raw-signature SIG`: an OpenSSL-style detached
//! signature over one file (typically a checksums file), for pipelines
//! that still check `openssl dgst -verify` signatures.

use std::path::Path;

use modelseal_manifest::MessageHash;
use modelseal_manifest::SignatureAlgorithm;
use modelseal_signer::sign_file;

use crate::args::{KeyArgs, OutputArgs, PaddingArg, SchemeArgs};
use crate::files::write_atomic;
use crate::output::{CliError, Doc, Exit};

/// The `openssl` command (as arguments) that verifies `sig` over `file`
/// made with `algorithm`, printed so users can check the result with the
/// tool they know.
fn openssl_verify_argv(algorithm: SignatureAlgorithm, file: &Path, sig: &Path) -> Vec<String> {
    let (file, sig) = (path_arg(file), path_arg(sig));
    let mut argv: Vec<String> = match MessageHash::of(algorithm) {
        None => [
            "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "PUB.pem", "-rawin", "-in",
        ]
        .map(str::to_owned)
        .to_vec(),
        Some(hash) => vec![
            "openssl".into(),
            "dgst".into(),
            format!("-{hash}"),
            "-verify".into(),
            "PUB.pem".into(),
        ],
    };
    match MessageHash::of(algorithm) {
        None => argv.extend([file, "-sigfile".into(), sig]),
        Some(_) => {
            if algorithm.name().starts_with("rsa-pss") {
                argv.extend(["-sigopt".into(), "rsa_padding_mode:pss".into()]);
            }
            argv.extend(["-signature".into(), sig, file]);
        }
    }
    argv
}

/// A path as one argument: `./` before a relative path that starts with
/// `-`, so that it is never read as an option.
fn path_arg(p: &Path) -> String {
    let s = p.to_string_lossy().into_owned();
    if s.starts_with('-') {
        format!("./{s}")
    } else {
        s
    }
}

/// `argv` as one POSIX shell command line: every argument that is not made
/// of plainly safe characters is single-quoted, so a file named
/// `m$(touch PWNED).bin` stays a name when the line is pasted into a shell.
pub(crate) fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let safe = !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
            if safe {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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
    let argv = openssl_verify_argv(algorithm, file, out);
    let check = shell_join(&argv);
    doc.set("algorithm", algorithm.name());
    doc.set("bytes", bytes);
    doc.set("openssl_verify", check.clone());
    doc.set("openssl_verify_argv", argv);
    if !output.json && !output.quiet {
        outln!("signed: {} -> {}", file.display(), out.display());
        outln!("  algorithm: {algorithm} (raw OpenSSL-style signature, {bytes} bytes signed)");
        outln!("  check it:  {check}");
    }
    Ok(Exit::Success)
}
