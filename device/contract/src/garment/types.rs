//! The one list of garment types, and how dataset categories map onto it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What kind of garment something is. The order is part of the model contract: the
/// stylist's type-aware decoder indexes its weights by [`GarmentType::index`], and bundles
/// record this list so a device refuses a model trained with another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GarmentType {
    Top,
    Bottom,
    Dress,
    Outerwear,
    Shoes,
    Bag,
    Accessory,
}

/// Raised when a string names no garment type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown garment type {given:?}; expected one of: top, bottom, dress, outerwear, shoes, bag, accessory"
)]
pub struct UnknownGarmentType {
    pub given: String,
}

/// Unordered pairs of garment types: 7 types give 28 pairs (same-type pairs included). The
/// stylist's type-aware decoder has one weight row per pair.
pub const TYPE_PAIRS: usize = GarmentType::COUNT * (GarmentType::COUNT + 1) / 2;

/// Index in `0..TYPE_PAIRS` of the unordered type pair `{a, b}` (type indices, symmetric in
/// its arguments): the pairs are enumerated row by row over the upper triangle. Indices past
/// the type list are clamped to the last type, so a bad index cannot leave the table.
pub fn type_pair_index(a: usize, b: usize) -> usize {
    let last = GarmentType::COUNT - 1;
    let (a, b) = (a.min(last), b.min(last));
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    lo * (2 * GarmentType::COUNT - lo + 1) / 2 + (hi - lo)
}

impl GarmentType {
    /// Every type, in contract order.
    pub const ALL: [GarmentType; 7] = [
        GarmentType::Top,
        GarmentType::Bottom,
        GarmentType::Dress,
        GarmentType::Outerwear,
        GarmentType::Shoes,
        GarmentType::Bag,
        GarmentType::Accessory,
    ];

    /// Number of types; the size of type-indexed tables.
    pub const COUNT: usize = Self::ALL.len();

    /// Position in [`GarmentType::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The type at `index` in [`GarmentType::ALL`], if any.
    pub fn from_index(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }

    /// Lower-case name used in files, manifests and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            GarmentType::Top => "top",
            GarmentType::Bottom => "bottom",
            GarmentType::Dress => "dress",
            GarmentType::Outerwear => "outerwear",
            GarmentType::Shoes => "shoes",
            GarmentType::Bag => "bag",
            GarmentType::Accessory => "accessory",
        }
    }

    /// The list of names in contract order, as stored in a bundle manifest.
    pub fn names() -> Vec<String> {
        Self::ALL.iter().map(|t| t.as_str().to_string()).collect()
    }

    /// Fashion-MNIST label (0..=9) to garment type. Fashion-MNIST has no accessory class
    /// other than bags; sneakers, sandals and ankle boots are all shoes.
    pub fn from_fashion_mnist(label: u8) -> Option<Self> {
        Some(match label {
            0 => GarmentType::Top,       // T-shirt/top
            1 => GarmentType::Bottom,    // Trouser
            2 => GarmentType::Top,       // Pullover
            3 => GarmentType::Dress,     // Dress
            4 => GarmentType::Outerwear, // Coat
            5 => GarmentType::Shoes,     // Sandal
            6 => GarmentType::Top,       // Shirt
            7 => GarmentType::Shoes,     // Sneaker
            8 => GarmentType::Bag,       // Bag
            9 => GarmentType::Shoes,     // Ankle boot
            _ => return None,
        })
    }

    /// Polyvore Outfits `semantic_category` to garment type. Jewellery, hats, scarves and
    /// sunglasses are all accessories; "all-body" pieces (dresses, jumpsuits) are dresses.
    pub fn from_polyvore_semantic(category: &str) -> Option<Self> {
        Some(match category.trim().to_ascii_lowercase().as_str() {
            "tops" => GarmentType::Top,
            "bottoms" => GarmentType::Bottom,
            "all-body" => GarmentType::Dress,
            "outerwear" => GarmentType::Outerwear,
            "shoes" => GarmentType::Shoes,
            "bags" => GarmentType::Bag,
            "accessories" | "jewellery" | "hats" | "scarves" | "sunglasses" => {
                GarmentType::Accessory
            }
            _ => return None,
        })
    }

    /// DeepFashion In-shop category folder (`img/<group>/<category>/...`) to garment type.
    /// In-shop has only clothes; the synthetic set adds `Shoes`, `Bags` and `Accessories`.
    pub fn from_inshop_category(category: &str) -> Option<Self> {
        Some(match category {
            "Tees_Tanks"
            | "Blouses_Shirts"
            | "Shirts_Polos"
            | "Graphic_Tees"
            | "Sweaters"
            | "Sweatshirts_Hoodies"
            | "Cardigans" => GarmentType::Top,
            "Pants" | "Shorts" | "Skirts" | "Leggings" | "Denim" => GarmentType::Bottom,
            "Dresses" | "Rompers_Jumpsuits" => GarmentType::Dress,
            "Jackets_Coats" | "Jackets_Vests" | "Suiting" => GarmentType::Outerwear,
            "Shoes" => GarmentType::Shoes,
            "Bags" => GarmentType::Bag,
            "Accessories" => GarmentType::Accessory,
            _ => return None,
        })
    }

    /// The In-shop category folder we write for this type (one of those
    /// [`GarmentType::from_inshop_category`] accepts).
    pub fn inshop_category(self) -> &'static str {
        match self {
            GarmentType::Top => "Tees_Tanks",
            GarmentType::Bottom => "Pants",
            GarmentType::Dress => "Dresses",
            GarmentType::Outerwear => "Jackets_Coats",
            GarmentType::Shoes => "Shoes",
            GarmentType::Bag => "Bags",
            GarmentType::Accessory => "Accessories",
        }
    }

    /// The Polyvore `semantic_category` we write for this type (inverse of
    /// [`GarmentType::from_polyvore_semantic`] on its canonical names).
    pub fn polyvore_semantic(self) -> &'static str {
        match self {
            GarmentType::Top => "tops",
            GarmentType::Bottom => "bottoms",
            GarmentType::Dress => "all-body",
            GarmentType::Outerwear => "outerwear",
            GarmentType::Shoes => "shoes",
            GarmentType::Bag => "bags",
            GarmentType::Accessory => "accessories",
        }
    }
}

