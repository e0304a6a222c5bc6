//! A ReLU or ReLU6 after a direct convolution, fused into the convolution's store.
//!
//! tract writes `Clip(lower, upper)` and `Relu` as a `max` and/or a `min` by one f32 constant
//! (`OptBinByScalar` after codegen). A direct convolution that owns its store (the planar
//! depthwise and pointwise paths) absorbs them, saving one pass over its output.

use crate::internal::*;

/// Bounds fused into a store: `max(x, lower)` first, then `min(x, upper)`. Kept as f32 bits so
/// the ops that hold one stay `Eq` and `Hash`.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub(super) struct Clamp {
    lower: u32,
    upper: u32,
}

impl Clamp {
    pub(super) fn new(lower: f32, upper: f32) -> Clamp {
        Clamp { lower: lower.to_bits(), upper: upper.to_bits() }
    }

    pub(super) fn bounds(&self) -> (f32, f32) {
        (f32::from_bits(self.lower), f32::from_bits(self.upper))
    }

    /// Clamps `values` in place, `max` then `min`, as `f32::max` and `f32::min` do: the unfused
    /// passes' results on x86-64 (`clamp_f32`), not on arm64 for a NaN, which NEON's pass keeps.
    #[inline]
    pub(super) fn apply(&self, values: &mut [f32]) {
        let (lower, upper) = self.bounds();
        crate::ops::clamp_f32::clamp(values, lower, upper)
    }

    /// The bounds `node` ends up with when it absorbs its only successor, or `None` where that
    /// successor is not a `max` or `min` by one f32 constant that can follow `current`: a `max`
    /// when nothing is fused yet, a `min` when no `min` is, so the order stays max then min.
    /// `node` must be an f32 op whose single output feeds only that successor and is not a
    /// model output.
    pub(super) fn after(
        current: Option<Clamp>,
        model: &TypedModel,
        node: &TypedNode,
    ) -> TractResult<Option<Clamp>> {
        rule_if!(model.outlet_fact(node.inputs[0])?.datum_type == f32::datum_type());
        rule_if!(node.outputs.len() == 1 && node.outputs[0].successors.len() == 1);
        rule_if!(!model.output_outlets()?.contains(&node.id.into()));
        let succ = model.node(node.outputs[0].successors[0].node);
        rule_if_some!(op = succ.op_as::<crate::ops::binary::OptBinByScalar>());
        rule_if!(succ.inputs.len() == 2 && succ.inputs[0] == node.id.into());
        rule_if_some!(bound = model.outlet_fact(succ.inputs[1])?.konst.clone());
        rule_if!(bound.datum_type() == f32::datum_type() && bound.len() == 1);
        let bound = bound.cast_to_scalar::<f32>()?;
        // `clamp_f32` equals `f32::max`/`min` for every value, NaN included, not for NaN bounds.
        rule_if!(!bound.is_nan());
        let (lower, upper) =
            current.map(|c| c.bounds()).unwrap_or((f32::NEG_INFINITY, f32::INFINITY));
        Ok(match op.linalg_op {
            tract_linalg::BinOp::Max if current.is_none() => Some(Clamp::new(bound, upper)),
            tract_linalg::BinOp::Min if upper == f32::INFINITY => Some(Clamp::new(lower, bound)),
            _ => None,
        })
    }
}

impl std::fmt::Display for Clamp {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let (lower, upper) = self.bounds();
        write!(f, "clamped to [{lower}, {upper}]")
    }
}
