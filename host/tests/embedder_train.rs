//! End to end: synthesise a tiny In-shop set, train a tiny capsnet for two epochs through
//! the CLI, check the run directory, resume it for a third epoch, evaluate it as JSON and
//! through the library API.

use capsule_host::embedder::TrainedEmbedder;
use capsule_host::embedder::data::{DataFormat, DataSource, EvalSet, load_eval};
use std::path::Path;
use std::process::Command;

fn host(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_capsule-host"))
        .args(args)
        .output()
        .expect("run capsule-host");
    assert!(
        out.status.success(),
        "capsule-host {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn train(data: &Path, run: &Path, epochs: &str) {
    host(&[
        "train",
        "embedder",
        "--data",
        data.to_str().unwrap(),
        "--format",
        "inshop",
        "--arch",
        "capsnet",
        "--loss",
        "msml",
        "--preset",
        "tiny",
        "--epochs",
        epochs,
        "--pk",
        "4,2",
        "--steps-per-epoch",
        "3",
        "--seed",
        "5",
        "--out",
        run.to_str().unwrap(),
    ]);
}

#[test]
fn train_resume_and_evaluate_a_tiny_capsnet() {
    let dir = tempfile::tempdir().unwrap();
    let synth = dir.path().join("synth");
    host(&[
        "data",
        "synth",
        "--out",
        synth.to_str().unwrap(),
        "--garments",
        "24",
        "--views",
        "4",
        "--outfits",
        "10",
        "--seed",
        "3",
    ]);
    let data = synth.join("inshop");
    let run = dir.path().join("run");

    train(&data, &run, "2");
    for file in [
        "config.json",
        "metrics.json",
        "curves.png",
        "checkpoint-0002.bpk",
        "optimizer-0002.bpk",
    ] {
        assert!(run.join(file).is_file(), "{file} missing after training");
    }
    assert!(image::open(run.join("curves.png")).is_ok());
    let metrics: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics.len(), 2);
    let first_two = metrics.clone();

    train(&data, &run, "3");
    let metrics: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics.len(), 3, "resuming adds exactly the missing epoch");
    for (after, before) in metrics.iter().zip(&first_two) {
        // Re-saved through serde_json's float parsing: equal to within its precision.
        assert_eq!(
            after["epoch"], before["epoch"],
            "resuming keeps the finished epochs"
        );
        for key in ["loss", "recall_at_1"] {
            let (a, b) = (after[key].as_f64().unwrap(), before[key].as_f64().unwrap());
            assert!((a - b).abs() < 1e-12, "{key} changed on resume: {b} → {a}");
        }
    }
    assert!(run.join("checkpoint-0003.bpk").is_file());
    assert!(
        !run.join("checkpoint-0002.bpk").exists(),
        "old checkpoints are pruned"
    );

    let json = host(&["eval", "embedder", "--run", run.to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    for key in ["recall_at_1", "recall_at_5", "recall_at_10", "recall_at_20"] {
        let r = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing"));
        assert!((0.0..=1.0).contains(&r), "{key} = {r}");
    }
    assert!(report["params"].as_u64().unwrap() > 0);
    assert_eq!(report["embedding_dim"].as_u64(), Some(32));
    assert!(report["recall_at_1"].as_f64() <= report["recall_at_20"].as_f64());

    // The library API the exporter uses: load the run, embed pictures.
    let trained = TrainedEmbedder::load(&run, &burn::tensor::Device::flex()).unwrap();
    assert_eq!(trained.epoch, 3);
    let set = load_eval(&DataSource {
        dir: data,
        format: DataFormat::Inshop,
        limit: None,
        eval_limit: None,
    })
    .unwrap();
    let EvalSet::QueryGallery { query, .. } = set else {
        panic!("In-shop has a query/gallery split")
    };
    let (embeddings, dim) = trained.embed_images(&query.images[..3]).unwrap();
    assert_eq!((embeddings.len(), dim), (3 * 32, 32));
    let mut input = vec![0f32; 3 * trained.spec().input_len()];
    for (image, out) in query.images[..3]
        .iter()
        .zip(input.chunks_mut(trained.spec().input_len()))
    {
        capsule_device::preprocess::preprocess_into(image, trained.spec(), out).unwrap();
    }
    let again = trained.embed_preprocessed(&input, 3).unwrap();
    for (a, b) in embeddings.iter().zip(&again) {
        assert!((a - b).abs() < 1e-5);
    }
}
