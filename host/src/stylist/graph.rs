//! The garment graph (Cucurull et al., CVPR 2019): one node per item, an undirected edge
//! between two items that appear together in a training outfit. Only the train split makes
//! edges, so validation and test outfits are never in the graph as such (in the
//! non-disjoint variant their items are, with the edges of the *other* outfits they were
//! worn in).

use crate::data::polyvore::{Outfit, PolyvoreDataset, Split};
use std::collections::{BTreeSet, HashMap};

// The type-pair numbering is a contract with the device (it picks the decoder's row there).
pub use capsule_device::garment::{TYPE_PAIRS, type_pair_index};

/// Items and their co-occurrence edges.
#[derive(Debug, Clone)]
pub struct ItemGraph {
    /// Node `n` is item `ids[n]`; sorted, so the same data gives the same numbering.
    pub ids: Vec<String>,
    /// Garment type index of each node.
    pub types: Vec<usize>,
    /// Each undirected edge once, as `(a, b)` with `a < b`, sorted.
    pub edges: Vec<(u32, u32)>,
    index: HashMap<String, u32>,
    neighbours: Vec<Vec<u32>>,
}

impl ItemGraph {
    /// All items of `data` as nodes; edges from its train outfits.
    pub fn from_dataset(data: &PolyvoreDataset) -> Self {
        let items = data
            .items
            .iter()
            .map(|(id, item)| (id.clone(), item.garment_type.index()));
        Self::new(items, &data.split(Split::Train).outfits)
    }

    /// Nodes from `(id, type index)`; edges between every two known items of each outfit.
    pub fn new(items: impl IntoIterator<Item = (String, usize)>, outfits: &[Outfit]) -> Self {
        let mut nodes: Vec<(String, usize)> = items.into_iter().collect();
        nodes.sort();
        nodes.dedup_by(|a, b| a.0 == b.0);
        let (ids, types): (Vec<String>, Vec<usize>) = nodes.into_iter().unzip();
        let index: HashMap<String, u32> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| (id.clone(), n as u32))
            .collect();
        let mut edges = BTreeSet::new();
        for outfit in outfits {
            let nodes: Vec<u32> = outfit
                .items
                .iter()
                .filter_map(|id| index.get(id).copied())
                .collect();
            for (k, &a) in nodes.iter().enumerate() {
                for &b in &nodes[k + 1..] {
                    if a != b {
                        edges.insert((a.min(b), a.max(b)));
                    }
                }
            }
        }
        let edges: Vec<(u32, u32)> = edges.into_iter().collect();
        let mut neighbours = vec![Vec::new(); ids.len()];
        for &(a, b) in &edges {
            neighbours[a as usize].push(b);
            neighbours[b as usize].push(a);
        }
        Self {
            ids,
            types,
            edges,
            index,
            neighbours,
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The node of an item id.
    pub fn node(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// Sorted neighbours of a node.
    pub fn neighbours(&self, node: u32) -> &[u32] {
        &self.neighbours[node as usize]
    }

    pub fn has_edge(&self, a: u32, b: u32) -> bool {
        self.neighbours[a as usize].binary_search(&b).is_ok()
    }
}

/// The message-passing structure of one encoder call: directed edges `src → dst` (each
/// undirected edge both ways) and `1 / degree` per node, so that aggregation is a gather
/// of `src` rows, a scatter-add into `dst` rows and a row scale — linear in the number of
/// edges, which is what lets the encoder run on 10k+ node graphs.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageEdges {
    pub nodes: usize,
    pub src: Vec<i64>,
    pub dst: Vec<i64>,
    /// `1 / |N(n)|`, or 0 for a node without neighbours (its neighbour term is then 0).
    pub inv_degree: Vec<f32>,
}

impl MessageEdges {
    /// From undirected edges over `nodes` nodes (self-loops are ignored).
    pub fn from_undirected(nodes: usize, edges: &[(u32, u32)]) -> Self {
        let mut degree = vec![0u32; nodes];
        let mut src = Vec::with_capacity(edges.len() * 2);
        let mut dst = Vec::with_capacity(edges.len() * 2);
        for &(a, b) in edges {
            if a == b {
                continue;
            }
            src.extend([a as i64, b as i64]);
            dst.extend([b as i64, a as i64]);
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        let inv_degree = degree
            .iter()
            .map(|&d| if d == 0 { 0.0 } else { 1.0 / d as f32 })
            .collect();
        Self {
            nodes,
            src,
            dst,
            inv_degree,
        }
    }

    /// From a neighbour list per node (`lists[i]` = the nodes `i` averages over; need not be
    /// symmetric). This is how the device feeds its wardrobe graph, with each list capped
    /// at a fixed number of neighbours.
    pub fn from_neighbour_lists(lists: &[Vec<u32>]) -> Self {
        let mut src = Vec::new();
        let mut dst = Vec::new();
        for (i, list) in lists.iter().enumerate() {
            for &j in list {
                src.push(j as i64);
                dst.push(i as i64);
            }
        }
        let inv_degree = lists
            .iter()
            .map(|l| {
                if l.is_empty() {
                    0.0
                } else {
                    1.0 / l.len() as f32
                }
            })
            .collect();
        Self {
            nodes: lists.len(),
            src,
            dst,
            inv_degree,
        }
    }

    /// The same operator as a dense row-normalised adjacency (`nodes × nodes`, row-major):
    /// `A[i][j] = 1/|N(i)|` for each neighbour `j` of `i`. Quadratic in memory — for small
    /// graphs (a wardrobe) and for exporters that prefer one MatMul to a scatter.
    pub fn dense_adjacency(&self) -> Vec<f32> {
        let mut a = vec![0f32; self.nodes * self.nodes];
        for (&s, &d) in self.src.iter().zip(&self.dst) {
            a[d as usize * self.nodes + s as usize] += self.inv_degree[d as usize];
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capsule_device::GarmentType;

    fn outfit(items: &[&str]) -> Outfit {
        Outfit {
            set_id: "o".into(),
            items: items.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn type_pairs_are_symmetric_and_cover_all_28_slots() {
        let mut seen = BTreeSet::new();
        for a in 0..GarmentType::COUNT {
            for b in 0..GarmentType::COUNT {
                assert_eq!(type_pair_index(a, b), type_pair_index(b, a));
                seen.insert(type_pair_index(a, b));
            }
        }
        assert_eq!(seen, (0..TYPE_PAIRS).collect());
        assert_eq!(TYPE_PAIRS, 28);
    }

    #[test]
    fn edges_join_items_of_one_training_outfit_once() {
        let items = ["c", "a", "b", "d"].map(|s| (s.to_string(), 0));
        let g = ItemGraph::new(
            items,
            &[outfit(&["a", "b", "c"]), outfit(&["b", "a", "zz"])],
        );
        assert_eq!(g.ids, ["a", "b", "c", "d"]);
        assert_eq!(g.edges, [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(g.neighbours(0), [1, 2]);
        assert!(g.neighbours(3).is_empty());
        assert!(g.has_edge(2, 1) && !g.has_edge(3, 0));
    }

    #[test]
    fn normalisation_averages_neighbours() {
        let m = MessageEdges::from_undirected(3, &[(0, 1), (0, 2)]);
        assert_eq!(m.inv_degree, [0.5, 1.0, 1.0]);
        let a = m.dense_adjacency();
        assert_eq!(a, [0.0, 0.5, 0.5, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        for row in a.chunks(3) {
            let s: f32 = row.iter().sum();
            assert!(s == 0.0 || (s - 1.0).abs() < 1e-6);
        }
    }
}
