//! A suggested outfit as the owner sees it: drawn on the mirror, printed by `capsule
//! suggest`, sent as JSON. The domain's outfit (`suggest::Outfit`: garment ids and a score)
//! becomes this once names, pictures and the "why" are looked up.

use crate::garment::GarmentType;
use crate::wardrobe::GarmentId;
use image::RgbImage;
use serde::Serialize;

/// One suggested outfit as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ShownOutfit {
    /// What `capsule feedback` takes (e.g. `g3+g7+g9`).
    pub key: String,
    /// Compatibility, 0..1.
    pub score: f32,
    /// Why it goes together, e.g. "colours: complementary".
    pub why: String,
    /// Its garments in outfit order, the one in view included.
    pub garments: Vec<ShownGarment>,
    /// Pictures of its garments other than the one in view, in outfit order.
    #[serde(skip)]
    pub pictures: Vec<RgbImage>,
}

/// A garment of a shown outfit.
#[derive(Debug, Clone, Serialize)]
pub struct ShownGarment {
    pub id: GarmentId,
    pub name: String,
    #[serde(rename = "type")]
    pub garment_type: GarmentType,
}
