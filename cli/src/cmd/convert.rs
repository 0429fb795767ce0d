//! `modelseal convert`: from a checksums file (and its raw signature) to a
//! full OMS bundle signed with the user's key, in one step.
//!
//! Nothing is signed that was not checked: the model is verified against
//! the checksums (and the checksums against their signature, if given)
//! exactly as `modelseal verify --checksums` does, and the bundle's manifest
//! is the one that verification hashed. For SHA-256 checksums it is the
//! checked digests themselves. For SHA-512 checksums (OMS has no SHA-512
//! manifest) the engine computes the SHA-256 digests in the same read of
//! every byte that matched the SHA-512 checksums, so the bundle covers
//! exactly the bytes that were checked; nothing is read twice.

use std::path::{Path, PathBuf};

use clap::Args;
use modelseal_manifest::HashOptions;
use modelseal_manifest::{Checksums, HashAlgorithm};
use modelseal_signer::sign_manifest;
use modelseal_verifier::{ChecksumsOptions, Guarantee};
use modelseal_verifier::{DetachedOptions, IdentityRequirement};

use crate::args::{
    CommonArgs, PaddingArg, SchemeArgs, SigningArgs, TrustArgs, load_detached_trust,
};
use crate::audit_log::{Facts, record_decision, sha256_hex};
use crate::files::write_atomic;
use crate::output::{CliError, Doc, Exit, verifier_error};
use crate::progress::Bar;
use crate::render::{checks_json, signer_json};

/// Arguments of `modelseal convert`.
#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// The model directory (or single file) the checksums describe.
    #[arg(value_name = "MODEL")]
    pub(crate) model: PathBuf,
    /// The checksums file (sha256sum/sha512sum/shasum/BSD tag/openssl dgst).
    #[arg(long, value_name = "SUMS")]
    pub(crate) checksums: PathBuf,
    /// Raw OpenSSL-style signature over SUMS, verified before anything is
    /// signed.
    #[arg(long, value_name = "SIG")]
    pub(crate) raw_signature: Option<PathBuf>,
    /// The raw signature's signer certificate (PEM), checked against
    /// --trust-root.
    #[arg(long, value_name = "LEAF.pem", requires = "raw_signature")]
    pub(crate) raw_cert: Option<PathBuf>,
    /// Who must have made the raw signature (with --raw-signature).
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// The raw signature's scheme (as for `verify --raw-signature`).
    #[command(flatten)]
    pub(crate) scheme: SchemeArgs,
    /// Your key and certificates for the bundle (without certificates a
    /// key bundle), and where to write it.
    #[command(flatten)]
    pub(crate) signing: SigningArgs,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// Run `modelseal convert`, recording the decision in the audit log.
pub(crate) fn run(args: &ConvertArgs, doc: &mut Doc) -> Result<Exit, CliError> {
    args.common.audit.validate()?;
    let mut facts = Facts {
        model: Some(args.model.clone()),
        bundle: Some(args.signing.signature.clone()),
        ..Facts::default()
    };
    let result = convert(args, doc, &mut facts);
    record_decision(&args.common.audit, "model.convert", result, &facts)
}

