//! An ImageNet-pretrained backbone for the embedder: EfficientNet-Lite0, cut after a chosen
//! stage, optionally frozen, with the SE-residual blocks and the capsule head to go on top.
//!
//! Why a pretrained backbone: garments are recognised by texture, print and trim, which
//! ImageNet features already separate; the compact SE-ResNet stem learns them from our few
//! thousand pictures only. Why Lite0: ReLU6, no SE and plain convolutions are what tract
//! and int8 quantization run well on the board.
//!
//! [`efficientnet`] is the module and its config; [`import`] loads the weights of the
//! PyTorch checkpoint `scripts/fetch-pretrained` puts in the cache. Nothing downloads at run
//! time.

pub mod efficientnet;
pub mod import;

pub use efficientnet::{BackboneConfig, BackboneConfigError, EfficientNetLite0};
pub use import::{ImportError, default_weights_path, load_pretrained};

/// Per-channel mean of the pictures the weights were trained on, on the 0..1 scale of
/// `capsule_device::preprocess`: TensorFlow's Lite models take `(x − 127) / 128` on 0..255
/// pixels, not ImageNet's per-channel statistics.
pub const PIXEL_MEAN: [f32; 3] = [127.0 / 255.0; 3];
/// Per-channel standard deviation to go with [`PIXEL_MEAN`].
pub const PIXEL_STD: [f32; 3] = [128.0 / 255.0; 3];
