//! Outfit suggestions: assemble outfits around a garment from pair scores, fold the owner's
//! feedback in at once, and say why an outfit works.

pub mod assemble;
pub mod explain;
pub mod feedback;

pub use assemble::{OPTIONAL, Outfit, OutfitTemplate, PairScorer, TEMPLATES, suggest};
pub use explain::{colour_scheme, dominant_hue};
pub use feedback::{Verdict, WithFeedback, feedback_edges, parse_outfit_key};
