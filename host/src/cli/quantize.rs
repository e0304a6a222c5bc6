//! `capsule-host quantize`: int8 and f16-weight variants of a trained embedder, with what
//! each costs in accuracy and buys in size and speed.

use super::report::print_report;
use crate::onnx::quantize::Int8Options;
use crate::quantize::{DEFAULT_CALIBRATION, QuantizeOptions, quantize_run};
use anyhow::{Context, Result};
use capsule_device::bundle::Precision;
use clap::Args;
use std::path::PathBuf;

/// What `quantize --help` says about the method.
pub const LONG_ABOUT: &str = "Writes the run's float export and its int8 and f16-weight variants \
as ONNX files into --out, then measures each in tract: file and weight bytes, max error \
against burn on the golden batch, Recall@1 on the held-out set and latency at 1 thread. \
The report goes to OUT/quantize-report.json.\n\n\
int8: every Conv becomes QuantizeLinear → QLinearConv → DequantizeLinear and every MatMul/Gemm \
with constant weights QuantizeLinear → MatMulInteger → rescale: int8 weights, symmetric, one \
scale per output channel; uint8 activations whose ranges are calibrated on --calibration \
pictures spread over the run's training set. Works on the exported graph (not on burn), so \
the same rewrite serves any model we export.\n\n\
f16: weights stored as f16 with a Cast to f32 after each; computes in f32.\n\n\
Measured on the 2-core x86 build machine (AVX2, no VNNI; docs/results.md): int8 weights 3.66x \
smaller, Recall@1 -0.49 points, but 4-8x slower than f32 in tract, so int8 buys size there; \
each board profile picks its precision by measuring on the board (`capsule bench --bundle`).";

/// `quantize`.
#[derive(Args, Debug)]
pub struct QuantizeArgs {
    /// Run directory of a trained embedder (its last complete epoch).
    #[arg(long)]
    pub run: PathBuf,
    /// Held-out data for Recall@1, in the run's format (default: the run's own data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Fashion-MNIST: evaluate on the first N test pictures (default: the run's setting).
    #[arg(long)]
    pub eval_limit: Option<usize>,
    /// Where to write the ONNX files and quantize-report.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Variants to make besides f32.
    #[arg(long, value_delimiter = ',', default_value = "int8,f16", value_parser = parse_precision)]
    pub precisions: Vec<Precision>,
    /// Training pictures to calibrate the int8 activation ranges on.
    #[arg(long, default_value_t = DEFAULT_CALIBRATION)]
    pub calibration: usize,
    /// Timed single-picture runs per variant.
    #[arg(long, default_value_t = 30)]
    pub latency_runs: usize,
    /// int8 activations symmetric (int8, zero point 0) instead of uint8 with a calibrated
    /// zero point: less resolution, no zero-point corrections at run time.
    #[arg(long)]
    pub symmetric_activations: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `f32`, `f16` or `int8`.
pub fn parse_precision(s: &str) -> Result<Precision, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("{s:?} is not a precision (f32, f16, int8)"))
}

pub fn run(args: QuantizeArgs) -> Result<()> {
    let options = QuantizeOptions {
        precisions: args.precisions.clone(),
        calibration: args.calibration,
        eval_data: args.data.clone(),
        eval_limit: args.eval_limit,
        latency_runs: args.latency_runs,
        int8: Int8Options {
            symmetric_activations: args.symmetric_activations,
        },
    };
    let report = quantize_run(&args.run, &args.out, &options)
        .with_context(|| format!("quantizing {}", args.run.display()))?;
    print_report(&report, args.json)?;
    eprintln!("files and quantize-report.json in {}", args.out.display());
    Ok(())
}
