//! FITB and compatibility AUC of a trained stylist, with test-time graph context.
//!
//! Each question gets its own context graph ([`super::context`]); all of a split's question
//! graphs are encoded together as one disjoint union (one encoder call per chunk instead of
//! one per question). A question's embeddings then score its pairs through the shared
//! metric code in `crate::eval`, so the stylist and the baselines are measured alike.
//!
//! The stylist itself is a [`GraphStylist`]: the burn model of a training run here, the
//! bundle's ONNX encoder and decoder in tract for `eval stylist --bundle`.

use super::context::{QuestionGraph, question_graph};
use super::error::StylistError;
use super::features::FeatureFile;
use super::graph::{ItemGraph, MessageEdges};
use super::inference::TrainedStylist;
use crate::data::polyvore::{PolyvoreDataset, Split};
use crate::eval::{PairScorer, Ties, fitb_accuracy, roc_auc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Outfit metrics of the stylist on one split at one context size.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StylistScores {
    pub fitb: Option<f64>,
    pub fitb_hard: Option<f64>,
    pub auc: Option<f64>,
    pub context_k: usize,
    /// Share of FITB / hard FITB questions whose best score is shared by two or more
    /// candidates (they count as wrong): a saturated decoder shows here.
    #[serde(default)]
    pub fitb_tied: Option<f64>,
    #[serde(default)]
    pub fitb_hard_tied: Option<f64>,
    /// Whether each FITB / hard FITB question (in file order) was answered right, for
    /// error analysis (`eval stylist --per-question FILE`).
    #[serde(skip)]
    pub per_question: PerQuestion,
}

impl std::fmt::Display for StylistScores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        writeln!(f, "FITB       {}", show(self.fitb))?;
        writeln!(f, "FITB hard  {}", show(self.fitb_hard))?;
        write!(f, "AUC        {}", show(self.auc))
    }
}

/// Per-question outcomes behind [`StylistScores`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerQuestion {
    pub fitb: Vec<bool>,
    pub fitb_hard: Vec<bool>,
}

/// Largest number of nodes encoded in one call (bounds memory: nodes × hidden floats).
const CHUNK_NODES: usize = 20_000;

/// One pair of node embeddings to score: `(a, type of a, b, type of b)`, types as
/// [`crate::data::polyvore`] indexes them.
pub type PairQuery<'a> = (&'a [f32], usize, &'a [f32], usize);

/// What FITB and AUC need of a stylist: node embeddings of a small graph, and pair scores.
pub trait GraphStylist {
    /// Width of a node embedding.
    fn hidden(&self) -> usize;
    /// Embeddings (row-major `[nodes.len(), hidden]`) of the graph over `nodes` (node ids of
    /// the evaluated [`ItemGraph`]) with local message-passing `edges`.
    fn encode(&self, nodes: &[u32], edges: &MessageEdges) -> Result<Vec<f32>, StylistError>;
    /// Compatibility of each pair (higher = better).
    fn score_pairs(&self, pairs: &[PairQuery<'_>]) -> Result<Vec<f64>, StylistError>;
}

/// What a pair's score is when a candidate's or an outfit's pairs are averaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PairScore {
    /// The decoder's logit (monotone in the probability, and free of the ties that a
    /// saturated sigmoid would create): the protocol the stylist figures use.
    #[default]
    Logit,
    /// The decoder's probability, as boards averaged it before manifest format 3 (kept to
    /// show what that cost: docs/results.md, "run vs bundle").
    Probability,
}

/// A training run's stylist with its standardised node inputs of one graph.
struct BurnStylist<'a> {
    stylist: &'a TrainedStylist,
    /// `[graph nodes, input_dim]`.
    inputs: Vec<f32>,
    score: PairScore,
}

impl GraphStylist for BurnStylist<'_> {
    fn hidden(&self) -> usize {
        self.stylist.hidden()
    }

    fn encode(&self, nodes: &[u32], edges: &MessageEdges) -> Result<Vec<f32>, StylistError> {
        let width = self.stylist.config.model.input_dim;
        let mut inputs = Vec::with_capacity(nodes.len() * width);
        for &n in nodes {
            let n = n as usize;
            inputs.extend_from_slice(&self.inputs[n * width..(n + 1) * width]);
        }
        Ok(self.stylist.encode(&inputs, edges))
    }

    fn score_pairs(&self, pairs: &[PairQuery<'_>]) -> Result<Vec<f64>, StylistError> {
        Ok(pairs
            .iter()
            .map(|&(a, ta, b, tb)| match self.score {
                PairScore::Logit => self.stylist.pair_logit(a, ta, b, tb) as f64,
                PairScore::Probability => self.stylist.pair_compatibility(a, ta, b, tb) as f64,
            })
            .collect())
    }
}

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
    evaluate_scored(stylist, data, features, split, k, seed, PairScore::Logit)
}

