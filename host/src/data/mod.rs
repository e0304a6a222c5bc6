//! Datasets in their published formats: DeepFashion In-shop, Polyvore Outfits and
//! Fashion-MNIST. The synthetic generator writes the same formats, so one loader serves
//! real and synthetic data.

pub mod error;
pub mod fmnist;
pub mod inshop;
pub mod inspect;
pub mod polyvore;

pub use error::DataError;
