//! Pointwise (1×1) f32 convolution with few input channels, computed on the channel planes.
//!
//! tract lowers a 1×1 convolution to a matrix product. With 16–40 input channels its 16×12
//! tile does only 16–40 multiply-adds and then pays the fixed cost of a tile (packing the
//! activations, the store), so a mobile network's expansion layers ran at half the speed of
//! its wide ones. In NCHW the input channels of a 1×1, stride-1, unpadded convolution are
//! already contiguous planes, the rows of the matrix product's right-hand side: here the
//! linalg `conv_w4` kernel reads them in place, four output channels at a time, with the
//! weights straight from the `[O, I]` kernel and nothing packed. Each output point is the
//! bias, then one multiply-add per input channel in channel order (the kernel's arithmetic).
//!
//! Points go in blocks whose input fits the first-level cache, and every group of four output
//! channels reads a block before the next one is loaded. Threads split the output channels.

use super::fused_clamp::Clamp;
use crate::internal::*;

/// Bytes of input one block of points reads, all channels: about half a first-level cache.
const BLOCK_INPUT_BYTES: usize = 16 * 1024;

/// The geometry of one pointwise convolution: `[N, I, P]` in, `[N, O, P]` out, `P` the points
/// of a plane, every plane contiguous. The kernel is `[O, I]`, the bias `[O]`.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct PointwisePlanar {
    batch: usize,
    input_channels: usize,
    output_channels: usize,
    points: usize,
    output_shape: TVec<usize>,
    /// A following ReLU or ReLU6 fused into the store; `None` when not fused.
    clamp: Option<Clamp>,
}

impl PointwisePlanar {
    /// `output_channels` must be a multiple of four: the kernel writes four at a time.
    pub(super) fn new(
        batch: usize,
        input_channels: usize,
        output_channels: usize,
        points: usize,
        output_shape: TVec<usize>,
    ) -> TractResult<PointwisePlanar> {
        ensure!(
            output_channels.is_multiple_of(4) && output_channels > 0,
            "a planar pointwise convolution writes four output channels at a time, not {output_channels}"
        );
        ensure!(
            output_shape.iter().product::<usize>() == batch * output_channels * points,
            "planar pointwise output shape {output_shape:?} is not {batch}×{output_channels}×{points}"
        );
        Ok(PointwisePlanar {
            batch,
            input_channels,
            output_channels,
            points,
            output_shape,
            clamp: None,
        })
    }

    /// Points per block: a multiple of the kernel's 16-point step, at least one step.
    fn block(&self) -> usize {
        let fit = BLOCK_INPUT_BYTES / (4 * self.input_channels.max(1));
        (fit / 16 * 16).max(16).min(self.points)
    }

    fn eval_f32(&self, input: &Tensor, kernel: &Tensor, bias: &Tensor) -> TractResult<Tensor> {
        let conv_w4 = tract_linalg::routines::conv_w4_f32()
            .context("a planar pointwise convolution needs the conv_w4 kernel")?;
        let (input, kernel, bias) =
            (input.try_as_plain_ram()?, kernel.try_as_plain_ram()?, bias.try_as_plain_ram()?);
        let (input, kernel, bias) =
            (input.as_slice::<f32>()?, kernel.as_slice::<f32>()?, bias.as_slice::<f32>()?);
        let (ic, oc, points) = (self.input_channels, self.output_channels, self.points);
        ensure!(
            input.len() == self.batch * ic * points,
            "pointwise input is not {}×{ic}×{points}",
            self.batch
        );
        ensure!(kernel.len() == oc * ic, "pointwise kernel is not [{oc}, {ic}]");
        ensure!(bias.len() == oc, "pointwise bias is not one per output channel");
        // SAFETY: every element is written below: each unit's four planes, block by block,
        // every point of a block by the kernel.
        let mut output = unsafe { Tensor::uninitialized::<f32>(&self.output_shape)? };
        let mut view = output.try_as_plain_ram_mut()?;
        let out = view.as_slice_mut::<f32>()?;
        let offsets: Vec<isize> = (0..ic).map(|c| (c * points) as isize).collect();
        let groups = oc / 4;
        let block = self.block();
        let unit_len = 4 * points;
        let work = out.len() * ic;
        tract_linalg::multithread::par_chunks_mut(out, unit_len, work, |first, chunk| {
            let units = chunk.len() / unit_len;
            for start in (0..points).step_by(block) {
                let len = block.min(points - start);
                for u in 0..units {
                    let unit = first + u;
                    let (n, o) = (unit / groups, unit % groups * 4);
                    let input = &input[n * ic * points + start..];
                    let out = &mut chunk[u * unit_len + start..];
                    // The kernel reads `input[c * points + i]` for every channel `c < ic` and
                    // `i < len`, and writes `out[r * points + i]` for `r < 4`.
                    debug_assert!(input.len() >= (ic - 1) * points + len);
                    debug_assert!(out.len() >= 3 * points + len);
                    let b4 = [bias[o], bias[o + 1], bias[o + 2], bias[o + 3]];
                    // SAFETY: the reads and writes above stay inside `input` and `out`: `start +
                    // len <= points`, and the unit's four planes are in `chunk`.
                    unsafe {
                        conv_w4(
                            input.as_ptr(),
                            out.as_mut_ptr(),
                            &kernel[o * ic..][..4 * ic],
                            &offsets,
                            &b4,
                            len,
                            1,
                            points as isize,
                        )
                    };
                    if let Some(clamp) = self.clamp {
                        for r in 0..4 {
                            clamp.apply(&mut out[r * points..][..len]);
                        }
                    }
                }
            }
            Ok(())
        })?;
        drop(view);
        Ok(output)
    }
}

impl Op for PointwisePlanar {
    fn name(&self) -> StaticName {
        "PointwisePlanarConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let mut info = format!(
            "{} × {} -> {} channels of {} points, blocks of {}",
            self.batch,
            self.input_channels,
            self.output_channels,
            self.points,
            self.block()
        );
        if let Some(clamp) = self.clamp {
            info += &format!(", then {clamp}");
        }
        Ok(vec![info])
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for PointwisePlanar {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (input, kernel, bias) = args_3!(inputs);
        ensure!(input.datum_type() == f32::datum_type(), "PointwisePlanarConv is f32 only");
        Ok(tvec!(self.eval_f32(&input, &kernel, &bias)?.into_tvalue()))
    }
}

impl TypedOp for PointwisePlanar {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 3, "PointwisePlanarConv takes input, kernel and bias");
        ensure!(
            inputs[2].shape.volume() == self.output_channels.to_dim(),
            "PointwisePlanarConv has {} output channels, its bias {}",
            self.output_channels,
            inputs[2].shape.volume()
        );
        Ok(tvec!(f32::fact(&self.output_shape)))
    }

    fn cost(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let macs = self.batch * self.output_channels * self.input_channels * self.points;
        Ok(tvec!((Cost::FMA(f32::datum_type()), macs.to_dim())))
    }

    /// Absorbs a following ReLU or ReLU6 (`Clamp::after`) into the store.
    fn fuse(&self, model: &TypedModel, node: &TypedNode) -> TractResult<Option<TypedModelPatch>> {
        rule_if_some!(clamp = Clamp::after(self.clamp, model, node)?);
        let new_op = PointwisePlanar { clamp: Some(clamp), ..self.clone() };
        let mut patch = TypedModelPatch::fuse_with_next(model, node, new_op)?;
        let succ = model.node(node.outputs[0].successors[0].node);
        patch.dont_apply_twice = Some(format!("Fuse {succ} into {node}"));
        Ok(Some(patch))
    }

    as_op!();
}