fn convert(args: &ConvertArgs, doc: &mut Doc, facts: &mut Facts) -> Result<Exit, CliError> {
    doc.set("model", args.model.display().to_string());
    doc.set("checksums", args.checksums.display().to_string());
    doc.set("signature", args.signing.signature.display().to_string());
    // Everything that can fail without reading the model fails first.
    if args.raw_signature.is_none() && (args.trust.any() || args.scheme.any()) {
        return Err(CliError::usage(
            "--public-key, --trust-root, --identity, --at, --digest and --rsa-padding check the raw signature: add --raw-signature SIG",
        ));
    }
    // The bundle is signed with PSS (RSA keys); --digest and --rsa-padding
    // describe the raw signature being checked.
    let key = args
        .signing
        .key
        .load(SchemeArgs::default().rsa_scheme(PaddingArg::Pss))?;
    facts.details.key_sha256 = Some(sha256_hex(&key.public_key_der()));
    let certs = args.signing.certs.read()?;
    let time = args.trust.time()?;
    let ids = args.trust.identities(doc)?;
    let trust = match &args.raw_signature {
        Some(_) => Some(load_detached_trust(&args.trust, args.raw_cert.as_deref())?),
        None => None,
    };
    let detached_opts = trust.as_ref().map(|t| DetachedOptions {
        trust: &t.trust,
        certificates: &t.certificates,
        identity: IdentityRequirement::from_choice(ids.as_deref()),
        time,
        scheme: args.scheme.detached(),
    });
    let signature = match &args.raw_signature {
        Some(path) => Some(
            modelseal_verifier::read_signature(path)
                .map_err(|e| verifier_error(&e, "conversion refused"))?,
        ),
        None => None,
    };
    let sums = modelseal_verifier::read_checksums_default(&args.checksums)
        .map_err(|e| verifier_error(&e, "conversion refused"))?;
    // SHA-512 checksums: the SHA-256 OMS digests come from the same read.
    let sha512 = Checksums::parse(&sums).is_ok_and(|c| c.algorithm() == HashAlgorithm::Sha512);

    // Verify, hashing every byte once.
    let bar = Bar::new(
        args.common.output.quiet || args.common.output.json,
        "verifying",
    );
    let mut ignore: Vec<&Path> = vec![&args.signing.signature];
    if let Some(p) = &args.raw_signature {
        ignore.push(p);
    }
    let outcome = modelseal_verifier::verify_checksums(
        &args.model,
        &sums,
        &ChecksumsOptions {
            checksums_file: &args.checksums,
            signature: signature.as_deref().zip(detached_opts.as_ref()),
            also_ignore: &ignore,
            also_hash: sha512.then_some(HashAlgorithm::Sha256),
            hash: HashOptions {
                threads: args.common.hashing.threads(),
                progress: bar.as_ref().map(|b| b as _),
                ..HashOptions::default()
            },
        },
    );
    drop(bar);
    let check_label = args
        .raw_signature
        .as_ref()
        .unwrap_or(&args.checksums)
        .display()
        .to_string();
    doc.set("checks", checks_json(&outcome.report, Some(&check_label)));
    let verified = outcome
        .result
        .map_err(|e| verifier_error(&e, "conversion refused: verification failed"))?;
    let manifest = match (verified.manifest().serialization().hash, verified.also()) {
        (HashAlgorithm::Sha256, _) => verified.manifest().clone(),
        (_, Some(sha256)) => sha256.clone(),
        (other, None) => {
            return Err(CliError::error(
                "internal",
                format!("no SHA-256 manifest was computed for {other} checksums"),
            ));
        }
    };

    // The checksums file and the signatures are left out of the manifest
    // when they lie inside the model; each such entry may hide only a
    // regular file of that name (or its absence), never a directory that
    // could hold unsigned files.
    let own_files: Vec<_> = std::iter::once(&args.checksums)
        .chain(std::iter::once(&args.signing.signature))
        .chain(args.raw_signature.iter())
        .filter_map(|p| modelseal_manifest::relative_inside(&args.model, p))
        .filter(|rel| manifest.serialization().ignore_paths.contains(rel))
        .collect();
    let manifest = manifest.with_ignored_files(own_files);

    // Sign exactly what was verified.
    let signed = sign_manifest(manifest, &key, &certs, Some(std::time::SystemTime::now()))
        .map_err(|e| CliError::error(e.kind(), format!("signing failed: {e}")))?;
    write_atomic(&args.signing.signature, &signed.bundle.to_json())?;

    let guarantee = verified.guarantee();
    let subject = signed.manifest.subject_digest().to_hex();
    facts.digest = Some(format!("sha256:{subject}"));
    facts.reason = format!(
        "converted {} ({}) into {}",
        args.model.display(),
        guarantee.describe(),
        args.signing.signature.display()
    );
    let sums_alg = verified.checksums().algorithm();
    let material = if certs.is_empty() {
        "key"
    } else {
        "certificate"
    };
    doc.set("checksums_algorithm", sums_alg.name());
    doc.set("guarantee", guarantee.as_str());
    doc.set("guarantee_detail", guarantee.describe());
    doc.set(
        "checksums_signer",
        verified.signed_by().map(|s| signer_json(s.signer())),
    );
    doc.set(
        "checksums_signature_algorithm",
        verified.signed_by().map(|s| s.algorithm().name()),
    );
    doc.set("algorithm", key.algorithm().name());
    doc.set("material", material);
    doc.set("resources", signed.manifest.len());
    doc.set("subject_digest", subject.clone());
    if guarantee == Guarantee::IntegrityOnly {
        doc.warn(
            "the checksums were not signed: this bundle vouches for the files on your key's authority alone",
        );
    }
    if !args.common.output.json && !args.common.output.quiet {
        outln!(
            "converted: {} -> {}",
            args.model.display(),
            args.signing.signature.display()
        );
        outln!("  checked:   {}", guarantee.describe());
        if let Some(s) = verified.signed_by() {
            outln!(
                "  checksums: {} ({sums_alg}), signed by {} ({})",
                args.checksums.display(),
                s.signer().describe(),
                s.algorithm()
            );
        } else {
            outln!(
                "  checksums: {} ({sums_alg}), unsigned",
                args.checksums.display()
            );
        }
        outln!(
            "  bundle:    {}, {} resources (sha256), {material} material",
            key.algorithm(),
            signed.manifest.len(),
        );
        outln!("  subject:   sha256:{subject}");
    }
    Ok(Exit::Success)
}
