//! FITB and compatibility AUC of a trained stylist, with test-time graph context.
//!
//! Each question gets its own context graph ([`super::context`]); all of a split's question
//! graphs are encoded together as one disjoint union (one encoder call per chunk instead of
//! one per question). A question's embeddings then score its pairs through the shared
//! metric code in `crate::eval`, so the stylist and the baselines are measured alike.

use super::context::{QuestionGraph, question_graph};
use super::error::StylistError;
use super::features::FeatureFile;
use super::graph::{ItemGraph, MessageEdges};
use super::inference::TrainedStylist;
use crate::data::polyvore::{PolyvoreDataset, Split};
use crate::eval::{PairScorer, Ties, fitb_accuracy, roc_auc};
use serde::Serialize;
use std::collections::HashMap;

/// Outfit metrics of the stylist on one split at one context size.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StylistScores {
    pub fitb: Option<f64>,
    pub fitb_hard: Option<f64>,
    pub auc: Option<f64>,
    pub context_k: usize,
    /// Whether each FITB / hard FITB question (in file order) was answered right, for
    /// error analysis (`eval stylist --per-question FILE`).
    #[serde(skip)]
    pub per_question: PerQuestion,
}

/// Per-question outcomes behind [`StylistScores`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PerQuestion {
    pub fitb: Vec<bool>,
    pub fitb_hard: Vec<bool>,
}

/// Largest number of nodes encoded in one call (bounds memory: nodes × hidden floats).
const CHUNK_NODES: usize = 20_000;

/// Evaluates `stylist` on `split` of `data`. The graph is `data`'s own training graph and
/// `features` must cover `data`'s items; with data the model was not trained on (another
/// seed, a wardrobe) this is exactly the inductive setting: trained weights, new graph.
/// `seed` fixes which `k` neighbours are sampled.
pub fn evaluate(
    stylist: &TrainedStylist,
    data: &PolyvoreDataset,
    features: &FeatureFile,
    split: Split,
    k: usize,
    seed: u64,
) -> Result<StylistScores, StylistError> {
    let graph = ItemGraph::from_dataset(data);
    let inputs = stylist.node_inputs(&graph, features)?;
    let context = Context {
        stylist,
        graph: &graph,
        inputs: &inputs,
        k,
        seed,
    };
    let s = data.split(split);
    let fitb = |questions: &Option<Vec<crate::data::polyvore::FitbQuestion>>, salt: u64| {
        let Some(questions) = questions.as_deref().filter(|q| !q.is_empty()) else {
            return Ok(Vec::new());
        };
        let queries = questions
            .iter()
            .map(|q| q.question.iter().chain(&q.candidates).cloned().collect())
            .collect::<Vec<Vec<String>>>();
        let scorers = context.scorers(&queries, salt, "FITB question")?;
        Ok::<_, StylistError>(
            questions
                .iter()
                .zip(&scorers)
                .map(|(q, scorer)| {
                    fitb_accuracy(scorer, std::slice::from_ref(q), Ties::AgainstAnswer) == Some(1.0)
                })
                .collect(),
        )
    };
    let share = |correct: &[bool]| {
        (!correct.is_empty())
            .then(|| correct.iter().filter(|&&c| c).count() as f64 / correct.len() as f64)
    };
    let auc = match s.compatibility.as_deref().filter(|q| !q.is_empty()) {
        None => None,
        Some(questions) => {
            let queries: Vec<Vec<String>> = questions.iter().map(|q| q.items.clone()).collect();
            let scorers = context.scorers(&queries, 3, "compatibility question")?;
            let scored: Vec<(f64, bool)> = questions
                .iter()
                .zip(&scorers)
                .map(|(q, scorer)| (scorer.outfit(&q.items), q.compatible))
                .collect();
            roc_auc(&scored)
        }
    };
    let per_question = PerQuestion {
        fitb: fitb(&s.fitb, 1)?,
        fitb_hard: fitb(&s.fitb_hard, 2)?,
    };
    Ok(StylistScores {
        fitb: share(&per_question.fitb),
        fitb_hard: share(&per_question.fitb_hard),
        auc,
        context_k: k,
        per_question,
    })
}

