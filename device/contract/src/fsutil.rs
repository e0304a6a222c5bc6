//! File writes that survive power loss: write a new file, fsync it, rename it over the old
//! one, fsync the directory. A reader sees the old bytes or the new ones, never a mix.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file could not be written safely; says which and at what step.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path} ({step}): {source}")]
pub struct AtomicWriteError {
    pub path: PathBuf,
    pub step: &'static str,
    pub source: std::io::Error,
}

/// Replaces `path` with `bytes` atomically and durably.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Replaces `path` atomically and durably with what `write` writes, streamed (for files too
/// large to build in memory first). An error from `write` leaves the old file as it was.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), AtomicWriteError> {
    let fail = |step, source| AtomicWriteError {
        path: path.to_path_buf(),
        step,
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| fail("create directory", e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&temp).map_err(|e| fail("create temporary file", e))?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out).map_err(|e| fail("write", e))?;
        let file = out
            .into_inner()
            .map_err(|e| fail("write", e.into_error()))?;
        file.sync_all().map_err(|e| fail("fsync", e))?;
        std::fs::rename(&temp, path).map_err(|e| fail("rename into place", e))?;
        // The rename is durable only once the directory entry is.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_streamed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        write_atomic_with(&path, |out| out.write_all(b"old")).unwrap();
        let err = write_atomic_with(&path, |out| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failure_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        let err = write_atomic(&dir.path().join("file/inside"), b"y").unwrap_err();
        assert!(err.to_string().contains("file/inside"), "{err}");
    }
}
