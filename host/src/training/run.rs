//! A training run directory (`runs/NAME`): the config it was started with, per-epoch
//! metrics, checkpoints and plots. Every file is replaced atomically, so a run killed at any
//! point resumes from its last complete epoch.

use capsule_device::fsutil::write_atomic;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// File names inside a run directory.
pub const CONFIG_FILE: &str = "config.json";
pub const METRICS_FILE: &str = "metrics.json";

/// A run directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot create the run directory {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a training run: it has no {CONFIG_FILE}")]
    NotARun { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Write(#[from] capsule_device::fsutil::AtomicWriteError),
}

/// A run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// Opens (creating if needed) the run directory at `path`.
    pub fn create(path: &Path) -> Result<Self, RunError> {
        std::fs::create_dir_all(path).map_err(|source| RunError::Create {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing run directory.
    pub fn open(path: &Path) -> Result<Self, RunError> {
        if !path.join(CONFIG_FILE).is_file() {
            return Err(RunError::NotARun {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `value` as pretty JSON to `name`, atomically.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), RunError> {
        let path = self.file(name);
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| RunError::Json {
            path: path.clone(),
            source,
        })?;
        bytes.push(b'\n');
        Ok(write_atomic(&path, &bytes)?)
    }

    /// Reads JSON `name`; `Ok(None)` if the file does not exist.
    pub fn read_json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, RunError> {
        let path = self.file(name);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| RunError::Json { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(RunError::Read { path, source }),
        }
    }

    /// The per-epoch metrics so far (empty for a new run).
    pub fn metrics<T: DeserializeOwned>(&self) -> Result<Vec<T>, RunError> {
        Ok(self.read_json(METRICS_FILE)?.unwrap_or_default())
    }

    /// Replaces the per-epoch metrics.
    pub fn save_metrics<T: Serialize>(&self, epochs: &[T]) -> Result<(), RunError> {
        self.write_json(METRICS_FILE, &epochs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Epoch {
        epoch: usize,
        loss: f64,
    }

    #[test]
    fn metrics_round_trip_and_open_requires_a_config() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(&dir.path().join("r")).unwrap();
        assert!(run.metrics::<Epoch>().unwrap().is_empty());
        run.save_metrics(&[Epoch {
            epoch: 1,
            loss: 0.5,
        }])
        .unwrap();
        assert_eq!(
            run.metrics::<Epoch>().unwrap(),
            vec![Epoch {
                epoch: 1,
                loss: 0.5
            }]
        );
        assert!(RunDir::open(&run.path).is_err());
        run.write_json(CONFIG_FILE, &serde_json::json!({"a": 1}))
            .unwrap();
        assert!(RunDir::open(&run.path).is_ok());
        std::fs::write(run.file(METRICS_FILE), b"[").unwrap();
        assert!(
            run.metrics::<Epoch>()
                .unwrap_err()
                .to_string()
                .contains(METRICS_FILE)
        );
    }
}
