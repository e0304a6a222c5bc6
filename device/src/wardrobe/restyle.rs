//! Style statistics for garments stored before the store kept them: recomputed from each
//! garment's thumbnail (the very pixels they are defined on, see `garment::style`) and
//! written back, once.

use super::store::{StoreError, WardrobeStore};
use super::thumbnail::decode_thumbnail;
use super::types::Garment;
use crate::garment::style_features;

/// Fills in the style statistics of every garment in `garments` that has none, from its
/// stored thumbnail, and stores them. A garment without a thumbnail keeps none. Returns how
/// many were filled in. Write-back is best effort: if the store refuses (e.g. a full disk),
/// the statistics still serve this run and are recomputed next time.
pub fn fill_missing_styles(
    store: &WardrobeStore,
    garments: &mut [Garment],
) -> Result<usize, StoreError> {
    let mut filled = 0;
    for garment in garments.iter_mut().filter(|g| g.style.is_empty()) {
        let Some(png) = store.thumbnail(garment.id)? else {
            continue;
        };
        if png.is_empty() {
            continue;
        }
        garment.style = style_features(&decode_thumbnail(&png));
        let _ = store.set_style(garment.id, &garment.style);
        filled += 1;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::garment::{GarmentType, STYLE_DIM};
    use crate::wardrobe::{NewGarment, thumbnail_png};
    use image::{Rgb, RgbImage};

    #[test]
    fn a_garment_stored_without_style_gets_it_from_its_thumbnail_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = WardrobeStore::open(dir.path()).unwrap();
        let picture = RgbImage::from_fn(80, 120, |x, _| {
            if (20..60).contains(&x) {
                Rgb([200, 36, 40])
            } else {
                Rgb([250, 250, 250])
            }
        });
        let id = store
            .add_garment(&NewGarment {
                garment_type: GarmentType::Top,
                name: "old red top".into(),
                thumbnail_png: thumbnail_png(&picture).unwrap(),
                embedding: vec![1.0, 0.0],
                style: Vec::new(),
                view_jpeg: Vec::new(),
                added_unix: 0,
            })
            .unwrap();
        let mut garments = store.garments().unwrap();
        assert!(garments[0].style.is_empty());
        assert_eq!(fill_missing_styles(&store, &mut garments).unwrap(), 1);
        assert_eq!(garments[0].style, style_features(&picture));
        assert_eq!(garments[0].style.len(), STYLE_DIM);
        // Stored: the next reader has them without recomputing.
        let mut again = store.garments().unwrap();
        assert_eq!(again[0].style, garments[0].style);
        assert_eq!(fill_missing_styles(&store, &mut again).unwrap(), 0);
        assert_eq!(store.garment(id).unwrap().unwrap().style.len(), STYLE_DIM);
    }
}
