pub mod style;
pub mod types;
pub use style::{STYLE_DIM, STYLE_SOURCE, style_features};
pub use types::{GarmentType, TYPE_PAIRS, UnknownGarmentType, type_pair_index};