struct Context<'a> {
    stylist: &'a TrainedStylist,
    graph: &'a ItemGraph,
    inputs: &'a [f32],
    k: usize,
    seed: u64,
}

impl Context<'_> {
    /// One scorer per question, each holding the embeddings of its query items.
    fn scorers(
        &self,
        queries: &[Vec<String>],
        salt: u64,
        what: &'static str,
    ) -> Result<Vec<QuestionScorer<'_>>, StylistError> {
        let mut graphs = Vec::with_capacity(queries.len());
        for (i, query) in queries.iter().enumerate() {
            let nodes = query
                .iter()
                .map(|id| {
                    self.graph
                        .node(id)
                        .ok_or_else(|| StylistError::UnknownItem {
                            id: id.clone(),
                            context: what,
                        })
                })
                .collect::<Result<Vec<u32>, _>>()?;
            let seed = self.seed ^ (salt << 56) ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            graphs.push(question_graph(self.graph, &nodes, self.k, seed));
        }
        let mut scorers = Vec::with_capacity(graphs.len());
        let mut start = 0;
        while start < graphs.len() {
            let mut end = start;
            let mut nodes = 0;
            while end < graphs.len()
                && (end == start || nodes + graphs[end].nodes.len() <= CHUNK_NODES)
            {
                nodes += graphs[end].nodes.len();
                end += 1;
            }
            scorers.extend(self.encode_union(&graphs[start..end]));
            start = end;
        }
        Ok(scorers)
    }

    /// Encodes the disjoint union of `graphs` in one call.
    fn encode_union(&self, graphs: &[QuestionGraph]) -> Vec<QuestionScorer<'_>> {
        let width = self.stylist.config.model.input_dim;
        let hidden = self.stylist.hidden();
        let mut inputs = Vec::new();
        let mut edges = Vec::new();
        let mut offsets = Vec::with_capacity(graphs.len());
        let mut total = 0u32;
        for g in graphs {
            offsets.push(total as usize);
            for &n in &g.nodes {
                let n = n as usize;
                inputs.extend_from_slice(&self.inputs[n * width..(n + 1) * width]);
            }
            edges.extend(g.edges.iter().map(|&(a, b)| (a + total, b + total)));
            total += g.nodes.len() as u32;
        }
        let z = self.stylist.encode(
            &inputs,
            &MessageEdges::from_undirected(total as usize, &edges),
        );
        graphs
            .iter()
            .zip(offsets)
            .map(|(g, offset)| {
                let items = g.nodes[..g.query]
                    .iter()
                    .enumerate()
                    .map(|(local, &n)| {
                        let row = offset + local;
                        (
                            self.graph.ids[n as usize].clone(),
                            (
                                z[row * hidden..(row + 1) * hidden].to_vec(),
                                self.graph.types[n as usize],
                            ),
                        )
                    })
                    .collect();
                QuestionScorer {
                    stylist: self.stylist,
                    items,
                }
            })
            .collect()
    }
}

/// Pair scores among one question's items, from their embeddings in the question's context
/// graph. Scores are decoder logits (monotone in the probability, and free of the ties that
/// a saturated sigmoid would create).
struct QuestionScorer<'a> {
    stylist: &'a TrainedStylist,
    items: HashMap<String, (Vec<f32>, usize)>,
}

impl PairScorer for QuestionScorer<'_> {
    fn pair(&self, a: &str, b: &str) -> f64 {
        match (self.items.get(a), self.items.get(b)) {
            (Some((za, ta)), Some((zb, tb))) => self.stylist.pair_logit(za, *ta, zb, *tb) as f64,
            _ => f64::NEG_INFINITY,
        }
    }
}
