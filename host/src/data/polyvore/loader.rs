//! Reads a Polyvore Outfits directory (real or synthetic) into resolved outfits and
//! questions: every `"<set_id>_<index>"` reference becomes an item id, checked against the
//! metadata, so later stages never see a dangling reference.

use super::format::{
    CompatibilityLine, FitbRecord, IMAGES_DIR, ItemRef, METADATA_FILE, OutfitRecord, Split, Variant,
};
use crate::data::error::{DataError, parse_json, parse_json_streaming, read_text};
use capsule_device::GarmentType;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Number of candidates of a fill-in-the-blank question.
pub const FITB_CANDIDATES: usize = 4;

/// One variant (nondisjoint or disjoint) of a Polyvore Outfits dataset.
#[derive(Debug, Clone)]
pub struct PolyvoreDataset {
    pub root: PathBuf,
    pub variant: Variant,
    /// Every item of the metadata file, by item id.
    pub items: BTreeMap<String, PolyvoreItem>,
    /// Always holds train, valid and test.
    pub splits: BTreeMap<Split, SplitData>,
}

/// One item of `polyvore_item_metadata.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolyvoreItem {
    pub item_id: String,
    pub garment_type: GarmentType,
    pub semantic_category: String,
    pub category_id: String,
    pub title: String,
    /// `ROOT/images/<item_id>.jpg`; not checked when loading, see
    /// [`PolyvoreDataset::missing_images`].
    pub image: PathBuf,
}

/// An outfit with its references resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outfit {
    pub set_id: String,
    /// Item ids, sorted by their `index` in the outfit.
    pub items: Vec<String>,
}

/// A fill-in-the-blank question with its references resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitbQuestion {
    /// The outfit the question is taken from.
    pub set_id: String,
    /// Item ids of the outfit's other items.
    pub question: Vec<String>,
    /// Item ids of the four candidates, in file order.
    pub candidates: Vec<String>,
    /// Index in `candidates` of the one that belongs to the outfit.
    pub answer: usize,
    /// 1-based position of the blank in the outfit.
    pub blank_position: u32,
}

/// A line of a compatibility file with its references resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatibilityQuestion {
    pub compatible: bool,
    /// Item ids.
    pub items: Vec<String>,
}

/// Everything of one split. Questions are `None` when their file is absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SplitData {
    pub outfits: Vec<Outfit>,
    pub fitb: Option<Vec<FitbQuestion>>,
    pub fitb_hard: Option<Vec<FitbQuestion>>,
    pub compatibility: Option<Vec<CompatibilityQuestion>>,
}

