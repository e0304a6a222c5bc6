//! Times any ONNX file in tract at one input shape, then where the time goes node by node.
//! A tool for performance work on tract itself (`scripts/bench-conv-shapes` uses it); the
//! product's own timings are `capsule bench`.
//!
//!     cargo run --release -p capsule-device --example profile_onnx -- FILE [SHAPE] [RUNS] [NODES] [THREADS]
//!
//! SHAPE is the input's dimensions, comma-separated (default 1,3,64,64); RUNS the number of
//! timed runs (default 300); NODES how many of the slowest nodes to list (default 25);
//! THREADS the threads tract runs on (default 1). f32 input.

use anyhow::{Context, Result, bail};
use capsule_device::engine::model::by_operator;
use capsule_device::engine::{InputShape, OnnxModel};
use std::io::Write;
use std::path::Path;
use std::time::Instant;
use tract_onnx::prelude::*;

fn main() -> Result<()> {
    match profile() {
        // The reader went away (e.g. `| head -1`): nothing left to say.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn profile() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        bail!("usage: profile_onnx FILE [SHAPE] [RUNS] [NODES] [THREADS]");
    };
    let shape: Vec<usize> = match args.get(1) {
        Some(s) => s
            .split(',')
            .map(|d| d.trim().parse().with_context(|| format!("shape {s:?}")))
            .collect::<Result<_>>()?,
        None => vec![1, 3, 64, 64],
    };
    let number = |i: usize, default: usize| -> Result<usize> {
        args.get(i)
            .map_or(Ok(default), |s| s.parse().with_context(|| format!("{s:?}")))
    };
    let (runs, nodes, threads) = (number(2, 300)?.max(1), number(3, 25)?, number(4, 1)?.max(1));

    let model = OnnxModel::load(
        Path::new(path),
        &[InputShape::Fixed(shape.clone())],
        threads,
    )?;
    let len: usize = shape.iter().product();
    let values: Vec<f32> = (0..len).map(|i| (i * 7 % 11) as f32 / 11.0 - 0.5).collect();
    let input: TValue = Tensor::from_shape(&shape, &values)?.into();

    for _ in 0..20 {
        model.run(tvec![input.clone()])?;
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            model
                .run(tvec![input.clone()])
                .map(|_| start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, _>>()?;
    times.sort_by(f64::total_cmp);
    // Written with `?`, not `println!`, so piping into `head` ends quietly (see `main`).
    let mut out = std::io::stdout().lock();
    writeln!(out, "median {:.3} ms over {runs} runs", times[runs / 2])?;

    let slowest = model.profile_nodes(tvec![input], runs)?;
    writeln!(out, "per operator kind (µs per run, profiled):")?;
    for (op, ms) in by_operator(&slowest) {
        writeln!(out, "  {op:30} {:8.1}", ms * 1e3)?;
    }
    writeln!(out, "slowest nodes (µs per run, output shape):")?;
    for node in slowest.iter().take(nodes) {
        writeln!(
            out,
            "  {:8.1}  {:40} {:14} {}",
            node.ms * 1e3,
            node.name,
            node.op,
            node.output_shape
        )?;
    }
    Ok(())
}
