//! The trained stylist as two ONNX graphs in the layout of
//! [`capsule_device::stylist::contract`]: the GCN encoder (symbolic node and neighbour-slot
//! counts; z-scoring folded in) and the pair decoder (symbolic pair count).
//!
//! The neighbour mean is a `Gather` of each node's neighbour rows, weighted and summed:
//! memory and time linear in `N × K`, so a 10k-garment wardrobe needs no `N × N` matrix.
//! Because `W_1` has no bias, `mean_j(h_j)·W_1 = mean_j(h_j·W_1)`: the encoder projects
//! first and gathers the narrower projected rows.

use super::builder::{Attr, GraphBuilder};
use super::embedder::ExportError;
use super::emit;
use crate::stylist::TrainedStylist;
use crate::stylist::model::{DecoderKind, DecoderTable};
use capsule_device::GarmentType;
use capsule_device::bundle::{Dim, TensorSpec};
use capsule_device::garment::TYPE_PAIRS;
// The inputs each graph declares are the contract's (the board loads them the same way).
use capsule_device::stylist::contract::{DECODER_OUTPUT, ENCODER_OUTPUT, NODES, PAIRS};
pub use capsule_device::stylist::contract::{decoder_inputs, encoder_inputs};
use tract_onnx::pb;

/// ONNX `Cast` target for int64.
const INT64: i64 = pb::tensor_proto::DataType::Int64 as i64;

fn sym(s: &str) -> Dim {
    Dim::Symbol(s.into())
}

fn declare_inputs(g: &mut GraphBuilder, specs: &[TensorSpec]) -> Vec<String> {
    specs.iter().map(|s| g.input(&s.name, &s.shape)).collect()
}

/// `features, types, neighbours, neighbour_weights → node_embedding`.
pub fn export_stylist_encoder(stylist: &TrainedStylist) -> Result<pb::ModelProto, ExportError> {
    let standardizer = &stylist.standardizer;
    let feature_dim = standardizer.dim();
    if stylist.config.model.input_dim != feature_dim + GarmentType::COUNT {
        return Err(ExportError::Config(format!(
            "the encoder reads {} inputs per node, but features ({feature_dim}) + type one-hot \
             ({}) make {}",
            stylist.config.model.input_dim,
            GarmentType::COUNT,
            feature_dim + GarmentType::COUNT
        )));
    }
    let mut g = GraphBuilder::new("capsule-stylist-encoder");
    let inputs = declare_inputs(&mut g, &encoder_inputs(feature_dim));
    let [features, types, neighbours, weights] = [0, 1, 2, 3].map(|i| inputs[i].as_str());

    let mean = g.initializer("standardize.mean", &[feature_dim], &standardizer.mean);
    let std = g.initializer("standardize.std", &[feature_dim], &standardizer.std);
    let centred = g.node("Sub", "standardize.centre", &[features, &mean], vec![]);
    let scaled = g.node("Div", "standardize.scale", &[&centred, &std], vec![]);
    let mut h = g.node(
        "Concat",
        "node_inputs",
        &[&scaled, types],
        vec![("axis", Attr::Int(1))],
    );

    let index = g.node(
        "Cast",
        "neighbours.index",
        &[neighbours],
        vec![("to", Attr::Int(INT64))],
    );
    let axis2 = g.initializer_i64("axes.2", &[1], &[2]);
    let axis1 = g.initializer_i64("axes.1", &[1], &[1]);
    let slot_weights = g.node(
        "Unsqueeze",
        "neighbours.weights",
        &[weights, &axis2],
        vec![],
    );

    let layers = stylist.model.encoder.layers();
    for (k, layer) in layers.iter().enumerate() {
        let at = format!("encoder.layers.{k}");
        let own = emit::linear(&mut g, &format!("{at}.self_term"), &h, layer.self_term())?;
        let projected = emit::linear(
            &mut g,
            &format!("{at}.neighbours"),
            &h,
            layer.neighbour_term(),
        )?;
        let gathered = g.node(
            "Gather",
            &format!("{at}.gather"),
            &[&projected, &index],
            vec![("axis", Attr::Int(0))],
        );
        let weighted = g.node(
            "Mul",
            &format!("{at}.weigh"),
            &[&gathered, &slot_weights],
            vec![],
        );
        let mean = g.node(
            "ReduceSum",
            &format!("{at}.mean"),
            &[&weighted, &axis1],
            vec![("keepdims", Attr::Int(0))],
        );
        let sum = g.node("Add", &format!("{at}.add"), &[&own, &mean], vec![]);
        let is_last = k + 1 == layers.len();
        h = if is_last {
            g.node_with_outputs(
                "Relu",
                &format!("{at}.relu"),
                &[&sum],
                &[ENCODER_OUTPUT],
                vec![],
            );
            ENCODER_OUTPUT.to_string()
        } else {
            g.node("Relu", &format!("{at}.relu"), &[&sum], vec![])
        };
    }
    if layers.is_empty() {
        return Err(ExportError::Config("the encoder has no layers".into()));
    }
    g.output(
        ENCODER_OUTPUT,
        &[sym(NODES), Dim::Fixed(stylist.config.model.hidden)],
    );
    Ok(g.finish("capsule-host")?)
}

