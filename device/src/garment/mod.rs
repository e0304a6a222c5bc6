pub mod types;
pub use types::{GarmentType, UnknownGarmentType};
