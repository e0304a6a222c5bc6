//! End to end: tiny synthetic data → appearance features → `train stylist` (2 epochs) →
//! checkpoint, metrics and curves → resume to a 3rd epoch → `eval stylist --json`.

use std::path::Path;
use std::process::Command;

fn cli(args: &[&str]) {
    let mut full = vec!["capsule-host"];
    full.extend_from_slice(args);
    capsule_host::cli::run(full).unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn stylist_trains_resumes_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let features = dir.path().join("features.json");
    let run = dir.path().join("run");
    cli(&[
        "data",
        "synth",
        "--out",
        s(&data),
        "--garments",
        "70",
        "--views",
        "2",
        "--outfits",
        "160",
        "--size",
        "48",
        "--seed",
        "5",
    ]);
    cli(&[
        "stylist",
        "features",
        "--data",
        s(&data),
        "--out",
        s(&features),
    ]);
    let train = |epochs: &str| {
        cli(&[
            "train",
            "stylist",
            "--data",
            s(&data),
            "--features",
            s(&features),
            "--decoder",
            "type-aware",
            "--out",
            s(&run),
            "--epochs",
            epochs,
            "--steps-per-epoch",
            "3",
            "--layers",
            "2",
            "--hidden",
            "16",
            "--seed",
            "1",
        ])
    };
    train("2");
    for file in [
        "config.json",
        "metrics.json",
        "model.bpk",
        "standardizer.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    assert!(image::open(run.join("curves.png")).is_ok());
    let epochs = |run: &Path| -> Vec<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap()
    };
    assert_eq!(epochs(&run).len(), 2);
    let first = epochs(&run);

    train("3");
    let resumed = epochs(&run);
    assert_eq!(resumed.len(), 3, "resuming adds only the missing epoch");
    assert_eq!(
        resumed[..2],
        first[..],
        "earlier epochs are kept as they were"
    );

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