/// `a, b, pair → compatibility = σ(w_p·|a − b| [+ u_p·(a ⊙ b)] + b_p)`. A shared decoder is
/// written with its one row repeated for every type pair, so both kinds have one interface.
pub fn export_stylist_decoder(table: &DecoderTable) -> Result<pb::ModelProto, ExportError> {
    let width = table.width;
    let rows = |values: &[f32]| -> Vec<f32> {
        match table.kind {
            DecoderKind::TypeAware => values.to_vec(),
            DecoderKind::Shared => values.repeat(TYPE_PAIRS),
        }
    };
    let mut g = GraphBuilder::new("capsule-stylist-decoder");
    let inputs = declare_inputs(&mut g, &decoder_inputs(width));
    let [a, b, pair] = [0, 1, 2].map(|i| inputs[i].as_str());
    let index = g.node(
        "Cast",
        "pair.index",
        &[pair],
        vec![("to", Attr::Int(INT64))],
    );
    let gather = |g: &mut GraphBuilder, table: &str, at: &str| {
        g.node("Gather", at, &[table, &index], vec![("axis", Attr::Int(0))])
    };
    let w = g.initializer("decoder.weight", &[TYPE_PAIRS, width], &rows(&table.weight));
    let w_rows = gather(&mut g, &w, "decoder.weight.rows");
    let difference = g.node("Sub", "decoder.difference", &[a, b], vec![]);
    let distance = g.node("Abs", "decoder.distance", &[&difference], vec![]);
    let mut terms = g.node(
        "Mul",
        "decoder.distance_terms",
        &[&distance, &w_rows],
        vec![],
    );
    if let Some(u) = &table.product {
        let u = g.initializer("decoder.product", &[TYPE_PAIRS, width], &rows(u));
        let u_rows = gather(&mut g, &u, "decoder.product.rows");
        let product = g.node("Mul", "decoder.elementwise", &[a, b], vec![]);
        let product_terms = g.node("Mul", "decoder.product_terms", &[&product, &u_rows], vec![]);
        terms = g.node("Add", "decoder.terms", &[&terms, &product_terms], vec![]);
    }
    let axis1 = g.initializer_i64("axes.1", &[1], &[1]);
    let dot = g.node(
        "ReduceSum",
        "decoder.dot",
        &[&terms, &axis1],
        vec![("keepdims", Attr::Int(0))],
    );
    let bias = g.initializer("decoder.bias", &[TYPE_PAIRS], &rows(&table.bias));
    let bias_rows = gather(&mut g, &bias, "decoder.bias.rows");
    // The logit, not its sigmoid: outfit scores average logits (`outfit_score`).
    g.node_with_outputs(
        "Add",
        "decoder.logit",
        &[&dot, &bias_rows],
        &[DECODER_OUTPUT],
        vec![],
    );
    g.output(DECODER_OUTPUT, &[sym(PAIRS)]);
    Ok(g.finish("capsule-host")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::encode;
    use crate::stylist::model::{DecoderForm, StylistConfig};
    use crate::stylist::{Standardizer, TrainConfig, type_pair_index};
    use burn::tensor::Device;
    use capsule_device::bundle::{DecoderOutput, StylistSpec};
    use capsule_device::stylist::{EncoderInputs, StylistModels};
    use rand::{Rng, SeedableRng};

    const FEATURES: usize = 6;
    const HIDDEN: usize = 8;

    fn trained(decoder: DecoderKind, decoder_form: DecoderForm, seed: u64) -> TrainedStylist {
        let device = Device::flex();
        device.seed(seed);
        let model = StylistConfig {
            input_dim: FEATURES + GarmentType::COUNT,
            hidden: HIDDEN,
            layers: 2,
            dropout: 0.0,
            decoder,
            decoder_form,
        };
        let config = TrainConfig::new(model.clone(), "data".into(), "features.json".into());
        let standardizer = Standardizer {
            mean: (0..FEATURES).map(|k| k as f32 * 0.1).collect(),
            std: (0..FEATURES).map(|k| 0.5 + k as f32 * 0.2).collect(),
        };
        TrainedStylist::new(config, model.init(&device), standardizer, device)
    }

    /// A random graph of `n` nodes with at most `k` neighbours each, as the device feeds it.
    fn graph(n: usize, k: usize, seed: u64) -> EncoderInputs {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let lists: Vec<Vec<usize>> = (0..n)
            .map(|i| {
                let len = rng.random_range(0..=k);
                let mut l: Vec<usize> = (0..len).map(|_| rng.random_range(0..n)).collect();
                l.retain(|&j| j != i);
                l.sort();
                l.dedup();
                l
            })
            .collect();
        let features = (0..n * FEATURES)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let types: Vec<GarmentType> = (0..n)
            .map(|i| GarmentType::ALL[i % GarmentType::COUNT])
            .collect();
        EncoderInputs::from_lists(features, &types, &lists)
    }

    fn max_error(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn exported_stylist_matches_burn_at_two_graph_sizes_for_every_decoder() {
        let dir = tempfile::tempdir().unwrap();
        for (seed, decoder, form) in [
            (1, DecoderKind::TypeAware, DecoderForm::DistanceProduct),
            (2, DecoderKind::Shared, DecoderForm::Distance),
        ] {
            let stylist = trained(decoder, form, seed);
            let encoder_path = dir.path().join(format!("encoder{seed}.onnx"));
            let decoder_path = dir.path().join(format!("decoder{seed}.onnx"));
            std::fs::write(
                &encoder_path,
                encode(&export_stylist_encoder(&stylist).unwrap()),
            )
            .unwrap();
            std::fs::write(
                &decoder_path,
                encode(&export_stylist_decoder(&stylist.decoder).unwrap()),
            )
            .unwrap();
            let spec = StylistSpec {
                layers: 2,
                hidden: HIDDEN,
                feature_dim: FEATURES,
                max_neighbours: 4,
                features: "embedder".into(),
                decoder_output: DecoderOutput::Logit,
            };
            let models = StylistModels::load(&encoder_path, &decoder_path, spec, 1).unwrap();
            for (n, k) in [(5, 2), (37, 4)] {
                let x = graph(n, k, seed * 100 + n as u64);
                let tract = models.encode(&x).unwrap();
                let burn = stylist.encode_device_inputs(&x);
                let err = max_error(&tract, &burn);
                assert!(
                    err < 1e-4,
                    "{decoder:?} encoder, {n} nodes: max error {err}"
                );
                assert!(
                    burn.iter().any(|&v| v > 0.0),
                    "all-zero embeddings test nothing"
                );

                // Decoder: every node against the next one, with its type pair's row.
                let pairs: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
                let row = |i: usize| &burn[i * HIDDEN..(i + 1) * HIDDEN];
                let (mut a, mut b, mut slots, mut want) = (vec![], vec![], vec![], vec![]);
                for &(i, j) in &pairs {
                    let (ti, tj) = (i % GarmentType::COUNT, j % GarmentType::COUNT);
                    a.extend_from_slice(row(i));
                    b.extend_from_slice(row(j));
                    slots.push(type_pair_index(ti, tj));
                    want.push(stylist.pair_logit(row(i), ti, row(j), tj));
                }
                let got = models.score(&a, &b, &slots).unwrap();
                let err = max_error(&got, &want);
                assert!(
                    err < 1e-5,
                    "{decoder:?} decoder, {n} pairs: max error {err}"
                );
            }
        }
    }
}