/// The Polyvore root a user means by `dir`: `dir/polyvore` when there is one (the layout
/// `capsule-host data synth` writes), else `dir` itself.
pub fn dataset_root(dir: &Path) -> PathBuf {
    let nested = dir.join("polyvore");
    if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

impl PolyvoreDataset {
    /// Loads the metadata and one variant's outfits and questions.
    pub fn load(root: &Path, variant: Variant) -> Result<Self, DataError> {
        Self::load_with_items(root, variant, load_items(root)?)
    }

    /// [`PolyvoreDataset::load`] from the root [`dataset_root`] finds in `dir`.
    pub fn load_dir(dir: &Path, variant: Variant) -> Result<Self, DataError> {
        Self::load(&dataset_root(dir), variant)
    }

    /// Loads one variant against items already read by [`load_items`], so that both
    /// variants can share one read of the (large) metadata file.
    pub fn load_with_items(
        root: &Path,
        variant: Variant,
        items: BTreeMap<String, PolyvoreItem>,
    ) -> Result<Self, DataError> {
        let dir = root.join(variant.dir_name());

        // Outfits of all splits first: questions may reference any loaded outfit.
        let mut outfits = BTreeMap::new();
        let mut index = OutfitIndex::default();
        for split in Split::ALL {
            let path = dir.join(split.outfits_file());
            let records: Vec<OutfitRecord> = parse_json(&path)?;
            outfits.insert(split, index.add(&path, records, &items)?);
        }

        let mut splits = BTreeMap::new();
        for (split, outfits) in outfits {
            let fitb = optional(&dir.join(split.fitb_file()), |path| index.fitb(path))?;
            let fitb_hard = optional(&dir.join(split.fitb_hard_file()), |path| index.fitb(path))?;
            let compatibility = optional(&dir.join(split.compatibility_file()), |path| {
                index.compatibility(path)
            })?;
            splits.insert(
                split,
                SplitData {
                    outfits,
                    fitb,
                    fitb_hard,
                    compatibility,
                },
            );
        }
        Ok(Self {
            root: root.to_path_buf(),
            variant,
            items,
            splits,
        })
    }

    /// The data of one split.
    pub fn split(&self, split: Split) -> &SplitData {
        // `load` inserts every split; the fallback only serves hand-built values.
        static EMPTY: SplitData = SplitData {
            outfits: Vec::new(),
            fitb: None,
            fitb_hard: None,
            compatibility: None,
        };
        self.splits.get(&split).unwrap_or(&EMPTY)
    }

    /// Ids of the items whose image file is absent, sorted.
    pub fn missing_images(&self) -> Vec<&str> {
        self.items
            .values()
            .filter(|item| !item.image.is_file())
            .map(|item| item.item_id.as_str())
            .collect()
    }

    /// Distinct items of the split's outfits, counted by garment type.
    pub fn count_by_type(&self, split: Split) -> BTreeMap<GarmentType, usize> {
        let ids: BTreeSet<&str> = self
            .split(split)
            .outfits
            .iter()
            .flat_map(|outfit| outfit.items.iter().map(String::as_str))
            .collect();
        let mut counts = BTreeMap::new();
        for item in ids.iter().filter_map(|id| self.items.get(*id)) {
            *counts.entry(item.garment_type).or_insert(0) += 1;
        }
        counts
    }
}

/// Reads `ROOT/polyvore_item_metadata.json`; every `semantic_category` must map to a
/// garment type.
pub fn load_items(root: &Path) -> Result<BTreeMap<String, PolyvoreItem>, DataError> {
    let path = root.join(METADATA_FILE);
    // Streamed, keeping only the fields an item needs: descriptions and related-item lists
    // are most of the file (peak RSS at 250k items, `scripts/polyvore-scale`: docs/results.md).
    let metadata: BTreeMap<String, ItemHead> = parse_json_streaming(&path)?;
    let images = root.join(IMAGES_DIR);
    metadata
        .into_iter()
        .map(|(item_id, meta)| {
            let garment_type = GarmentType::from_polyvore_semantic(&meta.semantic_category).ok_or_else(|| {
                DataError::json(
                    &path,
                    format!("{item_id}.semantic_category"),
                    format!(
                        "unknown semantic_category {:?}; expected one of tops, bottoms, all-body, outerwear, \
                         shoes, bags, accessories, jewellery, hats, scarves, sunglasses",
                        meta.semantic_category
                    ),
                )
            })?;
            let category_id = match meta.category_id {
                super::format::CategoryId::Text(text) => text,
                super::format::CategoryId::Number(number) => number.to_string(),
            };
            let item = PolyvoreItem {
                image: images.join(format!("{item_id}.jpg")),
                item_id: item_id.clone(),
                garment_type,
                semantic_category: meta.semantic_category,
                category_id,
                title: meta.title,
            };
            Ok((item_id, item))
        })
        .collect()
}

/// What the loader keeps of an item's metadata (`super::format::ItemMetadata` has all of it).
#[derive(serde::Deserialize)]
struct ItemHead {
    title: String,
    category_id: super::format::CategoryId,
    semantic_category: String,
}

/// Loads an optional file: `None` when it does not exist.
fn optional<T>(
    path: &Path,
    load: impl FnOnce(&Path) -> Result<T, DataError>,
) -> Result<Option<T>, DataError> {
    if path.exists() {
        load(path).map(Some)
    } else {
        Ok(None)
    }
}

/// Every loaded outfit's items by position, to resolve `"<set_id>_<index>"` references.
#[derive(Default)]
struct OutfitIndex {
    /// set id -> (outfits file that defined it, index -> item id).
    outfits: HashMap<String, (PathBuf, BTreeMap<u32, String>)>,
}

impl OutfitIndex {
    /// Checks one outfits file and adds its outfits.
    fn add(
        &mut self,
        path: &Path,
        records: Vec<OutfitRecord>,
        items: &BTreeMap<String, PolyvoreItem>,
    ) -> Result<Vec<Outfit>, DataError> {
        let mut outfits = Vec::with_capacity(records.len());
        for (i, record) in records.into_iter().enumerate() {
            if let Some((other, _)) = self.outfits.get(&record.set_id) {
                return Err(DataError::json(
                    path,
                    format!("[{i}].set_id"),
                    format!(
                        "set_id {:?} is already used in {}",
                        record.set_id,
                        other.display()
                    ),
                ));
            }
            let mut by_index = BTreeMap::new();
            for (j, item) in record.items.into_iter().enumerate() {
                if !items.contains_key(&item.item_id) {
                    return Err(DataError::json(
                        path,
                        format!("[{i}].items[{j}].item_id"),
                        format!("item {:?} is not in {METADATA_FILE}", item.item_id),
                    ));
                }
                if by_index.insert(item.index, item.item_id).is_some() {
                    return Err(DataError::json(
                        path,
                        format!("[{i}].items[{j}].index"),
                        format!(
                            "index {} appears twice in outfit {:?}",
                            item.index, record.set_id
                        ),
                    ));
                }
            }
            outfits.push(Outfit {
                set_id: record.set_id.clone(),
                items: by_index.values().cloned().collect(),
            });
            self.outfits
                .insert(record.set_id, (path.to_path_buf(), by_index));
        }
        Ok(outfits)
    }

    /// The item id a reference names, or why it names none.
    fn resolve(&self, text: &str) -> Result<(ItemRef, String), String> {
        let item_ref = ItemRef::parse(text)
            .ok_or_else(|| format!("{text:?} is not a `<set_id>_<index>` item reference"))?;
        let (_, by_index) = self.outfits.get(&item_ref.set_id).ok_or_else(|| {
            format!(
                "{text:?} names outfit {:?}, which no outfits file defines",
                item_ref.set_id
            )
        })?;
        let item_id = by_index.get(&item_ref.index).ok_or_else(|| {
            format!(
                "{text:?}: outfit {:?} has no item at index {}",
                item_ref.set_id, item_ref.index
            )
        })?;
        Ok((item_ref, item_id.clone()))
    }

    /// Reads and resolves a fill-in-the-blank file.
    fn fitb(&self, path: &Path) -> Result<Vec<FitbQuestion>, DataError> {
        let records: Vec<FitbRecord> = parse_json(path)?;
        records
            .into_iter()
            .enumerate()
            .map(|(i, record)| self.fitb_question(path, i, record))
            .collect()
    }

    fn fitb_question(
        &self,
        path: &Path,
        i: usize,
        record: FitbRecord,
    ) -> Result<FitbQuestion, DataError> {
        let error = |json_path: String, problem: String| DataError::json(path, json_path, problem);
        let mut set_id: Option<String> = None;
        let mut question = Vec::with_capacity(record.question.len());
        for (k, text) in record.question.iter().enumerate() {
            let (item_ref, item_id) = self
                .resolve(text)
                .map_err(|p| error(format!("[{i}].question[{k}]"), p))?;
            match &set_id {
                Some(first) if *first != item_ref.set_id => {
                    return Err(error(
                        format!("[{i}].question[{k}]"),
                        format!(
                            "{text:?} is from outfit {:?} but the question is about outfit {first:?}",
                            item_ref.set_id
                        ),
                    ));
                }
                Some(_) => {}
                None => set_id = Some(item_ref.set_id),
            }
            question.push(item_id);
        }
        let set_id = set_id.ok_or_else(|| {
            error(
                format!("[{i}].question"),
                "the question has no items".into(),
            )
        })?;

        if record.answers.len() != FITB_CANDIDATES {
            return Err(error(
                format!("[{i}].answers"),
                format!(
                    "expected {FITB_CANDIDATES} answers, found {}",
                    record.answers.len()
                ),
            ));
        }
        let mut candidates = Vec::with_capacity(FITB_CANDIDATES);
        let mut answer = None;
        for (k, text) in record.answers.iter().enumerate() {
            let (item_ref, item_id) = self
                .resolve(text)
                .map_err(|p| error(format!("[{i}].answers[{k}]"), p))?;
            if item_ref.set_id == set_id {
                if let Some(first) = answer {
                    return Err(error(
                        format!("[{i}].answers[{k}]"),
                        format!(
                            "answers {first} and {k} both belong to outfit {set_id:?}; exactly one may"
                        ),
                    ));
                }
                answer = Some(k);
            }
            candidates.push(item_id);
        }
        let answer = answer.ok_or_else(|| {
            error(
                format!("[{i}].answers"),
                format!("no answer belongs to the question's outfit {set_id:?}"),
            )
        })?;
        Ok(FitbQuestion {
            set_id,
            question,
            candidates,
            answer,
            blank_position: record.blank_position,
        })
    }

    /// Reads and resolves a compatibility file; blank lines are ignored.
    fn compatibility(&self, path: &Path) -> Result<Vec<CompatibilityQuestion>, DataError> {
        let text = read_text(path)?;
        let mut questions = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at_line = |problem: String| DataError::line(path, i + 1, problem);
            let parsed = CompatibilityLine::parse(line).map_err(at_line)?;
            let items = line
                .split_whitespace()
                .skip(1)
                .map(|text| self.resolve(text).map(|(_, item_id)| item_id))
                .collect::<Result<Vec<_>, _>>()
                .map_err(at_line)?;
            questions.push(CompatibilityQuestion {
                compatible: parsed.compatible,
                items,
            });
        }
        Ok(questions)
    }
}

