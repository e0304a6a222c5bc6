//! A trained stylist outside training: loaded from its run directory, it encodes any graph
//! (the training data, another seed's data, a wardrobe) and scores pairs of embeddings.
//! This is the API the device port and the ONNX export build on.

use super::checkpoint::{Checkpoint, load_config, load_standardizer, load_stylist};
use super::config::TrainConfig;
use super::error::StylistError;
use super::features::{FeatureError, FeatureFile, Standardizer, node_inputs};
use super::graph::{ItemGraph, MessageEdges};
use super::model::{DecoderTable, Neighbourhood, Stylist, to_vec};
use crate::training::{Backend, RunDir};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use capsule_device::GarmentType;
use capsule_device::stylist::EncoderInputs;
use std::path::Path;

/// Trained weights (in inference mode), the feature statistics they were trained with, and
/// the decoder as a plain table.
#[derive(Debug)]
pub struct TrainedStylist {
    pub config: TrainConfig,
    pub model: Stylist,
    pub standardizer: Standardizer,
    pub decoder: DecoderTable,
    device: Device,
}

impl TrainedStylist {
    /// Loads `run_dir/{config.json, standardizer.json}` and the `checkpoint`'s weights
    /// (`best.bpk` or the last epoch's, see [`Checkpoint`]) onto `backend`'s device.
    pub fn load(
        run_dir: &Path,
        checkpoint: Checkpoint,
        backend: Backend,
    ) -> Result<Self, StylistError> {
        let run = RunDir::open(run_dir)?;
        let config = load_config(&run)?;
        let standardizer = load_standardizer(&run)?;
        let device = backend.device()?;
        let model = load_stylist(&config, &checkpoint.path(&run)?, &device)?;
        Ok(Self::new(config, model, standardizer, device))
    }

    /// Wraps weights already in memory (e.g. during training, for validation).
    pub fn new(
        config: TrainConfig,
        model: Stylist,
        standardizer: Standardizer,
        device: Device,
    ) -> Self {
        let model = model.valid();
        let device = device.inner();
        let decoder = model.decoder.table();
        Self {
            config,
            model,
            standardizer,
            decoder,
            device,
        }
    }

    /// Embedding width.
    pub fn hidden(&self) -> usize {
        self.config.model.hidden
    }

    /// Encoder inputs of every node of `graph` (standardised with the training statistics).
    pub fn node_inputs(
        &self,
        graph: &ItemGraph,
        features: &FeatureFile,
    ) -> Result<Vec<f32>, StylistError> {
        let trained_on = &self.config.feature_source;
        if !trained_on.is_empty() && *trained_on != features.source {
            return Err(FeatureError::WrongSource {
                expected: trained_on.clone(),
                got: features.source.clone(),
            }
            .into());
        }
        Ok(node_inputs(graph, features, &self.standardizer)?)
    }

    /// Embeddings (row-major `[nodes, hidden]`) of a graph given its input rows
    /// (`[nodes, input_dim]`) and message-passing edges.
    pub fn encode(&self, inputs: &[f32], edges: &MessageEdges) -> Vec<f32> {
        let n = edges.nodes;
        debug_assert_eq!(inputs.len(), n * self.config.model.input_dim);
        if n == 0 {
            return Vec::new();
        }
        let x = Tensor::<2>::from_data(
            TensorData::new(inputs.to_vec(), [n, self.config.model.input_dim]),
            &self.device,
        );
        let nb = Neighbourhood::edges(edges, &self.device);
        to_vec(self.model.encoder.forward(x, &nb).into_data())
    }

    /// Compatibility logit of two embeddings of garment types `ta`, `tb` (higher = better).
    pub fn pair_logit(&self, a: &[f32], ta: usize, b: &[f32], tb: usize) -> f32 {
        self.decoder.logit(a, ta, b, tb)
    }

    /// Compatibility as the exported decoder gives it: the logit through a sigmoid, 0..1.
    pub fn pair_compatibility(&self, a: &[f32], ta: usize, b: &[f32], tb: usize) -> f32 {
        1.0 / (1.0 + (-self.pair_logit(a, ta, b, tb)).exp())
    }

    /// Embeddings of a graph given as the device feeds the exported encoder (raw features,
    /// type one-hot, neighbour slots and weights): the reference the export must match.
    pub fn encode_device_inputs(&self, x: &EncoderInputs) -> Vec<f32> {
        let dim = self.standardizer.dim();
        let types = GarmentType::COUNT;
        let mut inputs = Vec::with_capacity(x.nodes * (dim + types));
        let mut lists = Vec::with_capacity(x.nodes);
        for i in 0..x.nodes {
            inputs.extend(self.standardizer.apply(&x.features[i * dim..(i + 1) * dim]));
            inputs.extend_from_slice(&x.types[i * types..(i + 1) * types]);
            let slots = i * x.slots..(i + 1) * x.slots;
            lists.push(
                x.neighbours[slots.clone()]
                    .iter()
                    .zip(&x.weights[slots])
                    .filter(|(_, w)| **w > 0.0)
                    .map(|(&j, _)| j as u32)
                    .collect::<Vec<u32>>(),
            );
        }
        self.encode(&inputs, &MessageEdges::from_neighbour_lists(&lists))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stylist::config::tests::tiny;
    use crate::stylist::model::{DecoderForm, DecoderKind};
    use crate::training::checkpoint::save_weights;

    #[test]
    fn saved_weights_load_back_to_the_same_stylist() {
        let device = Device::flex();
        device.seed(7);
        for form in [DecoderForm::Distance, DecoderForm::DistanceProduct] {
            let config = tiny(3, DecoderKind::TypeAware, form);
            let weights = config.model.init(&device);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("weights.bpk");
            save_weights(&weights, &path).unwrap();
            let loaded = load_stylist(&config, &path, &device).unwrap();
            assert_eq!(loaded.decoder.table(), weights.decoder.table());
            assert_eq!(loaded.decoder.form(), form);
            let edges = MessageEdges::from_undirected(2, &[(0, 1)]);
            let standardizer = Standardizer {
                mean: vec![0.0; 3],
                std: vec![1.0; 3],
            };
            let a = TrainedStylist::new(
                config.clone(),
                weights,
                standardizer.clone(),
                device.clone(),
            );
            let b = TrainedStylist::new(config, loaded, standardizer, device.clone());
            let inputs = [0.5, -1.0, 2.0, 1.0, 0.0, -0.5];
            assert_eq!(a.encode(&inputs, &edges), b.encode(&inputs, &edges));
        }
    }
}
