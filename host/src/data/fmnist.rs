//! Fashion-MNIST in its published idx format, raw or gzipped.
//!
//! ```text
//! DIR/train-images-idx3-ubyte[.gz]   0x00000803, count, rows, cols, then count·rows·cols pixels
//! DIR/train-labels-idx1-ubyte[.gz]   0x00000801, count, then count labels (0..=9)
//! DIR/t10k-images-idx3-ubyte[.gz]    the same for the test set
//! DIR/t10k-labels-idx1-ubyte[.gz]
//! ```
//! All integers are big-endian `u32`.

use crate::data::error::{DataError, read_bytes};
use capsule_device::GarmentType;
use image::{GrayImage, Luma};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where the Fashion-MNIST files are installed on our machines and in CI.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Magic number of an idx file of unsigned bytes with three dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an idx file of unsigned bytes with one dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Labels are the ten Fashion-MNIST classes.
pub const MAX_LABEL: u8 = 9;

/// The training and test sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FashionMnist {
    pub train: IdxSet,
    pub test: IdxSet,
}

/// Images and their labels, from one pair of idx files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxSet {
    pub rows: usize,
    pub cols: usize,
    /// Row-major images, one after the other: `len() * rows * cols` bytes.
    pub pixels: Vec<u8>,
    /// One Fashion-MNIST label (0..=9) per image.
    pub labels: Vec<u8>,
}

impl FashionMnist {
    /// Reads `train-*` and `t10k-*` from `dir`, each file raw or with `.gz`.
    pub fn load(dir: &Path) -> Result<Self, DataError> {
        let train = IdxSet::load(
            &find(dir, "train-images-idx3-ubyte")?,
            &find(dir, "train-labels-idx1-ubyte")?,
        )?;
        let test_images = find(dir, "t10k-images-idx3-ubyte")?;
        let test = IdxSet::load(&test_images, &find(dir, "t10k-labels-idx1-ubyte")?)?;
        if (test.rows, test.cols) != (train.rows, train.cols) {
            return Err(DataError::file(
                &test_images,
                format!(
                    "images are {}×{} but the training images are {}×{}",
                    test.rows, test.cols, train.rows, train.cols
                ),
            ));
        }
        Ok(Self { train, test })
    }
}

impl IdxSet {
    /// Reads one images file and its labels file (each raw, or gzipped when the name ends
    /// in `.gz`) and checks that they agree.
    pub fn load(images_path: &Path, labels_path: &Path) -> Result<Self, DataError> {
        let images = read_idx(images_path)?;
        let labels = read_idx(labels_path)?;
        let (dims, pixels) = parse_idx(images_path, &images, IMAGES_MAGIC, 3)?;
        let (label_dims, labels) = parse_idx(labels_path, &labels, LABELS_MAGIC, 1)?;
        let (count, rows, cols) = (dims[0], dims[1], dims[2]);
        if rows == 0 || cols == 0 {
            return Err(DataError::file(
                images_path,
                format!("images are {rows}×{cols}; expected non-empty images"),
            ));
        }
        if label_dims[0] != count {
            return Err(DataError::file(
                labels_path,
                format!(
                    "has {} labels but {} has {count} images",
                    label_dims[0],
                    images_path.display()
                ),
            ));
        }
        if let Some((i, label)) = labels
            .iter()
            .enumerate()
            .find(|(_, label)| **label > MAX_LABEL)
        {
            return Err(DataError::file(
                labels_path,
                format!(
                    "label {label} of image {i} is not a Fashion-MNIST class (0..={MAX_LABEL})"
                ),
            ));
        }
        Ok(Self {
            rows,
            cols,
            pixels: pixels.to_vec(),
            labels: labels.to_vec(),
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as a grey picture (0 = background, 255 = garment, as published).
    ///
    /// # Panics
    /// If `i >= self.len()`, like slice indexing.
    pub fn image(&self, i: usize) -> GrayImage {
        let pixels = &self.pixels[i * self.rows * self.cols..(i + 1) * self.rows * self.cols];
        GrayImage::from_fn(self.cols as u32, self.rows as u32, |x, y| {
            Luma([pixels[y as usize * self.cols + x as usize]])
        })
    }

    /// Garment type of image `i`; `None` only for a label outside 0..=9, which
    /// [`IdxSet::load`] rejects.
    ///
    /// # Panics
    /// If `i >= self.len()`, like slice indexing.
    pub fn garment_type(&self, i: usize) -> Option<GarmentType> {
        GarmentType::from_fashion_mnist(self.labels[i])
    }
}

/// `dir/name`, or `dir/name.gz` when only that exists.
/// Whether `dir` holds all four Fashion-MNIST files (raw or gzipped), so a command can say
/// what to install before it spends time on other steps.
pub fn is_installed(dir: &Path) -> bool {
    [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ]
    .iter()
    .all(|name| find(dir, name).is_ok())
}

fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    Err(DataError::file(
        &raw,
        format!("not found (nor {name}.gz); install Fashion-MNIST there or pass its directory"),
    ))
}

/// The file's bytes, decompressed when its name ends in `.gz`.
fn read_idx(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = read_bytes(path)?;
    if path.extension().is_none_or(|ext| ext != "gz") {
        return Ok(bytes);
    }
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut raw)
        .map_err(|e| DataError::file(path, format!("cannot decompress gzip: {e}")))?;
    Ok(raw)
}

/// Checks an idx file of unsigned bytes with `rank` dimensions: magic number, header, and
/// that the data is exactly as long as the dimensions say. Returns the dimensions and data.
fn parse_idx<'a>(
    path: &Path,
    bytes: &'a [u8],
    magic: u32,
    rank: usize,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let header_len = 4 * (1 + rank);
    if bytes.len() < header_len {
        return Err(DataError::file(
            path,
            format!(
                "{} bytes, too short for the {header_len}-byte idx header",
                bytes.len()
            ),
        ));
    }
    let word = |i: usize| {
        u32::from_be_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ])
    };
    if word(0) != magic {
        return Err(DataError::file(
            path,
            format!(
                "magic number {:#010x}, expected {magic:#010x} (idx, unsigned bytes, {rank} dimension{})",
                word(0),
                if rank == 1 { "" } else { "s" }
            ),
        ));
    }
    let dims: Vec<usize> = (1..=rank).map(|i| word(i) as usize).collect();
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let data = &bytes[header_len..];
    if expected != Some(data.len()) {
        let shape = dims
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("×");
        return Err(DataError::file(
            path,
            format!(
                "header says {shape} = {} bytes of data, found {}",
                expected.map_or_else(|| "too many".to_string(), |n| n.to_string()),
                data.len()
            ),
        ));
    }
    Ok((dims, data))
}

