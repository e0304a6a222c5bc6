//! Helpers shared by the end-to-end tests in `tests/`.

use capsule_device::bundle::Dim;
use capsule_host::onnx::{Attr, GraphBuilder, encode};
use capsule_host::synth::{SynthConfig, rules::StyleRules};

pub const SIZE: usize = 8;
pub const CHANNELS: usize = 4;
pub const DIM: usize = 5;

/// Deterministic weights in [-1, 1].
pub fn weights(n: usize, salt: u32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| ((i.wrapping_mul(2654435761) ^ salt) % 2001) as f32 / 1000.0 - 1.0)
        .collect()
}

/// Conv 3x3 (pad 1) -> ReLU -> global average pool -> linear -> unit length, written to
/// `path` with the `manifest.json` of its (unsigned, golden-less) bundle beside it: the
/// default preprocessing, no calibrated threshold.
pub fn write_tiny_embedder(path: &std::path::Path) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let conv_w = weights(CHANNELS * 3 * 9, 1);
    let conv_b = weights(CHANNELS, 2);
    let fc_w = weights(CHANNELS * DIM, 3);
    let mut g = GraphBuilder::new("tiny-embedder");
    let n = || Dim::Symbol("N".into());
    let x = g.input(
        "image",
        &[n(), Dim::Fixed(3), Dim::Fixed(SIZE), Dim::Fixed(SIZE)],
    );
    let w = g.initializer("conv.weight", &[CHANNELS, 3, 3, 3], &conv_w);
    let b = g.initializer("conv.bias", &[CHANNELS], &conv_b);
    let y = g.node(
        "Conv",
        "conv",
        &[&x, &w, &b],
        vec![
            ("kernel_shape", Attr::Ints(vec![3, 3])),
            ("pads", Attr::Ints(vec![1, 1, 1, 1])),
        ],
    );
    let y = g.node("Relu", "relu", &[&y], vec![]);
    let y = g.node("GlobalAveragePool", "pool", &[&y], vec![]);
    let y = g.node("Flatten", "flatten", &[&y], vec![("axis", Attr::Int(1))]);
    let fw = g.initializer("fc.weight", &[CHANNELS, DIM], &fc_w);
    let y = g.node("MatMul", "fc", &[&y, &fw], vec![]);
    let norm = g.node(
        "ReduceL2",
        "norm",
        &[&y],
        vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(1))],
    );
    let y = g.node("Div", "unit", &[&y, &norm], vec![]);
    g.output(&y, &[n(), Dim::Fixed(DIM)]);
    let bytes = encode(&g.finish("capsule-e2e").unwrap());
    std::fs::write(path, &bytes).unwrap();
    write_manifest_beside(path, &bytes);
    (conv_w, conv_b, fc_w)
}

fn write_manifest_beside(model: &std::path::Path, bytes: &[u8]) {
    use capsule_device::bundle::{MANIFEST_FILE, manifest::sample, sha256_hex};
    let mut manifest = sample();
    manifest.metrics.clear();
    let entry = &mut manifest.models[0];
    entry.file = model.file_name().unwrap().to_string_lossy().into_owned();
    entry.sha256 = sha256_hex(bytes);
    entry.output_dim = DIM;
    entry.params = 0;
    let dir = model.parent().unwrap();
    std::fs::write(dir.join(MANIFEST_FILE), manifest.to_bytes()).unwrap();
}

/// The mirror service over the wardrobe in `data` with the tiny embedder at `model`
/// (recognition only), new-garment threshold `threshold`.
pub fn tiny_mirror(
    data: &std::path::Path,
    model: &std::path::Path,
    threshold: f32,
) -> capsule_device::app::Mirror {
    use capsule_device::app::{Mirror, ModelSource, Models, Outfits};
    let models = Models::open(data, None, ModelSource::EmbedderFile(model)).unwrap();
    let mut mirror = Mirror::open(data, models, Outfits::Off).unwrap();
    mirror.set_threshold(threshold);
    mirror
}

