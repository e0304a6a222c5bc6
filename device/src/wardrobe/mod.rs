//! The owner's wardrobe: garment and outfit-edge records and their crash-safe store.

pub mod store;
pub mod types;

pub use store::{NewGarment, StoreError, WardrobeStore};
pub use types::{EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};
