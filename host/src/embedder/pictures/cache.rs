//! The decoded cache: every picture of a training set decoded once (to the network's decode
//! side) into one file that later epochs and later runs read instead of decoding JPEG.
//!
//! The file is written durably (new file, fsync, rename) and named by what it depends on: the
//! picture files (path, size, modification time), the decode side and the whole
//! preprocessing spec. Change any of them and the name changes, so a stale cache is never
//! read; the one it replaces for the same pictures is removed.
//!
//! Layout (little-endian): magic `CAPSDEC\0`, version `u32`, reserved `u32`, key (32 bytes,
//! sha256), count `u64`; the pictures' RGB bytes one after another; the index, `count` ×
//! (offset `u64`, width `u32`, height `u32`); the index's offset `u64`.

use super::decode::read_picture;
use crate::data::DataError;
use capsule_device::fsutil::write_atomic_with;
use capsule_device::preprocess::PreprocessSpec;
use image::RgbImage;
use indicatif::ProgressBar;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"CAPSDEC\0";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 4 + 32 + 8;
const INDEX_ENTRY_LEN: usize = 16;
/// Pictures decoded at once while building (bounds the memory the build holds).
const BUILD_CHUNK: usize = 256;

/// A decoded cache, checked against its key when opened; pictures are read with `pread`.
#[derive(Debug)]
pub struct DecodedCache {
    path: PathBuf,
    file: std::fs::File,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: usize,
    width: u32,
    height: u32,
}

/// Whether [`DecodedCache::open_or_build`] found the cache or had to decode everything.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutcome {
    Reused,
    /// Built in this many seconds (the first epoch's decoding, done once).
    Built {
        seconds: f64,
    },
}

impl DecodedCache {
    /// The cache in `dir` for these picture files, decode side and preprocessing; built
    /// first (on the current rayon pool, `progress` counting pictures) when missing or stale.
    pub fn open_or_build(
        dir: &Path,
        files: &[PathBuf],
        max_side: u32,
        spec: &PreprocessSpec,
        progress: &ProgressBar,
    ) -> Result<(Self, CacheOutcome), DataError> {
        let (pictures_key, key) = keys(files, max_side, spec)?;
        let prefix = format!("decoded-{}-", &hex::encode(pictures_key)[..16]);
        let path = dir.join(format!("{prefix}{}.bin", &hex::encode(key)[..16]));
        if path.exists() {
            // A cache that does not check out (damaged disk, another program's file) is
            // rebuilt rather than trusted.
            if let Ok(cache) = Self::open(&path, &key, files.len()) {
                return Ok((cache, CacheOutcome::Reused));
            }
        }
        let started = std::time::Instant::now();
        std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        write(&path, &key, files, max_side, progress)?;
        remove_replaced(dir, &prefix, &path);
        let cache = Self::open(&path, &key, files.len())?;
        Ok((
            cache,
            CacheOutcome::Built {
                seconds: started.elapsed().as_secs_f64(),
            },
        ))
    }