pub fn reference_embedding(
    input: &[f32],
    conv_w: &[f32],
    conv_b: &[f32],
    fc_w: &[f32],
) -> Vec<f32> {
    let at = |c: usize, y: isize, x: isize| {
        if y < 0 || x < 0 || y >= SIZE as isize || x >= SIZE as isize {
            0.0
        } else {
            input[c * SIZE * SIZE + y as usize * SIZE + x as usize]
        }
    };
    let mut pooled = [0.0f32; CHANNELS];
    for (o, p) in pooled.iter_mut().enumerate() {
        for y in 0..SIZE as isize {
            for x in 0..SIZE as isize {
                let mut s = conv_b[o];
                for c in 0..3 {
                    for ky in 0..3 {
                        for kx in 0..3 {
                            s += conv_w[((o * 3 + c) * 3 + ky) * 3 + kx]
                                * at(c, y + ky as isize - 1, x + kx as isize - 1);
                        }
                    }
                }
                *p += s.max(0.0);
            }
        }
        *p /= (SIZE * SIZE) as f32;
    }
    let mut out: Vec<f32> = (0..DIM)
        .map(|d| (0..CHANNELS).map(|c| pooled[c] * fc_w[c * DIM + d]).sum())
        .collect();
    let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt();
    out.iter_mut().for_each(|v| *v /= norm);
    out
}

/// Synthetic garments, In-shop views and Polyvore outfits of `config`, drawn with the
/// shipped style rules into `out`. Returns `out`.
pub fn synth(out: &std::path::Path, config: SynthConfig) -> std::path::PathBuf {
    let rules = StyleRules::shipped().expect("the shipped style rules parse");
    capsule_host::synth::generate(out, &config, &rules, &|| {}).expect("synthetic data");
    out.to_path_buf()
}

/// Product pictures of `garments` synthetic garments (seed 4), copied into
/// `dir/<type>/<title>-<item id>.jpg`, the layout `capsule wardrobe import` reads.
pub fn garment_photos(dir: &std::path::Path, garments: usize) {
    let config = SynthConfig {
        garments,
        views: 2,
        outfits: 10,
        seed: 4,
        ..SynthConfig::default()
    };
    let synth = synth(&dir.join("synth"), config);
    let variant = capsule_host::data::polyvore::Variant::Nondisjoint;
    let data =
        capsule_host::data::polyvore::PolyvoreDataset::load(&synth.join("polyvore"), variant)
            .unwrap();
    for (id, item) in &data.items {
        let folder = dir.join(item.garment_type.as_str());
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(
            &item.image,
            folder.join(format!("{}-{id}.jpg", item.title.replace(' ', "_"))),
        )
        .unwrap();
    }
}

/// Shape of a stylist made by [`write_untrained_stylist`].
pub struct StylistShape {
    pub features: usize,
    pub hidden: usize,
    pub layers: usize,
    pub max_neighbours: usize,
}

/// A freshly initialised (untrained) type-aware stylist of `shape`, exported to
/// `dir/{encoder,decoder}.onnx` and loaded in tract as the device loads it. Costs and the
/// plumbing do not depend on trained weights.
pub fn write_untrained_stylist(
    dir: &std::path::Path,
    shape: &StylistShape,
    seed: u64,
) -> capsule_device::stylist::StylistModels {
    use capsule_device::GarmentType;
    use capsule_host::onnx::{export_stylist_decoder, export_stylist_encoder};
    use capsule_host::stylist::{
        DecoderForm, DecoderKind, Standardizer, StylistConfig, TrainConfig, TrainedStylist,
    };
    // burn's seed is process-wide: without the lock a test running beside this one could
    // draw from the generator between the seed and the initialisation, and the "seeded"
    // weights would differ from run to run.
    static SEEDED_INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _seeded = SEEDED_INIT.lock().unwrap_or_else(|e| e.into_inner());
    let device = burn::tensor::Device::flex();
    device.seed(seed);
    let config = StylistConfig {
        input_dim: shape.features + GarmentType::COUNT,
        hidden: shape.hidden,
        layers: shape.layers,
        dropout: 0.0,
        decoder: DecoderKind::TypeAware,
        decoder_form: DecoderForm::DistanceProduct,
    };
    let stylist = TrainedStylist::new(
        TrainConfig::new(config.clone(), "data".into(), "f.json".into()),
        config.init(&device),
        Standardizer {
            mean: vec![0.0; shape.features],
            std: vec![0.5; shape.features],
        },
        device,
    );
    let (e, d) = (dir.join("encoder.onnx"), dir.join("decoder.onnx"));
    std::fs::write(&e, encode(&export_stylist_encoder(&stylist).unwrap())).unwrap();
    std::fs::write(
        &d,
        encode(&export_stylist_decoder(&stylist.decoder).unwrap()),
    )
    .unwrap();
    let spec = capsule_device::bundle::StylistSpec {
        layers: shape.layers,
        hidden: shape.hidden,
        feature_dim: shape.features,
        max_neighbours: shape.max_neighbours,
        features: capsule_device::bundle::STYLIST_FEATURES_EMBEDDER.into(),
        decoder_output: capsule_device::bundle::DecoderOutput::Logit,
    };
    capsule_device::stylist::StylistModels::load(&e, &d, spec, 1).unwrap()
}

