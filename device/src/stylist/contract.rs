//! The stylist's ONNX interface: what the host's exporter writes and the device feeds.
//!
//! **Encoder** — one GCN pass over a graph of `N` garments, each averaging at most `K`
//! neighbours:
//! - `features [N, F]`: the garment's embedder output (raw; the z-scoring with the training
//!   statistics is inside the graph);
//! - `types [N, 7]`: the garment type, one-hot in contract order;
//! - `neighbours [N, K]`: node indices of each garment's neighbours (padding: any valid
//!   index with weight 0);
//! - `neighbour_weights [N, K]`: `1/|list|` for a real neighbour, 0 for padding;
//! - output `node_embedding [N, H]`.
//!
//! **Decoder** — compatibility of `M` pairs of node embeddings:
//! - `a [M, H]`, `b [M, H]`: the two garments' node embeddings;
//! - `pair [M]`: the decoder row of the pair's garment types
//!   ([`crate::garment::type_pair_index`]);
//! - output `compatibility [M]`, a probability in 0..1.
//!
//! Indices travel as float32 and are cast to int64 inside the graph, so every input (and
//! every golden `.npy` file) has one element type. float32 holds integers exactly below
//! 2^24 (16.7 M garments), far beyond a wardrobe.

/// Encoder inputs, in order.
pub const ENCODER_INPUTS: [&str; 4] = ["features", "types", "neighbours", "neighbour_weights"];
/// Encoder output.
pub const ENCODER_OUTPUT: &str = "node_embedding";
/// Decoder inputs, in order.
pub const DECODER_INPUTS: [&str; 3] = ["a", "b", "pair"];
/// Decoder output.
pub const DECODER_OUTPUT: &str = "compatibility";
/// Symbol of the node axis.
pub const NODES: &str = "N";
/// Symbol of the neighbour-slot axis.
pub const SLOTS: &str = "K";
/// Symbol of the pair axis.
pub const PAIRS: &str = "M";
/// Largest node index a float32 input carries exactly.
pub const MAX_EXACT_INDEX: usize = 1 << 24;
