//! What the host's end-to-end tests share: running `capsule-host` (the built binary, as a
//! user runs it, or in-process), synthetic data, and short embedder runs.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use capsule_host::synth::{SynthConfig, generate, rules::StyleRules};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A temporary path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Runs the built `capsule-host` binary with `args`; returns its stdout. Panics with its
/// stderr when it fails.
pub fn host(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_capsule-host"))
        .args(args)
        .output()
        .expect("run capsule-host");
    assert!(
        out.status.success(),
        "capsule-host {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("capsule-host prints UTF-8")
}

/// Runs a `capsule-host` command line in-process. Panics with the error chain when it fails.
pub fn cli(args: &[&str]) {
    let all = std::iter::once("capsule-host").chain(args.iter().copied());
    capsule_host::cli::run(all).unwrap_or_else(|e| panic!("capsule-host {args:?}: {e:#}"));
}

/// Synthetic garments, In-shop views and Polyvore outfits of `config`, drawn with the
/// shipped style rules into `out`. Returns `out`.
pub fn synth(out: &Path, config: SynthConfig) -> PathBuf {
    let rules = StyleRules::shipped().expect("the shipped style rules parse");
    generate(out, &config, &rules, &|| {}).expect("synthetic data");
    out.to_path_buf()
}

/// Trains an embedder on the In-shop set at `data` into `run` for `epochs` epochs of the
/// shortest kind that still takes real steps (`capsule_host::cli::SHORT_EMBEDDER_EPOCHS`),
/// with `extra` arguments (preset, architecture, seed, ...), through the binary.
pub fn train_embedder(data: &Path, run: &Path, epochs: usize, extra: &[&str]) {
    let epochs = epochs.to_string();
    let mut args = vec!["train", "embedder", "--data", s(data), "--format", "inshop"];
    args.extend(["--out", s(run), "--epochs", &epochs]);
    args.extend(capsule_host::cli::SHORT_EMBEDDER_EPOCHS);
    args.extend(extra);
    host(&args);
}

/// Every float parameter of `module` (weights, biases, batch-norm statistics), in module
/// order: what two runs must agree on to have trained the same model.
pub fn float_params<M: Module>(module: &M) -> Vec<Vec<f32>> {
    struct Collect(Vec<Vec<f32>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let values = param.val().into_data().try_to_vec::<f32>();
            self.0.push(values.expect("f32 parameters"));
        }
    }
    let mut collect = Collect(Vec::new());
    module.visit(&mut collect);
    collect.0
}

/// The `metrics.json` of the run at `run`.
pub fn metrics(run: &Path) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(run.join("metrics.json")).expect("metrics.json");
    serde_json::from_slice(&bytes).expect("metrics.json is JSON")
}
