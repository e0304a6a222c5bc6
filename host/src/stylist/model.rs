//! The stylist network: a graph auto-encoder. The encoder is a stack of GCN layers in the
//! Cucurull et al. (CVPR 2019) form; the decoder turns two node embeddings into a
//! compatibility logit, with weights chosen by the pair of garment types (type-aware) or
//! shared by all pairs (the baseline), from the distance `|z_i − z_j|` alone or from the
//! distance and the elementwise product `z_i ⊙ z_j` (see [`DecoderForm`]).

use super::graph::{MessageEdges, TYPE_PAIRS, type_pair_index};
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, IndexingUpdateOp, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Whose weights the decoder uses for a pair: its type pair's row, or the one shared row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DecoderKind {
    /// One weight vector and bias per unordered pair of garment types (28 of them).
    TypeAware,
    /// One weight vector and bias for every pair (Cucurull et al.'s decoder).
    Shared,
}

/// What the decoder reads from a pair of embeddings. Both forms are symmetric in `(i, j)`
/// and plain elementwise ops (Sub, Abs, Mul, ReduceSum), so they export to ONNX alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DecoderForm {
    /// `w_p·|z_i − z_j| + b_p` (Cucurull et al.). Cannot express a relation that is not a
    /// distance, such as "two bold patterns clash, two solid garments are fine": both pairs
    /// are alike within themselves. The form of every run made before the field existed.
    #[default]
    Distance,
    /// `w_p·|z_i − z_j| + u_p·(z_i ⊙ z_j) + b_p`: the diagonal bilinear term scores "both
    /// have feature f" on its own, so two garments that share a trait can clash.
    DistanceProduct,
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
    /// Absent in the `config.json` of runs older than the field: those are `distance`.
    #[serde(default)]
    pub decoder_form: DecoderForm,
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
        let row_weights = || {
            Param::from_tensor(Tensor::random(
                [rows, self.hidden],
                Distribution::Normal(0.0, scale),
                device,
            ))
        };
        Stylist {
            encoder: Encoder {
                layers,
                dropout: DropoutConfig::new(self.dropout).init(),
            },
            decoder: PairDecoder {
                weight: row_weights(),
                product: match self.decoder_form {
                    DecoderForm::Distance => None,
                    DecoderForm::DistanceProduct => Some(row_weights()),
                },
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
    /// `W_0`, `b`: the node's own term.
    pub fn self_term(&self) -> &Linear {
        &self.self_term
    }

    /// `W_1` (no bias): applied to the neighbours' mean.
    pub fn neighbour_term(&self) -> &Linear {
        &self.neighbours
    }

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
    /// The GCN layers, input side first.
    pub fn layers(&self) -> &[GcnLayer] {
        &self.layers
    }

    /// Node embeddings `[n, hidden]` from inputs `[n, input_dim]`.
    pub fn forward(&self, x: Tensor<2>, nb: &Neighbourhood) -> Tensor<2> {
        self.layers.iter().fold(x, |h, layer| {
            relu(layer.forward(self.dropout.forward(h), nb))
        })
    }
}

/// `logit(i, j) = w_p · |z_i − z_j| [+ u_p · (z_i ⊙ z_j)] + b_p`, where `p` is the type pair
/// of `(i, j)` (type aware, 28 rows) or always 0 (shared, 1 row), and the product term is
/// there in the [`DecoderForm::DistanceProduct`] form. One code path serves every decoder,
/// so the ablation compares only what the weights may depend on.
#[derive(Module, Debug)]
pub struct PairDecoder {
    weight: Param<Tensor<2>>,
    /// `u`, `[rows, hidden]`; `None` in the distance-only form.
    product: Option<Param<Tensor<2>>>,
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

    pub fn form(&self) -> DecoderForm {
        match self.product {
            None => DecoderForm::Distance,
            Some(_) => DecoderForm::DistanceProduct,
        }
    }

    /// The weight row used for items of garment types `a` and `b`.
    pub fn slot(&self, a: usize, b: usize) -> usize {
        self.kind().slot(a, b)
    }

    /// Logits `[p]` of the pairs `(left[k], right[k])`, whose weight rows are `slots[k]`.
    pub fn forward(
        &self,
        z: Tensor<2>,
        left: Tensor<1, Int>,
        right: Tensor<1, Int>,
        slots: Tensor<1, Int>,
    ) -> Tensor<1> {
        let (zl, zr) = (z.clone().select(0, left), z.select(0, right));
        let rows = |p: &Param<Tensor<2>>| p.val().select(0, slots.clone());
        let mut terms = (zl.clone() - zr.clone()).abs() * rows(&self.weight);
        if let Some(u) = &self.product {
            terms = terms + zl * zr * rows(u);
        }
        let [p, _] = terms.dims();
        terms.sum_dim(1).reshape([p]) + self.bias.val().select(0, slots)
    }

    /// The weights as plain numbers, for scoring many pairs without tensors.
    pub fn table(&self) -> DecoderTable {
        let [rows, width] = self.weight.dims();
        DecoderTable {
            kind: self.kind(),
            width,
            weight: to_vec(self.weight.val().into_data()),
            product: self.product.as_ref().map(|u| to_vec(u.val().into_data())),
            bias: to_vec(self.bias.val().into_data()),
        }
        .check(rows)
    }
}

impl DecoderKind {
    /// The decoder row of a pair of garment types `a`, `b` (unordered).
    pub fn slot(self, a: usize, b: usize) -> usize {
        match self {
            Self::TypeAware => type_pair_index(a, b),
            Self::Shared => 0,
        }
    }
}

/// The decoder's weights outside burn: scores a pair of embeddings with the same formula as
/// [`PairDecoder::forward`]. Evaluation scores thousands of pairs per question set and the
/// device scores wardrobe pairs, neither of which needs autodiff tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct DecoderTable {
    pub kind: DecoderKind,
    pub width: usize,
    /// Row-major `[rows, width]`: the weights of `|z_i − z_j|`.
    pub weight: Vec<f32>,
    /// Row-major `[rows, width]`: the weights of `z_i ⊙ z_j`; `None` in the distance form.
    pub product: Option<Vec<f32>>,
    pub bias: Vec<f32>,
}

