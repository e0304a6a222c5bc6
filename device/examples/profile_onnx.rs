//! Times any ONNX file in tract at one input shape, then where the time goes node by node.
//! A tool for performance work on tract itself (`scripts/bench-conv-shapes` uses it); the
//! product's own timings are `capsule bench`.
//!
//!     cargo run --release -p capsule-device --example profile_onnx -- FILE [SHAPE] [RUNS] [NODES]
//!
//! SHAPE is the input's dimensions, comma-separated (default 1,3,64,64); RUNS the number of
//! timed runs (default 300); NODES how many of the slowest nodes to list (default 25).
//! Single-threaded, f32 input.

use anyhow::{Context, Result, bail};
use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::{SimpleState, eval};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        bail!("usage: profile_onnx FILE [SHAPE] [RUNS] [NODES]");
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
    let (runs, nodes) = (number(2, 300)?.max(1), number(3, 25)?);

    let mut model = tract_onnx::onnx().model_for_path(path)?;
    model.set_input_fact(0, f32::fact(&shape).into())?;
    let plan = model.into_optimized()?.into_runnable()?;
    let len: usize = shape.iter().product();
    let values = (0..len).map(|i| (i * 7 % 11) as f32 / 11.0 - 0.5).collect();
    let input: TValue = tract_ndarray::ArrayD::from_shape_vec(shape.clone(), values)?
        .into_tensor()
        .into();

    for _ in 0..20 {
        plan.run(tvec![input.clone()])?;
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            plan.run(tvec![input.clone()])
                .map(|_| start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<TractResult<_>>()?;
    times.sort_by(f64::total_cmp);
    // Written with `?`, not `println!`, so piping into `head` ends quietly.
    let mut out = std::io::stdout().lock();
    writeln!(out, "median {:.3} ms over {runs} runs", times[runs / 2])?;

    let mut per_node: HashMap<usize, f64> = HashMap::new();
    for _ in 0..runs {
        let mut state = SimpleState::new(&plan)?;
        state.run_plan_with_eval(tvec![input.clone()], |ctx, op_state, node, inputs| {
            let start = Instant::now();
            let out = eval(ctx, op_state, node, inputs);
            *per_node.entry(node.id).or_default() += start.elapsed().as_secs_f64() * 1e6;
            out
        })?;
    }
    let graph = plan.model();
    let mut slowest: Vec<(usize, f64)> = per_node
        .into_iter()
        .map(|(id, us)| (id, us / runs as f64))
        .collect();
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut by_op: HashMap<String, f64> = HashMap::new();
    for (id, us) in &slowest {
        *by_op
            .entry(graph.nodes[*id].op.name().to_string())
            .or_default() += us;
    }
    let mut by_op: Vec<_> = by_op.into_iter().collect();
    by_op.sort_by(|a, b| b.1.total_cmp(&a.1));
    writeln!(out, "per operator kind (µs per run, profiled):")?;
    for (op, us) in by_op {
        writeln!(out, "  {op:30} {us:8.1}")?;
    }
    writeln!(out, "slowest nodes (µs per run, output shape):")?;
    for (id, us) in slowest.iter().take(nodes) {
        let node = &graph.nodes[*id];
        let shape = node.outputs.first().map(|o| format!("{:?}", o.fact.shape));
        writeln!(
            out,
            "  {us:8.1}  {:40} {:14} {}",
            node.name,
            node.op.name(),
            shape.unwrap_or_default()
        )?;
    }
    Ok(())
}
