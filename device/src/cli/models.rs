//! Which models a command uses: the bundle named with `--bundle`, else the active slot's.

use super::Session;
use crate::bundle::select::select_model;
use crate::bundle::slots::Slots;
use crate::bundle::verify::verify_unsigned_parts;
use crate::bundle::{MANIFEST_FILE, ModelRole, VerifiedBundle};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The bundle at `explicit` (files checked against the manifest's hashes; its signature was
/// the host's business when the owner chose to point at it), else the active slot's.
pub(crate) fn bundle(session: &Session, explicit: Option<&Path>) -> Result<VerifiedBundle> {
    if let Some(dir) = explicit {
        let path = dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        return verify_unsigned_parts(dir, bytes)
            .with_context(|| format!("bundle {}", dir.display()));
    }
    match Slots::new(&session.data_dir).active_bundle()? {
        Some(bundle) => Ok(bundle),
        None => bail!(
            "no model bundle installed in {}: install one with `capsule update apply DIR` \
             (e.g. the shipped models/default), or pass --bundle DIR",
            session.data_dir.display()
        ),
    }
}

/// The embedder file of `bundle` in the board's precision, else its f32 one.
pub(crate) fn embedder_file(session: &Session, bundle: &VerifiedBundle) -> Result<PathBuf> {
    let chosen = select_model(&bundle.manifest, ModelRole::Embedder, session.precision())
        .with_context(|| format!("bundle {} has no embedder", bundle.dir.display()))?;
    if let Some(note) = &chosen.note {
        eprintln!("note: {note}");
    }
    Ok(bundle.dir.join(&chosen.model.file))
}

/// `--embedder FILE`, else the embedder of the active bundle.
pub(crate) fn embedder_path(session: &Session, explicit: Option<&Path>) -> Result<PathBuf> {
    match explicit {
        Some(path) => Ok(path.to_path_buf()),
        None => embedder_file(session, &bundle(session, None)?),
    }
}
