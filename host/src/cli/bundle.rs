//! `capsule-host keygen`, `bundle` and `sign`.

use crate::bundle::variants::add_embedder_variants;
use crate::bundle::{BundleOptions, keygen, make_bundle, public_path, sign_bundle};
use anyhow::{Context, Result};
use capsule_device::bundle::signature::public_key_hex;
use clap::Args;
use std::path::PathBuf;

/// `keygen`.
#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Secret key file to create (mode 0600; never overwritten). The public key goes to
    /// `KEYFILE.pub` and is printed as hex for the board profile's `trusted_keys`.
    #[arg(long)]
    pub out: PathBuf,
}

/// `bundle`.
#[derive(Args, Debug)]
pub struct BundleArgs {
    /// Run directory of the trained embedder.
    #[arg(long)]
    pub embedder_run: PathBuf,
    /// Bundle directory to write (unsigned; run `sign` next).
    #[arg(long)]
    pub out: PathBuf,
    /// Bundle version; a device refuses versions not newer than its active one.
    #[arg(long)]
    pub version: u64,
    /// Held-out data (in the run's format) to calibrate the "new garment" threshold on.
    #[arg(long)]
    pub threshold_from: Option<PathBuf>,
    /// Run directory of a stylist trained on this embedder's features (`capsule-host
    /// stylist features --embedder RUN`); without it the bundle only identifies garments.
    #[arg(long)]
    pub stylist_run: Option<PathBuf>,
    /// Extra embedder precisions to include beside f32 (e.g. `int8,f16`); a board runs the
    /// one its profile's `precision` names. See `capsule-host quantize --help`.
    #[arg(long, value_delimiter = ',', value_parser = super::quantize::parse_precision)]
    pub precisions: Vec<capsule_device::bundle::Precision>,
    /// Data (in the run's format) whose training pictures calibrate the int8 activations
    /// (default: the run's own training data).
    #[arg(long)]
    pub calibrate_from: Option<PathBuf>,
}

/// `sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// Bundle directory made by `bundle`.
    #[arg(long)]
    pub bundle: PathBuf,
    /// Secret key file made by `keygen`.
    #[arg(long)]
    pub key: PathBuf,
}

pub fn run_keygen(args: KeygenArgs) -> Result<()> {
    let public = keygen(&args.out).context("keygen")?;
    println!("{public}");
    eprintln!(
        "secret key in {} (keep it private); public key in {}",
        args.out.display(),
        public_path(&args.out).display()
    );
    Ok(())
}

pub fn run_bundle(args: BundleArgs) -> Result<()> {
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let manifest = make_bundle(
        &args.embedder_run,
        &args.out,
        &BundleOptions {
            version: args.version,
            threshold_from: args.threshold_from.clone(),
            stylist: args.stylist_run.clone(),
            command: Some(command),
        },
    )
    .with_context(|| format!("bundling {}", args.embedder_run.display()))?;
    let manifest = if args.precisions.is_empty() {
        manifest
    } else {
        add_embedder_variants(
            &args.out,
            &args.embedder_run,
            &args.precisions,
            args.calibrate_from.as_deref(),
            crate::quantize::DEFAULT_CALIBRATION,
        )
        .with_context(|| {
            format!(
                "adding {:?} embedders to {}",
                args.precisions,
                args.out.display()
            )
        })?
    };
    println!(
        "bundle {} in {} ({} model(s), metrics {:?}); sign it with `capsule-host sign --bundle {} --key KEYFILE`",
        manifest.bundle_version,
        args.out.display(),
        manifest.models.len(),
        manifest.metrics,
        args.out.display()
    );
    Ok(())
}

pub fn run_sign(args: SignArgs) -> Result<()> {
    let signed = sign_bundle(&args.bundle, &args.key)
        .with_context(|| format!("signing {}", args.bundle.display()))?;
    println!(
        "signed {}: signature, hashes and golden outputs verify with key {}",
        args.bundle.display(),
        public_key_hex(&signed.public)
    );
    for (file, error) in &signed.golden_errors {
        println!("  {file}: max |tract - burn| on the golden batch = {error:.3e}");
    }
    Ok(())
}