    /// Opens `path` and checks its header, key, count and index.
    fn open(path: &Path, key: &[u8; 32], count: usize) -> Result<Self, DataError> {
        let bad = |problem: &str| DataError::file(path, format!("decoded cache: {problem}"));
        let io = |source| DataError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len() as usize;
        if file_len < HEADER_LEN + 8 {
            return Err(bad("not a decoded cache"));
        }
        let read = |at: usize, len: usize| {
            let mut bytes = vec![0u8; len];
            file.read_exact_at(&mut bytes, at as u64).map(|()| bytes)
        };
        let header = read(0, HEADER_LEN).map_err(io)?;
        if &header[..8] != MAGIC {
            return Err(bad("not a decoded cache"));
        }
        if u32_at(&header, 8) != VERSION {
            return Err(bad("another version"));
        }
        if &header[16..48] != key || u64_at(&header, 48) as usize != count {
            return Err(bad("made for other pictures or another preprocessing"));
        }
        let index_at = u64_at(&read(file_len - 8, 8).map_err(io)?, 0) as usize;
        let index_len = count
            .checked_mul(INDEX_ENTRY_LEN)
            .ok_or_else(|| bad("count"))?;
        if index_at < HEADER_LEN || index_at.checked_add(index_len) != Some(file_len - 8) {
            return Err(bad("truncated or damaged index"));
        }
        let index = read(index_at, index_len).map_err(io)?;
        let mut entries = Vec::with_capacity(count);
        for (i, raw) in index.chunks_exact(INDEX_ENTRY_LEN).enumerate() {
            let entry = Entry {
                offset: u64_at(raw, 0) as usize,
                width: u32_at(raw, 8),
                height: u32_at(raw, 12),
            };
            let len = entry.width as usize * entry.height as usize * 3;
            if entry.offset < HEADER_LEN || entry.offset.saturating_add(len) > index_at {
                return Err(bad(&format!("picture {i} lies outside the file")));
            }
            entries.push(entry);
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            entries,
        })
    }

    /// Where the cache lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Picture `index`, read from the file.
    pub fn get(&self, index: usize) -> Result<RgbImage, DataError> {
        let entry = self.entries.get(index).ok_or_else(|| {
            DataError::file(
                &self.path,
                format!("picture {index} asked of a cache of {}", self.entries.len()),
            )
        })?;
        let len = entry.width as usize * entry.height as usize * 3;
        // Read with pread rather than through a memory map: mapped pages stayed resident and
        // counted against the process as epochs touched the whole set, and dropping them
        // after each read (with the kernel's fault-around) cost 4-7x the throughput
        // (docs/results.md). The page cache still serves the bytes: a memory copy.
        let mut bytes = vec![0u8; len];
        self.file
            .read_exact_at(&mut bytes, entry.offset as u64)
            .map_err(|source| DataError::Io {
                path: self.path.clone(),
                source,
            })?;
        RgbImage::from_raw(entry.width, entry.height, bytes)
            .ok_or_else(|| DataError::file(&self.path, format!("picture {index}: bad size")))
    }
}

/// The key of the picture files alone (which cache files are for the same pictures) and the
/// full key (pictures, decode side, preprocessing, format version).
/// What identifies picture files without reading them: each one's path, size and
/// modification time (sha256).
pub fn files_identity(files: &[PathBuf]) -> Result<[u8; 32], DataError> {
    let mut pictures = Sha256::new();
    for path in files {
        let meta = std::fs::metadata(path).map_err(|source| DataError::Io {
            path: path.clone(),
            source,
        })?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        pictures.update(path.to_string_lossy().as_bytes());
        pictures.update([0]);
        pictures.update(meta.len().to_le_bytes());
        pictures.update(modified.to_le_bytes());
    }
    Ok(pictures.finalize().into())
}

fn keys(
    files: &[PathBuf],
    max_side: u32,
    spec: &PreprocessSpec,
) -> Result<([u8; 32], [u8; 32]), DataError> {
    let pictures = files_identity(files)?;
    let mut full = Sha256::new();
    full.update(pictures);
    full.update(VERSION.to_le_bytes());
    full.update(max_side.to_le_bytes());
    let spec_json = serde_json::to_vec(spec).map_err(|e| {
        DataError::file(Path::new("<preprocessing spec>"), format!("serialise: {e}"))
    })?;
    full.update(&spec_json);
    Ok((pictures, full.finalize().into()))
}