/// Builds Polyvore fixtures in temporary directories from the committed text fixture.
#[cfg(test)]
pub(crate) mod test_fixture {
    use crate::data::inshop::test_fixture::{copy_committed, write_jpeg};

    /// The committed Polyvore fixture with a JPEG for every item.
    pub fn polyvore() -> tempfile::TempDir {
        let dir = copy_committed("polyvore");
        let items = super::load_items(dir.path()).unwrap();
        for (i, item) in items.values().enumerate() {
            write_jpeg(&item.image, i);
        }
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::inshop::test_fixture::{committed, copy_committed};

    fn fixture() -> PolyvoreDataset {
        PolyvoreDataset::load(&committed("polyvore"), Variant::Nondisjoint).unwrap()
    }

    /// Copies the fixture, rewrites `file` (relative to its root) with `edit`, and loads it.
    fn load_edited(file: &str, edit: impl FnOnce(&str) -> String) -> String {
        let dir = copy_committed("polyvore");
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edit(&text)).unwrap();
        PolyvoreDataset::load(dir.path(), Variant::Nondisjoint)
            .unwrap_err()
            .to_string()
    }

    fn assert_mentions(message: &str, needles: &[&str]) {
        for needle in needles {
            assert!(
                message.contains(needle),
                "{message:?} should mention {needle:?}"
            );
        }
    }

