//! The Polyvore Outfits file formats (Vasileva et al., ECCV 2018), as published.
//!
//! ```text
//! ROOT/polyvore_item_metadata.json        {item_id: {semantic_category, category_id, title, ...}}
//! ROOT/images/<item_id>.jpg
//! ROOT/{nondisjoint,disjoint}/{train,valid,test}.json
//!                                         [{set_id, items: [{item_id, index}]}]
//! ROOT/{..}/fill_in_blank_{split}.json    [{question: [ref], answers: [ref; 4], blank_position}]
//! ROOT/{..}/fill_in_blank_{split}_hard.json   (ours) same, distractors of the blank's type
//! ROOT/{..}/compatibility_{split}.txt     "label ref ref ..." per line, label 1 or 0
//! ```
//! A `ref` is `"<set_id>_<index>"`: the item at position `index` of outfit `set_id`.
//! Defined here, once: the host's loader and synthetic writer use these types, and so does
//! the device when it imports a Polyvore-format set into the wardrobe.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const METADATA_FILE: &str = "polyvore_item_metadata.json";
pub const IMAGES_DIR: &str = "images";

/// The two published split families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Outfits are split, items may appear in several splits.
    Nondisjoint,
    /// No item appears in two splits.
    Disjoint,
}

impl Variant {
    pub fn dir_name(self) -> &'static str {
        match self {
            Variant::Nondisjoint => "nondisjoint",
            Variant::Disjoint => "disjoint",
        }
    }
}

/// Train / valid / test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    pub fn outfits_file(self) -> String {
        format!("{}.json", self.as_str())
    }

    pub fn fitb_file(self) -> String {
        format!("fill_in_blank_{}.json", self.as_str())
    }

    /// Our hard FITB variant: distractors share the blank's garment type.
    pub fn fitb_hard_file(self) -> String {
        format!("fill_in_blank_{}_hard.json", self.as_str())
    }

    pub fn compatibility_file(self) -> String {
        format!("compatibility_{}.txt", self.as_str())
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `category_id` is a string in the published file; some tools rewrite it as a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CategoryId {
    Text(String),
    Number(u64),
}

/// One entry of `polyvore_item_metadata.json`. Unknown fields are ignored, as the published
/// file has more than we use (note its misspelt `catgeories`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemMetadata {
    #[serde(default)]
    pub url_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub catgeories: Vec<String>,
    pub title: String,
    #[serde(default)]
    pub related: Vec<String>,
    pub category_id: CategoryId,
    pub semantic_category: String,
}

/// One item of an outfit: the item and its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutfitItem {
    pub item_id: String,
    pub index: u32,
}

/// One outfit of `{split}.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutfitRecord {
    pub items: Vec<OutfitItem>,
    pub set_id: String,
}

/// One question of `fill_in_blank_{split}.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FitbRecord {
    /// The outfit's other items, as refs.
    pub question: Vec<String>,
    /// Four candidate refs; the right one belongs to the question's outfit.
    pub answers: Vec<String>,
    /// 1-based position of the blank in the outfit.
    pub blank_position: u32,
}

/// `"<set_id>_<index>"`, the way FITB and compatibility files name an outfit item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemRef {
    pub set_id: String,
    pub index: u32,
}

impl ItemRef {
    /// Parses `"<set_id>_<index>"`; set ids may themselves contain underscores.
    pub fn parse(text: &str) -> Option<Self> {
        let (set_id, index) = text.rsplit_once('_')?;
        if set_id.is_empty() {
            return None;
        }
        Some(Self {
            set_id: set_id.to_string(),
            index: index.parse().ok()?,
        })
    }
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.set_id, self.index)
    }
}

/// One line of `compatibility_{split}.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatibilityLine {
    pub compatible: bool,
    pub items: Vec<ItemRef>,
}

impl CompatibilityLine {
    /// Parses `"1 a_1 a_2 a_3"`; the error says what was expected.
    pub fn parse(line: &str) -> Result<Self, String> {
        let mut fields = line.split_whitespace();
        let compatible = match fields.next() {
            Some("1") => true,
            Some("0") => false,
            Some(other) => return Err(format!("label {other:?} should be 1 or 0")),
            None => return Err("empty line, expected `label ref ref ...`".into()),
        };
        let items = fields
            .map(|f| {
                ItemRef::parse(f)
                    .ok_or_else(|| format!("{f:?} is not a `<set_id>_<index>` item reference"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if items.len() < 2 {
            return Err(format!(
                "an outfit needs at least 2 items, found {}",
                items.len()
            ));
        }
        Ok(Self { compatible, items })
    }
}

impl fmt::Display for CompatibilityLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", u8::from(self.compatible))?;
        for item in &self.items {
            write!(f, " {item}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_refs_allow_underscores_in_set_ids() {
        let r = ItemRef::parse("21_abc_3").unwrap();
        assert_eq!((r.set_id.as_str(), r.index), ("21_abc", 3));
        assert_eq!(r.to_string(), "21_abc_3");
        for bad in ["", "_3", "abc", "abc_x", "abc_-1"] {
            assert!(ItemRef::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn compatibility_lines_round_trip_and_explain_errors() {
        let line = CompatibilityLine::parse("0 11_1 12_4").unwrap();
        assert!(!line.compatible);
        assert_eq!(line.to_string(), "0 11_1 12_4");
        assert!(
            CompatibilityLine::parse("2 a_1 b_1")
                .unwrap_err()
                .contains("label")
        );
        assert!(
            CompatibilityLine::parse("1 a_1")
                .unwrap_err()
                .contains("at least 2")
        );
        assert!(
            CompatibilityLine::parse("1 a_1 b")
                .unwrap_err()
                .contains("\"b\"")
        );
    }

    #[test]
    fn category_id_reads_strings_and_numbers() {
        let a: ItemMetadata = serde_json::from_str(
            r#"{"title":"t","category_id":"21","semantic_category":"tops","extra":1}"#,
        )
        .unwrap();
        let b: ItemMetadata =
            serde_json::from_str(r#"{"title":"t","category_id":21,"semantic_category":"tops"}"#)
                .unwrap();
        assert_eq!(a.category_id, CategoryId::Text("21".into()));
        assert_eq!(b.category_id, CategoryId::Number(21));
    }
}
