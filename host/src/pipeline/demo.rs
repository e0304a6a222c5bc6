//! The demo wardrobe a board imports: a synthetic Polyvore-format set and one camera view of
//! one of its garments.

use super::PipelineError;
use crate::data::inshop::format::PARTITION_FILE;
use crate::flash::copy_tree;
use std::path::Path;

/// Makes the demo wardrobe in `out` from the synthetic data in `data`: the Polyvore-format
/// set (what `capsule wardrobe import` reads) and `camera.jpg`, a camera-like view of one of
/// its garments (what the demo holds up to the mirror).
pub fn demo_wardrobe(data: &Path, out: &Path) -> Result<(), PipelineError> {
    copy_tree(&data.join("polyvore"), out)?;
    // The photo: the first listed camera view of a top.
    let views = data.join("inshop").join(PARTITION_FILE);
    let list = std::fs::read_to_string(&views).map_err(|source| PipelineError::Io {
        path: views.clone(),
        step: "read",
        source,
    })?;
    let photo = list
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .find(|name| name.contains("Tees_Tanks") || name.contains("Blouses"))
        .ok_or_else(|| PipelineError::NoTop {
            path: views.clone(),
        })?;
    let (from, to) = (data.join("inshop").join(photo), out.join("camera.jpg"));
    std::fs::copy(&from, &to).map_err(|source| PipelineError::Io {
        path: from.clone(),
        step: "copy the demo photo",
        source,
    })?;
    Ok(())
}
