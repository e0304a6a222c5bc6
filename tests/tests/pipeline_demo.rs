//! End to end, the way a new user meets capsule: `capsule-host pipeline` makes and signs a
//! bundle with both models and a demo wardrobe; `capsule demo` installs it (signature,
//! hashes, golden outputs), imports the wardrobe, recognises the demo photo and draws the
//! outfits; `capsule feedback` changes the next suggestion at once. And the bundle shipped
//! in `models/default` verifies, reproduces its golden outputs and runs the demo.

use capsule_device::GarmentType;
use capsule_device::app::{Mirror, ModelSource, Models, Outfits};
use capsule_device::bundle::{ModelRole, Precision, STYLIST_FEATURES_EMBEDDER_STYLE};
use capsule_device::camera::ImageFile;
use capsule_device::display::PngSink;
use capsule_device::engine::check_bundle;
use capsule_device::garment::{STYLE_DIM, style_features};
use capsule_device::runtime::{self, Event, LoopConfig};
use capsule_device::suggest::Verdict;
use capsule_device::update::Slots;
use capsule_device::wardrobe::{EdgeProvenance, GarmentId, WardrobeStore, decode_thumbnail};
use capsule_e2e::{capsule, host};
use capsule_host::pipeline::{EVALUATION_FILE, Evaluation};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The mirror service over the data directory's active bundle, as a fresh process opens it.
fn mirror(data: &Path) -> Mirror {
    let models = Models::open(data, None, ModelSource::Active).unwrap();
    Mirror::open(data, models, Outfits::Required).unwrap()
}

/// The garment ids of an outfit key (`g3+g7+g9`).
fn ids(key: &str) -> Vec<GarmentId> {
    key.split('+').map(|g| g.parse().unwrap()).collect()
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                dir_size(&p)
            } else {
                p.metadata().unwrap().len()
            }
        })
        .sum()
}

fn assert_png(path: &Path, width: u32, height: u32) {
    let picture = image::open(path).unwrap();
    assert_eq!((picture.width(), picture.height()), (width, height));
}

