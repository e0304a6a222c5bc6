//! The stylist network: a graph auto-encoder. The encoder is a stack of GCN layers in the
//! Cucurull et al. (CVPR 2019) form; the decoder turns two node embeddings into a
//! compatibility logit, with weights chosen by the pair of garment types (type-aware) or
//! shared by all pairs (the baseline).

use super::graph::{MessageEdges, TYPE_PAIRS, type_pair_index};
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, IndexingUpdateOp, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Which decoder turns `|z_i − z_j|` into a logit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DecoderKind {
    /// One weight vector and bias per unordered pair of garment types (28 of them).
    TypeAware,
    /// One weight vector and bias for every pair (Cucurull et al.'s decoder).
    Shared,
}

/// Shape of the network; saved in the run's `config.json` and enough to rebuild it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StylistConfig {
    /// Encoder input width: feature dim + garment type one-hot.
    pub input_dim: usize,
    /// Width of every GCN layer (the embedding size).
    pub hidden: usize,
    /// Number of GCN layers (the receptive field in hops).
    pub layers: usize,
    /// Dropout before every GCN layer, in training.
    pub dropout: f64,
    pub decoder: DecoderKind,
}

impl StylistConfig {
    /// Builds freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> Stylist {
        let layers = (0..self.layers)
            .map(|k| {
                let d_in = if k == 0 { self.input_dim } else { self.hidden };
                GcnLayer {
                    self_term: LinearConfig::new(d_in, self.hidden).init(device),
                    neighbours: LinearConfig::new(d_in, self.hidden)
                        .with_bias(false)
                        .init(device),
                }
            })
            .collect();
        let rows = match self.decoder {
            DecoderKind::TypeAware => TYPE_PAIRS,
            DecoderKind::Shared => 1,
        };
        let scale = 1.0 / (self.hidden as f64).sqrt();
        Stylist {
            encoder: Encoder {
                layers,
                dropout: DropoutConfig::new(self.dropout).init(),
            },
            decoder: PairDecoder {
                weight: Param::from_tensor(Tensor::random(
                    [rows, self.hidden],
                    Distribution::Normal(0.0, scale),
                    device,
                )),
                bias: Param::from_tensor(Tensor::zeros([rows], device)),
            },
        }
    }
}

/// How a GCN layer reaches a node's neighbours. Both forms compute the same mean over
/// neighbours (`1/|N(i)| Σ_j h_j`); tests check they agree.
#[derive(Debug, Clone)]
pub enum Neighbourhood {
    /// Gather along `src`, scatter-add into `dst`, scale rows by `1/degree`: memory and time
    /// linear in edges, for training graphs of any size.
    Edges(Box<EdgeTensors>),
    /// A dense row-normalised adjacency `[n, n]`: one MatMul, which exports to ONNX with a
    /// symbolic node count and runs in tract without scatter support — for wardrobe-sized
    /// graphs on the device.
    Dense(Box<Tensor<2>>),
    /// No edges at all (every node isolated): only the self term.
    Isolated,
}

/// Device tensors of a [`MessageEdges`].
#[derive(Debug, Clone)]
pub struct EdgeTensors {
    pub src: Tensor<1, Int>,
    pub dst: Tensor<1, Int>,
    /// `[nodes, 1]`.
    pub inv_degree: Tensor<2>,
}

impl Neighbourhood {
    /// The gather/scatter form of `edges`.
    pub fn edges(edges: &MessageEdges, device: &Device) -> Self {
        if edges.src.is_empty() {
            return Self::Isolated;
        }
        let e = edges.src.len();
        Self::Edges(Box::new(EdgeTensors {
            src: Tensor::from_data(TensorData::new(edges.src.clone(), [e]), device),
            dst: Tensor::from_data(TensorData::new(edges.dst.clone(), [e]), device),
            inv_degree: Tensor::from_data(
                TensorData::new(edges.inv_degree.clone(), [edges.nodes, 1]),
                device,
            ),
        }))
    }

    /// The dense form of `edges` (quadratic in nodes).
    pub fn dense(edges: &MessageEdges, device: &Device) -> Self {
        Self::Dense(Box::new(Tensor::from_data(
            TensorData::new(edges.dense_adjacency(), [edges.nodes, edges.nodes]),
            device,
        )))
    }

