//! Errors from reading datasets: each names the file, and the line or JSON path, that failed.

use std::path::{Path, PathBuf};

/// A dataset file could not be read or did not have the published format.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {problem}")]
    Line {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("{path}: at JSON path `{json_path}`: {problem}")]
    Json {
        path: PathBuf,
        json_path: String,
        problem: String,
    },
    #[error("{path}: {problem}")]
    File { path: PathBuf, problem: String },
    #[error("{path}: cannot {step} the picture: {source}")]
    Image {
        path: PathBuf,
        step: &'static str,
        #[source]
        source: Box<image::ImageError>,
    },
}

impl DataError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn line(path: &Path, line: usize, problem: impl Into<String>) -> Self {
        Self::Line {
            path: path.to_path_buf(),
            line,
            problem: problem.into(),
        }
    }

    pub fn json(path: &Path, json_path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Json {
            path: path.to_path_buf(),
            json_path: json_path.into(),
            problem: problem.into(),
        }
    }

    /// A picture at `path` could not be decoded or encoded (`step`).
    pub fn image(path: &Path, step: &'static str, source: image::ImageError) -> Self {
        Self::Image {
            path: path.to_path_buf(),
            step,
            source: Box::new(source),
        }
    }

    pub fn file(path: &Path, problem: impl Into<String>) -> Self {
        Self::File {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

/// Reads a whole file, naming it on failure.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}

/// Reads a UTF-8 text file, naming it on failure.
pub fn read_text(path: &Path) -> Result<String, DataError> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|e| DataError::file(path, format!("not UTF-8 text: {e}")))
}

/// Parses JSON into `T`, reporting the JSON path of the first mismatch.
pub fn parse_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, DataError> {
    let bytes = read_bytes(path)?;
    deserialize(path, serde_json::Deserializer::from_slice(&bytes))
}

/// [`parse_json`] for files too large to hold next to what they parse into (Polyvore's item
/// metadata runs to hundreds of MB): the file is read as a stream, so memory is what `T`
/// keeps, and fields `T` does not name are skipped without being stored.
pub fn parse_json_streaming<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    deserialize(path, serde_json::Deserializer::from_reader(reader))
}

/// One JSON value from `de` and nothing after it; errors name `path` and the JSON path.
fn deserialize<'de, T: serde::Deserialize<'de>, R: serde_json::de::Read<'de>>(
    path: &Path,
    mut de: serde_json::Deserializer<R>,
) -> Result<T, DataError> {
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let json_path = e.path().to_string();
        DataError::json(path, json_path, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| DataError::json(path, ".", e.to_string()))?;
    Ok(value)
}