#[test]
fn pipeline_bundle_runs_the_demo_and_feedback_changes_suggestions() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let key = root.join("key");
    host(&["keygen", "--out", s(&key)]);
    // Stand-ins for the real background photos (scripts/fetch-backgrounds): eight pictures,
    // so both the training part and the held-out part have some.
    let photos = root.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for i in 0..8u32 {
        image::RgbImage::from_fn(300, 200, |x, y| {
            image::Rgb([
                (x * (i + 1) % 256) as u8,
                (y * 3 % 256) as u8,
                (40 * i) as u8,
            ])
        })
        .save(photos.join(format!("photo-{i}.png")))
        .unwrap();
    }
    let out = root.join("pipeline");
    host(&[
        "pipeline",
        "--preset",
        "tiny",
        "--out",
        s(&out),
        "--key",
        s(&key),
        "--backgrounds",
        s(&photos),
    ]);
    let bundle = out.join("bundle");
    let manifest = std::fs::read(bundle.join("manifest.json")).unwrap();
    let manifest = capsule_device::bundle::Manifest::from_bytes(&manifest).unwrap();
    assert_eq!(
        manifest.models.len(),
        4,
        "embedder in f32 and int8, stylist encoder and decoder"
    );
    let spec = manifest.stylist.as_ref().unwrap();
    assert_eq!(spec.features, STYLIST_FEATURES_EMBEDDER_STYLE);
    let embedding_dim = manifest
        .model(ModelRole::Embedder, Precision::F32)
        .unwrap()
        .output_dim;
    assert_eq!(spec.feature_dim, embedding_dim + STYLE_DIM);

    // What ships measures like what was trained: the bundle's ONNX files in tract, through
    // the board's crop, preprocessing, style statistics and encoder inputs, against the burn
    // models of the runs on the same unseen data (f32 rounding may flip a near tie).
    let evaluation: Evaluation =
        serde_json::from_slice(&std::fs::read(out.join(EVALUATION_FILE)).unwrap()).unwrap();
    let (run, shipped) = (&evaluation.embedder_synthetic_inshop, &evaluation.shipped);
    let close = |a: f64, b: f64, tolerance: f64| (a - b).abs() <= tolerance;
    for (a, b) in [
        (
            run.recall_at_1,
            shipped.embedder_synthetic_inshop.recall_at_1,
        ),
        (
            run.recall_at_5,
            shipped.embedder_synthetic_inshop.recall_at_5,
        ),
    ] {
        assert!(close(a, b, 0.02), "In-shop recall: run {a}, bundle {b}");
    }
    assert_eq!(evaluation.stylist.len(), shipped.stylist.len());
    assert!(
        shipped.stylist.iter().all(|k| k.fitb.is_some()),
        "FITB was measured"
    );
    for (run, bundle) in evaluation.stylist.iter().zip(&shipped.stylist) {
        assert_eq!(run.context_k, bundle.context_k);
        for (a, b) in [
            (run.fitb, bundle.fitb),
            (run.fitb_hard, bundle.fitb_hard),
            (run.auc, bundle.auc),
        ] {
            match (a, b) {
                (Some(a), Some(b)) => {
                    assert!(
                        close(a, b, 0.03),
                        "K={}: run {a}, bundle {b}",
                        run.context_k
                    )
                }
                (a, b) => assert_eq!(a.is_some(), b.is_some(), "K={}", run.context_k),
            }
        }
    }
    // The staged-camera set: every view of the 30 test garments against their product shots.
    let staged = shipped.staged.as_ref().expect("staged-camera figures");
    assert_eq!((staged.queries, staged.garments), (90, 30), "{staged:?}");
    assert!((0.0..=1.0).contains(&staged.top1) && (0.0..=1.0).contains(&staged.auroc));
    assert!(
        staged.at_threshold.is_some(),
        "the bundle's threshold is measured"
    );
    // The command behind those figures runs on the same files.
    host(&[
        "eval",
        "embedder",
        "--bundle",
        s(&bundle),
        "--format",
        "inshop",
        "--data",
        s(&out.join("test-data/inshop")),
    ]);
    let stylist_test = ["stylist-test-data", "test-data"]
        .map(|d| out.join(d))
        .into_iter()
        .find(|d| d.exists())
        .unwrap();
    host(&[
        "eval",
        "stylist",
        "--bundle",
        s(&bundle),
        "--data",
        s(&stylist_test),
        "--context",
        "15",
    ]);

    let data = root.join("data");
    let screen = root.join("demo.png");
    capsule(
        &data,
        &[
            "demo",
            "--models",
            s(&bundle),
            "--trusted-key",
            s(&capsule_host::bundle::public_path(&key)),
            "--wardrobe",
            s(&out.join("demo-wardrobe")),
            "--screen",
            s(&screen),
        ],
    );
    assert_png(&screen, 480, 320);

    let mut stylist = mirror(&data);
    assert!(stylist.garments().len() >= 20, "the wardrobe was imported");
    // Every imported garment carries the style statistics of its stored thumbnail.
    let store = WardrobeStore::open(&data).unwrap();
    for g in stylist.garments().iter().take(3) {
        let thumbnail = store.thumbnail(g.id).unwrap().unwrap();
        assert_eq!(g.style, style_features(&decode_thumbnail(&thumbnail)));
    }
    drop(store);
    let top = stylist
        .garments()
        .iter()
        .find(|g| g.garment_type == GarmentType::Top)
        .unwrap()
        .clone();
    let anchor = stylist.anchor_garment(top.id).unwrap();
    let first = stylist.outfits(&anchor, 3).unwrap();
    assert!(
        !first.is_empty(),
        "a top in a 30-garment wardrobe has outfits"
    );

    // Feedback through the running service changes its very next suggestion: the rejected
    // outfit is gone without re-opening anything.
    stylist
        .feedback(&ids(&first[1 % first.len()].key), Verdict::Reject, 1)
        .unwrap();
    let after = stylist.outfits(&anchor, 3).unwrap();
    assert!(after.iter().all(|o| o.key != first[1 % first.len()].key));
    drop(stylist);

    // The CLI names outfits by key; rejecting one stores rejected edges, and the next
    // suggestion (a fresh process would rebuild exactly this) leaves it out.
    let said = capsule(&data, &["feedback", "reject", &first[0].key, "--json"]);
    let said: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(said["verdict"], "reject");
    assert!(said["pairs"].as_u64().unwrap() >= 1);
    let store = WardrobeStore::open(&data).unwrap();
    let rejected: Vec<_> = store
        .edges()
        .unwrap()
        .into_iter()
        .filter(|e| e.provenance == EdgeProvenance::Rejected)
        .collect();
    drop(store);
    assert!(!rejected.is_empty());
    let fresh = mirror(&data);
    let next = fresh
        .outfits(&fresh.anchor_garment(top.id).unwrap(), 3)
        .unwrap();
    assert!(next.iter().all(|o| o.key != first[0].key));
    for outfit in &next {
        let garments = ids(&outfit.key);
        for e in &rejected {
            assert!(!(garments.contains(&e.a) && garments.contains(&e.b)));
        }
    }
    drop(fresh);

    // The mirror's loop: the demo photo as the camera; after the garment is recognised its
    // outfits are drawn (the last screen), and the event stream says which.
    let mut service = mirror(&data);
    service.set_threshold(0.0);
    let mut source = ImageFile::open(&out.join("demo-wardrobe/camera.jpg"), 6).unwrap();
    let loop_screen = root.join("loop.png");
    let mut sink = PngSink::new(&loop_screen, 480, 320);
    let mut suggested = Vec::new();
    let stats = runtime::run(
        &mut source,
        &mut service,
        &mut sink,
        &LoopConfig::default(),
        |event| {
            if let Event::Suggested { outfits, .. } = event {
                suggested.extend(outfits.iter().map(|o| o.key.clone()));
            }
        },
    )
    .unwrap();
    assert_eq!(stats.suggestions, 1, "{stats:?}");
    assert!(!suggested.is_empty());
    assert_png(&loop_screen, 480, 320);
    drop(service);
    // And through the command line, with the active bundle's stylist.
    let cli_screen = root.join("run.png");
    capsule(
        &data,
        &[
            "run",
            "--source",
            s(&out.join("demo-wardrobe/camera.jpg")),
            "--hold",
            "6",
            "--screen",
            s(&cli_screen),
        ],
    );
    assert_png(&cli_screen, 480, 320);

    // `capsule suggest` by garment and by picture, with a screen.
    let by_id = root.join("suggest.png");
    capsule(
        &data,
        &[
            "suggest",
            "--garment",
            &top.id.to_string(),
            "--screen",
            s(&by_id),
        ],
    );
    assert_png(&by_id, 480, 320);
    let said = capsule(
        &data,
        &[
            "suggest",
            s(&out.join("demo-wardrobe/camera.jpg")),
            "--json",
        ],
    );
    let said: serde_json::Value = serde_json::from_str(&said).unwrap();
    let anchor = &said["anchor"];
    assert!(anchor["name"].is_string() && anchor["type"].is_string());
    assert!(anchor["new"].is_boolean());
    let outfits = said["outfits"].as_array().unwrap();
    assert!(!outfits.is_empty(), "{said}");
    for o in outfits {
        let score = o["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{o}");
        assert!(!o["why"].as_str().unwrap().is_empty());
        let key = o["key"].as_str().unwrap();
        let garments = o["garments"].as_array().unwrap();
        assert_eq!(garments.len(), ids(key).len(), "{o}");
        assert!(
            garments
                .iter()
                .all(|g| g["name"].is_string() && g["type"].is_string())
        );
    }
}