    #[test]
    fn fixture_loads_with_exact_counts() {
        let data = fixture();
        assert_eq!(data.items.len(), 13);
        let [train, valid, test] = Split::ALL.map(|s| data.split(s));
        assert_eq!(
            (train.outfits.len(), valid.outfits.len(), test.outfits.len()),
            (3, 1, 2)
        );
        assert_eq!(
            train.outfits[0],
            Outfit {
                set_id: "1000".into(),
                items: vec!["101".into(), "201".into(), "301".into(), "501".into()]
            }
        );
        assert_eq!(
            (
                train.fitb.as_ref(),
                train.fitb_hard.as_ref(),
                train.compatibility.as_ref()
            ),
            (None, None, None)
        );
        assert_eq!(valid.fitb.as_ref().map(Vec::len), Some(1));
        assert_eq!(valid.fitb_hard.as_ref(), None);
        assert_eq!(valid.compatibility.as_ref().map(Vec::len), Some(2));
        assert_eq!(test.fitb.as_ref().map(Vec::len), Some(2));
        assert_eq!(test.fitb_hard.as_ref().map(Vec::len), Some(1));
        let compatibility = test.compatibility.as_ref().unwrap();
        assert_eq!(
            compatibility
                .iter()
                .map(|q| q.compatible)
                .collect::<Vec<_>>(),
            [true, true, false]
        );
        // The negative line mixes outfits of other splits.
        assert_eq!(compatibility[2].items, ["101", "201", "302"]);

        let item = &data.items["401"];
        assert_eq!(
            (
                item.garment_type,
                item.semantic_category.as_str(),
                item.category_id.as_str()
            ),
            (GarmentType::Dress, "all-body", "3")
        );
        assert_eq!(item.title, "wrap dress");
        assert!(item.image.ends_with("images/401.jpg"));
        assert_eq!(data.items["601"].garment_type, GarmentType::Accessory);

        let by_type = data.count_by_type(Split::Train);
        assert_eq!(by_type.values().sum::<usize>(), 10);
        assert_eq!(by_type[&GarmentType::Shoes], 3);
        assert_eq!(by_type.get(&GarmentType::Outerwear), None);
    }

