//! A bundle's stylist as the board runs it: node features made from each item's picture by
//! the bundle's embedder and the style statistics (the board's enrolment path), the encoder
//! fed the board's input layout, pair scores from the decoder (probabilities, as the board
//! ranks outfits by them).

use super::BundleEvalError;
use crate::data::polyvore::PolyvoreDataset;
use crate::stylist::{GraphStylist, ItemGraph, MessageEdges, PairQuery, StylistError};
use capsule_device::GarmentType;
use capsule_device::app::SeenGarment;
use capsule_device::camera::read_picture;
use capsule_device::engine::Embedder;
use capsule_device::garment::type_pair_index;
use capsule_device::preprocess::{PreprocessSpec, WHOLE_PICTURE};
use capsule_device::stylist::{EncoderInputs, StylistModels};
use indicatif::ProgressBar;
use rayon::prelude::*;
use std::path::Path;

/// The bundle's encoder and decoder over the node features of one [`ItemGraph`].
pub struct TractStylist {
    models: StylistModels,
    /// Raw node features (embedding + style), `[graph nodes, feature_dim]`: the encoder
    /// standardises them itself.
    rows: Vec<f32>,
    types: Vec<GarmentType>,
}

impl TractStylist {
    /// `models` over `graph`, whose items' pictures `data` names; every picture goes
    /// through the embedder at `embedder_file` as the board enrols a garment.
    pub fn new(
        models: StylistModels,
        graph: &ItemGraph,
        data: &PolyvoreDataset,
        embedder_file: &Path,
        spec: &PreprocessSpec,
        progress: &ProgressBar,
    ) -> Result<Self, BundleEvalError> {
        let features = models.node_features();
        let types = graph
            .types
            .iter()
            .map(|&t| GarmentType::from_index(t).unwrap_or(GarmentType::Accessory))
            .collect::<Vec<_>>();
        let workers = rayon::current_num_threads().max(1);
        let per_worker = graph.ids.len().div_ceil(workers).max(1);
        let nodes: Vec<usize> = (0..graph.ids.len()).collect();
        let parts = nodes
            .par_chunks(per_worker)
            .map(|part| {
                let mut embedder = Embedder::load(embedder_file, spec, 1)?;
                let mut rows = Vec::with_capacity(part.len() * features.width);
                for &n in part {
                    let id = &graph.ids[n];
                    let Some(item) = data.items.get(id) else {
                        return Err(StylistError::UnknownItem {
                            id: id.clone(),
                            context: "stylist graph",
                        }
                        .into());
                    };
                    let picture =
                        read_picture(&item.image).map_err(|source| BundleEvalError::Picture {
                            path: item.image.clone(),
                            source,
                        })?;
                    let seen = SeenGarment::in_picture(&mut embedder, &picture, WHOLE_PICTURE)
                        .map_err(|source| BundleEvalError::Enrol {
                            path: item.image.clone(),
                            source: Box::new(source),
                        })?;
                    features
                        .push_row(&seen.unsaved(types[n]), &mut rows)
                        .map_err(StylistError::from)?;
                    progress.inc(1);
                }
                Ok(rows)
            })
            .collect::<Result<Vec<Vec<f32>>, BundleEvalError>>()?;
        Ok(Self {
            models,
            rows: parts.concat(),
            types,
        })
    }
}

impl GraphStylist for TractStylist {
    fn hidden(&self) -> usize {
        self.models.spec().hidden
    }

    fn encode(&self, nodes: &[u32], edges: &MessageEdges) -> Result<Vec<f32>, StylistError> {
        let width = self.models.spec().feature_dim;
        let mut features = Vec::with_capacity(nodes.len() * width);
        let mut types = Vec::with_capacity(nodes.len());
        for &n in nodes {
            let n = n as usize;
            features.extend_from_slice(&self.rows[n * width..(n + 1) * width]);
            types.push(self.types[n]);
        }
        // Each node averages over the nodes whose messages reach it.
        let mut lists = vec![Vec::new(); nodes.len()];
        for (&src, &dst) in edges.src.iter().zip(&edges.dst) {
            lists[dst as usize].push(src as usize);
        }
        let inputs = EncoderInputs::from_lists(features, &types, &lists);
        Ok(self.models.encode(&inputs)?)
    }

    fn score_pairs(&self, pairs: &[PairQuery<'_>]) -> Result<Vec<f64>, StylistError> {
        let hidden = self.hidden();
        let mut a = Vec::with_capacity(pairs.len() * hidden);
        let mut b = Vec::with_capacity(pairs.len() * hidden);
        let mut rows = Vec::with_capacity(pairs.len());
        for &(za, ta, zb, tb) in pairs {
            a.extend_from_slice(za);
            b.extend_from_slice(zb);
            rows.push(type_pair_index(ta, tb));
        }
        let scores = self.models.score(&a, &b, &rows)?;
        Ok(scores.into_iter().map(f64::from).collect())
    }
}