    /// Mean of each node's neighbours' rows of `h` (zero rows for isolated nodes), or
    /// `None` when no node has a neighbour.
    fn mean(&self, h: Tensor<2>) -> Option<Tensor<2>> {
        match self {
            Self::Edges(e) => {
                let messages = h.clone().select(0, e.src.clone());
                let sum =
                    h.zeros_like()
                        .select_assign(0, e.dst.clone(), messages, IndexingUpdateOp::Add);
                Some(sum * e.inv_degree.clone())
            }
            Self::Dense(adjacency) => Some((**adjacency).clone().matmul(h)),
            Self::Isolated => None,
        }
    }
}

/// One GCN layer: `h_i' = W_0 h_i + b + W_1 · mean_{j ∈ N(i)} h_j` — a self term and a
/// neighbour term with their own weights, so a node with no neighbours (test time with
/// K = 0, a new garment) still gets a meaningful embedding from its own features.
#[derive(Module, Debug)]
pub struct GcnLayer {
    self_term: Linear,
    neighbours: Linear,
}

impl GcnLayer {
    fn forward(&self, h: Tensor<2>, nb: &Neighbourhood) -> Tensor<2> {
        let own = self.self_term.forward(h.clone());
        match nb.mean(h) {
            Some(mean) => own + self.neighbours.forward(mean),
            None => own,
        }
    }
}

/// The GCN stack: dropout → GCN → ReLU per layer.
#[derive(Module, Debug)]
pub struct Encoder {
    layers: Vec<GcnLayer>,
    dropout: Dropout,
}

impl Encoder {
    /// Node embeddings `[n, hidden]` from inputs `[n, input_dim]`.
    pub fn forward(&self, x: Tensor<2>, nb: &Neighbourhood) -> Tensor<2> {
        self.layers.iter().fold(x, |h, layer| {
            relu(layer.forward(self.dropout.forward(h), nb))
        })
    }
}

/// `logit(i, j) = w_p · |z_i − z_j| + b_p`, where `p` is the type pair of `(i, j)` (type
/// aware, 28 rows) or always 0 (shared, 1 row). One code path serves both decoders, so the
/// ablation compares only what the weights may depend on.
#[derive(Module, Debug)]
pub struct PairDecoder {
    weight: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
}

impl PairDecoder {
    pub fn kind(&self) -> DecoderKind {
        if self.weight.dims()[0] == TYPE_PAIRS {
            DecoderKind::TypeAware
        } else {
            DecoderKind::Shared
        }
    }

    /// The weight row used for items of garment types `a` and `b`.
    pub fn slot(&self, a: usize, b: usize) -> usize {
        match self.kind() {
            DecoderKind::TypeAware => type_pair_index(a, b),
            DecoderKind::Shared => 0,
        }
    }

    /// Logits `[p]` of the pairs `(left[k], right[k])`, whose weight rows are `slots[k]`.
    pub fn forward(
        &self,
        z: Tensor<2>,
        left: Tensor<1, Int>,
        right: Tensor<1, Int>,
        slots: Tensor<1, Int>,
    ) -> Tensor<1> {
        let distance = (z.clone().select(0, left) - z.select(0, right)).abs();
        let w = self.weight.val().select(0, slots.clone());
        let [p, _] = distance.dims();
        (distance * w).sum_dim(1).reshape([p]) + self.bias.val().select(0, slots)
    }

    /// The weights as plain numbers, for scoring many pairs without tensors.
    pub fn table(&self) -> DecoderTable {
        let [rows, width] = self.weight.dims();
        DecoderTable {
            kind: self.kind(),
            width,
            weight: to_vec(self.weight.val().into_data()),
            bias: to_vec(self.bias.val().into_data()),
        }
        .check(rows)
    }
}