    #[test]
    fn fitb_answer_is_the_candidate_from_the_question_outfit() {
        let data = fixture();
        let test = data.split(Split::Test).fitb.as_ref().unwrap();
        assert_eq!(
            test[0],
            FitbQuestion {
                set_id: "3000".into(),
                question: vec!["101".into(), "202".into(), "502".into()],
                candidates: vec!["201".into(), "303".into(), "102".into(), "701".into()],
                answer: 1,
                blank_position: 3,
            }
        );
        assert_eq!(test[1].answer, 0);
        assert_eq!(data.split(Split::Valid).fitb.as_ref().unwrap()[0].answer, 2);
        let hard = &data.split(Split::Test).fitb_hard.as_ref().unwrap()[0];
        assert!(
            hard.candidates
                .iter()
                .all(|id| data.items[id].garment_type == GarmentType::Shoes)
        );
    }

    #[test]
    fn disjoint_variant_loads() {
        let data = PolyvoreDataset::load(&committed("polyvore"), Variant::Disjoint).unwrap();
        assert_eq!(data.split(Split::Train).outfits.len(), 2);
        assert_eq!(
            data.split(Split::Test).compatibility.as_ref().map(Vec::len),
            Some(2)
        );
        assert_eq!(data.split(Split::Test).fitb, None);
    }

    #[test]
    fn missing_images_are_listed_not_fatal() {
        let dir = test_fixture::polyvore();
        std::fs::remove_file(dir.path().join("images/202.jpg")).unwrap();
        let data = PolyvoreDataset::load(dir.path(), Variant::Nondisjoint).unwrap();
        assert_eq!(data.missing_images(), ["202"]);
        assert_eq!(fixture().missing_images().len(), 13);
    }

    #[test]
    fn malformed_json_names_the_file() {
        let message = load_edited("nondisjoint/valid.json", |t| t.replacen('[', "[{", 1));
        assert_mentions(
            &message,
            &["valid.json: at JSON path `[0].?`", "line 2 column 2"],
        );
    }

    #[test]
    fn wrong_type_names_the_json_path() {
        let message = load_edited("nondisjoint/train.json", |t| {
            t.replacen("\"index\": 2", "\"index\": \"two\"", 1)
        });
        assert_mentions(&message, &["train.json", "`[0].items[1].index`"]);
    }

