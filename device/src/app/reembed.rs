//! A wardrobe embedded by another model: after an update (or a change of precision) the
//! stored embeddings come from an embedder the mirror no longer runs, and comparing a camera
//! view with them would be comparing two different spaces. This embeds every stored view
//! again from the picture it was first embedded from, and records which embedder did it.
//!
//! All in one transaction: after a power cut the store holds either the old embeddings under
//! the old embedder's name or the new ones under the new name, so the next start redoes what
//! did not finish.

use crate::engine::{Embedder, EngineError};
use crate::preprocess::WHOLE_PICTURE;
use crate::wardrobe::picture::decode_view;
use crate::wardrobe::{GarmentId, StoreError, StoredPicture, WardrobeStore};
use serde::Serialize;

/// What embedding the wardrobe again did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reembedded {
    /// Views embedded again (a garment's own picture and each further view count one).
    pub views: usize,
    /// Of those, views stored before their pictures were kept: embedded from the 96 px
    /// thumbnail, which recognises less well (adding a fresh view helps).
    pub from_thumbnails: usize,
    /// Views whose stored picture could not be read: left without an embedding, so they
    /// are not matched until the garment is shown again.
    pub unreadable: Vec<(GarmentId, u32)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReembedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("embedding view {view} of garment {garment} again")]
    Embed {
        garment: GarmentId,
        view: u32,
        #[source]
        source: EngineError,
    },
}

/// Makes `store` this embedder's before anything is added or matched: a store that names
/// no embedder (from before they were named, or new) is taken to be `embedder_id`'s; one
/// embedded by another is embedded again. `Some` when that was done.
pub fn align_wardrobe(
    store: &WardrobeStore,
    embedder: &mut Embedder,
    embedder_id: &str,
) -> Result<Option<Reembedded>, ReembedError> {
    match store.embedded_by()? {
        Some(id) if id == embedder_id => Ok(None),
        None => {
            store.set_embedded_by(embedder_id)?;
            Ok(None)
        }
        Some(_) => Ok(Some(reembed_wardrobe(
            store,
            embedder,
            embedder_id,
            |_, _| {},
        )?)),
    }
}

/// Embeds every view in `store` with `embedder` and records `embedder_id` as what embedded
/// the wardrobe; `progress` hears (done, total) now and then.
pub fn reembed_wardrobe(
    store: &WardrobeStore,
    embedder: &mut Embedder,
    embedder_id: &str,
    mut progress: impl FnMut(usize, usize),
) -> Result<Reembedded, ReembedError> {
    let keys = store.view_keys()?;
    let mut report = Reembedded::default();
    let mut embeddings = Vec::with_capacity(keys.len());
    for (i, &(garment, view)) in keys.iter().enumerate() {
        if i % 25 == 0 {
            progress(i, keys.len());
        }
        let picture = match store.view_picture(garment, view)? {
            Some(StoredPicture::View(bytes)) => decode_view(&bytes).ok(),
            Some(StoredPicture::Thumbnail(bytes)) => {
                report.from_thumbnails += 1;
                decode_view(&bytes).ok()
            }
            None => None,
        };
        let Some(picture) = picture else {
            report.unreadable.push((garment, view));
            embeddings.push((garment, view, Vec::new()));
            continue;
        };
        // The stored picture is already a garment view; cutting it again with the (possibly
        // new) spec's crop is how every path reaches a tensor.
        let cut = embedder.view(&picture, WHOLE_PICTURE);
        let embedding = embedder.embed(&cut).map_err(|source| ReembedError::Embed {
            garment,
            view,
            source,
        })?;
        embeddings.push((garment, view, embedding));
        report.views += 1;
    }
    progress(keys.len(), keys.len());
    store.replace_embeddings(embedder_id, &embeddings)?;
    Ok(report)
}
