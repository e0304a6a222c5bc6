//! Model bundles on the board: the shared contract (manifest, golden files, signatures,
//! precision selection; from `capsule-contract`), verification of a bundle directory, and
//! the device's A/B slots.

pub use capsule_contract::bundle::*;

pub mod verify;

pub use verify::{BundleError, VerifiedBundle, sha256_hex, verify_signed};
