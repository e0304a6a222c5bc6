//! Wardrobe records: garments the owner has, which ones are worn together, and the stored
//! thumbnail format their style statistics are recomputed from.

pub mod thumbnail;

pub use thumbnail::{THUMBNAIL_SIDE, decode_thumbnail, thumbnail_png};

use crate::garment::GarmentType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable identifier of a garment in one wardrobe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GarmentId(pub u64);

impl fmt::Display for GarmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "g{}", self.0)
    }
}

/// Raised when a string names no garment status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown garment status {given:?}; expected available, in-laundry or stored")]
pub struct UnknownGarmentStatus {
    pub given: String,
}

impl std::str::FromStr for GarmentStatus {
    type Err = UnknownGarmentStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GarmentStatus::ALL
            .into_iter()
            .find(|g| g.name() == s.trim())
            .ok_or_else(|| UnknownGarmentStatus { given: s.into() })
    }
}

/// Raised when a string is not a garment id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a garment id (like g12)")]
pub struct BadGarmentId {
    pub given: String,
}

/// Reads `g12` (as printed) or `12`.
impl std::str::FromStr for GarmentId {
    type Err = BadGarmentId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        t.strip_prefix('g')
            .unwrap_or(t)
            .parse()
            .map(GarmentId)
            .map_err(|_| BadGarmentId { given: s.into() })
    }
}

/// Whether a garment can be suggested right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GarmentStatus {
    /// In the wardrobe, ready to wear.
    #[default]
    Available,
    /// Being washed: never suggested.
    InLaundry,
    /// Packed away for another season: never suggested.
    Stored,
}

impl GarmentStatus {
    pub const ALL: [GarmentStatus; 3] = [
        GarmentStatus::Available,
        GarmentStatus::InLaundry,
        GarmentStatus::Stored,
    ];

    /// `available`, `in-laundry`, `stored`: the records' spelling.
    pub fn name(self) -> &'static str {
        match self {
            GarmentStatus::Available => "available",
            GarmentStatus::InLaundry => "in-laundry",
            GarmentStatus::Stored => "stored",
        }
    }

    /// Only available garments appear in suggestions.
    pub fn is_suggestible(self) -> bool {
        self == GarmentStatus::Available
    }
}

/// One garment the owner has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Garment {
    pub id: GarmentId,
    pub garment_type: GarmentType,
    pub name: String,
    /// Small PNG shown on the display.
    pub thumbnail_png: Vec<u8>,
    /// The embedder's L2-normalised output for this garment.
    pub embedding: Vec<f32>,
    /// `style-v1` statistics of its picture (`garment::style_features`); empty for a
    /// garment stored before they existed until the stylist fills them in.
    #[serde(default)]
    pub style: Vec<f32>,
    /// Seconds since the Unix epoch.
    pub added_unix: u64,
    pub last_worn_unix: Option<u64>,
    pub status: GarmentStatus,
}

/// Where a "worn together" edge came from. Rejections are kept as edges too, so the
/// stylist can push such pairs down without retraining.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeProvenance {
    /// From an imported outfit set (e.g. Polyvore format) or the demo wardrobe.
    Imported,
    /// The owner accepted a suggested outfit containing both garments.
    Accepted,
    /// The owner rejected a suggested outfit containing both garments.
    Rejected,
    /// The owner reported wearing both garments together.
    Worn,
}

impl EdgeProvenance {
    /// Whether the edge says the pair goes together (everything but a rejection).
    pub fn is_positive(self) -> bool {
        self != EdgeProvenance::Rejected
    }
}

/// An undirected edge between two garments, stored with `a < b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OutfitEdge {
    pub a: GarmentId,
    pub b: GarmentId,
    pub provenance: EdgeProvenance,
    pub at_unix: u64,
}

impl OutfitEdge {
    /// The edge between two distinct garments, in canonical order; `None` for a self-loop.
    pub fn new(
        x: GarmentId,
        y: GarmentId,
        provenance: EdgeProvenance,
        at_unix: u64,
    ) -> Option<Self> {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => Some(Self {
                a: x,
                b: y,
                provenance,
                at_unix,
            }),
            std::cmp::Ordering::Greater => Some(Self {
                a: y,
                b: x,
                provenance,
                at_unix,
            }),
            std::cmp::Ordering::Equal => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_canonical_and_never_self_loops() {
        let e = OutfitEdge::new(GarmentId(9), GarmentId(2), EdgeProvenance::Worn, 5).unwrap();
        assert_eq!((e.a, e.b), (GarmentId(2), GarmentId(9)));
        assert!(OutfitEdge::new(GarmentId(1), GarmentId(1), EdgeProvenance::Worn, 5).is_none());
    }

    #[test]
    fn only_available_garments_and_non_rejections_count() {
        assert!(GarmentStatus::Available.is_suggestible());
        assert!(!GarmentStatus::InLaundry.is_suggestible());
        assert!(!EdgeProvenance::Rejected.is_positive());
        assert!(EdgeProvenance::Accepted.is_positive());
    }

    #[test]
    fn serde_names_are_stable() {
        assert_eq!(
            serde_json::to_string(&GarmentStatus::InLaundry).unwrap(),
            "\"in-laundry\""
        );
        assert_eq!(serde_json::to_string(&GarmentId(4)).unwrap(), "4");
    }
}
