//! Depthwise f32 convolution over channel planes (NCHW or CHW), computed directly.
//!
//! The zone walk of [`super::depth_wise`] vectorises only along a contiguous inner loop, so
//! the small planes of a mobile network's later stages (8×8 at 5×5 taps: a four-point inner
//! loop) and every strided convolution (an inner loop with stride 2) stay scalar. Here each
//! channel is first copied into a zero-padded scratch plane split by the horizontal stride
//! (phase `p` holds the padded columns `p, p + s, p + 2s, …`), so every tap of every stride
//! becomes one contiguous load per `LANES` output points. Output rows are computed `ROWS` at
//! a time, which gives the adder independent chains.
//!
//! The arithmetic is the scalar walk's, in the same order: the bias, then one multiply and one
//! add per tap in kernel order (no fused multiply-add). A tap on the padding adds `k * 0`, which
//! leaves the sum unchanged, so results equal the generic path's (up to the sign of a zero).

use super::fused_clamp::Clamp;
use crate::internal::*;
use crate::ops::cnn::Patch;
use crate::ops::nn::DataShape;

/// Output points per vector step: one AVX register, two NEON ones.
const LANES: usize = 8;
/// Output rows computed together: independent accumulator chains.
const ROWS: usize = 4;

/// The geometry of one depthwise convolution this path can compute, checked once at eval.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub(super) struct Planar {
    /// `n * c` planes, each `in_h × in_w` in, `out_h × out_w` out, contiguous.
    planes: usize,
    channels: usize,
    in_h: usize,
    in_w: usize,
    out_h: usize,
    out_w: usize,
    k_h: usize,
    k_w: usize,
    stride_h: usize,
    stride_w: usize,
    pad_top: usize,
    pad_left: usize,
    /// A following ReLU or ReLU6 fused into the store; `None` when not fused.
    clamp: Option<Clamp>,
}

impl Planar {
    /// The plan for this convolution, or `None` where the generic walk must run: channels
    /// last, a rank other than 2, dilation, or a layout whose planes are not contiguous.
    pub(super) fn new(patch: &Patch, input: &DataShape, output: &DataShape) -> Option<Planar> {
        if input.fmt.c_is_last()
            || output.fmt.c_is_last()
            || input.hw_rank() != 2
            || patch.spec.kernel_shape.len() != 2
            || patch.spec.dilations.iter().any(|&d| d != 1)
            || patch.spec.strides.iter().any(|&s| s == 0)
            || patch.pad_before.len() != 2
        {
            return None;
        }
        let (in_h, in_w) = (input.hw_dims()[0], input.hw_dims()[1]);
        let (out_h, out_w) = (output.hw_dims()[0], output.hw_dims()[1]);
        let channels = *input.c();
        let n = *input.n().unwrap_or(&1);
        let contiguous = |shape: &DataShape, h: usize, w: usize| {
            *shape.w_stride() == 1
                && *shape.h_stride() == w
                && *shape.c_stride() == h * w
                && shape.n_stride().is_none_or(|&s| s == channels * h * w)
        };
        if !contiguous(input, in_h, in_w)
            || !contiguous(output, out_h, out_w)
            || *output.c() != channels
            || *output.n().unwrap_or(&1) != n
            || patch.output_shape.as_slice() != [out_h, out_w]
            || out_h == 0
            || out_w == 0
        {
            return None;
        }
        Some(Planar {
            planes: n * channels,
            channels,
            in_h,
            in_w,
            out_h,
            out_w,
            k_h: patch.spec.kernel_shape[0],
            k_w: patch.spec.kernel_shape[1],
            stride_h: patch.spec.strides[0],
            stride_w: patch.spec.strides[1],
            pad_top: patch.pad_before[0],
            pad_left: patch.pad_before[1],
            clamp: None,
        })
    }

    /// The fused bounds, if any.
    pub(super) fn clamp(&self) -> Option<Clamp> {
        self.clamp
    }

    /// This convolution followed by `clamp`.
    pub(super) fn with_clamp(self, clamp: Clamp) -> Planar {
        Planar { clamp: Some(clamp), ..self }
    }

    fn taps(&self) -> usize {
        self.k_h * self.k_w
    }

    /// Output columns rounded up to whole vectors: the scratch holds zeros past the end.
    fn padded_out_w(&self) -> usize {
        self.out_w.div_ceil(LANES) * LANES
    }

    /// Padded input rows the output reads.
    fn scratch_rows(&self) -> usize {
        (self.out_h - 1) * self.stride_h + self.k_h
    }

    /// Columns of one stride phase: every vector of every tap stays inside.
    fn scratch_w(&self) -> usize {
        self.padded_out_w() + (self.k_w - 1) / self.stride_w
    }

    fn scratch_len(&self) -> usize {
        self.stride_w * self.scratch_rows() * self.scratch_w()
    }

