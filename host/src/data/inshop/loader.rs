//! Reads a DeepFashion In-shop directory (real or synthetic) and checks it against the
//! published format before anything trains on it.

use super::format::{EvalStatus, PARTITION_FILE, PARTITION_HEADER, PartitionRow};
use crate::data::error::{DataError, read_text};
use capsule_device::GarmentType;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// An In-shop dataset: every picture listed in `list_eval_partition.txt`, in file order.
#[derive(Debug, Clone)]
pub struct InShopDataset {
    pub root: PathBuf,
    pub images: Vec<InShopImage>,
}

/// One picture of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InShopImage {
    /// `root.join(image_name)`; checked to exist when loading.
    pub path: PathBuf,
    /// As written in the partition file, e.g. `img/WOMEN/Dresses/id_00000002/02_1_front.jpg`.
    pub image_name: String,
    pub item_id: String,
    pub status: EvalStatus,
    /// The folder right after `img/<group>/`, e.g. `Dresses`.
    pub category: String,
}

impl InShopImage {
    /// The garment type of the category folder; `None` for a category we do not map.
    pub fn garment_type(&self) -> Option<GarmentType> {
        GarmentType::from_inshop_category(&self.category)
    }
}

impl InShopDataset {
    /// Reads `root/list_eval_partition.txt` and checks it: the row count on line 1, the
    /// header on line 2, every row well formed, every image present, and no item in both
    /// train and query/gallery (In-shop splits items, not pictures).
    pub fn load(root: &Path) -> Result<Self, DataError> {
        let path = root.join(PARTITION_FILE);
        let text = read_text(&path)?;
        let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));

        let expected_rows = match lines.next() {
            Some((n, line)) => line.trim().parse::<usize>().map_err(|_| {
                DataError::line(
                    &path,
                    n,
                    format!("expected the number of rows, found {:?}", line.trim()),
                )
            })?,
            None => {
                return Err(DataError::line(
                    &path,
                    1,
                    "empty file; expected the number of rows",
                ));
            }
        };
        let header = lines
            .next()
            .map(|(_, line)| line.split_whitespace().collect::<Vec<_>>().join(" "));
        if header.as_deref() != Some(PARTITION_HEADER) {
            return Err(DataError::line(
                &path,
                2,
                format!(
                    "expected the header `{PARTITION_HEADER}`, found {:?}",
                    header.unwrap_or_default()
                ),
            ));
        }

        let mut images = Vec::with_capacity(expected_rows);
        // item id -> (first line, status) of its first picture, to catch an item that is
        // both train and test.
        let mut first_seen: HashMap<String, (usize, EvalStatus)> = HashMap::new();
        for (n, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let row =
                PartitionRow::parse(line).map_err(|problem| DataError::line(&path, n, problem))?;
            let category = category_of(&row.image_name)
                .map_err(|problem| DataError::line(&path, n, problem))?;
            match first_seen.get(&row.item_id) {
                Some(&(first_line, first_status))
                    if is_train(first_status) != is_train(row.status) =>
                {
                    return Err(DataError::line(
                        &path,
                        n,
                        format!(
                            "item {} is {} here but {first_status} on line {first_line}; an item must be \
                             either train or query/gallery, never both",
                            row.item_id, row.status
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    first_seen.insert(row.item_id.clone(), (n, row.status));
                }
            }
            let image_path = root.join(&row.image_name);
            if !image_path.is_file() {
                return Err(DataError::line(
                    &path,
                    n,
                    format!("image {} does not exist", image_path.display()),
                ));
            }
            images.push(InShopImage {
                path: image_path,
                image_name: row.image_name,
                item_id: row.item_id,
                status: row.status,
                category,
            });
        }
        if images.len() != expected_rows {
            return Err(DataError::line(
                &path,
                1,
                format!(
                    "line 1 says {expected_rows} rows but the file has {}",
                    images.len()
                ),
            ));
        }
        Ok(Self {
            root: root.to_path_buf(),
            images,
        })
    }

    /// Number of pictures with this status.
    pub fn count(&self, status: EvalStatus) -> usize {
        self.images
            .iter()
            .filter(|image| image.status == status)
            .count()
    }

    /// Distinct item ids with at least one picture of this status.
    pub fn item_ids(&self, status: EvalStatus) -> BTreeSet<&str> {
        self.images
            .iter()
            .filter(|image| image.status == status)
            .map(|image| image.item_id.as_str())
            .collect()
    }
}

fn is_train(status: EvalStatus) -> bool {
    status == EvalStatus::Train
}

/// The category folder of `img/<group>/<category>/<item>/<file>`.
fn category_of(image_name: &str) -> Result<String, String> {
    let parts: Vec<&str> = image_name.split('/').collect();
    let well_formed = parts.len() >= 5
        && parts[0] == "img"
        && parts
            .iter()
            .all(|part| !part.is_empty() && *part != "." && *part != "..");
    if !well_formed {
        return Err(format!(
            "image_name {image_name:?} should look like img/<group>/<category>/<item>/<file>"
        ));
    }
    Ok(parts[2].to_string())
}

/// Builds In-shop fixtures in temporary directories: the committed text fixture plus a tiny
/// JPEG for every row. Also used by the Polyvore and inspect tests.
#[cfg(test)]
pub(crate) mod test_fixture {
    use image::{Rgb, RgbImage};
    use std::path::{Path, PathBuf};

    /// `host/tests/fixtures/<name>`.
    pub fn committed(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// Copies `host/tests/fixtures/<name>` into a fresh temporary directory.
    pub fn copy_committed(name: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&committed(name), dir.path());
        dir
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }

    /// Writes a small JPEG whose colour is derived from `seed`, creating parent folders.
    pub fn write_jpeg(path: &Path, seed: usize) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let colour = [
            (seed * 67 % 200) as u8 + 40,
            (seed * 131 % 200) as u8 + 40,
            (seed * 29 % 200) as u8 + 40,
        ];
        let image = RgbImage::from_fn(24, 32, |x, y| {
            if (x / 6 + y / 8) % 2 == 0 {
                Rgb(colour)
            } else {
                Rgb([250; 3])
            }
        });
        image.save(path).unwrap();
    }

    /// The committed In-shop fixture with a JPEG for every listed picture.
    pub fn inshop() -> tempfile::TempDir {
        let dir = copy_committed("inshop");
        let text = std::fs::read_to_string(dir.path().join(super::PARTITION_FILE)).unwrap();
        for (i, line) in text.lines().skip(2).enumerate() {
            if let Some(name) = line.split_whitespace().next() {
                write_jpeg(&dir.path().join(name), i);
            }
        }
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rewrites the fixture's partition file with `edit` and loads it.
    fn load_edited(
        edit: impl FnOnce(&str) -> String,
    ) -> (tempfile::TempDir, Result<InShopDataset, DataError>) {
        let dir = test_fixture::inshop();
        let path = dir.path().join(PARTITION_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edit(&text)).unwrap();
        let result = InShopDataset::load(dir.path());
        (dir, result)
    }

    fn assert_line_error(result: Result<InShopDataset, DataError>, line: usize, needle: &str) {
        let err = result.unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(&err, DataError::Line { line: l, path, .. } if *l == line && path.ends_with(PARTITION_FILE)),
            "expected an error on line {line}, got: {message}"
        );
        assert!(
            message.contains(&format!("{PARTITION_FILE}:{line}:")),
            "{message}"
        );
        assert!(
            message.contains(needle),
            "{message:?} should mention {needle:?}"
        );
    }

    #[test]
    fn fixture_loads_with_exact_counts() {
        let dir = test_fixture::inshop();
        let data = InShopDataset::load(dir.path()).unwrap();
        assert_eq!(data.images.len(), 14);
        assert_eq!(data.count(EvalStatus::Train), 7);
        assert_eq!(data.count(EvalStatus::Query), 3);
        assert_eq!(data.count(EvalStatus::Gallery), 4);
        assert_eq!(data.item_ids(EvalStatus::Train).len(), 4);
        assert_eq!(
            data.item_ids(EvalStatus::Query),
            BTreeSet::from(["id_00000005", "id_00000006", "id_00000007"])
        );
        assert_eq!(data.item_ids(EvalStatus::Gallery).len(), 3);

        let first = &data.images[0];
        assert_eq!(
            first.image_name,
            "img/WOMEN/Dresses/id_00000001/01_1_front.jpg"
        );
        assert_eq!(first.path, dir.path().join(&first.image_name));
        assert_eq!(first.category, "Dresses");
        assert_eq!(first.garment_type(), Some(GarmentType::Dress));
        let types: BTreeSet<_> = data
            .images
            .iter()
            .filter_map(InShopImage::garment_type)
            .collect();
        assert_eq!(
            types,
            BTreeSet::from([
                GarmentType::Top,
                GarmentType::Bottom,
                GarmentType::Dress,
                GarmentType::Outerwear
            ])
        );
    }

    #[test]
    fn wrong_count_line_is_reported_on_line_1() {
        let (_dir, result) = load_edited(|t| t.replacen("14\n", "15\n", 1));
        assert_line_error(result, 1, "says 15 rows but the file has 14");
        let (_dir, result) = load_edited(|t| t.replacen("14\n", "fourteen\n", 1));
        assert_line_error(result, 1, "number of rows");
    }

    #[test]
    fn wrong_header_is_reported_on_line_2() {
        let (_dir, result) = load_edited(|t| t.replacen("evaluation_status", "status", 1));
        assert_line_error(result, 2, "expected the header");
        // Extra spaces in the header are fine.
        let (_dir, result) = load_edited(|t| {
            t.replacen(
                "item_id evaluation_status",
                "item_id   evaluation_status  ",
                1,
            )
        });
        assert!(result.is_ok());
    }

    #[test]
    fn two_field_row_names_its_line() {
        let (_dir, result) = load_edited(|t| t.replacen("id_00000002  train", "train", 1));
        assert_line_error(result, 5, "3 fields");
    }

    #[test]
    fn unknown_status_names_its_line() {
        let (_dir, result) =
            load_edited(|t| t.replacen("id_00000005  query", "id_00000005  test", 1));
        assert_line_error(result, 10, "\"test\"");
    }

    #[test]
    fn malformed_image_name_names_its_line() {
        let (_dir, result) = load_edited(|t| {
            t.replacen(
                "img/WOMEN/Dresses/id_00000001/01_2_side.jpg",
                "Dresses/01.jpg",
                1,
            )
        });
        assert_line_error(result, 4, "img/<group>/<category>/<item>/<file>");
    }

    #[test]
    fn missing_image_names_its_line() {
        let dir = test_fixture::inshop();
        std::fs::remove_file(dir.path().join("img/MEN/Pants/id_00000004/01_1_front.jpg")).unwrap();
        assert_line_error(InShopDataset::load(dir.path()), 9, "does not exist");
    }

    #[test]
    fn item_in_train_and_query_names_the_second_line() {
        let (_dir, result) =
            load_edited(|t| t.replacen("id_00000005  query", "id_00000001  query", 1));
        assert_line_error(
            result,
            10,
            "item id_00000001 is query here but train on line 3",
        );
    }

    #[test]
    fn blank_lines_between_rows_are_ignored() {
        let (_dir, result) = load_edited(|t| t.replace(" train\n", " train\n\n"));
        assert_eq!(result.unwrap().images.len(), 14);
    }

    #[test]
    fn missing_partition_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let message = InShopDataset::load(dir.path()).unwrap_err().to_string();
        assert!(message.contains(PARTITION_FILE), "{message}");
    }
}