/// The decoder's weights outside burn: scores a pair of embeddings with the same formula as
/// [`PairDecoder::forward`]. Evaluation scores thousands of pairs per question set and the
/// device scores wardrobe pairs, neither of which needs autodiff tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct DecoderTable {
    pub kind: DecoderKind,
    pub width: usize,
    /// Row-major `[rows, width]`.
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl DecoderTable {
    fn check(self, rows: usize) -> Self {
        debug_assert_eq!(self.weight.len(), rows * self.width);
        debug_assert_eq!(self.bias.len(), rows);
        self
    }

    /// Compatibility logit of embeddings `a` and `b` of garment types `ta` and `tb`.
    pub fn logit(&self, a: &[f32], ta: usize, b: &[f32], tb: usize) -> f32 {
        let slot = match self.kind {
            DecoderKind::TypeAware => type_pair_index(ta, tb),
            DecoderKind::Shared => 0,
        };
        let w = &self.weight[slot * self.width..(slot + 1) * self.width];
        let dot: f32 = a
            .iter()
            .zip(b)
            .zip(w)
            .map(|((x, y), w)| (x - y).abs() * w)
            .sum();
        dot + self.bias[slot]
    }
}

/// Encoder and decoder together.
#[derive(Module, Debug)]
pub struct Stylist {
    pub encoder: Encoder,
    pub decoder: PairDecoder,
}

/// Row-major floats of a tensor's data (the element type is always f32 here).
pub fn to_vec(data: TensorData) -> Vec<f32> {
    data.try_into_vec_as::<f32>()
        .expect("float tensor data converts to f32")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(decoder: DecoderKind) -> StylistConfig {
        StylistConfig {
            input_dim: 5,
            hidden: 4,
            layers: 2,
            dropout: 0.0,
            decoder,
        }
    }

    #[test]
    fn sparse_and_dense_aggregation_agree() {
        let device = Device::flex();
        device.seed(3);
        let model = config(DecoderKind::Shared).init(&device);
        let edges = MessageEdges::from_undirected(4, &[(0, 1), (1, 2), (0, 2)]);
        let x = Tensor::<2>::random([4, 5], Distribution::Normal(0.0, 1.0), &device);
        let sparse = model
            .encoder
            .forward(x.clone(), &Neighbourhood::edges(&edges, &device));
        let dense = model
            .encoder
            .forward(x.clone(), &Neighbourhood::dense(&edges, &device));
        let (s, d) = (to_vec(sparse.into_data()), to_vec(dense.into_data()));
        for (a, b) in s.iter().zip(&d) {
            assert!((a - b).abs() < 1e-5, "{s:?} vs {d:?}");
        }
        // Node 3 has no neighbours: same embedding as with no edges at all.
        let alone = to_vec(
            model
                .encoder
                .forward(x, &Neighbourhood::Isolated)
                .into_data(),
        );
        assert_eq!(&s[12..16], &alone[12..16]);
    }

    #[test]
    fn type_aware_decoder_picks_the_pair_row_and_matches_its_table() {
        let device = Device::flex();
        device.seed(4);
        let model = config(DecoderKind::TypeAware).init(&device);
        assert_eq!(model.decoder.kind(), DecoderKind::TypeAware);
        assert_eq!(model.decoder.slot(4, 1), model.decoder.slot(1, 4));
        let z = Tensor::<2>::random([3, 4], Distribution::Normal(0.0, 1.0), &device);
        let ints = |v: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v, [2]), &device);
        // The same two embeddings through two different type pairs: different logits.
        let logits = to_vec(
            model
                .decoder
                .forward(
                    z.clone(),
                    ints(vec![0, 0]),
                    ints(vec![1, 1]),
                    ints(vec![
                        type_pair_index(0, 1) as i64,
                        type_pair_index(2, 5) as i64,
                    ]),
                )
                .into_data(),
        );
        assert_ne!(logits[0], logits[1]);
        let table = model.decoder.table();
        let zs = to_vec(z.into_data());
        let expected = table.logit(&zs[0..4], 0, &zs[4..8], 1);
        assert!((expected - logits[0]).abs() < 1e-5);
        assert!((table.logit(&zs[0..4], 5, &zs[4..8], 2) - logits[1]).abs() < 1e-5);

        let shared = config(DecoderKind::Shared).init(&device).decoder;
        assert_eq!(shared.slot(0, 1), 0);
        assert_eq!(shared.slot(2, 5), 0);
    }
}
