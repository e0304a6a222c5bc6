//! `capsule update apply|rollback|status`: install a signed bundle into the inactive model
//! slot and switch to it, switch back, or show what each slot holds.

use super::Session;
use crate::bundle::signature::parse_public_key;
use crate::update::slots::{ApplyOptions, Slots};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum UpdateCommand {
    /// Verify a bundle (signature, hashes, version, golden outputs) and make it active.
    Apply {
        /// The bundle directory (manifest.json, manifest.sig, models, golden files).
        dir: PathBuf,
        /// Install even if the bundle is not newer than the active one.
        #[arg(long)]
        allow_downgrade: bool,
        /// Hex ed25519 public key to trust, for boards without a profile (repeatable).
        #[arg(long = "trusted-key", value_name = "HEX")]
        trusted_keys: Vec<String>,
    },
    /// Switch back to the bundle in the other slot.
    Rollback,
    /// Show the active slot and what each slot holds.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(session: &Session, command: UpdateCommand) -> Result<()> {
    let slots = Slots::new(&session.data_dir);
    match command {
        UpdateCommand::Apply {
            dir,
            allow_downgrade,
            trusted_keys,
        } => {
            let mut trusted = Vec::new();
            let board_keys = session.board.iter().flat_map(|b| b.trusted_keys.iter());
            for (i, key) in board_keys.enumerate() {
                trusted.push(parse_public_key(key, &format!("board trusted_keys[{i}]"))?);
            }
            for key in &trusted_keys {
                trusted.push(parse_public_key(key, &format!("--trusted-key {key}"))?);
            }
            let applied = slots
                .apply(
                    &dir,
                    &ApplyOptions {
                        trusted,
                        allow_downgrade,
                        threads: session.threads(),
                    },
                )
                .with_context(|| format!("update from {} refused", dir.display()))?;
            match applied.previous {
                Some((slot, version)) => println!(
                    "bundle {} active in slot {} (was {version} in slot {})",
                    applied.bundle_version,
                    applied.slot.name(),
                    slot.name()
                ),
                None => println!(
                    "bundle {} active in slot {}",
                    applied.bundle_version,
                    applied.slot.name()
                ),
            }
        }
        UpdateCommand::Rollback => {
            let back = slots.rollback().context("rollback refused")?;
            println!(
                "rolled back: bundle {} active in slot {}",
                back.bundle_version,
                back.slot.name()
            );
        }
        UpdateCommand::Status { json } => {
            let status = slots.status()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                for s in status {
                    println!(
                        "slot {}{}: {}",
                        s.slot.name(),
                        if s.active { " (active)" } else { "" },
                        match (s.bundle_version, &s.problem) {
                            (Some(v), _) => format!("bundle {v}, models {}", s.models.join(", ")),
                            (None, Some(p)) => p.clone(),
                            (None, None) => "empty".into(),
                        }
                    );
                }
            }
        }
    }
    Ok(())
}
