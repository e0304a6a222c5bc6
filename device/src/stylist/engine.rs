//! The bundle's stylist encoder and decoder, loaded once in tract with symbolic node,
//! neighbour-slot and pair counts, so any wardrobe size runs through the same plan.

use super::StylistError;
use super::graph::EncoderInputs;
use crate::bundle::{DecoderOutput, Manifest, ModelRole, Precision, StylistSpec, VerifiedBundle};
use crate::engine::{EngineError, InputShape, OnnxModel};
use crate::garment::GarmentType;
use capsule_contract::stylist::{decoder_inputs, encoder_inputs, pair_logit};
use std::path::Path;
use tract_onnx::prelude::*;

/// Encoder and decoder of one bundle, with the spec that says how to feed them.
pub struct StylistModels {
    encoder: OnnxModel,
    decoder: OnnxModel,
    spec: StylistSpec,
}

impl StylistModels {
    /// The stylist of a verified bundle, or `None` when the bundle has none.
    pub fn from_bundle(
        bundle: &VerifiedBundle,
        threads: usize,
    ) -> Result<Option<Self>, StylistError> {
        Self::from_manifest(&bundle.dir, &bundle.manifest, threads)
    }

    /// The stylist a manifest lists, its files in `dir`, or `None` when it lists none.
    pub fn from_manifest(
        dir: &Path,
        manifest: &Manifest,
        threads: usize,
    ) -> Result<Option<Self>, StylistError> {
        let (Some(spec), Some(encoder), Some(decoder)) = (
            &manifest.stylist,
            manifest.model(ModelRole::StylistEncoder, Precision::F32),
            manifest.model(ModelRole::StylistDecoder, Precision::F32),
        ) else {
            return Ok(None);
        };
        Self::load(
            &dir.join(&encoder.file),
            &dir.join(&decoder.file),
            spec.clone(),
            threads,
        )
        .map(Some)
    }

    /// Loads the two ONNX files for `spec`.
    pub fn load(
        encoder: &Path,
        decoder: &Path,
        spec: StylistSpec,
        threads: usize,
    ) -> Result<Self, StylistError> {
        // The shapes the stylist contract gives for this spec (the manifest's model entries
        // were checked against the same contract when it was read).
        let shapes = |specs: Vec<crate::bundle::TensorSpec>| -> Vec<InputShape> {
            specs
                .into_iter()
                .map(|s| InputShape::Float(s.shape))
                .collect()
        };
        let encoder = OnnxModel::load(encoder, &shapes(encoder_inputs(spec.feature_dim)), threads)?;
        let decoder = OnnxModel::load(decoder, &shapes(decoder_inputs(spec.hidden)), threads)?;
        Ok(Self {
            encoder,
            decoder,
            spec,
        })
    }

    pub fn spec(&self) -> &StylistSpec {
        &self.spec
    }

    /// What each node's feature row holds.
    pub fn node_features(&self) -> super::NodeFeatures {
        super::NodeFeatures::of(&self.spec)
    }

    /// Node embeddings, row-major `[inputs.nodes, hidden]`.
    pub fn encode(&self, inputs: &EncoderInputs) -> Result<Vec<f32>, StylistError> {
        if inputs.nodes == 0 {
            return Ok(Vec::new());
        }
        let (n, k) = (inputs.nodes, inputs.slots);
        let values = tvec![
            tensor(&[n, self.spec.feature_dim], &inputs.features, &self.encoder)?,
            tensor(&[n, GarmentType::COUNT], &inputs.types, &self.encoder)?,
            tensor(&[n, k], &inputs.neighbours, &self.encoder)?,
            tensor(&[n, k], &inputs.weights, &self.encoder)?,
        ];
        let (shape, z) = self.encoder.run_f32(values)?;
        expect_shape(&self.encoder, &shape, &[n, self.spec.hidden])?;
        Ok(z)
    }

    /// Compatibility logit of each pair `(a[k], b[k])` of node embeddings (row-major,
    /// `hidden` wide) with decoder rows `pairs[k]` ([`crate::garment::type_pair_index`]);
    /// a decoder that outputs probabilities (format-2 bundles) has them turned back.
    pub fn score(&self, a: &[f32], b: &[f32], pairs: &[usize]) -> Result<Vec<f32>, StylistError> {
        let m = pairs.len();
        if m == 0 {
            return Ok(Vec::new());
        }
        let h = self.spec.hidden;
        let rows: Vec<f32> = pairs.iter().map(|&p| p as f32).collect();
        let values = tvec![
            tensor(&[m, h], a, &self.decoder)?,
            tensor(&[m, h], b, &self.decoder)?,
            tensor(&[m], &rows, &self.decoder)?,
        ];
        let (shape, scores) = self.decoder.run_f32(values)?;
        expect_shape(&self.decoder, &shape, &[m])?;
        Ok(match self.spec.decoder_output {
            DecoderOutput::Logit => scores,
            DecoderOutput::Probability => scores.into_iter().map(pair_logit).collect(),
        })
    }
}

fn tensor(shape: &[usize], data: &[f32], model: &OnnxModel) -> Result<TValue, StylistError> {
    Tensor::from_shape(shape, data)
        .map(TValue::from)
        .map_err(|e| {
            let what = format!("input of shape {shape:?} from {} values", data.len());
            StylistError::Engine(EngineError::Run {
                path: model.path().to_path_buf(),
                source: e.context(what).into(),
            })
        })
}

fn expect_shape(model: &OnnxModel, got: &[usize], want: &[usize]) -> Result<(), StylistError> {
    if got == want {
        Ok(())
    } else {
        Err(StylistError::Engine(EngineError::Output {
            path: model.path().to_path_buf(),
            problem: format!("output shape {got:?}, expected {want:?}"),
        }))
    }
}
