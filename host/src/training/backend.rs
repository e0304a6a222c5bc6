//! Which burn backend runs training: chosen at run time, compiled in by features.

use burn::tensor::Device;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// `--backend`: `flex` (pure-Rust CPU, always built), `wgpu` or `cuda` (GPU, with the
/// cargo features of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Flex,
    Wgpu,
    Cuda,
}

/// The backend was not compiled into this binary.
#[derive(Debug, thiserror::Error)]
#[error(
    "this capsule-host was built without the `{0}` backend: rebuild with `cargo build --release -p capsule-host --features {0}`"
)]
pub struct BackendUnavailable(pub &'static str);

impl Backend {
    /// The inference device of this backend.
    pub fn device(self) -> Result<Device, BackendUnavailable> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(Default::default())),
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => Err(BackendUnavailable("wgpu")),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0)),
            #[cfg(not(feature = "cuda"))]
            Backend::Cuda => Err(BackendUnavailable("cuda")),
        }
    }

    /// The same device with gradients recorded, for training.
    pub fn training_device(self) -> Result<Device, BackendUnavailable> {
        Ok(self.device()?.autodiff())
    }
}