/// Builds small Fashion-MNIST-format directories (raw idx files) for other modules' tests.
#[cfg(test)]
pub(crate) mod test_fixture {
    use super::{IMAGES_MAGIC, LABELS_MAGIC};
    use std::path::Path;

    fn write_idx(path: &Path, magic: u32, dims: &[u32], data: &[u8]) {
        let mut bytes: Vec<u8> = std::iter::once(magic)
            .chain(dims.iter().copied())
            .flat_map(u32::to_be_bytes)
            .collect();
        bytes.extend_from_slice(data);
        std::fs::write(path, bytes).unwrap();
    }

    /// `train` training and `test` test pictures of 28×28, labelled 0..`classes` in turn;
    /// each class a different brightness with a little per-picture texture.
    pub fn fmnist(train: usize, test: usize, classes: u8) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (prefix, n) in [("train", train), ("t10k", test)] {
            let labels: Vec<u8> = (0..n).map(|i| (i % classes as usize) as u8).collect();
            let pixels: Vec<u8> = (0..n * 784)
                .map(|p| labels[p / 784].wrapping_mul(25).wrapping_add((p % 7) as u8))
                .collect();
            let n = n as u32;
            write_idx(
                &dir.path().join(format!("{prefix}-images-idx3-ubyte")),
                IMAGES_MAGIC,
                &[n, 28, 28],
                &pixels,
            );
            write_idx(
                &dir.path().join(format!("{prefix}-labels-idx1-ubyte")),
                LABELS_MAGIC,
                &[n],
                &labels,
            );
        }
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes: Vec<u8> = std::iter::once(magic)
            .chain(dims.iter().copied())
            .flat_map(u32::to_be_bytes)
            .collect();
        bytes.extend_from_slice(data);
        bytes
    }

    /// Writes a 3-image 2×3 set named `prefix-*` into `dir`, gzipping it when `gz`.
    fn write_set(dir: &Path, prefix: &str, gz: bool, images: Vec<u8>, labels: Vec<u8>) {
        for (name, bytes) in [("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)] {
            let name = format!("{prefix}-{name}");
            if gz {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                encoder.write_all(&bytes).unwrap();
                std::fs::write(dir.join(format!("{name}.gz")), encoder.finish().unwrap()).unwrap();
            } else {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        }
    }

    fn good_images() -> Vec<u8> {
        idx(IMAGES_MAGIC, &[3, 2, 3], &(0..18).collect::<Vec<u8>>())
    }

    fn good_labels() -> Vec<u8> {
        idx(LABELS_MAGIC, &[3], &[9, 0, 8])
    }

    /// A directory with a good gzipped train set and a raw test set built from the given bytes.
    fn load_with_test(
        images: Vec<u8>,
        labels: Vec<u8>,
    ) -> (tempfile::TempDir, Result<FashionMnist, DataError>) {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), "train", true, good_images(), good_labels());
        write_set(dir.path(), "t10k", false, images, labels);
        let result = FashionMnist::load(dir.path());
        (dir, result)
    }

    fn assert_file_error(result: Result<FashionMnist, DataError>, file: &str, needle: &str) {
        let message = result.unwrap_err().to_string();
        assert!(message.contains(file), "{message:?} should name {file}");
        assert!(
            message.contains(needle),
            "{message:?} should mention {needle:?}"
        );
    }

    #[test]
    fn is_installed_needs_all_four_files() {
        let (dir, result) = load_with_test(good_images(), good_labels());
        result.unwrap();
        assert!(is_installed(dir.path()));
        std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte")).unwrap();
        assert!(!is_installed(dir.path()));
    }

    #[test]
    fn small_sets_load_raw_and_gzipped() {
        let (_dir, result) = load_with_test(good_images(), good_labels());
        let data = result.unwrap();
        for set in [&data.train, &data.test] {
            assert_eq!((set.len(), set.rows, set.cols), (3, 2, 3));
            assert_eq!(set.labels, [9, 0, 8]);
            let image = set.image(1);
            assert_eq!(image.dimensions(), (3, 2));
            assert_eq!(image.as_raw(), &[6, 7, 8, 9, 10, 11]);
            assert_eq!(set.garment_type(0), Some(GarmentType::Shoes));
            assert_eq!(set.garment_type(2), Some(GarmentType::Bag));
        }
    }

    #[test]
    fn wrong_magic_names_the_file() {
        let (_dir, result) = load_with_test(idx(LABELS_MAGIC, &[3, 2, 3], &[0; 18]), good_labels());
        assert_file_error(
            result,
            "t10k-images-idx3-ubyte",
            "magic number 0x00000801, expected 0x00000803",
        );
        let (_dir, result) = load_with_test(good_images(), idx(IMAGES_MAGIC, &[3], &[0; 3]));
        assert_file_error(result, "t10k-labels-idx1-ubyte", "expected 0x00000801");
    }

    #[test]
    fn truncated_files_name_the_file() {
        let mut images = good_images();
        images.truncate(images.len() - 1);
        let (_dir, result) = load_with_test(images, good_labels());
        assert_file_error(
            result,
            "t10k-images-idx3-ubyte",
            "header says 3×2×3 = 18 bytes of data, found 17",
        );
        let (_dir, result) = load_with_test(good_images()[..10].to_vec(), good_labels());
        assert_file_error(
            result,
            "t10k-images-idx3-ubyte",
            "too short for the 16-byte idx header",
        );
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let (_dir, result) = load_with_test(good_images(), idx(LABELS_MAGIC, &[2], &[1, 2]));
        assert_file_error(result, "t10k-labels-idx1-ubyte", "has 2 labels but");
        let (_dir, result) = load_with_test(good_images(), idx(LABELS_MAGIC, &[2], &[1, 2]));
        assert_file_error(result, "t10k-images-idx3-ubyte", "has 3 images");
    }

    #[test]
    fn label_out_of_range_is_rejected() {
        let (_dir, result) = load_with_test(good_images(), idx(LABELS_MAGIC, &[3], &[1, 10, 2]));
        assert_file_error(result, "t10k-labels-idx1-ubyte", "label 10 of image 1");
    }

    #[test]
    fn differing_image_sizes_are_rejected() {
        let (_dir, result) = load_with_test(idx(IMAGES_MAGIC, &[3, 3, 2], &[0; 18]), good_labels());
        assert_file_error(
            result,
            "t10k-images-idx3-ubyte",
            "3×2 but the training images are 2×3",
        );
    }

    #[test]
    fn missing_file_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        assert_file_error(
            FashionMnist::load(dir.path()),
            "train-images-idx3-ubyte",
            "not found (nor train-images-idx3-ubyte.gz)",
        );
    }

    #[test]
    fn corrupt_gzip_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train-images-idx3-ubyte.gz"), b"not gzip").unwrap();
        write_set(dir.path(), "train", false, good_images(), good_labels());
        std::fs::remove_file(dir.path().join("train-images-idx3-ubyte")).unwrap();
        assert_file_error(
            FashionMnist::load(dir.path()),
            "train-images-idx3-ubyte.gz",
            "cannot decompress gzip",
        );
    }

    #[test]
    fn installed_fashion_mnist_loads() {
        let dir = Path::new(DEFAULT_DIR);
        if !dir.is_dir() {
            println!("skipping: Fashion-MNIST is not installed at {DEFAULT_DIR}");
            return;
        }
        let data = FashionMnist::load(dir).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
        assert_eq!((data.train.rows, data.train.cols), (28, 28));
        assert_eq!(data.train.labels[..10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
        assert_eq!(data.train.garment_type(0), Some(GarmentType::Shoes));
        assert_eq!(data.train.image(0).dimensions(), (28, 28));
    }
}
