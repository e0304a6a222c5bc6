//! The device's two model slots, `DATA/models/a` and `DATA/models/b`, and the `active` file
//! beside them that names the one in use. An update is copied into the inactive slot,
//! verified there (signature, hashes, golden outputs) and only then made active by replacing
//! `active` atomically; the slot it replaced stays intact for [`Slots::rollback`].

use crate::bundle::verify::{BundleError, VerifiedBundle, verify_signed, verify_unsigned_parts};
use crate::engine::golden::{GoldenError, check_bundle};
use capsule_contract::bundle::{MANIFEST_FILE, Manifest, SIGNATURE_FILE};
use capsule_contract::fsutil::{AtomicWriteError, write_atomic};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// File naming the active slot, inside `DATA/models`.
pub const ACTIVE_FILE: &str = "active";

/// One of the two slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    A,
    B,
}

impl Slot {
    pub fn name(self) -> &'static str {
        match self {
            Slot::A => "a",
            Slot::B => "b",
        }
    }

    pub fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

/// An update, rollback or status query failed; the active slot is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Golden(#[from] GoldenError),
    #[error(
        "bundle version {new} is not newer than the active version {active}; \
         pass --allow-downgrade to install it anyway"
    )]
    Downgrade { new: u64, active: u64 },
    #[error("{path}: {step}: {reason}")]
    Io {
        path: PathBuf,
        step: &'static str,
        reason: std::io::Error,
    },
    #[error("{path}: {problem}")]
    Pointer { path: PathBuf, problem: String },
    #[error("nothing to roll back to: slot {0} holds no intact bundle")]
    NoRollback(&'static str),
    #[error("no bundle is installed yet; install one with `capsule update apply DIR`")]
    NothingInstalled,
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
}

/// What `update apply` did.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub slot: Slot,
    pub bundle_version: u64,
    pub previous: Option<(Slot, u64)>,
}

/// What a slot holds.
#[derive(Debug, Clone, Serialize)]
pub struct SlotStatus {
    pub slot: Slot,
    pub active: bool,
    /// `None` when the slot is empty or its files no longer match their manifest.
    pub bundle_version: Option<u64>,
    pub created_unix: Option<u64>,
    pub models: Vec<String>,
    /// Why the slot is not usable, if it is not.
    pub problem: Option<String>,
}

/// Options of [`Slots::apply`].
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub trusted: Vec<VerifyingKey>,
    pub allow_downgrade: bool,
    pub threads: usize,
}

/// The slots under one data directory.
#[derive(Debug, Clone)]
pub struct Slots {
    root: PathBuf,
}

fn io(path: &Path, step: &'static str) -> impl FnOnce(std::io::Error) -> UpdateError {
    let path = path.to_path_buf();
    move |reason| UpdateError::Io { path, step, reason }
}