    #[test]
    fn unknown_semantic_category_names_the_item() {
        let message = load_edited(METADATA_FILE, |t| {
            t.replacen("\"all-body\"", "\"capes\"", 1)
        });
        assert_mentions(
            &message,
            &[METADATA_FILE, "`401.semantic_category`", "\"capes\""],
        );
    }

    #[test]
    fn item_missing_from_metadata_names_the_json_path() {
        let message = load_edited("nondisjoint/test.json", |t| {
            t.replacen("\"502\"", "\"999\"", 1)
        });
        assert_mentions(
            &message,
            &["test.json", "`[0].items[3].item_id`", "\"999\""],
        );
    }

    #[test]
    fn dangling_refs_name_the_json_path_or_line() {
        let message = load_edited("nondisjoint/fill_in_blank_test.json", |t| {
            t.replacen("\"2000_4\"", "\"2000_9\"", 1)
        });
        assert_mentions(
            &message,
            &[
                "fill_in_blank_test.json",
                "`[0].answers[3]`",
                "no item at index 9",
            ],
        );
        let message = load_edited("nondisjoint/fill_in_blank_test.json", |t| {
            t.replacen("\"3001_2\"", "\"4242_2\"", 1)
        });
        assert_mentions(&message, &["`[1].question[1]`", "\"4242\""]);
        let message = load_edited("nondisjoint/compatibility_test.txt", |t| {
            t.replacen("1001_3", "1001_7", 1)
        });
        assert_mentions(&message, &["compatibility_test.txt:3:", "\"1001_7\""]);
    }

    #[test]
    fn fitb_with_three_answers_is_rejected() {
        let message = load_edited("nondisjoint/fill_in_blank_test.json", |t| {
            t.replacen(", \"2000_4\"", "", 1)
        });
        assert_mentions(
            &message,
            &[
                "fill_in_blank_test.json",
                "`[0].answers`",
                "expected 4 answers, found 3",
            ],
        );
    }

    #[test]
    fn fitb_without_or_with_two_correct_answers_is_rejected() {
        let message = load_edited("nondisjoint/fill_in_blank_test.json", |t| {
            t.replacen("\"3000_3\"", "\"1002_1\"", 1)
        });
        assert_mentions(
            &message,
            &[
                "`[0].answers`",
                "no answer belongs to the question's outfit \"3000\"",
            ],
        );
        let message = load_edited("nondisjoint/fill_in_blank_test.json", |t| {
            t.replacen("\"1001_1\"", "\"3000_1\"", 1)
        });
        assert_mentions(&message, &["`[0].answers[2]`", "answers 1 and 2"]);
    }

    #[test]
    fn fitb_question_from_two_outfits_is_rejected() {
        let message = load_edited("nondisjoint/fill_in_blank_valid.json", |t| {
            t.replacen("\"2000_4\"", "\"1000_4\"", 1)
        });
        assert_mentions(&message, &["fill_in_blank_valid.json", "`[0].question[2]`"]);
    }

    #[test]
    fn compatibility_bad_label_names_the_line() {
        let message = load_edited("nondisjoint/compatibility_valid.txt", |t| {
            t.replacen("0 1001_1", "2 1001_1", 1)
        });
        assert_mentions(&message, &["compatibility_valid.txt:2:", "label \"2\""]);
    }

    #[test]
    fn duplicate_set_id_is_rejected() {
        let message = load_edited("nondisjoint/test.json", |t| {
            t.replacen("\"3001\"", "\"1000\"", 1)
        });
        assert_mentions(&message, &["test.json", "`[1].set_id`", "train.json"]);
    }

    #[test]
    fn missing_outfits_file_names_it() {
        let dir = copy_committed("polyvore");
        std::fs::remove_file(dir.path().join("nondisjoint/valid.json")).unwrap();
        let message = PolyvoreDataset::load(dir.path(), Variant::Nondisjoint)
            .unwrap_err()
            .to_string();
        assert_mentions(&message, &["valid.json"]);
    }
}
