//! The owner's wardrobe: garment and outfit-edge records and thumbnails (from the
//! contract), their crash-safe store, the garment views kept for embedding again, and the
//! backfill of style statistics.

pub mod picture;
pub mod restyle;
pub mod store;
pub use capsule_contract::wardrobe as types;
pub use capsule_contract::wardrobe::thumbnail;

pub use restyle::fill_missing_styles;
pub use store::{ExtraView, NewGarment, StoreError, StoredPicture, WardrobeStore};
pub use thumbnail::{decode_thumbnail, thumbnail_png};
pub use types::{BadGarmentId, EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};