impl fmt::Display for GarmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GarmentType {
    type Err = UnknownGarmentType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == lower)
            .ok_or(UnknownGarmentType {
                given: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trips_in_contract_order() {
        for (i, t) in GarmentType::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
            assert_eq!(GarmentType::from_index(i), Some(*t));
        }
        assert_eq!(GarmentType::from_index(GarmentType::COUNT), None);
    }

    #[test]
    fn names_parse_back() {
        for t in GarmentType::ALL {
            assert_eq!(t.as_str().parse::<GarmentType>(), Ok(t));
            assert_eq!(t.to_string().to_uppercase().parse::<GarmentType>(), Ok(t));
        }
        let err = "hat".parse::<GarmentType>().unwrap_err();
        assert!(err.to_string().contains("\"hat\""));
    }

    #[test]
    fn fashion_mnist_classes_map_to_every_expected_type() {
        let mapped: Vec<_> = (0..10)
            .map(|l| GarmentType::from_fashion_mnist(l).unwrap())
            .collect();
        assert_eq!(mapped[1], GarmentType::Bottom);
        assert_eq!(mapped[8], GarmentType::Bag);
        assert_eq!(mapped[9], GarmentType::Shoes);
        assert_eq!(GarmentType::from_fashion_mnist(10), None);
    }

    #[test]
    fn polyvore_semantic_categories_round_trip() {
        for t in GarmentType::ALL {
            assert_eq!(
                GarmentType::from_polyvore_semantic(t.polyvore_semantic()),
                Some(t)
            );
        }
        assert_eq!(
            GarmentType::from_polyvore_semantic("jewellery"),
            Some(GarmentType::Accessory)
        );
        assert_eq!(GarmentType::from_polyvore_semantic("furniture"), None);
    }

    #[test]
    fn inshop_categories_map() {
        assert_eq!(
            GarmentType::from_inshop_category("Dresses"),
            Some(GarmentType::Dress)
        );
        assert_eq!(
            GarmentType::from_inshop_category("Jackets_Vests"),
            Some(GarmentType::Outerwear)
        );
        assert_eq!(GarmentType::from_inshop_category("Spaceships"), None);
        for t in GarmentType::ALL {
            assert_eq!(
                GarmentType::from_inshop_category(t.inshop_category()),
                Some(t)
            );
        }
    }

    #[test]
    fn serde_uses_lowercase_names() {
        assert_eq!(
            serde_json::to_string(&GarmentType::Outerwear).unwrap(),
            "\"outerwear\""
        );
        let t: GarmentType = serde_json::from_str("\"bag\"").unwrap();
        assert_eq!(t, GarmentType::Bag);
    }
}