impl DecoderTable {
    fn check(self, rows: usize) -> Self {
        debug_assert_eq!(self.weight.len(), rows * self.width);
        debug_assert!(
            self.product
                .as_ref()
                .is_none_or(|u| u.len() == rows * self.width)
        );
        debug_assert_eq!(self.bias.len(), rows);
        self
    }

    pub fn form(&self) -> DecoderForm {
        match self.product {
            None => DecoderForm::Distance,
            Some(_) => DecoderForm::DistanceProduct,
        }
    }

    /// Compatibility logit of embeddings `a` and `b` of garment types `ta` and `tb`.
    pub fn logit(&self, a: &[f32], ta: usize, b: &[f32], tb: usize) -> f32 {
        let slot = self.kind.slot(ta, tb);
        let distance: f32 = a
            .iter()
            .zip(b)
            .zip(self.row(&self.weight, slot))
            .map(|((x, y), w)| (x - y).abs() * w)
            .sum();
        let product: f32 = self.product.as_deref().map_or(0.0, |u| {
            a.iter()
                .zip(b)
                .zip(self.row(u, slot))
                .map(|((x, y), u)| x * y * u)
                .sum()
        });
        distance + product + self.bias[slot]
    }

    /// Row `slot` of a row-major `[rows, width]` table.
    fn row<'a>(&self, table: &'a [f32], slot: usize) -> &'a [f32] {
        &table[slot * self.width..(slot + 1) * self.width]
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

    fn config(decoder: DecoderKind, decoder_form: DecoderForm) -> StylistConfig {
        StylistConfig {
            input_dim: 5,
            hidden: 4,
            layers: 2,
            dropout: 0.0,
            decoder,
            decoder_form,
        }
    }

    #[test]
    fn sparse_and_dense_aggregation_agree() {
        let device = Device::flex();
        device.seed(3);
        let model = config(DecoderKind::Shared, DecoderForm::Distance).init(&device);
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
    fn decoders_are_symmetric_pick_the_pair_row_and_match_their_tables() {
        let device = Device::flex();
        device.seed(4);
        let ints = |v: Vec<i64>| {
            let n = v.len();
            Tensor::<1, Int>::from_data(TensorData::new(v, [n]), &device)
        };
        for form in [DecoderForm::Distance, DecoderForm::DistanceProduct] {
            let model = config(DecoderKind::TypeAware, form).init(&device);
            let decoder = &model.decoder;
            assert_eq!(decoder.kind(), DecoderKind::TypeAware);
            assert_eq!(decoder.form(), form);
            assert_eq!(decoder.slot(4, 1), decoder.slot(1, 4));
            assert_eq!(decoder.slot(4, 1), type_pair_index(1, 4));
            // Non-negative like the encoder's ReLU output, and non-zero so the product term
            // matters.
            let z = Tensor::<2>::random([3, 4], Distribution::Uniform(0.1, 1.0), &device);
            // Pairs (0, 1) and (1, 0) through the same row, then (0, 1) through another.
            let slots = [
                type_pair_index(0, 1),
                type_pair_index(0, 1),
                type_pair_index(2, 5),
            ];
            let logits = to_vec(
                decoder
                    .forward(
                        z.clone(),
                        ints(vec![0, 1, 0]),
                        ints(vec![1, 0, 1]),
                        ints(slots.iter().map(|&s| s as i64).collect()),
                    )
                    .into_data(),
            );
            assert!((logits[0] - logits[1]).abs() < 1e-6, "{form:?}: {logits:?}");
            assert_ne!(logits[0], logits[2], "{form:?}: the type pair picks no row");
            let table = decoder.table();
            assert_eq!(table.form(), form);
            let zs = to_vec(z.into_data());
            let (a, b) = (&zs[0..4], &zs[4..8]);
            assert!((table.logit(a, 0, b, 1) - logits[0]).abs() < 1e-5);
            assert!((table.logit(b, 1, a, 0) - logits[1]).abs() < 1e-5);
            assert!((table.logit(a, 5, b, 2) - logits[2]).abs() < 1e-5);

            let shared = config(DecoderKind::Shared, form).init(&device).decoder;
            assert_eq!(shared.slot(0, 1), 0);
            assert_eq!(shared.slot(2, 5), 0);
            assert_eq!(shared.table().weight.len(), 4);
        }
    }

    #[test]
    fn only_the_product_form_can_score_two_alike_pairs_differently() {
        // "Two bold garments clash, two solid ones are fine": both pairs have distance 0,
        // so the distance form must give them the same logit; the product form need not.
        let device = Device::flex();
        device.seed(5);
        let bold = [1.0, 0.0, 0.5, 0.5];
        let solid = [0.0, 0.0, 0.5, 0.5];
        for (form, differ) in [
            (DecoderForm::Distance, false),
            (DecoderForm::DistanceProduct, true),
        ] {
            let mut table = config(DecoderKind::Shared, form)
                .init(&device)
                .decoder
                .table();
            if let Some(u) = table.product.as_mut() {
                u[0] = -4.0;
            }
            let (bb, ss) = (
                table.logit(&bold, 0, &bold, 1),
                table.logit(&solid, 0, &solid, 1),
            );
            assert_eq!(bb != ss, differ, "{form:?}: {bb} vs {ss}");
        }
    }
}
