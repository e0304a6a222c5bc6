//! The DeepFashion In-shop Clothes Retrieval format, as published.
//!
//! ```text
//! ROOT/img/<group>/<category>/<item_id>/<view>.jpg
//! ROOT/list_eval_partition.txt
//!     52712                                    <- number of rows
//!     image_name item_id evaluation_status     <- header
//!     img/WOMEN/Dresses/id_00000002/02_1_front.jpg  id_00000002  train
//! ```
//! Items are split, not images: every picture of a train item is `train`; a test item's
//! pictures are divided between `query` and `gallery`. Used by both the loader and the
//! synthetic writer.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const PARTITION_FILE: &str = "list_eval_partition.txt";
pub const PARTITION_HEADER: &str = "image_name item_id evaluation_status";

/// `evaluation_status` of one picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalStatus {
    Train,
    Query,
    Gallery,
}

impl EvalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EvalStatus::Train => "train",
            EvalStatus::Query => "query",
            EvalStatus::Gallery => "gallery",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "train" => Some(EvalStatus::Train),
            "query" => Some(EvalStatus::Query),
            "gallery" => Some(EvalStatus::Gallery),
            _ => None,
        }
    }
}

impl fmt::Display for EvalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `list_eval_partition.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRow {
    /// Path relative to the dataset root, starting with `img/`.
    pub image_name: String,
    pub item_id: String,
    pub status: EvalStatus,
}

impl PartitionRow {
    /// Parses one whitespace-separated row; the error says what was expected.
    pub fn parse(line: &str) -> Result<Self, String> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [image_name, item_id, status] = fields[..] else {
            return Err(format!(
                "expected 3 fields `image_name item_id evaluation_status`, found {}",
                fields.len()
            ));
        };
        let status = EvalStatus::parse(status).ok_or_else(|| {
            format!("evaluation_status {status:?} should be train, query or gallery")
        })?;
        Ok(Self {
            image_name: image_name.to_string(),
            item_id: item_id.to_string(),
            status,
        })
    }
}

/// The whole partition file for `rows`, with its two header lines.
pub fn format_partition(rows: &[PartitionRow]) -> String {
    let width = rows.iter().map(|r| r.image_name.len()).max().unwrap_or(0) + 2;
    let mut out = format!("{}\n{PARTITION_HEADER}\n", rows.len());
    for r in rows {
        out.push_str(&format!(
            "{:<width$}{} {}\n",
            r.image_name, r.item_id, r.status
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_the_file_format() {
        let rows = vec![
            PartitionRow {
                image_name: "img/A/B/id_1/01_1_front.jpg".into(),
                item_id: "id_1".into(),
                status: EvalStatus::Query,
            },
            PartitionRow {
                image_name: "img/A/B/id_1/01_2_side.jpg".into(),
                item_id: "id_1".into(),
                status: EvalStatus::Gallery,
            },
        ];
        let text = format_partition(&rows);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("2"));
        assert_eq!(lines.next(), Some(PARTITION_HEADER));
        let parsed: Vec<_> = lines.map(|l| PartitionRow::parse(l).unwrap()).collect();
        assert_eq!(parsed, rows);
    }

    #[test]
    fn bad_rows_explain_themselves() {
        assert!(PartitionRow::parse("a b").unwrap_err().contains("3 fields"));
        assert!(
            PartitionRow::parse("a b test")
                .unwrap_err()
                .contains("\"test\"")
        );
    }
}