/// [`evaluate`] with pairs scored as `score` says.
pub fn evaluate_scored(
    stylist: &TrainedStylist,
    data: &PolyvoreDataset,
    features: &FeatureFile,
    split: Split,
    k: usize,
    seed: u64,
    score: PairScore,
) -> Result<StylistScores, StylistError> {
    let graph = ItemGraph::from_dataset(data);
    let inputs = stylist.node_inputs(&graph, features)?;
    let stylist = BurnStylist {
        stylist,
        inputs,
        score,
    };
    evaluate_with(&stylist, &graph, data, split, k, seed)
}

/// [`evaluate`] with any stylist over `graph`, the training graph of `data`.
pub fn evaluate_with(
    stylist: &dyn GraphStylist,
    graph: &ItemGraph,
    data: &PolyvoreDataset,
    split: Split,
    k: usize,
    seed: u64,
) -> Result<StylistScores, StylistError> {
    let context = Context {
        stylist,
        graph,
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
                    let right = fitb_accuracy(scorer, std::slice::from_ref(q), Ties::AgainstAnswer)
                        == Some(1.0);
                    let scores: Vec<f64> = q
                        .candidates
                        .iter()
                        .map(|c| scorer.against(c, &q.question))
                        .collect();
                    let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    (right, scores.iter().filter(|&&v| v == best).count() > 1)
                })
                .collect::<Vec<(bool, bool)>>(),
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
    let (fitb_right, fitb_tied): (Vec<bool>, Vec<bool>) = fitb(&s.fitb, 1)?.into_iter().unzip();
    let (hard_right, hard_tied): (Vec<bool>, Vec<bool>) =
        fitb(&s.fitb_hard, 2)?.into_iter().unzip();
    let per_question = PerQuestion {
        fitb: fitb_right,
        fitb_hard: hard_right,
    };
    Ok(StylistScores {
        fitb: share(&per_question.fitb),
        fitb_hard: share(&per_question.fitb_hard),
        auc,
        context_k: k,
        fitb_tied: share(&fitb_tied),
        fitb_hard_tied: share(&hard_tied),
        per_question,
    })
}

struct Context<'a> {
    stylist: &'a dyn GraphStylist,
    graph: &'a ItemGraph,
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
    ) -> Result<Vec<QuestionScorer>, StylistError> {
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
            scorers.extend(self.encode_union(&graphs[start..end])?);
            start = end;
        }
        Ok(scorers)
    }

    /// Encodes the disjoint union of `graphs` in one call, then scores every pair of each
    /// question's query items.
    fn encode_union(&self, graphs: &[QuestionGraph]) -> Result<Vec<QuestionScorer>, StylistError> {
        let hidden = self.stylist.hidden();
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        let mut offsets = Vec::with_capacity(graphs.len());
        for g in graphs {
            let offset = nodes.len() as u32;
            offsets.push(offset as usize);
            nodes.extend_from_slice(&g.nodes);
            edges.extend(g.edges.iter().map(|&(a, b)| (a + offset, b + offset)));
        }
        let z = self
            .stylist
            .encode(&nodes, &MessageEdges::from_undirected(nodes.len(), &edges))?;
        let mut scorers = Vec::with_capacity(graphs.len());
        for (g, offset) in graphs.iter().zip(offsets) {
            let query: Vec<(&[f32], usize)> = (0..g.query)
                .map(|local| {
                    let row = offset + local;
                    let node = g.nodes[local] as usize;
                    (&z[row * hidden..(row + 1) * hidden], self.graph.types[node])
                })
                .collect();
            let mut pairs = Vec::with_capacity(g.query * g.query);
            let mut keys = Vec::with_capacity(g.query * g.query);
            for (i, &(za, ta)) in query.iter().enumerate() {
                for (j, &(zb, tb)) in query.iter().enumerate() {
                    pairs.push((za, ta, zb, tb));
                    keys.push((i, j));
                }
            }
            let scores = self.stylist.score_pairs(&pairs)?;
            let index = g.nodes[..g.query]
                .iter()
                .enumerate()
                .map(|(local, &n)| (self.graph.ids[n as usize].clone(), local))
                .collect();
            scorers.push(QuestionScorer {
                index,
                scores: keys.into_iter().zip(scores).collect(),
            });
        }
        Ok(scorers)
    }
}

/// Pair scores among one question's query items, from their embeddings in the question's
/// context graph.
struct QuestionScorer {
    /// Item id → position among the query items.
    index: HashMap<String, usize>,
    scores: HashMap<(usize, usize), f64>,
}

impl PairScorer for QuestionScorer {
    fn pair(&self, a: &str, b: &str) -> f64 {
        match (self.index.get(a), self.index.get(b)) {
            (Some(&i), Some(&j)) => self.scores.get(&(i, j)).copied(),
            _ => None,
        }
        .unwrap_or(f64::NEG_INFINITY)
    }
}
