//! An ONNX model loaded once through tract's stages (`model_for_path` → input facts →
//! `into_optimized` → `into_runnable`) and run on a fixed number of threads.

use capsule_contract::bundle::Dim;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::tract_linalg::multithread::{Executor, multithread_tract_scope};

/// What tract (or the thread pool) said, kept as the source of an [`EngineError`].
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Inference failed; says which model, and keeps why as its source.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot load model {path}")]
    Load {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("model {path} failed to run")]
    Run {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("model {path}: {problem}")]
    Output { path: PathBuf, problem: String },
    #[error(transparent)]
    Preprocess(#[from] crate::preprocess::PreprocessError),
}

/// A concrete input shape for optimisation: fixed sizes, or a symbol (node count).
#[derive(Debug, Clone)]
pub enum InputShape {
    Fixed(Vec<usize>),
    /// Float input whose first axis is the named symbol and the rest fixed.
    SymbolicFirst(String, Vec<usize>),
    /// Float input with any mix of fixed and named axes (as a manifest declares them).
    Float(Vec<Dim>),
}

/// A loaded, optimised model.
pub struct OnnxModel {
    plan: Arc<TypedRunnableModel>,
    path: PathBuf,
    executor: Executor,
}

impl OnnxModel {
    /// Loads `path`, fixes the input shapes and optimises the graph for `threads` threads.
    pub fn load(path: &Path, inputs: &[InputShape], threads: usize) -> Result<Self, EngineError> {
        let fail = |source: Cause| EngineError::Load {
            path: path.to_path_buf(),
            source,
        };
        // tract reads the file's bytes; on some malformed graphs it panics instead of
        // returning an error (found by fuzzing: an output naming no value). The panic is
        // turned into this model's load error.
        let plan = guard(|| -> TractResult<_> {
            let mut model = tract_onnx::onnx().model_for_path(path)?;
            for (i, shape) in inputs.iter().enumerate() {
                let fact = match shape {
                    InputShape::Fixed(dims) => f32::fact(dims).into(),
                    InputShape::SymbolicFirst(symbol, rest) => {
                        let s = model.symbols.sym(symbol);
                        let mut dims: TVec<TDim> = tvec![s.into()];
                        dims.extend(rest.iter().map(|&d| d.into()));
                        f32::fact(dims).into()
                    }
                    InputShape::Float(shape) => {
                        let dims: TVec<TDim> = shape
                            .iter()
                            .map(|d| match d {
                                Dim::Fixed(n) => (*n).into(),
                                Dim::Symbol(name) => model.symbols.sym(name).into(),
                            })
                            .collect();
                        f32::fact(dims).into()
                    }
                };
                model.set_input_fact(i, fact)?;
            }
            model.into_optimized()?.into_runnable()
        })
        .map_err(|panic| fail(panic.into()))?
        .map_err(|e| fail(e.into()))?;
        let executor = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("capsule-infer-{i}"))
                .build()
                .map_err(|e| fail(e.into()))?;
            Executor::MultiThread(Arc::new(pool))
        } else {
            Executor::SingleThread
        };
        Ok(Self {
            plan,
            path: path.to_path_buf(),
            executor,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the model on `inputs`.
    pub fn run(&self, inputs: TVec<TValue>) -> Result<TVec<TValue>, EngineError> {
        let fail = |source: Cause| EngineError::Run {
            path: self.path.clone(),
            source,
        };
        let outputs = guard(|| self.in_pool(|| self.plan.run(inputs)));
        clear_upper_simd_state();
        outputs
            .map_err(|panic| fail(panic.into()))?
            .map_err(|e| fail(e.into()))
    }

    /// Runs `f` with tract's ops dispatching to this model's executor. With a thread pool, `f`
    /// runs on one of its threads: each parallel op then splits its work from inside the pool
    /// instead of handing it over from outside and sleeping until it is done, which cost two
    /// thread wake-ups per op and made two threads slower than one.
    fn in_pool<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let scoped = || multithread_tract_scope(self.executor.clone(), f);
        match &self.executor {
            Executor::MultiThread(pool) => pool.install(scoped),
            _ => scoped(),
        }
    }

    /// The first output as a flat f32 vector with its shape.
    pub fn run_f32(&self, inputs: TVec<TValue>) -> Result<(Vec<usize>, Vec<f32>), EngineError> {
        let outputs = self.run(inputs)?;
        let first = outputs
            .first()
            .ok_or_else(|| self.output_error("produced no output"))?;
        let view = first
            .to_plain_array_view::<f32>()
            .map_err(|e| self.output_error(&format!("output is not f32: {e}")))?;
        Ok((view.shape().to_vec(), view.iter().copied().collect()))
    }

    /// Where one run's time goes: mean milliseconds per run for each kind of operator in
    /// the optimised plan (e.g. `Conv`, `OptMatMul`, `Im2col`), over `runs` runs on `inputs`,
    /// slowest first.
    pub fn profile(
        &self,
        inputs: TVec<TValue>,
        runs: usize,
    ) -> Result<Vec<(String, f64)>, EngineError> {
        Ok(by_operator(&self.profile_nodes(inputs, runs)?))
    }

    /// Each node of the optimised plan: tract's op name and what the op says about itself
    /// (e.g. which kernel a convolution took).
    pub fn plan_ops(&self) -> Vec<(String, Vec<String>)> {
        self.plan
            .model()
            .nodes
            .iter()
            .map(|node| {
                let op = node.op();
                (op.name().to_string(), op.info().unwrap_or_default())
            })
            .collect()
    }

    /// Mean milliseconds per run of each node of the optimised plan, over `runs` runs on
    /// `inputs`, slowest first.
    pub fn profile_nodes(
        &self,
        inputs: TVec<TValue>,
        runs: usize,
    ) -> Result<Vec<NodeTime>, EngineError> {
        let mut totals: std::collections::HashMap<usize, f64> = Default::default();
        let runs = runs.max(1);
        for _ in 0..runs {
            let mut state = tract_onnx::tract_core::plan::SimpleState::new(&self.plan)
                .map_err(|e| self.run_error(e))?;
            self.in_pool(|| {
                state.run_plan_with_eval(inputs.clone(), |ctx, op_state, node, input| {
                    let start = std::time::Instant::now();
                    let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, input);
                    *totals.entry(node.id).or_default() += start.elapsed().as_secs_f64() * 1e3;
                    out
                })
            })
            .map_err(|e| self.run_error(e))?;
        }
        let graph = self.plan.model();
        let mut nodes: Vec<NodeTime> = totals
            .into_iter()
            .map(|(id, ms)| {
                let node = &graph.nodes[id];
                NodeTime {
                    name: node.name.clone(),
                    op: node.op().name().to_string(),
                    output_shape: node
                        .outputs
                        .first()
                        .map(|o| format!("{:?}", o.fact.shape))
                        .unwrap_or_default(),
                    ms: ms / runs as f64,
                }
            })
            .collect();
        nodes.sort_by(|a, b| b.ms.total_cmp(&a.ms));
        Ok(nodes)
    }

    fn run_error(&self, e: impl Into<Cause>) -> EngineError {
        EngineError::Run {
            path: self.path.clone(),
            source: e.into(),
        }
    }

    fn output_error(&self, problem: &str) -> EngineError {
        EngineError::Output {
            path: self.path.clone(),
            problem: problem.to_string(),
        }
    }
}

