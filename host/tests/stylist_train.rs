//! End to end: tiny synthetic data → appearance features → `train stylist` (1 epoch) →
//! checkpoint, metrics and curves → resume to a 2nd epoch, checked against 2 epochs at once
//! → `eval stylist --json`.

mod common;

use capsule_host::stylist::{Checkpoint, TrainedStylist};
use capsule_host::synth::SynthConfig;
use capsule_host::training::Backend;
use common::{cli, float_params, metrics, s, synth};
use std::path::Path;
use std::process::Command;

#[test]
fn stylist_trains_resumes_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let features = dir.path().join("features.json");
    let run = dir.path().join("run");
    let config = SynthConfig {
        garments: 70,
        views: 2,
        outfits: 160,
        image_size: 48,
        seed: 5,
        ..SynthConfig::default()
    };
    synth(&data, config);
    cli(&[
        "stylist",
        "features",
        "--data",
        s(&data),
        "--out",
        s(&features),
    ]);
    let train = |run: &Path, epochs: &str, hidden: &str| {
        let mut args = vec![
            "capsule-host",
            "train",
            "stylist",
            "--decoder",
            "type-aware",
        ];
        args.extend([
            "--data",
            s(&data),
            "--features",
            s(&features),
            "--out",
            s(run),
        ]);
        args.extend(["--epochs", epochs, "--steps-per-epoch", "3", "--seed", "1"]);
        args.extend(["--layers", "2", "--hidden", hidden]);
        capsule_host::cli::run(args)
    };
    train(&run, "1", "16").unwrap();
    for file in [
        "config.json",
        "metrics.json",
        "checkpoint-0001.bpk",
        "optimizer-0001.bpk",
        "standardizer.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    assert!(image::open(run.join("curves.png")).is_ok());
    let first = metrics(&run);
    assert_eq!(first.len(), 1);

    train(&run, "2", "16").unwrap();
    let resumed = metrics(&run);
    assert_eq!(resumed.len(), 2, "resuming adds only the missing epoch");
    assert_eq!(
        resumed[..1],
        first[..],
        "earlier epochs are kept as they were"
    );
    assert!(
        !run.join("checkpoint-0001.bpk").exists(),
        "old checkpoints are pruned"
    );

    // Resuming is exact (dropout included): 1 + 1 epochs end where 2 at once do.
    let straight = dir.path().join("straight");
    train(&straight, "2", "16").unwrap();
    let load = |run: &Path| {
        TrainedStylist::load(run, Checkpoint::Last, Backend::Flex).expect("a trained stylist")
    };
    assert_eq!(
        float_params(&load(&run).model),
        float_params(&load(&straight).model),
        "1 + 1 resumed epochs give other weights than 2 at once"
    );
    let uninterrupted = metrics(&straight);
    for key in [
        "loss",
        "accuracy",
        "valid_fitb",
        "valid_fitb_hard",
        "valid_auc",
    ] {
        assert_eq!(
            resumed[1][key], uninterrupted[1][key],
            "{key} after epoch 2"
        );
    }

    // A resumed run must be the same run.
    let err = train(&run, "3", "8").unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains("`model.hidden` was 16, now 8"), "{err}");

    // The epoch best on validation is kept beside the last one.
    let validated = resumed
        .iter()
        .any(|m| m["valid_fitb_hard"].is_number() && m["valid_auc"].is_number());
    assert_eq!(run.join("best.bpk").is_file(), validated);

    for (k, checkpoint) in [("0", "best"), ("3", "last")] {
        let out = Command::new(env!("CARGO_BIN_EXE_capsule-host"))
            .args(["eval", "stylist", "--run", s(&run), "--data", s(&data)])
            .args(["--features", s(&features), "--context", k, "--json"])
            .args(["--checkpoint", checkpoint])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let scores: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for key in ["fitb", "fitb_hard", "auc"] {
            let v = scores[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{key} in {scores}"));
            assert!((0.0..=1.0).contains(&v), "{key} = {v}");
        }
        assert_eq!(scores["context_k"].as_u64(), Some(k.parse().unwrap()));
    }

    // Features of another kind than the model was trained on are refused, not misread.
    let mut other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&features).unwrap()).unwrap();
    other["source"] = "some-embedder".into();
    let other_path = dir.path().join("other.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_capsule-host"))
        .args(["eval", "stylist", "--run", s(&run), "--data", s(&data)])
        .args(["--features", s(&other_path), "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("trained on"));
}