    /// Computes the convolution: `input` is `[.., C, H, W]`, `kernel` `[C, 1, k_h * k_w]`,
    /// `bias` `[C]`.
    pub(super) fn eval(
        &self,
        input: &Tensor,
        kernel: &Tensor,
        bias: &Tensor,
        output_shape: &[usize],
    ) -> TractResult<Tensor> {
        let (input, kernel, bias) = (
            input.try_as_plain_ram()?,
            kernel.try_as_plain_ram()?,
            bias.try_as_plain_ram()?,
        );
        let (input, kernel, bias) = (
            input.as_slice::<f32>()?,
            kernel.as_slice::<f32>()?,
            bias.as_slice::<f32>()?,
        );
        let (in_plane, out_plane) = (self.in_h * self.in_w, self.out_h * self.out_w);
        anyhow::ensure!(
            input.len() == self.planes * in_plane,
            "depthwise input is not {} planes",
            self.planes
        );
        anyhow::ensure!(
            kernel.len() == self.channels * self.taps(),
            "depthwise kernel is not [C, 1, taps]"
        );
        anyhow::ensure!(
            bias.len() == self.channels,
            "depthwise bias is not one per channel"
        );
        let mut output = Tensor::zero::<f32>(output_shape)?;
        let mut view = output.try_as_plain_ram_mut()?;
        let out = view.as_slice_mut::<f32>()?;
        anyhow::ensure!(
            out.len() == self.planes * out_plane,
            "depthwise output is not {} planes",
            self.planes
        );
        let work = out.len() * self.taps();
        let offsets = self.tap_offsets();
        tract_linalg::multithread::par_chunks_mut(out, out_plane, work, |first, chunk| {
            let mut scratch = vec![0f32; self.scratch_len()];
            for (ix, out) in chunk.chunks_exact_mut(out_plane).enumerate() {
                let plane = first + ix;
                let c = plane % self.channels;
                self.channel(
                    &input[plane * in_plane..][..in_plane],
                    &kernel[c * self.taps()..][..self.taps()],
                    &offsets,
                    bias[c],
                    out,
                    &mut scratch,
                );
            }
            Ok(())
        })?;
        drop(view);
        Ok(output)
    }

