//! Installing a bundle into the model slots, or rolling back, and what a running mirror does
//! then: reload its models without a restart (embedding the wardrobe again when the embedder
//! changed) or, when the new models will not run, switch the slots back and say so on its
//! screen. With no mirror running the slots alone change and `capsule run` loads them.

use super::mirror::{Mirror, MirrorError};
use super::reports::{PreviousSlot, UpdateReport};
use crate::bundle::signature::{SignatureError, parse_public_key};
use crate::update::UpdateError;
use crate::update::slots::{Applied, ApplyOptions, Slots};
use std::path::{Path, PathBuf};

/// What an update needs besides the bundle.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// Hex ed25519 public keys to trust (the board profile's and the owner's flags).
    pub trusted_keys: Vec<String>,
    pub allow_downgrade: bool,
    /// Threads for the golden checks.
    pub threads: usize,
}

/// An update or rollback did not happen; each variant says what state it left.
#[derive(Debug, thiserror::Error)]
pub enum UpdateFailure {
    #[error("trusted key {index}")]
    Key {
        index: usize,
        #[source]
        source: SignatureError,
    },
    /// Refused before anything changed (signature, hashes, version, goldens, slots).
    #[error("update from {dir} refused; the active bundle is unchanged")]
    Refused {
        dir: PathBuf,
        #[source]
        source: Box<UpdateError>,
    },
    #[error("rollback refused; the active bundle is unchanged")]
    RollbackRefused(#[source] Box<UpdateError>),
    /// Installed, but the running mirror could not load it: the slots were switched back.
    #[error(
        "bundle {version} passed its checks but the mirror could not run it, so the slots were \
         switched back to bundle {back_to}, which the mirror still runs"
    )]
    NotLoaded {
        version: u64,
        back_to: u64,
        #[source]
        source: Box<MirrorError>,
    },
    /// Installed, would not load, and switching back failed too: the mirror still runs its
    /// old models from memory, but the next start will try the new slot.
    #[error(
        "bundle {version} could not be run ({reason}) and switching the slots back failed; \
         the mirror runs its previous models until restarted: run `capsule update rollback`"
    )]
    Stuck {
        version: u64,
        reason: String,
        #[source]
        source: Box<UpdateError>,
    },
}

/// Installs the signed bundle at `dir` into the inactive slot and makes it active; a running
/// `mirror` (the daemon's) then reloads its models.
pub fn apply(
    data_dir: &Path,
    dir: &Path,
    options: &UpdateOptions,
    mirror: Option<&mut Mirror>,
) -> Result<UpdateReport, UpdateFailure> {
    let mut trusted = Vec::with_capacity(options.trusted_keys.len());
    for (index, key) in options.trusted_keys.iter().enumerate() {
        trusted.push(
            parse_public_key(key, &format!("trusted key {index}"))
                .map_err(|source| UpdateFailure::Key { index, source })?,
        );
    }
    let slots = Slots::new(data_dir);
    let applied = slots
        .apply(
            dir,
            &ApplyOptions {
                trusted,
                allow_downgrade: options.allow_downgrade,
                threads: options.threads.max(1),
            },
        )
        .map_err(|source| UpdateFailure::Refused {
            dir: dir.to_path_buf(),
            source: Box::new(source),
        })?;
    switched(&slots, "apply", applied, mirror)
}

/// Makes the other slot active again; a running `mirror` reloads its models.
pub fn rollback(
    data_dir: &Path,
    mirror: Option<&mut Mirror>,
) -> Result<UpdateReport, UpdateFailure> {
    let slots = Slots::new(data_dir);
    let applied = slots
        .rollback()
        .map_err(|e| UpdateFailure::RollbackRefused(Box::new(e)))?;
    switched(&slots, "rollback", applied, mirror)
}

/// After the slots switched: reload `mirror` if it runs from them, switching back (and
/// saying so on its screen) when the models will not load.
fn switched(
    slots: &Slots,
    action: &'static str,
    applied: Applied,
    mirror: Option<&mut Mirror>,
) -> Result<UpdateReport, UpdateFailure> {
    let mut report = UpdateReport {
        action,
        bundle_version: applied.bundle_version,
        slot: applied.slot.name().to_string(),
        previous: applied.previous.map(|(slot, bundle_version)| PreviousSlot {
            slot: slot.name().to_string(),
            bundle_version,
        }),
        running: false,
        reembedded: None,
    };
    let Some(mirror) = mirror else {
        return Ok(report);
    };
    match mirror.reload() {
        // It runs models from outside the slots: the switch waits for its next start.
        Err(MirrorError::NotFromSlot) => Ok(report),
        Ok(reembedded) => {
            report.reembedded = reembedded.cloned();
            report.running = true;
            let detail = match &report.reembedded {
                Some(r) => format!(
                    "bundle {} is running; {} garment views recognised with its embedder",
                    report.bundle_version, r.views
                ),
                None => format!("bundle {} is running", report.bundle_version),
            };
            mirror.announce(
                if action == "apply" {
                    "Models updated"
                } else {
                    "Models rolled back"
                },
                detail,
            );
            Ok(report)
        }
        Err(source) => {
            let reason = crate::report::error_chain(&source);
            // The slot that was active before is intact (a switch never touches it): back
            // to it, so the next start runs what the mirror runs now.
            match slots.rollback() {
                Ok(back) => {
                    mirror.announce(
                        "Update not installed",
                        format!(
                            "bundle {} would not run here: {reason}. Still on bundle {}.",
                            applied.bundle_version, back.bundle_version
                        ),
                    );
                    Err(UpdateFailure::NotLoaded {
                        version: applied.bundle_version,
                        back_to: back.bundle_version,
                        source: Box::new(source),
                    })
                }
                Err(e) => {
                    mirror.announce(
                        "Update failed",
                        format!(
                            "bundle {} would not run and the slots could not be switched \
                             back: run `capsule update rollback`",
                            applied.bundle_version
                        ),
                    );
                    Err(UpdateFailure::Stuck {
                        version: applied.bundle_version,
                        reason,
                        source: Box::new(e),
                    })
                }
            }
        }
    }
}
