//! `capsule-host flash`: a signed bundle onto a board, into a directory, or into a Mender
//! artifact for a fleet.

use crate::flash::mender::{ArtifactSpec, write_artifact};
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
    #[arg(
        long,
        required_unless_present = "mender_artifact",
        conflicts_with = "mender_artifact"
    )]
    pub to: Option<String>,
    /// Instead of `--to`: write a Mender artifact (payload type capsule-bundle, made with
    /// `mender-artifact`) for a Mender server or `mender install`. Boards install it with
    /// the update module boards/mender/capsule-bundle, which runs `capsule update apply`.
    #[arg(long, value_name = "OUT.mender", requires = "device_types")]
    pub mender_artifact: Option<PathBuf>,
    /// Mender device type the artifact is for, as in the board's
    /// /var/lib/mender/device_type (repeatable).
    #[arg(
        long = "device-type",
        value_name = "T",
        requires = "mender_artifact",
        conflicts_with = "to"
    )]
    pub device_types: Vec<String>,
    /// Mender artifact name (default: capsule-bundle-vVERSION).
    #[arg(long, requires = "mender_artifact", conflicts_with = "to")]
    pub artifact_name: Option<String>,
    /// The `mender-artifact` program.
    #[arg(
        long,
        default_value = "mender-artifact",
        requires = "mender_artifact",
        conflicts_with = "to"
    )]
    pub mender_artifact_tool: String,
    /// The capsule command on the board, with any options it needs there.
    #[arg(long, default_value = "capsule")]
    pub remote_capsule: String,
}

pub fn run(args: FlashArgs) -> Result<()> {
    if let Some(out) = &args.mender_artifact {
        let spec = ArtifactSpec {
            device_types: args.device_types.clone(),
            artifact_name: args.artifact_name.clone(),
            tool: args.mender_artifact_tool.clone(),
        };
        let written = write_artifact(&args.bundle, out, &spec).with_context(|| {
            format!(
                "wrapping {} into the Mender artifact {}",
                args.bundle.display(),
                out.display()
            )
        })?;
        println!("{written}");
        return Ok(());
    }
    let to = args
        .to
        .as_deref()
        .context("pass --to DIR|user@host[:path] or --mender-artifact OUT.mender")?;
    match Target::parse(to) {
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

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, Parser};

    fn parse(args: &[&str]) -> Result<super::FlashArgs, clap::Error> {
        let argv = ["capsule-host", "flash", "--bundle", "b"]
            .iter()
            .chain(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Flash(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn a_bundle_goes_either_to_a_target_or_into_a_mender_artifact() {
        Cli::command().debug_assert();
        let args = parse(&[
            "--mender-artifact",
            "o.mender",
            "--device-type",
            "capsule-rpi4",
            "--device-type",
            "capsule-rpi5",
        ])
        .unwrap();
        assert_eq!(args.device_types, ["capsule-rpi4", "capsule-rpi5"]);
        assert_eq!(args.to, None);
        assert_eq!(
            parse(&["--to", "/media/sd"]).unwrap().to.as_deref(),
            Some("/media/sd")
        );
        for wrong in [
            &[][..],
            &["--mender-artifact", "o.mender"],
            &["--to", "d", "--device-type", "t"],
            &["--to", "d", "--artifact-name", "n"],
            &["--to", "d", "--mender-artifact", "o", "--device-type", "t"],
        ] {
            assert!(parse(wrong).is_err(), "{wrong:?} was accepted");
        }
    }
}