    /// One channel plane, on the widest vectors this CPU has.
    fn channel(
        &self,
        input: &[f32],
        taps: &[f32],
        offsets: &[usize],
        bias: f32,
        output: &mut [f32],
        scratch: &mut [f32],
    ) {
        debug_assert_eq!(scratch.len(), self.scratch_len());
        self.fill(input, scratch);
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX, checked just above.
            return unsafe { self.compute_avx(taps, offsets, bias, output, scratch) };
        }
        self.compute(taps, offsets, bias, output, scratch)
    }

    /// Copies one input plane into the zero-padded, stride-split scratch.
    fn fill(&self, input: &[f32], scratch: &mut [f32]) {
        match self.stride_w {
            1 => self.fill_phases::<1>(input, scratch),
            2 => self.fill_phases::<2>(input, scratch),
            3 => self.fill_phases::<3>(input, scratch),
            _ => self.fill_any(input, scratch),
        }
    }

    /// Phase `p`, column `j` of a padded row is input column `j * S + p - pad_left`, or zero.
    /// With the stride known at compile time, a row splits in one pass of `S`-point chunks.
    #[inline(always)]
    fn fill_phases<const S: usize>(&self, input: &[f32], scratch: &mut [f32]) {
        let (cols, rows) = (self.scratch_w(), self.scratch_rows());
        scratch.fill(0.0);
        // Input column `x` is padded column `q = x + pad_left`. The first columns, up to a
        // `q` that is a multiple of `S`, go one by one; then `S` at a time, one to each phase.
        let head = (S - self.pad_left % S) % S;
        for y in 0..self.in_h {
            let r = y + self.pad_top;
            if r >= rows {
                break;
            }
            let src = &input[y * self.in_w..][..self.in_w];
            let head = head.min(self.in_w);
            for (x, &v) in src[..head].iter().enumerate() {
                self.put(scratch, S, r, x + self.pad_left, v);
            }
            let j0 = (head + self.pad_left) / S;
            if j0 >= cols {
                continue;
            }
            let chunks = ((self.in_w - head) / S).min(cols - j0);
            let (body, tail) = src[head..].split_at(chunks * S);
            let phases: [&mut [f32]; S] = split_phases(scratch, rows * cols, r * cols + j0, chunks);
            for (j, chunk) in body.chunks_exact(S).enumerate() {
                for p in 0..S {
                    phases[p][j] = chunk[p];
                }
            }
            let q0 = head + chunks * S + self.pad_left;
            for (i, &v) in tail.iter().enumerate() {
                self.put(scratch, S, r, q0 + i, v);
            }
        }
    }

    /// Any other stride, one point at a time.
    fn fill_any(&self, input: &[f32], scratch: &mut [f32]) {
        scratch.fill(0.0);
        for y in 0..self
            .in_h
            .min(self.scratch_rows().saturating_sub(self.pad_top))
        {
            for (x, &v) in input[y * self.in_w..][..self.in_w].iter().enumerate() {
                self.put(
                    scratch,
                    self.stride_w,
                    y + self.pad_top,
                    x + self.pad_left,
                    v,
                );
            }
        }
    }

    /// Writes `v`, at padded row `r` and padded column `q`, into its stride phase's plane
    /// (`stride` is `stride_w`, passed as the caller's constant where it has one); columns
    /// past the scratch's width are never read and are dropped.
    #[inline(always)]
    fn put(&self, scratch: &mut [f32], stride: usize, r: usize, q: usize, v: f32) {
        let (cols, rows) = (self.scratch_w(), self.scratch_rows());
        if q / stride < cols {
            scratch[((q % stride) * rows + r) * cols + q / stride] = v;
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    unsafe fn compute_avx(
        &self,
        taps: &[f32],
        offsets: &[usize],
        bias: f32,
        output: &mut [f32],
        scratch: &[f32],
    ) {
        self.compute(taps, offsets, bias, output, scratch)
    }

    #[inline(always)]
    fn compute(
        &self,
        taps: &[f32],
        offsets: &[usize],
        bias: f32,
        output: &mut [f32],
        scratch: &[f32],
    ) {
        let mut row = 0;
        while row + ROWS <= self.out_h {
            self.rows::<ROWS>(row, taps, offsets, bias, output, scratch);
            row += ROWS;
        }
        match self.out_h - row {
            3 => self.rows::<3>(row, taps, offsets, bias, output, scratch),
            2 => self.rows::<2>(row, taps, offsets, bias, output, scratch),
            1 => self.rows::<1>(row, taps, offsets, bias, output, scratch),
            _ => {}
        }
    }

    /// Where each tap's first vector starts in the scratch, for output row 0 and column 0:
    /// its stride phase's plane, its row, its column within the phase.
    fn tap_offsets(&self) -> Vec<usize> {
        let (sw, cols, rows) = (self.stride_w, self.scratch_w(), self.scratch_rows());
        (0..self.k_h)
            .flat_map(|ky| {
                (0..self.k_w).map(move |kx| (kx % sw) * rows * cols + ky * cols + kx / sw)
            })
            .collect()
    }

    /// Output rows `row..row + R`, `LANES` columns at a time.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn rows<const R: usize>(
        &self,
        row: usize,
        taps: &[f32],
        offsets: &[usize],
        bias: f32,
        output: &mut [f32],
        scratch: &[f32],
    ) {
        let row_step = self.stride_h * self.scratch_w();
        assert!(taps.len() == self.taps() && offsets.len() == self.taps());
        assert!(scratch.len() == self.scratch_len());
        assert!(row + R <= self.out_h && output.len() == self.out_h * self.out_w);
        for j0 in (0..self.padded_out_w()).step_by(LANES) {
            let mut acc = [[bias; LANES]; R];
            for (&k, &offset) in taps.iter().zip(offsets) {
                let base = offset + j0 + row * row_step;
                for (r, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: `start + LANES <= scratch.len()` (asserted length): the tap's
                    // row is below `scratch_rows` (`(out_h - 1) * stride_h + k_h`), its phase
                    // below `stride_w`, and `j0 + LANES + kx / stride_w <= scratch_w`.
                    let x = unsafe {
                        &*(scratch.as_ptr().add(base + r * row_step) as *const [f32; LANES])
                    };
                    for l in 0..LANES {
                        acc[l] += k * x[l];
                    }
                }
            }
            if let Some(clamp) = self.clamp {
                clamp.apply(acc.as_flattened_mut());
            }
            let n = LANES.min(self.out_w - j0);
            for (r, acc) in acc.iter().enumerate() {
                let out = &mut output[(row + r) * self.out_w + j0..];
                if n == LANES {
                    out[..LANES].copy_from_slice(acc);
                } else {
                    out[..n].copy_from_slice(&acc[..n]);
                }
            }
        }
    }
}

/// The `S` phase rows `[start, start + len)` of a scratch whose phase planes are `plane` apart.
fn split_phases<const S: usize>(
    scratch: &mut [f32],
    plane: usize,
    start: usize,
    len: usize,
) -> [&mut [f32]; S] {
    let mut rest = &mut scratch[start..];
    std::array::from_fn(|p| {
        let this = std::mem::take(&mut rest);
        let (row, after) = this.split_at_mut(if p + 1 < S { plane } else { len });
        rest = after;
        &mut row[..len]
    })
}

impl std::fmt::Display for Planar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "direct planes: {} of {}x{} -> {}x{}, kernel {}x{}, stride {}x{}",
            self.planes,
            self.in_h,
            self.in_w,
            self.out_h,
            self.out_w,
            self.k_h,
            self.k_w,
            self.stride_h,
            self.stride_w
        )?;
        match self.clamp {
            Some(clamp) => write!(f, ", then {clamp}"),
            None => Ok(()),
        }
    }
}
