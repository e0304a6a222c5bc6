//! The stylist's half of a bundle: encoder and decoder ONNX files, a golden pair for each
//! (burn's output on a small fixed graph), and the spec the device feeds them by.

use super::BundleError;
use crate::golden::GOLDEN_TOLERANCE;
use crate::onnx::stylist::{decoder_inputs, encoder_inputs};
use crate::onnx::{encode, export_stylist_decoder, export_stylist_encoder};
use crate::stylist::features::split_style;
use crate::stylist::training::{EpochMetrics, best_epoch};
use crate::stylist::{Checkpoint, StylistError, TrainedStylist};
use crate::training::{Backend, RunDir};
use burn::module::Module;
use capsule_device::GarmentType;
use capsule_device::bundle::metrics as metric;
use capsule_device::bundle::{
    DecoderOutput, GoldenPair, ModelEntry, ModelRole, NpyArray, Precision,
    STYLIST_FEATURES_EMBEDDER, STYLIST_FEATURES_EMBEDDER_STYLE, StylistSpec, sha256_hex,
};
use capsule_device::fsutil::write_atomic;
use capsule_device::garment::{STYLE_DIM, type_pair_index};
use capsule_device::stylist::{EncoderInputs, NodeFeatures, WardrobeGraph};
use capsule_device::wardrobe::{EdgeProvenance, Garment, GarmentId, GarmentStatus, OutfitEdge};
use std::collections::BTreeMap;
use std::path::Path;

/// The encoder's file inside a bundle.
pub const ENCODER_FILE: &str = "stylist-encoder.f32.onnx";
/// The decoder's file inside a bundle.
pub const DECODER_FILE: &str = "stylist-decoder.f32.onnx";
/// Neighbours a device averages per garment: the test-time context K = 15 of the
/// published protocol.
pub const MAX_NEIGHBOURS: usize = 15;
/// Nodes of the golden graph.
const GOLDEN_NODES: usize = 9;
/// Neighbour slots of the golden graph.
const GOLDEN_SLOTS: usize = 3;

/// What [`stylist_models`] adds to a bundle.
pub struct StylistPart {
    pub models: Vec<ModelEntry>,
    pub spec: StylistSpec,
    /// The run's validation figures at the shipped checkpoint.
    pub metrics: BTreeMap<String, f64>,
    pub dataset: String,
}

/// Exports the stylist run at `run_dir` (its best checkpoint) into `out`. Its features must
/// be `embedder_source`: the bundle's embedder output, which is what the device has.
pub fn stylist_models(
    run_dir: &Path,
    embedder_source: &str,
    embedder_dim: usize,
    out: &Path,
) -> Result<StylistPart, BundleError> {
    let stylist = TrainedStylist::load(run_dir, Checkpoint::Best, Backend::Flex)
        .map_err(|e| invalid(run_dir, e))?;
    let trained_on = &stylist.config.feature_source;
    let (source, style) = split_style(trained_on);
    if source != embedder_source {
        return Err(BundleError::Invalid(format!(
            "the stylist {} was trained on {trained_on:?} features, but this bundle's embedder \
             makes {embedder_source:?}: compute features with `capsule-host stylist features \
             --embedder RUN [--style]` and train the stylist on them",
            run_dir.display()
        )));
    }
    let (features, expected_dim) = if style {
        (STYLIST_FEATURES_EMBEDDER_STYLE, embedder_dim + STYLE_DIM)
    } else {
        (STYLIST_FEATURES_EMBEDDER, embedder_dim)
    };
    let feature_dim = stylist.standardizer.dim();
    if feature_dim != expected_dim {
        return Err(BundleError::Invalid(format!(
            "the stylist reads {feature_dim} features, its {features:?} rows have {expected_dim}"
        )));
    }
    let model = &stylist.config.model;
    let encoder = encode(&export_stylist_encoder(&stylist)?);
    let decoder = encode(&export_stylist_decoder(&stylist.decoder)?);
    write_atomic(&out.join(ENCODER_FILE), &encoder)?;
    write_atomic(&out.join(DECODER_FILE), &decoder)?;

    // Golden encoder pair: a fixed small graph, embedded by burn.
    let graph = golden_graph(feature_dim, style)?;
    let z = stylist.encode_device_inputs(&graph);
    let encoder_golden = golden_files(
        out,
        "stylist-encoder",
        &[
            ("features", vec![GOLDEN_NODES, feature_dim], graph.features),
            ("types", vec![GOLDEN_NODES, GarmentType::COUNT], graph.types),
            (
                "neighbours",
                vec![GOLDEN_NODES, graph.slots],
                graph.neighbours,
            ),
            (
                "neighbour_weights",
                vec![GOLDEN_NODES, graph.slots],
                graph.weights,
            ),
        ],
        (vec![GOLDEN_NODES, model.hidden], z.clone()),
    )?;

    // Golden decoder pair: every golden node with the next, through its type pair's row.
    let h = model.hidden;
    let (mut a, mut b, mut rows, mut want) = (vec![], vec![], vec![], vec![]);
    for i in 0..GOLDEN_NODES {
        let j = (i + 1) % GOLDEN_NODES;
        let (ti, tj) = (golden_type(i), golden_type(j));
        let (zi, zj) = (&z[i * h..(i + 1) * h], &z[j * h..(j + 1) * h]);
        a.extend_from_slice(zi);
        b.extend_from_slice(zj);
        rows.push(type_pair_index(ti, tj) as f32);
        want.push(stylist.pair_logit(zi, ti, zj, tj));
    }
    let decoder_golden = golden_files(
        out,
        "stylist-decoder",
        &[
            ("a", vec![GOLDEN_NODES, h], a),
            ("b", vec![GOLDEN_NODES, h], b),
            ("pair", vec![GOLDEN_NODES], rows),
        ],
        (vec![GOLDEN_NODES], want),
    )?;

    let params = stylist.model.num_params() as u64;
    let decoder_params = stylist.model.decoder.num_params() as u64;
    let models = vec![
        ModelEntry {
            role: ModelRole::StylistEncoder,
            file: ENCODER_FILE.into(),
            sha256: sha256_hex(&encoder),
            precision: Precision::F32,
            inputs: encoder_inputs(feature_dim),
            output_dim: h,
            golden: encoder_golden,
            params: params - decoder_params,
        },
        ModelEntry {
            role: ModelRole::StylistDecoder,
            file: DECODER_FILE.into(),
            sha256: sha256_hex(&decoder),
            precision: Precision::F32,
            inputs: decoder_inputs(h),
            output_dim: 1,
            golden: decoder_golden,
            params: decoder_params,
        },
    ];
    let run = RunDir::open(run_dir).map_err(|e| invalid(run_dir, StylistError::from(e)))?;
    let epochs: Vec<EpochMetrics> = run
        .metrics()
        .map_err(|e| invalid(run_dir, StylistError::from(e)))?;
    let mut metrics = BTreeMap::new();
    if let Some(best) = best_epoch(&epochs) {
        for (name, value) in [
            (metric::STYLIST_VALID_FITB, best.valid_fitb),
            (metric::STYLIST_VALID_FITB_HARD, best.valid_fitb_hard),
            (metric::STYLIST_VALID_AUC, best.valid_auc),
        ] {
            if let Some(v) = value {
                metrics.insert(name.to_string(), v);
            }
        }
    }
    Ok(StylistPart {
        models,
        spec: StylistSpec {
            layers: model.layers,
            hidden: h,
            feature_dim,
            max_neighbours: MAX_NEIGHBOURS,
            features: features.into(),
            decoder_output: DecoderOutput::Logit,
        },
        metrics,
        dataset: format!(
            "stylist: Polyvore-format outfits at {} ({:?} decoder, {:?} form, {}x{})",
            stylist.config.data.display(),
            model.decoder,
            model.decoder_form,
            model.layers,
            model.hidden
        ),
    })
}

