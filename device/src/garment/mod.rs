pub mod types;
pub use types::{GarmentType, TYPE_PAIRS, UnknownGarmentType, type_pair_index};