impl Slots {
    /// The slots of the data directory `data_dir` (`data_dir/models/...`).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("models"),
        }
    }

    pub fn dir(&self, slot: Slot) -> PathBuf {
        self.root.join(slot.name())
    }

    /// The active slot, or `None` before the first update.
    pub fn active(&self) -> Result<Option<Slot>, UpdateError> {
        let path = self.root.join(ACTIVE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => match text.trim() {
                "a" => Ok(Some(Slot::A)),
                "b" => Ok(Some(Slot::B)),
                other => Err(UpdateError::Pointer {
                    path,
                    problem: format!("names slot {other:?}; expected \"a\" or \"b\""),
                }),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, "read")(e)),
        }
    }

    /// The active bundle (its files re-hashed), or `None` before the first update.
    pub fn active_bundle(&self) -> Result<Option<VerifiedBundle>, UpdateError> {
        match self.active()? {
            Some(slot) => Ok(Some(self.intact(slot)?)),
            None => Ok(None),
        }
    }

    /// The bundle in `slot` if its manifest parses and its files match their hashes. The
    /// signature was checked when the slot was installed.
    /// Points `active` at `slot`: one atomic, fsync'd rename, so a power cut leaves either
    /// the old slot or the new one active.
    fn activate(&self, slot: Slot) -> Result<(), UpdateError> {
        write_atomic(
            &self.root.join(ACTIVE_FILE),
            format!("{}\n", slot.name()).as_bytes(),
        )?;
        Ok(())
    }

    /// The bundle version `slot`'s manifest names, without checking its other files.
    fn installed_version(&self, slot: Slot) -> Result<u64, UpdateError> {
        let path = self.dir(slot).join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(io(&path, "read"))?;
        Manifest::from_bytes(&bytes)
            .map(|m| m.bundle_version)
            .map_err(|e| UpdateError::Pointer {
                path,
                problem: format!(
                    "the active slot's manifest is unreadable ({e}); pass --allow-downgrade to replace it"
                ),
            })
    }

    fn intact(&self, slot: Slot) -> Result<VerifiedBundle, UpdateError> {
        let dir = self.dir(slot);
        let bytes =
            std::fs::read(dir.join(MANIFEST_FILE)).map_err(io(&dir.join(MANIFEST_FILE), "read"))?;
        Ok(verify_unsigned_parts(&dir, bytes)?)
    }

    /// Installs the bundle at `bundle` into the inactive slot and activates it, after
    /// checking its signature, hashes, version and golden outputs. On any error the active
    /// slot is unchanged.
    pub fn apply(&self, bundle: &Path, options: &ApplyOptions) -> Result<Applied, UpdateError> {
        let source = verify_signed(bundle, &options.trusted)?;
        let active = self.active()?;
        // The active slot's version is read from its manifest alone (verified when it was
        // installed): a slot whose model file has since vanished or rotted must not block
        // the update that repairs it, yet still counts for downgrade protection.
        let previous = match active {
            Some(slot) => match self.installed_version(slot) {
                Ok(version) => Some((slot, version)),
                Err(_) if options.allow_downgrade => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let new = source.manifest.bundle_version;
        if let Some((_, old)) = previous
            && new <= old
            && !options.allow_downgrade
        {
            return Err(UpdateError::Downgrade { new, active: old });
        }
        let target = active.map_or(Slot::A, Slot::other);
        let dir = self.dir(target);
        let installed = self.copy_into(&source, &dir).and_then(|()| {
            // Verify the copy, not the source: what is checked is what will run.
            let copy = verify_signed(&dir, &options.trusted)?;
            if copy.manifest_bytes != source.manifest_bytes {
                return Err(UpdateError::Pointer {
                    path: dir.join(MANIFEST_FILE),
                    problem: "changed while it was being copied".into(),
                });
            }
            check_bundle(&copy, options.threads)?;
            Ok(())
        });
        if let Err(e) = installed {
            // A half-installed slot must not look like a rollback target.
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        self.activate(target)?;
        Ok(Applied {
            slot: target,
            bundle_version: new,
            previous,
        })
    }

    /// Copies the manifest, signature and every listed file, fsyncing each file and folder.
    fn copy_into(&self, source: &VerifiedBundle, dir: &Path) -> Result<(), UpdateError> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io(dir, "clear the inactive slot"))?;
        }
        std::fs::create_dir_all(dir).map_err(io(dir, "create slot"))?;
        let files = [MANIFEST_FILE, SIGNATURE_FILE]
            .into_iter()
            .chain(source.manifest.files());
        let mut dirs = vec![dir.to_path_buf()];
        for file in files {
            let to = dir.join(file);
            if let Some(parent) = to.parent()
                && !dirs.iter().any(|d| d == parent)
            {
                std::fs::create_dir_all(parent).map_err(io(parent, "create folder"))?;
                dirs.push(parent.to_path_buf());
            }
            std::fs::copy(source.dir.join(file), &to).map_err(io(&to, "copy"))?;
            std::fs::File::open(&to)
                .and_then(|f| f.sync_all())
                .map_err(io(&to, "fsync"))?;
        }
        for d in dirs.iter().rev() {
            std::fs::File::open(d)
                .and_then(|f| f.sync_all())
                .map_err(io(d, "fsync folder"))?;
        }
        if let Ok(root) = std::fs::File::open(&self.root) {
            let _ = root.sync_all();
        }
        Ok(())
    }

    /// Makes the other slot active again, if it holds an intact bundle.
    pub fn rollback(&self) -> Result<Applied, UpdateError> {
        let active = self.active()?.ok_or(UpdateError::NothingInstalled)?;
        let target = active.other();
        let bundle = self
            .intact(target)
            .map_err(|_| UpdateError::NoRollback(target.name()))?;
        let previous = self
            .intact(active)
            .ok()
            .map(|b| (active, b.manifest.bundle_version));
        self.activate(target)?;
        Ok(Applied {
            slot: target,
            bundle_version: bundle.manifest.bundle_version,
            previous,
        })
    }

    /// What each slot holds.
    pub fn status(&self) -> Result<Vec<SlotStatus>, UpdateError> {
        let active = self.active()?;
        Ok([Slot::A, Slot::B]
            .into_iter()
            .map(|slot| {
                let (manifest, problem): (Option<Manifest>, _) =
                    if !self.dir(slot).join(MANIFEST_FILE).exists() {
                        (None, Some("empty".to_string()))
                    } else {
                        match self.intact(slot) {
                            Ok(b) => (Some(b.manifest), None),
                            Err(e) => (None, Some(e.to_string())),
                        }
                    };
                SlotStatus {
                    slot,
                    active: active == Some(slot),
                    bundle_version: manifest.as_ref().map(|m| m.bundle_version),
                    created_unix: manifest.as_ref().map(|m| m.created_unix),
                    models: manifest
                        .map(|m| m.models.into_iter().map(|e| e.file).collect())
                        .unwrap_or_default(),
                    problem,
                }
            })
            .collect())
    }
}
