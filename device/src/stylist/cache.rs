//! Node embeddings of the whole wardrobe, kept between suggestions and refreshed only where
//! the graph changed.
//!
//! A GCN of `L` layers gives node `x` an embedding that depends on the nodes within `L`
//! hops of it. When garments are added or their edges change, only the nodes within
//! `L − 1` hops of a changed node's *neighbour list* can move ([`WardrobeGraph::within`]
//! over all edges, a superset that is cheap to find). Those targets are encoded again in
//! the subgraph of everything within `L` hops of them, which holds every value their
//! embeddings read, so the refreshed rows equal a full re-encoding.

use super::StylistError;
use super::engine::StylistModels;
use super::graph::WardrobeGraph;
use crate::wardrobe::GarmentId;
use std::collections::HashMap;

/// An embedding per node of the wardrobe graph. Only the node ids are kept of the graph
/// itself: its feature rows are as large as the embeddings several times over, and the
/// next refresh brings a whole new graph anyway.
pub struct EncodedWardrobe {
    ids: Vec<GarmentId>,
    index: HashMap<GarmentId, usize>,
    /// Row-major `[ids.len(), hidden]`.
    embeddings: Vec<f32>,
    hidden: usize,
}

fn index_of(ids: &[GarmentId]) -> HashMap<GarmentId, usize> {
    ids.iter().enumerate().map(|(n, &id)| (id, n)).collect()
}

/// What a refresh did, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    /// Nodes whose embeddings were recomputed.
    pub targets: usize,
    /// Nodes fed to the encoder to do it.
    pub encoded: usize,
}

impl EncodedWardrobe {
    /// Encodes every node of `graph`.
    pub fn encode(models: &StylistModels, graph: WardrobeGraph) -> Result<Self, StylistError> {
        let all: Vec<usize> = (0..graph.len()).collect();
        let embeddings =
            models.encode(&graph.encoder_inputs(&all, models.spec().max_neighbours))?;
        let ids = graph.ids().to_vec();
        drop(graph);
        crate::memory::release_free_heap();
        Ok(Self {
            index: index_of(&ids),
            ids,
            embeddings,
            hidden: models.spec().hidden,
        })
    }

    /// Moves to `graph`, which differs from the current one in the garments `changed`
    /// (added, or with edges added or removed; removed garments must be re-encoded with
    /// [`EncodedWardrobe::encode`]). Embeddings of untouched nodes are carried over.
    pub fn refresh(
        &mut self,
        models: &StylistModels,
        graph: WardrobeGraph,
        changed: &[GarmentId],
    ) -> Result<Refresh, StylistError> {
        let layers = models.spec().layers;
        let cap = models.spec().max_neighbours;
        let hidden = self.hidden;
        let old = &self.index;
        // New nodes count as changed too.
        let seeds: Vec<usize> = graph
            .ids()
            .iter()
            .enumerate()
            .filter(|(_, id)| changed.contains(id) || !old.contains_key(id))
            .map(|(n, _)| n)
            .collect();
        let targets = graph.within(&seeds, layers.saturating_sub(1));
        let context = graph.within(&targets, layers);
        let fresh = models.encode(&graph.encoder_inputs(&context, cap))?;

        let mut embeddings = vec![0.0; graph.len() * hidden];
        for (n, id) in graph.ids().iter().enumerate() {
            if let Some(&o) = old.get(id) {
                embeddings[n * hidden..(n + 1) * hidden]
                    .copy_from_slice(&self.embeddings[o * hidden..(o + 1) * hidden]);
            }
        }
        let position: HashMap<usize, usize> =
            context.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        for &t in &targets {
            if let Some(&i) = position.get(&t) {
                embeddings[t * hidden..(t + 1) * hidden]
                    .copy_from_slice(&fresh[i * hidden..(i + 1) * hidden]);
            }
        }
        self.ids = graph.ids().to_vec();
        self.index = index_of(&self.ids);
        self.embeddings = embeddings;
        Ok(Refresh {
            targets: targets.len(),
            encoded: context.len(),
        })
    }

    /// The encoded garments, in node order.
    pub fn ids(&self) -> &[GarmentId] {
        &self.ids
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The embedding of a garment in the graph.
    pub fn embedding(&self, id: GarmentId) -> Option<&[f32]> {
        let n = *self.index.get(&id)?;
        self.embeddings.get(n * self.hidden..(n + 1) * self.hidden)
    }
}
