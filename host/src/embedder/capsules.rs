//! The capsule head: primary capsules on a small pooled grid, then routing-by-agreement
//! (Sabour et al. 2017) with a fixed number of iterations, unrolled so the graph has no loop.
//!
//! # Exact forward math (what the ONNX writer must reproduce)
//!
//! Notation: batch `B`, stem channels `C`, stem map `H×W` (square), grid `G`, primary capsule
//! types `T` of dimension `D`, `N = T·G·G` primary capsules, `J` output capsules of dimension
//! `E`, `R` routing iterations, `ε = 1e-7`.
//!
//! 1. `p = AveragePool(f, kernel = stride = H/G)`: `[B, C, H, W] → [B, C, G, G]`.
//!    Pooling first keeps `N` small: a 12×12 map with 16 types is 2,304 capsules and most of
//!    a Pi's inference budget; 4×4 × 8 types is 128.
//! 2. `q = Conv1x1(p) + bias`: `[B, T·D, G, G]`, reshaped to `[B, T, D, G·G]`, transposed
//!    to `[T, B, G·G, D]` and reshaped to `u: [T, B·G·G, D]` (channel `t·D + d` is component
//!    `d` of type `t`).
//! 3. `u = squash(u)` over the last axis, where
//!    `squash(s) = s · |s|² / ((1 + |s|²) · sqrt(|s|² + ε))`.
//! 4. Predictions `û = MatMul(u, W)` with `W: [T, D, J·E]` (one transform per capsule type,
//!    shared over grid positions like a convolutional capsule layer):
//!    `[T, B·G·G, J·E]` → reshape `[T, B, G·G, J, E]` → swap axes 0 and 1 → reshape
//!    `[B, N, J, E]` (primary index `i = t·G·G + g`).
//! 5. Routing, logits `b = 0: [B, N, J]`; for `r = 1..=R`:
//!    `c = Softmax(b, axis = J)`; `s = Sum_i(c[..., None] · û)`: `[B, J, E]`;
//!    `v = squash(s)`; and, except after the last iteration,
//!    `b = b + Sum_E(û · v[:, None])`.
//! 6. The embedding is `v` flattened to `[B, J·E]` and L2-normalised by the caller
//!    (`x / sqrt(max(Sum x², ε))`).

use burn::module::Param;
use burn::nn::Initializer;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;

/// Numerical floor inside square roots.
pub const EPS: f32 = 1e-7;

/// Shape of a capsule head.
#[derive(Debug, Clone, Copy)]
pub struct CapsuleShape {
    pub in_channels: usize,
    pub grid: usize,
    pub primary_types: usize,
    pub primary_dim: usize,
    pub output_capsules: usize,
    pub output_dim: usize,
    pub routing_iterations: usize,
}

/// Primary capsules, per-type transforms and routing.
#[derive(Module, Debug)]
pub struct CapsuleHead {
    pub primary: Conv2d,
    /// `[T, D, J·E]`.
    pub transform: Param<Tensor<3>>,
    pub grid: usize,
    pub primary_types: usize,
    pub primary_dim: usize,
    pub output_capsules: usize,
    pub output_dim: usize,
    pub routing_iterations: usize,
}

/// `s · |s|² / ((1 + |s|²) · sqrt(|s|² + ε))` over the last axis: keeps direction, maps the
/// length into [0, 1).
pub fn squash<const N: usize>(s: Tensor<N>) -> Tensor<N> {
    let sq = s.clone().square().sum_dim(N - 1);
    let scale = sq.clone() / ((sq.clone() + 1.0) * (sq + EPS).sqrt());
    s * scale
}

impl CapsuleHead {
    pub fn new(shape: CapsuleShape, device: &Device) -> Self {
        let CapsuleShape {
            in_channels,
            grid,
            primary_types: t,
            primary_dim: d,
            output_capsules: j,
            output_dim: e,
            routing_iterations,
        } = shape;
        let transform = Initializer::KaimingUniform {
            gain: 1.0,
            fan_out_only: false,
        }
        .init_with([t, d, j * e], Some(d), Some(j * e), device);
        Self {
            primary: Conv2dConfig::new([in_channels, t * d], [1, 1]).init(device),
            transform,
            grid,
            primary_types: t,
            primary_dim: d,
            output_capsules: j,
            output_dim: e,
            routing_iterations: routing_iterations.max(1),
        }
    }

    /// Stem features `[B, C, H, W]` → output capsules flattened `[B, J·E]` (not normalised).
    pub fn forward(&self, features: Tensor<4>) -> Tensor<2> {
        let [b, _, h, _] = features.dims();
        let g = self.grid;
        let (t, d) = (self.primary_types, self.primary_dim);
        let (j, e) = (self.output_capsules, self.output_dim);
        let k = (h / g).max(1);
        let pooled = avg_pool2d(features, AvgPoolOptions::new([k, k]));
        let gg = g * g;
        let u = self
            .primary
            .forward(pooled)
            .reshape([b, t, d, gg])
            .permute([1, 0, 3, 2])
            .reshape([t, b * gg, d]);
        let u = squash(u);
        let u_hat = u
            .matmul(self.transform.val())
            .reshape([t, b, gg, j * e])
            .swap_dims(0, 1)
            .reshape([b, t * gg, j, e]);

        let mut logits: Tensor<3> = Tensor::zeros([b, t * gg, j], &u_hat.device());
        let mut v = None;
        // A fixed count known when the graph is built: the export unrolls it.
        for r in 0..self.routing_iterations {
            let c = softmax(logits.clone(), 2).unsqueeze_dim::<4>(3);
            let s = (c * u_hat.clone()).sum_dim(1).reshape([b, j, e]);
            let out = squash(s);
            if r + 1 < self.routing_iterations {
                let agreement = (u_hat.clone() * out.clone().unsqueeze_dim::<4>(1))
                    .sum_dim(3)
                    .reshape([b, t * gg, j]);
                logits = logits + agreement;
            }
            v = Some(out);
        }
        v.expect("at least one routing iteration")
            .reshape([b, j * e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squash_keeps_direction_and_bounds_length() {
        let device = Device::flex();
        let s = Tensor::<2>::from_data([[3.0f32, 4.0], [0.0, 0.0]], &device);
        let v: Vec<f32> = squash(s).into_data().try_to_vec::<f32>().unwrap();
        // |s| = 5: length 25/26, direction (0.6, 0.8).
        let len = 25.0 / 26.0;
        assert!((v[0] - 0.6 * len).abs() < 1e-5 && (v[1] - 0.8 * len).abs() < 1e-5);
        assert_eq!(&v[2..], &[0.0, 0.0]);
    }

    #[test]
    fn head_maps_features_to_output_capsules() {
        let device = Device::flex();
        let head = CapsuleHead::new(
            CapsuleShape {
                in_channels: 6,
                grid: 2,
                primary_types: 3,
                primary_dim: 4,
                output_capsules: 5,
                output_dim: 2,
                routing_iterations: 3,
            },
            &device,
        );
        let x = Tensor::<4>::random([2, 6, 4, 4], burn::tensor::Distribution::Default, &device);
        let out = head.forward(x);
        assert_eq!(out.dims(), [2, 10]);
        let v: Vec<f32> = out
            .reshape([2, 5, 2])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for cap in v.chunks(2) {
            assert!(cap[0].hypot(cap[1]) < 1.0, "squashed lengths stay below 1");
        }
    }
}
