//! End to end: synthesise a tiny In-shop set, train a tiny capsnet for one epoch through the
//! CLI, check the run directory, resume it for a second and check it against a run of two
//! epochs at once, evaluate it as JSON and through the library API.

mod common;

use capsule_host::embedder::TrainedEmbedder;
use capsule_host::embedder::data::{DataFormat, DataSource, EvalSet, load_eval};
use capsule_host::synth::SynthConfig;
use common::{float_params, host, metrics, s, synth, train_embedder};
use std::path::Path;

fn train(data: &Path, run: &Path, epochs: usize) {
    let capsnet = ["--arch", "capsnet", "--loss", "msml", "--preset", "tiny"];
    train_embedder(
        data,
        run,
        epochs,
        &[&capsnet[..], &["--seed", "5"]].concat(),
    );
}

#[test]
fn train_resume_and_evaluate_a_tiny_capsnet() {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        garments: 24,
        views: 4,
        outfits: 10,
        seed: 3,
        ..SynthConfig::default()
    };
    let data = synth(&dir.path().join("synth"), config).join("inshop");
    let run = dir.path().join("run");

    train(&data, &run, 1);
    for file in [
        "config.json",
        "metrics.json",
        "curves.png",
        "checkpoint-0001.bpk",
        "optimizer-0001.bpk",
    ] {
        assert!(run.join(file).is_file(), "{file} missing after training");
    }
    assert!(image::open(run.join("curves.png")).is_ok());
    let first = metrics(&run);
    assert_eq!(first.len(), 1);

    train(&data, &run, 2);
    let resumed = metrics(&run);
    assert_eq!(resumed.len(), 2, "resuming adds exactly the missing epoch");
    assert!(run.join("checkpoint-0002.bpk").is_file());
    assert!(
        !run.join("checkpoint-0001.bpk").exists() && !run.join("optimizer-0001.bpk").exists(),
        "old checkpoints are pruned"
    );

    // Resuming is exact: the weights and Adam's state saved after epoch 1 continue into the
    // epoch 2 an uninterrupted run computes.
    let straight = dir.path().join("straight");
    train(&data, &straight, 2);
    let device = burn::tensor::Device::flex();
    let load = |run: &Path| TrainedEmbedder::load(run, &device).unwrap();
    assert_eq!(
        float_params(&load(&run).model),
        float_params(&load(&straight).model),
        "1 + 1 resumed epochs give other weights than 2 at once"
    );
    let uninterrupted = metrics(&straight);
    assert_eq!(resumed[1]["loss"], uninterrupted[1]["loss"]);
    assert_eq!(resumed[1]["recall_at_1"], uninterrupted[1]["recall_at_1"]);
    for (after, before) in resumed.iter().zip(&first) {
        // Re-saved through serde_json's float parsing: equal to within its precision.
        assert_eq!(after["epoch"], before["epoch"]);
        for key in ["loss", "recall_at_1"] {
            let (a, b) = (after[key].as_f64().unwrap(), before[key].as_f64().unwrap());
            assert!((a - b).abs() < 1e-12, "{key} changed on resume: {b} → {a}");
        }
    }

    let json = host(&["eval", "embedder", "--run", s(&run), "--json"]);
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
    assert_eq!(trained.epoch, 2);
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
    let first: Vec<_> = (0..3)
        .map(|i| query.pictures.get(i).unwrap().into_owned())
        .collect();
    let (embeddings, dim) = trained.embed_images(&first).unwrap();
    assert_eq!((embeddings.len(), dim), (3 * 32, 32));
    let mut input = vec![0f32; 3 * trained.spec().input_len()];
    for (image, out) in first
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
