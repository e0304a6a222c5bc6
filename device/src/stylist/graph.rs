//! The wardrobe as the stylist sees it: one node per garment (its embedder output and type),
//! an edge for every pair the owner wears together (imported, accepted or worn; rejections
//! are not "worn together"), and per node a capped list of the neighbours it averages.

use super::StylistError;
use super::contract::MAX_EXACT_INDEX;
use crate::bundle::StylistSpec;
use crate::garment::{GarmentType, STYLE_DIM};
use crate::wardrobe::{Garment, GarmentId, OutfitEdge};
use std::collections::{BTreeSet, HashMap};

/// What a node's feature row is: the garment's embedding, then its style statistics when the
/// bundle's stylist reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeFeatures {
    /// Values per row.
    pub width: usize,
    pub style: bool,
}

impl NodeFeatures {
    /// The rows the stylist of `spec` reads.
    pub fn of(spec: &StylistSpec) -> Self {
        Self {
            width: spec.feature_dim,
            style: spec.reads_style(),
        }
    }

    /// Rows of the embedding alone, `width` wide.
    pub fn embedding(width: usize) -> Self {
        Self {
            width,
            style: false,
        }
    }

    /// Appends `garment`'s row to `out`.
    pub fn push_row(&self, garment: &Garment, out: &mut Vec<f32>) -> Result<(), StylistError> {
        let style: &[f32] = if self.style {
            if garment.style.len() != STYLE_DIM {
                return Err(StylistError::MissingStyle(garment.id));
            }
            &garment.style
        } else {
            &[]
        };
        let got = garment.embedding.len() + style.len();
        if got != self.width {
            return Err(StylistError::FeatureDim {
                garment: garment.id,
                got,
                expected: self.width,
            });
        }
        out.extend_from_slice(&garment.embedding);
        out.extend_from_slice(style);
        Ok(())
    }

    /// `garment`'s row.
    pub fn row(&self, garment: &Garment) -> Result<Vec<f32>, StylistError> {
        let mut out = Vec::with_capacity(self.width);
        self.push_row(garment, &mut out)?;
        Ok(out)
    }
}

/// Nodes, features and neighbour lists of a wardrobe.
#[derive(Debug, Clone)]
pub struct WardrobeGraph {
    ids: Vec<GarmentId>,
    types: Vec<GarmentType>,
    /// Row-major `[nodes, feature_dim]`.
    features: Vec<f32>,
    feature_dim: usize,
    /// Per node, every neighbour with the time of their latest edge, most recent first
    /// (ties by node), so the capped list keeps the owner's latest outfits.
    neighbours: Vec<Vec<(u32, u64)>>,
    index: HashMap<GarmentId, u32>,
}

/// One encoder call's inputs, row-major (see [`super::contract`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderInputs {
    pub nodes: usize,
    /// Neighbour slots per node (at least 1; unused slots have weight 0).
    pub slots: usize,
    pub features: Vec<f32>,
    pub types: Vec<f32>,
    pub neighbours: Vec<f32>,
    pub weights: Vec<f32>,
}

impl EncoderInputs {
    /// Inputs for nodes with row-major `features`, `types`, and neighbour `lists` (node
    /// indices; each list averaged with weight `1/len`), padded to the longest list.
    pub fn from_lists(features: Vec<f32>, types: &[GarmentType], lists: &[Vec<usize>]) -> Self {
        let nodes = lists.len();
        let slots = lists.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut inputs = Self {
            nodes,
            slots,
            features,
            types: vec![0.0; nodes * GarmentType::COUNT],
            neighbours: vec![0.0; nodes * slots],
            weights: vec![0.0; nodes * slots],
        };
        for (i, (list, t)) in lists.iter().zip(types).enumerate() {
            inputs.types[i * GarmentType::COUNT + t.index()] = 1.0;
            for (k, &j) in list.iter().enumerate() {
                inputs.neighbours[i * slots + k] = j as f32;
                inputs.weights[i * slots + k] = 1.0 / list.len() as f32;
            }
        }
        inputs
    }

    /// One node with no neighbours (a garment not in the wardrobe).
    pub fn isolated(features: &[f32], garment_type: GarmentType) -> Self {
        let mut types = vec![0.0; GarmentType::COUNT];
        types[garment_type.index()] = 1.0;
        Self {
            nodes: 1,
            slots: 1,
            features: features.to_vec(),
            types,
            neighbours: vec![0.0],
            weights: vec![0.0],
        }
    }
}

