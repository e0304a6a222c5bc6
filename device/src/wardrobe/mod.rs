//! The owner's wardrobe: garment and outfit-edge records, their crash-safe store, thumbnails,
//! and import of Polyvore-format sets.

pub mod import;
pub mod restyle;
pub mod store;
pub mod thumbnail;
pub mod types;

pub use import::{ImportError, ImportSummary, import_polyvore, is_polyvore_set};
pub use restyle::fill_missing_styles;
pub use store::{NewGarment, StoreError, WardrobeStore};
pub use thumbnail::{decode_thumbnail, thumbnail_png};
pub use types::{EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};
