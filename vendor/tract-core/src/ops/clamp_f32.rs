//! f32 `max` and `min` by a scalar in the comparisons that x86's `maxps` and `minps` make.
//!
//! tract-linalg has no x86-64 kernel for them (only arm64, riscv64 and wasm ones), so a ReLU or
//! ReLU6 pass there runs linalg's portable loop, and the loops here are compiled for AVX where
//! the CPU has it: tract-core itself is built for the baseline x86-64. One instruction each,
//! where `f32::max`'s NaN rule costs three; the results equal `f32::max`/`f32::min` for every
//! value, NaN included (a NaN becomes the bound), as long as the bound is not NaN.
//! The ReLU6 pass after the embedder's stem (a 32×64×64 output) went from about 110 to 16–20 µs
//! (`profile_onnx` per-node times, vendor/README.md).

use tract_linalg::{BinFn, BinOp};

/// `max(x, lower)` then `min(x, upper)` on every value, in place.
pub(crate) fn clamp(values: &mut [f32], lower: f32, upper: f32) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX, checked just above.
        return unsafe { clamp_avx(values, lower, upper) };
    }
    clamp_portable(values, lower, upper)
}

/// The by-scalar kernel for f32 `op`: this module's loop for `max` and `min` on x86-64 with AVX,
/// handing a NaN bound to `fallback` (linalg's kernel); `fallback` itself otherwise.
pub(crate) fn by_scalar(op: BinOp, fallback: Box<BinFn>) -> Box<BinFn> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx") && matches!(op, BinOp::Max | BinOp::Min) {
        return Box::new(move |a, b| {
            let bound = b.as_slice::<f32>()?[0];
            if bound.is_nan() {
                return fallback(a, b);
            }
            let (lower, upper) = match op {
                BinOp::Max => (bound, f32::INFINITY),
                _ => (f32::NEG_INFINITY, bound),
            };
            clamp(a.as_slice_mut::<f32>()?, lower, upper);
            Ok(())
        });
    }
    let _ = op;
    fallback
}

#[inline(always)]
fn clamp_portable(values: &mut [f32], lower: f32, upper: f32) {
    for v in values {
        let x = *v;
        let x = if x > lower { x } else { lower };
        *v = if x < upper { x } else { upper };
    }
}

/// [`clamp_portable`] compiled for 8-wide registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn clamp_avx(values: &mut [f32], lower: f32, upper: f32) {
    clamp_portable(values, lower, upper)
}