fn invalid(run_dir: &Path, source: StylistError) -> BundleError {
    BundleError::Stylist {
        run: run_dir.to_path_buf(),
        source: Box::new(source),
    }
}

fn golden_type(node: usize) -> usize {
    node % GarmentType::COUNT
}

/// Writes `golden/{stem}.{name}.npy` per input and `golden/{stem}.out.npy`.
fn golden_files(
    out: &Path,
    stem: &str,
    inputs: &[(&str, Vec<usize>, Vec<f32>)],
    output: (Vec<usize>, Vec<f32>),
) -> Result<GoldenPair, BundleError> {
    let npy =
        |shape: Vec<usize>, data: Vec<f32>| NpyArray::new(shape, data).map_err(BundleError::from);
    let mut files = Vec::new();
    for (name, shape, data) in inputs {
        let file = format!("golden/{stem}.{name}.npy");
        write_atomic(
            &out.join(&file),
            &npy(shape.clone(), data.clone())?.to_bytes(),
        )?;
        files.push(file);
    }
    let file = format!("golden/{stem}.out.npy");
    write_atomic(&out.join(&file), &npy(output.0, output.1)?.to_bytes())?;
    Ok(GoldenPair {
        inputs: files,
        output: file,
        tolerance: GOLDEN_TOLERANCE,
    })
}

/// A fixed wardrobe that exercises every part of the encoder (garments of every type, full
/// and padded neighbour lists up to [`GOLDEN_SLOTS`], an isolated garment), turned into
/// encoder inputs by the board's own `WardrobeGraph::encoder_inputs`.
fn golden_graph(feature_dim: usize, style: bool) -> Result<EncoderInputs, BundleError> {
    let n = GOLDEN_NODES;
    let style_dim = if style { STYLE_DIM } else { 0 };
    let garments: Vec<Garment> = (0..n)
        .map(|i| {
            // Unit-length rows like the embedder's, from a fixed formula.
            let row: Vec<f32> = (0..feature_dim)
                .map(|k| ((i * 31 + k * 17) % 23) as f32 / 11.0 - 1.0)
                .collect();
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-6);
            let row: Vec<f32> = row.iter().map(|v| v / norm).collect();
            let (embedding, style) = row.split_at(feature_dim - style_dim);
            Garment {
                id: GarmentId(i as u64),
                garment_type: GarmentType::ALL[golden_type(i)],
                name: format!("golden {i}"),
                thumbnail_png: Vec::new(),
                embedding: embedding.to_vec(),
                style: style.to_vec(),
                added_unix: 0,
                last_worn_unix: None,
                status: GarmentStatus::Available,
            }
        })
        .collect();
    // Node 0 stays isolated; the others link to nodes two, four, ... places on.
    let edges: Vec<OutfitEdge> = (1..n)
        .flat_map(|i| (1..=(i % GOLDEN_SLOTS) + 1).map(move |d| (i, (i + d * 2) % n)))
        .filter(|&(i, j)| j != 0 && j != i)
        .filter_map(|(i, j)| {
            OutfitEdge::new(
                GarmentId(i as u64),
                GarmentId(j as u64),
                EdgeProvenance::Imported,
                (i * n + j) as u64,
            )
        })
        .collect();
    let rows = NodeFeatures {
        width: feature_dim,
        style,
    };
    let graph = WardrobeGraph::new(&garments, &edges, rows)
        .map_err(|e| BundleError::Invalid(format!("golden stylist graph: {e}")))?;
    let all: Vec<usize> = (0..n).collect();
    Ok(graph.encoder_inputs(&all, GOLDEN_SLOTS))
}