/// Decodes every file (in parallel, a chunk at a time) and writes the cache durably.
fn write(
    path: &Path,
    key: &[u8; 32],
    files: &[PathBuf],
    max_side: u32,
    progress: &ProgressBar,
) -> Result<(), DataError> {
    let mut decode_error = None;
    let written = write_atomic_with(path, |out| {
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(key)?;
        out.write_all(&(files.len() as u64).to_le_bytes())?;
        let mut offset = HEADER_LEN;
        let mut index = Vec::with_capacity(files.len() * INDEX_ENTRY_LEN);
        for chunk in files.chunks(BUILD_CHUNK) {
            let decoded: Result<Vec<RgbImage>, DataError> = chunk
                .par_iter()
                .map(|p| read_picture(p, max_side))
                .collect();
            let decoded = match decoded {
                Ok(d) => d,
                Err(e) => {
                    decode_error = Some(e);
                    return Err(std::io::Error::other("a picture did not decode"));
                }
            };
            for picture in &decoded {
                index.extend((offset as u64).to_le_bytes());
                index.extend(picture.width().to_le_bytes());
                index.extend(picture.height().to_le_bytes());
                out.write_all(picture.as_raw())?;
                offset += picture.as_raw().len();
            }
            progress.inc(chunk.len() as u64);
        }
        out.write_all(&index)?;
        out.write_all(&(offset as u64).to_le_bytes())
    });
    if let Some(e) = decode_error {
        return Err(e);
    }
    written.map_err(|e| DataError::file(path, e.to_string()))
}

/// Removes the caches of the same pictures under other keys (an older preprocessing).
fn remove_replaced(dir: &Path, prefix: &str, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path != keep && name.starts_with(prefix) && name.ends_with(".bin") {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pictures(dir: &Path, n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| {
                let path = dir.join(format!("p{i}.png"));
                let w = 10 + i as u32 * 7;
                let picture = RgbImage::from_fn(w, 9, |x, y| {
                    image::Rgb([x as u8 * 3, y as u8 * 20, i as u8 * 40])
                });
                picture.save(&path).unwrap();
                path
            })
            .collect()
    }

    #[test]
    fn the_cache_gives_the_decoded_pictures_and_is_reused_until_its_key_changes() {
        let data = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let files = pictures(data.path(), 5);
        let spec = PreprocessSpec::default();
        let bar = ProgressBar::hidden();
        let (cache, outcome) =
            DecodedCache::open_or_build(cache_dir.path(), &files, 24, &spec, &bar).unwrap();
        assert!(matches!(outcome, CacheOutcome::Built { .. }));
        for (i, path) in files.iter().enumerate() {
            assert_eq!(
                cache.get(i).unwrap(),
                read_picture(path, 24).unwrap(),
                "{i}"
            );
        }
        assert!(cache.get(5).is_err());
        let first = cache.path().to_path_buf();
        drop(cache);

        let (_, outcome) =
            DecodedCache::open_or_build(cache_dir.path(), &files, 24, &spec, &bar).unwrap();
        assert_eq!(outcome, CacheOutcome::Reused);

        // Another preprocessing is another cache, and the old one goes.
        let other = PreprocessSpec {
            center_crop: 0.9,
            ..spec.clone()
        };
        let (cache, outcome) =
            DecodedCache::open_or_build(cache_dir.path(), &files, 24, &other, &bar).unwrap();
        assert!(matches!(outcome, CacheOutcome::Built { .. }));
        assert_ne!(cache.path(), first);
        assert!(!first.exists());
        assert_eq!(std::fs::read_dir(cache_dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_damaged_cache_is_rebuilt_and_a_bad_picture_names_its_file() {
        let data = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let files = pictures(data.path(), 3);
        let spec = PreprocessSpec::default();
        let bar = ProgressBar::hidden();
        let (cache, _) =
            DecodedCache::open_or_build(cache_dir.path(), &files, 64, &spec, &bar).unwrap();
        let path = cache.path().to_path_buf();
        drop(cache);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
        let (cache, outcome) =
            DecodedCache::open_or_build(cache_dir.path(), &files, 64, &spec, &bar).unwrap();
        assert!(matches!(outcome, CacheOutcome::Built { .. }));
        assert_eq!(cache.get(2).unwrap(), read_picture(&files[2], 64).unwrap());

        std::fs::write(data.path().join("broken.jpg"), b"not a jpeg").unwrap();
        let mut with_broken = files.clone();
        with_broken.push(data.path().join("broken.jpg"));
        let err = DecodedCache::open_or_build(cache_dir.path(), &with_broken, 64, &spec, &bar)
            .unwrap_err()
            .to_string();
        assert!(err.contains("broken.jpg"), "{err}");
    }
}