/// One node's share of a run, from [`OnnxModel::profile_nodes`].
#[derive(Debug, Clone)]
pub struct NodeTime {
    pub name: String,
    /// tract's operator name, e.g. `OptMatMul`.
    pub op: String,
    pub output_shape: String,
    /// Mean milliseconds per run.
    pub ms: f64,
}

/// Node times summed per operator kind, slowest first.
pub fn by_operator(nodes: &[NodeTime]) -> Vec<(String, f64)> {
    let mut totals: std::collections::HashMap<&str, f64> = Default::default();
    for node in nodes {
        *totals.entry(&node.op).or_default() += node.ms;
    }
    let mut by_op: Vec<(String, f64)> = totals
        .into_iter()
        .map(|(op, ms)| (op.to_string(), ms))
        .collect();
    by_op.sort_by(|a, b| b.1.total_cmp(&a.1));
    by_op
}

/// Marks the upper halves of the x86 vector registers clean (`vzeroupper`) after a run.
///
/// tract's AVX/AVX-512 kernels return with those halves dirty. Until something clears
/// them, every legacy-SSE instruction in the code that runs next on this thread (our Rust is
/// built for baseline x86_64, so that is all of it: the next frame's preprocessing,
/// identification, the stylist) pays a merge penalty: on the 2-core AMD EPYC dev machine
/// this call took `capsule bench --bundle models/default`'s "whole frame" (preprocessing +
/// model) from 2.06 to 1.27 ms, with the model alone unchanged (docs/results.md).
/// Nothing to do on other architectures.
fn clear_upper_simd_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        #[target_feature(enable = "avx")]
        fn vzeroupper() {
            std::arch::x86_64::_mm256_zeroupper();
        }
        // SAFETY: the CPU was just checked to support AVX.
        unsafe { vzeroupper() }
    }
}

