//! Published dataset formats the device reads too (wardrobe import).

pub mod polyvore;