/// The shipped bundle: the README's first command must work on a fresh clone.
#[test]
fn shipped_default_bundle_verifies_and_runs_the_demo() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let screen = tmp.path().join("demo.png");
    // Defaults only, as in the README (the data dir and screen are kept out of the tree).
    let said = capsule(&data, &["demo", "--screen", s(&screen), "--json"]);
    assert_png(&screen, 480, 320);
    // The demo photo is a camera view of the demo wardrobe's grey shirt (seed 77): the
    // shipped embedder must recognise it, not call it new or another garment.
    let said: serde_json::Value = serde_json::from_str(&said).unwrap();
    let anchor = &said["suggestion"]["anchor"];
    assert_eq!(
        (anchor["name"].as_str(), anchor["new"].as_bool()),
        (Some("grey shirt"), Some(false)),
        "{said}"
    );
    let bundle = Slots::new(&data).active_bundle().unwrap().unwrap();
    assert!(bundle.manifest.stylist.is_some());
    // Every model reproduces its golden output in tract within its tolerance (also checked
    // by the install); the f32 ones to the export's parity target.
    for (file, error) in check_bundle(&bundle, 1).unwrap() {
        let model = bundle
            .manifest
            .models
            .iter()
            .find(|m| m.file == file)
            .unwrap();
        assert!(error <= model.golden.tolerance, "{file}: {error}");
        if model.precision == Precision::F32 {
            assert!(error <= 1e-4, "{file}: {error}");
        }
    }
    let size = dir_size(&models.join("default"));
    assert!(
        size < 8_000_000,
        "models/default is {size} bytes, over 8 MB"
    );
}
