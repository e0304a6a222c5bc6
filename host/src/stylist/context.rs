//! Test-time graph context: for each question, the small graph the encoder sees.
//!
//! A question (FITB or compatibility) names *query* items: the outfit's items plus, for
//! FITB, the candidates. The encoder must not see the answer, so the context is built as
//! follows (the same rule is written up in docs/results.md):
//!
//! 1. **No edge between two query items is ever used** — this removes the question outfit's
//!    own edges (which the non-disjoint split can contain when the same items were also worn
//!    together in a training outfit) and every candidate↔question and candidate↔candidate
//!    edge, so a candidate cannot win by being linked to the question.
//! 2. Each query item keeps at most `K` of its remaining edges, chosen uniformly at random
//!    (seeded per question) among its training-graph neighbours that are not query items.
//! 3. The neighbours enter the question's graph with only that one edge: the receptive field
//!    is the query items and their `K` sampled neighbours, whatever the encoder depth.
//!
//! Two query items may still share a sampled neighbour (both were worn with the same third
//! garment in training); that is legitimate context — it is what the graph is for — and is
//! how Cucurull et al. use it as well. With `K = 0` every query item is isolated and only
//! its own features count.

use super::graph::ItemGraph;
use rand::SeedableRng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// One question's graph: `nodes[..query]` are the query items, the rest their sampled
/// neighbours; `edges` index into `nodes`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionGraph {
    /// Global node ids (into the [`ItemGraph`]).
    pub nodes: Vec<u32>,
    /// How many leading `nodes` are query items.
    pub query: usize,
    /// Undirected local edges `(query item, neighbour)`.
    pub edges: Vec<(u32, u32)>,
}

/// Builds the context graph of a question with query items `query` (duplicates allowed;
/// they are merged), taking at most `k` edges per query item. `seed` makes it repeatable.
pub fn question_graph(graph: &ItemGraph, query: &[u32], k: usize, seed: u64) -> QuestionGraph {
    let mut nodes: Vec<u32> = Vec::with_capacity(query.len() * (k + 1));
    let mut local: HashMap<u32, u32> = HashMap::new();
    for &q in query {
        if let std::collections::hash_map::Entry::Vacant(e) = local.entry(q) {
            e.insert(nodes.len() as u32);
            nodes.push(q);
        }
    }
    let query_len = nodes.len();
    let mut edges = Vec::new();
    if k > 0 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for qi in 0..query_len {
            let q = nodes[qi];
            let allowed: Vec<u32> = graph
                .neighbours(q)
                .iter()
                .copied()
                .filter(|n| local.get(n).is_none_or(|&l| l as usize >= query_len))
                .collect();
            for &n in allowed.choose_multiple(&mut rng, k) {
                let ln = *local.entry(n).or_insert_with(|| {
                    nodes.push(n);
                    (nodes.len() - 1) as u32
                });
                edges.push((qi as u32, ln));
            }
        }
    }
    QuestionGraph {
        nodes,
        query: query_len,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::polyvore::Outfit;

    /// A graph where every item was worn with every other one.
    fn clique(n: usize) -> ItemGraph {
        let ids: Vec<String> = (0..n).map(|i| format!("{i:03}")).collect();
        let outfit = Outfit {
            set_id: "all".into(),
            items: ids.clone(),
        };
        ItemGraph::new(ids.into_iter().map(|id| (id, 0)), &[outfit])
    }

    #[test]
    fn context_never_links_two_query_items() {
        let g = clique(30);
        for seed in 0..20 {
            let query = [0, 1, 2, 3, 4, 5];
            let qg = question_graph(&g, &query, 15, seed);
            assert_eq!(qg.query, 6);
            for &(a, b) in &qg.edges {
                let (a, b) = (a as usize, b as usize);
                assert!(a < qg.query, "edges start at a query item");
                assert!(b >= qg.query, "edge {a}-{b} joins two query items");
                assert!(
                    g.has_edge(qg.nodes[a], qg.nodes[b]),
                    "edges come from the graph"
                );
            }
            for q in 0..qg.query {
                let degree = qg.edges.iter().filter(|e| e.0 as usize == q).count();
                assert_eq!(degree, 15);
            }
        }
    }

    #[test]
    fn k_zero_isolates_and_small_neighbourhoods_are_taken_whole() {
        let g = clique(5);
        let qg = question_graph(&g, &[0, 1, 1], 0, 1);
        assert_eq!((qg.nodes.clone(), qg.query), (vec![0, 1], 2));
        assert!(qg.edges.is_empty());
        let qg = question_graph(&g, &[0, 1], 15, 1);
        // Each query item has 3 non-query neighbours: all taken, shared ones merged.
        assert_eq!(qg.edges.len(), 6);
        assert_eq!(qg.nodes.len(), 5);
        assert_eq!(
            question_graph(&g, &[0, 1], 2, 9),
            question_graph(&g, &[0, 1], 2, 9)
        );
    }
}
