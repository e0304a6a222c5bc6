//! The owner's wardrobe: garment and outfit-edge records (the store comes with the runtime).

pub mod types;

pub use types::{EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};
