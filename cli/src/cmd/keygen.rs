//! `modelseal keygen`: a new signing key, in files or in a PKCS#11 token.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use modelseal_signer::KeyAlgorithm;
use zeroize::Zeroizing;

use crate::args::{OutputArgs, pkcs11_defaults, pkcs11_uri};
use crate::output::{CliError, Doc, Exit, signer_error};

/// Key algorithms.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum AlgorithmArg {
    /// ECDSA P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA, 3072 bits (signs RSA-PSS by default).
    #[value(name = "rsa-3072")]
    Rsa3072,
    /// RSA, 4096 bits.
    #[value(name = "rsa-4096")]
    Rsa4096,
}

/// Arguments of `modelseal keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The key algorithm.
    #[arg(long, value_enum)]
    pub(crate) algorithm: AlgorithmArg,
    /// A directory for NAME.key (0600) and NAME.pub.pem, or a PKCS#11 URI
    /// (`pkcs11:token=LABEL;object=NEW-KEY?module-path=...&pin-source=file:...`)
    /// to make the key inside a token, where it stays.
    #[arg(long, value_name = "DIR|pkcs11:URI")]
    pub(crate) out: PathBuf,
    /// File name stem of the key files.
    #[arg(long, default_value = "signing", value_name = "NAME")]
    pub(crate) name: String,
    /// Encrypt the private key (PKCS#8, scrypt + AES-256-CBC) with the
    /// passphrase in the environment variable --passphrase-env names.
    #[arg(long)]
    pub(crate) encrypt: bool,
    /// Environment variable holding the passphrase for --encrypt.
    #[arg(long, value_name = "VAR", default_value = "MODELSEAL_KEY_PASSPHRASE")]
    pub(crate) passphrase_env: String,
    /// With a PKCS#11 URI: also write the public key (PEM) here.
    #[arg(long, value_name = "FILE")]
    pub(crate) public_out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// Run `modelseal keygen`.
pub(crate) fn run(args: &KeygenArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    let algorithm = match args.algorithm {
        AlgorithmArg::EcdsaP256 => KeyAlgorithm::EcdsaP256,
        AlgorithmArg::EcdsaP384 => KeyAlgorithm::EcdsaP384,
        AlgorithmArg::Ed25519 => KeyAlgorithm::Ed25519,
        AlgorithmArg::Rsa3072 => KeyAlgorithm::Rsa3072,
        AlgorithmArg::Rsa4096 => KeyAlgorithm::Rsa4096,
    };
    doc.set("algorithm", algorithm.name());
    let err = |e: modelseal_signer::Error| signer_error(&e, &args.passphrase_env);
    if let Some(uri) = pkcs11_uri(&args.out)? {
        if args.encrypt {
            return Err(CliError::usage(
                "--encrypt is for key files; a token protects its keys itself",
            ));
        }
        let (module, pin) = pkcs11_defaults();
        let spki = modelseal_signer::generate_token_key(
            &uri,
            module.as_deref(),
            pin.as_ref(),
            algorithm.for_token(),
        )
        .map_err(err)?;
        let pem = modelseal_manifest::spki_pem(&spki);
        let fingerprint = sha256_hex(&spki);
        if let Some(path) = &args.public_out {
            write_public(path, &pem)?;
            doc.set("public_key", path.display().to_string());
        }
        doc.set("key", uri.to_string());
        doc.set("key_fingerprint", format!("sha256:{fingerprint}"));
        doc.set("public_key_pem", pem.clone());
        if !args.output.json && !args.output.quiet {
            outln!("generated {} in {uri}", algorithm.name());
            outln!("  key:       sha256:{fingerprint}");
            outln!("{}", pem.trim_end());
        }
        return Ok(Exit::Success);
    }
    if args.public_out.is_some() {
        return Err(CliError::usage(
            "--public-out is for token keys; key files get NAME.pub.pem beside them",
        ));
    }
    if args.name.is_empty() || args.name.contains('/') || args.name.starts_with('.') {
        return Err(CliError::usage("--name must be a plain file name stem"));
    }
    let passphrase = if args.encrypt {
        let pass = std::env::var_os(&args.passphrase_env)
            .map(|v| Zeroizing::new(v.into_encoded_bytes()))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                CliError::usage(format!(
                    "--encrypt needs a passphrase: export it in {} (or name another variable with --passphrase-env)",
                    args.passphrase_env
                ))
            })?;
        Some(pass)
    } else {
        None
    };
    let generated =
        modelseal_signer::generate_key(algorithm, passphrase.as_ref().map(|p| p.as_slice()))
            .map_err(err)?;
    let (private, public) =
        modelseal_signer::write_key_files(&args.out, &args.name, &generated).map_err(err)?;
    doc.set("private_key", private.display().to_string());
    doc.set("public_key", public.display().to_string());
    doc.set("encrypted", args.encrypt);
    doc.set(
        "key_fingerprint",
        format!("sha256:{}", generated.fingerprint),
    );
    if !args.output.json && !args.output.quiet {
        outln!("generated {}", algorithm.name());
        outln!(
            "  private:   {}{}",
            private.display(),
            if args.encrypt { " (encrypted)" } else { "" }
        );
        outln!("  public:    {}", public.display());
        outln!("  key:       sha256:{}", generated.fingerprint);
    }
    Ok(Exit::Success)
}

fn sha256_hex(bytes: &[u8]) -> String {
    modelseal_manifest::HashAlgorithm::Sha256
        .digest(bytes)
        .to_hex()
}

fn write_public(path: &std::path::Path, pem: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            CliError::error(
                "write_failed",
                format!("cannot create {}: {e}", path.display()),
            )
        })?;
    f.write_all(pem.as_bytes()).map_err(|e| {
        CliError::error(
            "write_failed",
            format!("cannot write {}: {e}", path.display()),
        )
    })
}
