//! `capsule pairing list|revoke`: the phones paired with the web app, and unpairing them
//! from the board itself. The running web app reads the token file again when it changes,
//! so a revoked phone is refused from its next request on.

use super::Session;
use crate::web::pairing::{PairedDevice, TokenStore};
use anyhow::{Result, bail};
use clap::Subcommand;
use serde::Serialize;
use std::fmt;

#[derive(Subcommand, Debug)]
pub enum PairingCommand {
    /// The paired phones.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Unpair a phone (by the id `list` shows), or every phone with --all.
    Revoke {
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

#[derive(Serialize)]
struct PairedList {
    devices: Vec<PairedDevice>,
}

impl fmt::Display for PairedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} paired phones", self.devices.len())?;
        for d in &self.devices {
            writeln!(f, "  {}  {}  (paired at {})", d.id, d.name, d.paired_unix)?;
        }
        Ok(())
    }
}

pub(crate) fn run(session: &Session, command: PairingCommand) -> Result<()> {
    let store = TokenStore::new(&session.data_dir);
    match command {
        PairingCommand::List { json } => {
            let devices = store.load()?.iter().map(PairedDevice::public).collect();
            session.print(&PairedList { devices }, json)?;
        }
        PairingCommand::Revoke { id, all } => {
            if id.is_none() && !all {
                bail!("say which phone to unpair (see `capsule pairing list`), or pass --all");
            }
            let gone = store.revoke(id.as_deref())?;
            if gone == 0 {
                bail!(
                    "no paired phone {} in {}",
                    id.unwrap_or_default(),
                    store.path().display()
                );
            }
            println!("unpaired {gone} phone(s)");
        }
    }
    Ok(())
}