/// Runs `capsule-host` in-process; panics with the command and error on failure.
/// Runs `capsule --data-dir DATA ARGS...` in-process and returns what it reported; panics
/// with the error chain when the command fails.
pub fn capsule(data: &std::path::Path, args: &[&str]) -> String {
    capsule_result(data, args).unwrap_or_else(|e| panic!("capsule {args:?}: {e}"))
}

/// [`capsule`] for a command that may fail: its report, or its error chain.
pub fn capsule_result(data: &std::path::Path, args: &[&str]) -> Result<String, String> {
    let mut all = vec![
        "capsule".to_string(),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    capsule_device::cli::run_captured(all).map_err(|e| format!("{e:#}"))
}

/// Installs the shipped bundle and demo wardrobe into `dir/data`, as `capsule demo` does
/// (its screen goes to `dir/demo.png`); returns the data directory.
pub fn install_demo(dir: &std::path::Path) -> std::path::PathBuf {
    let data = dir.join("data");
    let screen = dir.join("demo.png");
    capsule(&data, &["demo", "--screen", &screen.display().to_string()]);
    data
}

pub fn host(args: &[&str]) {
    let mut all = vec!["capsule-host"];
    all.extend_from_slice(args);
    capsule_host::cli::run(all).unwrap_or_else(|e| panic!("capsule-host {args:?}: {e:#}"));
}

/// A small synthetic In-shop set (16 garments × 3 views, seed 4) under `root/synth` and an
/// embedder briefly trained on it (1 epoch of `capsule_host::cli::SHORT_EMBEDDER_EPOCHS`) in
/// `root/run`, with `train_args` added (e.g. `--preset tiny`). Returns the In-shop folder and
/// the run.
pub fn synth_and_train_embedder(
    root: &std::path::Path,
    train_args: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let config = SynthConfig {
        garments: 16,
        views: 3,
        outfits: 10,
        seed: 4,
        ..SynthConfig::default()
    };
    let data = synth(&root.join("synth"), config).join("inshop");
    let run = root.join("run");
    let (data_arg, run_arg) = (data.display().to_string(), run.display().to_string());
    let mut args = vec![
        "train", "embedder", "--data", &data_arg, "--format", "inshop",
    ];
    args.extend(["--epochs", "1", "--out", &run_arg]);
    args.extend(capsule_host::cli::SHORT_EMBEDDER_EPOCHS);
    args.extend_from_slice(train_args);
    host(&args);
    (data, run)
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Re-signs the bundle `dir`'s manifest with the secret key file `key` after `change` edits
/// it (a new version of a bundle, or one that is signed but bad).
pub fn resign(
    dir: &std::path::Path,
    key: &std::path::Path,
    change: impl FnOnce(&mut serde_json::Value),
) {
    use capsule_device::bundle::{MANIFEST_FILE, SIGNATURE_FILE};
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(MANIFEST_FILE)).unwrap()).unwrap();
    change(&mut v);
    let mut bytes = serde_json::to_vec_pretty(&v).unwrap();
    bytes.push(b'\n');
    std::fs::write(dir.join(MANIFEST_FILE), &bytes).unwrap();
    let secret = capsule_host::bundle::read_key(key).unwrap();
    let sig = capsule_device::bundle::signature::sign_manifest(&bytes, &secret);
    std::fs::write(dir.join(SIGNATURE_FILE), sig).unwrap();
}