impl WardrobeGraph {
    /// The graph of `garments` and the positive `edges` between them, each node's features
    /// a `rows` row; edges to unknown garments are ignored (the store refuses them, so there
    /// are none unless a garment was removed meanwhile).
    pub fn new(
        garments: &[Garment],
        edges: &[OutfitEdge],
        rows: NodeFeatures,
    ) -> Result<Self, StylistError> {
        if garments.len() >= MAX_EXACT_INDEX {
            return Err(StylistError::TooLarge(garments.len()));
        }
        let feature_dim = rows.width;
        let mut features = Vec::with_capacity(garments.len() * feature_dim);
        for g in garments {
            rows.push_row(g, &mut features)?;
        }
        let index: HashMap<GarmentId, u32> = garments
            .iter()
            .enumerate()
            .map(|(n, g)| (g.id, n as u32))
            .collect();
        let mut neighbours = vec![Vec::new(); garments.len()];
        let mut seen = BTreeSet::new();
        for e in edges.iter().filter(|e| e.provenance.is_positive()) {
            let (Some(&a), Some(&b)) = (index.get(&e.a), index.get(&e.b)) else {
                continue;
            };
            if a == b || !seen.insert((a.min(b), a.max(b))) {
                continue;
            }
            neighbours[a as usize].push((b, e.at_unix));
            neighbours[b as usize].push((a, e.at_unix));
        }
        for list in &mut neighbours {
            list.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        }
        Ok(Self {
            ids: garments.iter().map(|g| g.id).collect(),
            types: garments.iter().map(|g| g.garment_type).collect(),
            features,
            feature_dim,
            neighbours,
            index,
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn ids(&self) -> &[GarmentId] {
        &self.ids
    }

    pub fn garment_type(&self, node: usize) -> Option<GarmentType> {
        self.types.get(node).copied()
    }

    /// The node of a garment.
    pub fn node(&self, id: GarmentId) -> Option<usize> {
        self.index.get(&id).map(|&n| n as usize)
    }

    /// Up to `cap` neighbours a node averages over: its most recent outfit partners.
    pub fn capped_neighbours(&self, node: usize, cap: usize) -> impl Iterator<Item = usize> + '_ {
        self.neighbours
            .get(node)
            .into_iter()
            .flat_map(move |l| l.iter().take(cap).map(|&(n, _)| n as usize))
    }

    /// All neighbours of a node (uncapped; the graph is undirected).
    fn all_neighbours(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        self.neighbours[node].iter().map(|&(n, _)| n as usize)
    }

    /// Nodes within `hops` edges of any of `from` (themselves included), sorted.
    pub fn within(&self, from: &[usize], hops: usize) -> Vec<usize> {
        let mut reached: BTreeSet<usize> =
            from.iter().copied().filter(|&n| n < self.len()).collect();
        let mut frontier: Vec<usize> = reached.iter().copied().collect();
        for _ in 0..hops {
            let mut next = Vec::new();
            for &n in &frontier {
                for m in self.all_neighbours(n) {
                    if reached.insert(m) {
                        next.push(m);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        reached.into_iter().collect()
    }

    /// Encoder inputs for the subgraph of `nodes` (sorted, distinct), neighbour lists capped
    /// at `cap`. A neighbour outside `nodes` is left out, but the node's weights stay
    /// `1/|capped list|`: exact for every node whose capped list lies inside `nodes`, which is
    /// what [`super::cache::EncodedWardrobe`] relies on.
    pub fn encoder_inputs(&self, nodes: &[usize], cap: usize) -> EncoderInputs {
        let local: HashMap<usize, usize> = nodes.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let slots = nodes
            .iter()
            .map(|&n| self.capped_neighbours(n, cap).count())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut inputs = EncoderInputs {
            nodes: nodes.len(),
            slots,
            features: Vec::with_capacity(nodes.len() * self.feature_dim),
            types: vec![0.0; nodes.len() * GarmentType::COUNT],
            neighbours: vec![0.0; nodes.len() * slots],
            weights: vec![0.0; nodes.len() * slots],
        };
        for (i, &n) in nodes.iter().enumerate() {
            let row = &self.features[n * self.feature_dim..(n + 1) * self.feature_dim];
            inputs.features.extend_from_slice(row);
            inputs.types[i * GarmentType::COUNT + self.types[n].index()] = 1.0;
            let list: Vec<usize> = self.capped_neighbours(n, cap).collect();
            let weight = if list.is_empty() {
                0.0
            } else {
                1.0 / list.len() as f32
            };
            for (k, j) in list.iter().filter_map(|j| local.get(j)).enumerate() {
                inputs.neighbours[i * slots + k] = *j as f32;
                inputs.weights[i * slots + k] = weight;
            }
        }
        inputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::assemble::tests::garment;
    use crate::wardrobe::EdgeProvenance;

    fn wardrobe() -> Vec<Garment> {
        let types = [
            GarmentType::Top,
            GarmentType::Bottom,
            GarmentType::Shoes,
            GarmentType::Top,
        ];
        types
            .iter()
            .enumerate()
            .map(|(i, &t)| Garment {
                embedding: vec![i as f32, 1.0],
                ..garment(i as u64 + 10, t)
            })
            .collect()
    }

    fn edge(a: u64, b: u64, p: EdgeProvenance, at: u64) -> OutfitEdge {
        OutfitEdge::new(GarmentId(a), GarmentId(b), p, at).unwrap()
    }

    #[test]
    fn rejections_are_not_edges_and_caps_keep_the_latest_partners() {
        let edges = [
            edge(10, 11, EdgeProvenance::Imported, 1),
            edge(10, 12, EdgeProvenance::Worn, 5),
            edge(10, 13, EdgeProvenance::Rejected, 9),
            edge(11, 12, EdgeProvenance::Accepted, 2),
        ];
        let g = WardrobeGraph::new(&wardrobe(), &edges, NodeFeatures::embedding(2)).unwrap();
        let n = |id| g.node(GarmentId(id)).unwrap();
        assert_eq!(
            g.capped_neighbours(n(10), 5).collect::<Vec<_>>(),
            [n(12), n(11)]
        );
        assert_eq!(g.capped_neighbours(n(10), 1).collect::<Vec<_>>(), [n(12)]);
        assert_eq!(g.capped_neighbours(n(13), 5).count(), 0);
        assert_eq!(g.within(&[n(13)], 3), [n(13)]);
        assert_eq!(g.within(&[n(11)], 1), [n(10), n(11), n(12)]);
    }

    #[test]
    fn encoder_inputs_follow_the_contract_layout() {
        let edges = [
            edge(10, 11, EdgeProvenance::Imported, 1),
            edge(10, 12, EdgeProvenance::Imported, 1),
        ];
        let g = WardrobeGraph::new(&wardrobe(), &edges, NodeFeatures::embedding(2)).unwrap();
        let all: Vec<usize> = (0..4).collect();
        let x = g.encoder_inputs(&all, 15);
        assert_eq!((x.nodes, x.slots), (4, 2));
        assert_eq!(&x.features[2..4], &[1.0, 1.0]);
        assert_eq!(
            x.types[GarmentType::COUNT + GarmentType::Bottom.index()],
            1.0
        );
        // Node 0 averages nodes 1 and 2; node 3 has no neighbours (all weights 0).
        assert_eq!(&x.neighbours[0..2], &[1.0, 2.0]);
        assert_eq!(&x.weights[0..2], &[0.5, 0.5]);
        assert_eq!(&x.weights[6..8], &[0.0, 0.0]);
        // A subgraph renumbers nodes locally and drops outside neighbours.
        let sub = g.encoder_inputs(&[0, 2], 15);
        assert_eq!(&sub.neighbours[0..2], &[1.0, 0.0]);
        assert_eq!(&sub.weights[0..2], &[0.5, 0.0]);
    }

    #[test]
    fn a_garment_without_a_fitting_embedding_is_named() {
        let mut w = wardrobe();
        w[2].embedding.push(0.0);
        let err = WardrobeGraph::new(&w, &[], NodeFeatures::embedding(2))
            .unwrap_err()
            .to_string();
        assert!(err.contains("g12"), "{err}");
    }

    #[test]
    fn style_rows_follow_the_embedding_and_a_garment_without_them_is_named() {
        let mut w = wardrobe();
        let rows = NodeFeatures {
            width: 2 + STYLE_DIM,
            style: true,
        };
        for (i, g) in w.iter_mut().enumerate() {
            g.style = vec![i as f32 + 0.5; STYLE_DIM];
        }
        let g = WardrobeGraph::new(&w, &[], rows).unwrap();
        let x = g.encoder_inputs(&[1], 15);
        assert_eq!(&x.features[..3], &[1.0, 1.0, 1.5]);
        assert_eq!(x.features.len(), 2 + STYLE_DIM);
        w[3].style.clear();
        let err = WardrobeGraph::new(&w, &[], rows).unwrap_err().to_string();
        assert!(err.contains("g13") && err.contains("style"), "{err}");
    }
}
