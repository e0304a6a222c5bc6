//! `capsule update apply|rollback|status`: install a signed bundle into the inactive model
//! slot and switch to it, switch back, or show what each slot holds. While `capsule run`
//! runs, it does this itself (its socket) and reloads its models without a restart.

use super::Session;
use crate::app::reports::SlotsReport;
use crate::app::{Request, UpdateOptions, updates};
use crate::update::slots::Slots;
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
        /// Print JSON: {"action", "bundle_version", "slot", "previous", "running", "reembedded"}.
        #[arg(long)]
        json: bool,
    },
    /// Switch back to the bundle in the other slot.
    Rollback {
        /// Print JSON, as `apply --json` does.
        #[arg(long)]
        json: bool,
    },
    /// Show the active slot, what each slot holds and which bundle a running mirror runs.
    Status {
        /// Print JSON: {"slots": [...], "running"}.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(session: &Session, command: UpdateCommand) -> Result<()> {
    match command {
        UpdateCommand::Apply {
            dir,
            allow_downgrade,
            trusted_keys,
            json,
        } => {
            let mut keys: Vec<String> = session
                .board
                .iter()
                .flat_map(|b| b.trusted_keys.iter().cloned())
                .collect();
            keys.extend(trusted_keys);
            // A running mirror reads the bundle itself: give it a path from anywhere.
            let dir = std::path::absolute(&dir)
                .with_context(|| format!("{} is not a usable path", dir.display()))?;
            let request = Request::UpdateApply {
                dir: dir.clone(),
                allow_downgrade,
                trusted_keys: keys.clone(),
            };
            if let Some(reply) = session.ask_daemon(&request, None)? {
                return session.print(&reply, json);
            }
            let options = UpdateOptions {
                trusted_keys: keys,
                allow_downgrade,
                threads: session.threads(),
            };
            let report = updates::apply(&session.data_dir, &dir, &options, None)?;
            session.print(&report, json)
        }
        UpdateCommand::Rollback { json } => {
            if let Some(reply) = session.ask_daemon(&Request::Rollback, None)? {
                return session.print(&reply, json);
            }
            let report = updates::rollback(&session.data_dir, None)?;
            session.print(&report, json)
        }
        UpdateCommand::Status { json } => {
            if let Some(reply) = session.ask_daemon(&Request::UpdateStatus, None)? {
                return session.print(&reply, json);
            }
            let report = SlotsReport {
                slots: Slots::new(&session.data_dir).status()?,
                running: None,
            };
            session.print(&report, json)
        }
    }
}