/// A panic inside tract, caught.
#[derive(Debug, thiserror::Error)]
#[error("tract failed on this model: {0}")]
pub struct TractPanic(pub String);

/// Runs `f`, turning a panic inside tract into an error (a model file is untrusted input; a
/// bad one must not take the device down).
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, TractPanic> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        TractPanic(what)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weight formula of `scripts/make_conv_fixture.py`.
    fn weight(o: usize, i: usize, y: usize, x: usize) -> f32 {
        ((o * 7 + i * 3 + y * 5 + x) % 13) as f32 / 13.0 - 6.0 / 13.0
    }

    /// A 3×3 convolution with padding 1, written out loop by loop.
    fn direct_conv(input: &[f32], cin: usize, side: usize, cout: usize, stride: usize) -> Vec<f32> {
        let out_side = (side - 1) / stride + 1;
        let mut out = vec![0f32; cout * out_side * out_side];
        for o in 0..cout {
            for oy in 0..out_side {
                for ox in 0..out_side {
                    let mut sum = (o % 5) as f32 / 10.0 - 0.2;
                    for i in 0..cin {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let y = (oy * stride + ky) as isize - 1;
                                let x = (ox * stride + kx) as isize - 1;
                                if (0..side as isize).contains(&y)
                                    && (0..side as isize).contains(&x)
                                {
                                    let v = input[(i * side + y as usize) * side + x as usize];
                                    sum += weight(o, i, ky, kx) * v;
                                }
                            }
                        }
                    }
                    out[(o * out_side + oy) * out_side + ox] = sum;
                }
            }
        }
        out
    }

    /// tract packs a convolution's input panel by panel; with the vendored patch
    /// (vendor/README.md) it copies runs of neighbouring points instead of gathering each
    /// one. An odd side makes panels straddle output rows; both strides are checked against
    /// the direct loops, at 1 and 2 threads.
    #[test]
    fn tract_convolution_matches_a_direct_one() {
        let (cin, side, cout) = (4, 13, 16);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conv3x3.onnx");
        let input: Vec<f32> = (0..cin * side * side)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        for threads in [1, 2] {
            let model = OnnxModel::load(
                &path,
                &[InputShape::Fixed(vec![1, cin, side, side])],
                threads,
            )
            .expect("fixture loads");
            let tensor = Tensor::from_shape(&[1, cin, side, side], &input).expect("input tensor");
            let outputs = model.run(tvec!(tensor.into())).expect("fixture runs");
            for (output, stride) in outputs.iter().zip([1, 2]) {
                let got = output.to_plain_array_view::<f32>().expect("f32 output");
                let want = direct_conv(&input, cin, side, cout, stride);
                assert_eq!(got.len(), want.len(), "stride {stride}");
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() < 1e-4,
                        "stride {stride}, value {i}: tract {g}, direct {w}"
                    );
                }
            }
        }
    }
}
