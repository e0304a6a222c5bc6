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

    /// Device number `index` of this backend (`--devices`): the CUDA device of that number,
    /// the wgpu discrete GPU of that number. `flex` has one device, the CPU, whatever the
    /// number: several of them run replicas side by side on it, which checks the
    /// data-parallel path without a GPU but does not make training faster.
    pub fn device_at(self, index: usize) -> Result<Device, BackendUnavailable> {
        match self {
            Backend::Flex => {
                let _ = index;
                Ok(Device::flex())
            }
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(index))),
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => Err(BackendUnavailable("wgpu")),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(index)),
            #[cfg(not(feature = "cuda"))]
            Backend::Cuda => Err(BackendUnavailable("cuda")),
        }
    }

    /// The training devices (gradients recorded) for `indices`; device 0 alone when empty.
    pub fn training_devices(self, indices: &[usize]) -> Result<Vec<Device>, BackendUnavailable> {
        if indices.is_empty() {
            return Ok(vec![self.training_device()?]);
        }
        indices
            .iter()
            .map(|&i| Ok(self.device_at(i)?.autodiff()))
            .collect()
    }
}
