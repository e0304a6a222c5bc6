//! Picture → garment: the one path from a picture (a photo, a camera frame, an imported
//! set's item) to what the wardrobe stores, so every garment's embedding, thumbnail and
//! style statistics come from the same garment view.

use crate::engine::{Embedder, EngineError};
use crate::garment::GarmentType;
use crate::garment::style::{style_of_view, style_view};
use crate::preprocess::GarmentView;
use crate::wardrobe::picture::view_jpeg;
use crate::wardrobe::{Garment, GarmentId, GarmentStatus, NewGarment, thumbnail_png};
use image::RgbImage;

/// A picture could not be made into a garment.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("embedding the garment")]
    Embed(#[source] EngineError),
    #[error("encoding the garment's thumbnail")]
    Thumbnail(#[source] image::ImageError),
    #[error("encoding the garment's view for the store")]
    View(#[source] image::ImageError),
}

/// A garment as seen in one picture: what the wardrobe keeps of it.
#[derive(Debug, Clone)]
pub struct SeenGarment {
    /// The embedder's unit-length embedding of the garment view.
    pub embedding: Vec<f32>,
    /// PNG of the view at the style statistics' size (see `wardrobe::thumbnail`).
    pub thumbnail_png: Vec<u8>,
    /// `style-v1` statistics of the same view.
    pub style: Vec<f32>,
    /// The garment view itself: stored (scaled, as a JPEG) so a later embedder can embed
    /// the garment again. Encoded only when the garment is stored.
    pub view: RgbImage,
}

impl SeenGarment {
    /// The garment in `picture` inside `roi` (fractions of the picture), as `embedder`'s
    /// preprocessing cuts it out.
    pub fn in_picture(
        embedder: &mut Embedder,
        picture: &RgbImage,
        roi: [f32; 4],
    ) -> Result<Self, EnrolError> {
        let view = embedder.view(picture, roi);
        let embedding = embedder.embed(&view).map_err(EnrolError::Embed)?;
        Self::from_view(embedding, &view)
    }

    /// A garment whose view was already embedded (the frame loop has both).
    pub fn from_view(embedding: Vec<f32>, view: &GarmentView) -> Result<Self, EnrolError> {
        // Thumbnail and style statistics share one scaled view, so the statistics can be
        // recomputed from the stored thumbnail.
        let small = style_view(view.picture());
        Ok(Self {
            embedding,
            thumbnail_png: thumbnail_png(&small).map_err(EnrolError::Thumbnail)?,
            style: style_of_view(&small),
            view: view.picture().clone(),
        })
    }

    /// The view as the store keeps it (`wardrobe::picture`).
    pub fn view_jpeg(&self) -> Result<Vec<u8>, EnrolError> {
        view_jpeg(&self.view).map_err(EnrolError::View)
    }

    /// The record to store for this garment.
    pub fn to_new_garment(
        &self,
        garment_type: GarmentType,
        name: &str,
        now: u64,
    ) -> Result<NewGarment, EnrolError> {
        Ok(NewGarment {
            garment_type,
            name: name.to_string(),
            thumbnail_png: self.thumbnail_png.clone(),
            embedding: self.embedding.clone(),
            style: self.style.clone(),
            view_jpeg: self.view_jpeg()?,
            added_unix: now,
        })
    }

    /// This garment as one not (yet) in the wardrobe, to dress outfits around.
    pub fn unsaved(&self, garment_type: GarmentType) -> Garment {
        Garment {
            id: GarmentId(0),
            garment_type,
            name: format!("new {garment_type}"),
            thumbnail_png: self.thumbnail_png.clone(),
            embedding: self.embedding.clone(),
            style: self.style.clone(),
            added_unix: 0,
            last_worn_unix: None,
            status: GarmentStatus::Available,
        }
    }
}
