//! `capsule-host flash`: a signed bundle onto a board or into a directory.

use crate::flash::{Target, flash_remote, flash_to_dir};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// `flash`.
#[derive(Args, Debug)]
pub struct FlashArgs {
    /// Signed bundle directory (made by `bundle`, signed by `sign`).
    #[arg(long)]
    pub bundle: PathBuf,
    /// A directory (e.g. a mounted SD card): the bundle is copied into DIR/<bundle name>
    /// atomically. Or `user@host[:path]`: copied with `scp` (default path
    /// /tmp/capsule-bundle-vVERSION), then installed with `ssh user@host capsule update apply`.
    #[arg(long)]
    pub to: String,
    /// The capsule command on the board, with any options it needs there.
    #[arg(long, default_value = "capsule")]
    pub remote_capsule: String,
}

pub fn run(args: FlashArgs) -> Result<()> {
    match Target::parse(&args.to) {
        Target::Dir(dir) => {
            let dest = flash_to_dir(&args.bundle, &dir).with_context(|| {
                format!("flashing {} to {}", args.bundle.display(), dir.display())
            })?;
            println!(
                "{} -> {}; on the board: capsule update apply {}",
                args.bundle.display(),
                dest.display(),
                dest.display()
            );
        }
        Target::Remote { user_host, path } => {
            flash_remote(
                &args.bundle,
                &user_host,
                path.as_deref(),
                &args.remote_capsule,
            )
            .with_context(|| format!("flashing {} to {user_host}", args.bundle.display()))?;
            println!("{} installed on {user_host}", args.bundle.display());
        }
    }
    Ok(())
}
