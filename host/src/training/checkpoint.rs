//! The one checkpoint mechanism of every model trained here.
//!
//! After each epoch the module's weights and the optimizer's state (Adam's moments and step
//! counts, keyed by parameter id, which the weights file carries) are written under the
//! epoch's number, each file durably (new file, fsync, rename, fsync the folder). The epoch
//! counts as complete once `metrics.json` lists it, and that file is written after both, so
//! a run killed at any point resumes from an epoch whose two files match. The files of the
//! epoch before are removed only then.
//!
//! What an epoch draws at random must depend on the epoch alone, or the resumed run drifts
//! from the uninterrupted one: each model seeds its batches per epoch, and the backend's own
//! random numbers through [`reseed_after_first_epoch`].
//!
//! A resumed run must be the run that was started: [`store_or_check_config`] refuses a
//! config that differs from the stored one in anything but `epochs`, naming the field.

use super::run::{CONFIG_FILE, RunDir, RunError};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::RecordError;
use burn::tensor::Device;
use capsule_device::fsutil::{AtomicWriteError, write_atomic};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The only setting a resumed run may change (to train longer).
const EPOCHS_FIELD: &str = "epochs";

/// File of the weights after `epoch`.
pub fn weights_file(epoch: usize) -> String {
    format!("checkpoint-{epoch:04}.bpk")
}

/// File of the optimizer state after `epoch`.
pub fn optimizer_file(epoch: usize) -> String {
    format!("optimizer-{epoch:04}.bpk")
}

/// A checkpoint could not be written, found or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    #[error("{path}: {source}")]
    Record {
        path: PathBuf,
        #[source]
        source: RecordError,
    },
    #[error("{run}: metrics.json lists epoch {epoch} but {file} is missing")]
    Missing {
        run: PathBuf,
        epoch: usize,
        file: String,
    },
    #[error(
        "{run} was started with different settings: `{field}` was {stored}, now {requested} (only --epochs may change when resuming); use another --out"
    )]
    ChangedSetting {
        run: PathBuf,
        field: String,
        stored: String,
        requested: String,
    },
    #[error("{path}: cannot compare the training config: {source}")]
    Config {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn record_error(path: &Path) -> impl FnOnce(RecordError) -> CheckpointError {
    let path = path.to_path_buf();
    move |source| CheckpointError::Record { path, source }
}

/// Writes `config` as the run's `config.json` for a new run; for a run that has one, first
/// refuses a `config` that differs from it in anything but `epochs`.
///
/// Both sides are compared after a round trip through `C`, so a field that an older
/// `config.json` lacks and that loads with its default is not a change.
pub fn store_or_check_config<C>(run: &RunDir, config: &C) -> Result<(), CheckpointError>
where
    C: Serialize + DeserializeOwned,
{
    let path = run.file(CONFIG_FILE);
    let json = |c: &C| {
        serde_json::to_value(c).map_err(|source| CheckpointError::Config {
            path: path.clone(),
            source,
        })
    };
    if let Some(stored) = run.read_json::<C>(CONFIG_FILE)? {
        let (mut stored, mut requested) = (json(&stored)?, json(config)?);
        for value in [&mut stored, &mut requested] {
            if let Value::Object(fields) = value {
                fields.remove(EPOCHS_FIELD);
            }
        }
        if let Some((field, stored, requested)) = first_difference(&stored, &requested, "") {
            return Err(CheckpointError::ChangedSetting {
                run: run.path.clone(),
                field,
                stored,
                requested,
            });
        }
    }
    Ok(run.write_json(CONFIG_FILE, config)?)
}

/// The first field (as a dotted path, in key order) where `a` and `b` differ, with both
/// values.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<(String, String, String)> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .find_map(|key| match (x.get(key), y.get(key)) {
                    (Some(u), Some(v)) => first_difference(u, v, &join(key)),
                    (u, v) => Some((join(key), show(u), show(v))),
                })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, &join(&i.to_string()))),
        _ if a == b => None,
        _ => Some((
            if path.is_empty() { "config" } else { path }.to_string(),
            a.to_string(),
            b.to_string(),
        )),
    }
}

fn show(value: Option<&Value>) -> String {
    value.map_or("absent".to_string(), Value::to_string)
}

/// The last complete epoch of `run`: the last one `metrics.json` lists, 0 before the first.
pub fn completed_epochs(run: &RunDir) -> Result<usize, CheckpointError> {
    // Only the epoch number matters here; serde skips the model's other metrics.
    #[derive(Deserialize)]
    struct Epoch {
        epoch: usize,
    }
    let metrics: Vec<Epoch> = run.metrics()?;
    Ok(metrics.last().map_or(0, |m| m.epoch))
}

/// The last complete epoch of `run` and its weights file; `None` before the first.
pub fn latest_weights(run: &RunDir) -> Result<Option<(usize, PathBuf)>, CheckpointError> {
    let epoch = completed_epochs(run)?;
    if epoch == 0 {
        return Ok(None);
    }
    Ok(Some((epoch, existing(run, epoch, weights_file(epoch))?)))
}

fn existing(run: &RunDir, epoch: usize, file: String) -> Result<PathBuf, CheckpointError> {
    let path = run.file(&file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(CheckpointError::Missing {
            run: run.path.clone(),
            epoch,
            file,
        })
    }
}

/// Writes `model`'s weights to `path` durably.
pub fn save_weights<M: Module + Clone>(model: &M, path: &Path) -> Result<(), CheckpointError> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(record_error(path))?;
    Ok(write_atomic(path, &bytes)?)
}

/// `model` (as initialised for the run) with the weights of the file at `path`. The file must
/// fit the module exactly: a missing or an extra tensor is an error.
pub fn load_weights<M: Module>(model: M, path: &Path) -> Result<M, CheckpointError> {
    model.try_load_file(path).map_err(record_error(path))
}

/// Saves the weights and the optimizer state after `epoch`. Call before `metrics.json`
/// lists the epoch, and [`prune`] after.
pub fn save<M: Module + Clone>(
    run: &RunDir,
    epoch: usize,
    model: &M,
    optimizer: &ModuleOptimizer,
) -> Result<(), CheckpointError> {
    save_weights(model, &run.file(&weights_file(epoch)))?;
    let path = run.file(&optimizer_file(epoch));
    let bytes = optimizer.into_bytes().map_err(record_error(&path))?;
    Ok(write_atomic(&path, &bytes)?)
}

/// Removes the checkpoint of the epoch before `epoch`, which nothing resumes from once
/// `metrics.json` lists `epoch`.
pub fn prune(run: &RunDir, epoch: usize) {
    if epoch > 1 {
        for old in [weights_file(epoch - 1), optimizer_file(epoch - 1)] {
            // A file that cannot be removed costs disk space, not correctness: resuming
            // reads only the files of the epoch metrics.json ends with.
            let _ = std::fs::remove_file(run.file(&old));
        }
    }
}

/// Seeds the backend's random numbers (dropout masks, ...) with `epoch_seed` at the start of
/// every epoch after the first, so that what an epoch draws depends on its number alone and a
/// resumed run draws what the uninterrupted one would have.
///
/// The first epoch keeps the stream the run's seed started before the weights were made:
/// burn draws initial weights lazily, at the first forward pass, so reseeding before it
/// would change them. A run never resumes into its first epoch.
pub fn reseed_after_first_epoch(device: &Device, epoch: usize, epoch_seed: u64) {
    if epoch > 1 {
        device.seed(epoch_seed);
    }
}

/// Where a run continues from: the number of complete epochs and the model and optimizer as
/// they were after the last one.
pub struct Resumed<M> {
    pub epochs_done: usize,
    pub model: M,
    pub optimizer: ModuleOptimizer,
}

/// `model` and `optimizer` (freshly initialised for the run) with the state of the run's
/// last complete epoch loaded into them; unchanged, with `epochs_done` 0, for a new run.
pub fn resume<M: Module>(
    run: &RunDir,
    model: M,
    optimizer: ModuleOptimizer,
) -> Result<Resumed<M>, CheckpointError> {
    let Some((epoch, path)) = latest_weights(run)? else {
        return Ok(Resumed {
            epochs_done: 0,
            model,
            optimizer,
        });
    };
    let model = load_weights(model, &path)?;
    let path = existing(run, epoch, optimizer_file(epoch))?;
    let optimizer = optimizer.load(&path).map_err(record_error(&path))?;
    Ok(Resumed {
        epochs_done: epoch,
        model,
        optimizer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Config {
        epochs: usize,
        seed: u64,
        #[serde(default)]
        inner: Inner,
    }

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    struct Inner {
        hidden: usize,
        rates: Vec<f64>,
    }

    #[test]
    fn a_resumed_run_may_change_only_its_epochs_and_a_change_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        let config = Config {
            epochs: 1,
            seed: 3,
            inner: Inner {
                hidden: 8,
                rates: vec![0.1, 0.2],
            },
        };
        store_or_check_config(&run, &config).unwrap();
        let longer = Config {
            epochs: 5,
            ..config.clone()
        };
        store_or_check_config(&run, &longer).unwrap();
        let stored: Config = run.read_json(CONFIG_FILE).unwrap().unwrap();
        assert_eq!(stored, longer, "the longer run's epochs are stored");

        let mut other = longer.clone();
        other.inner.rates[1] = 0.3;
        let err = store_or_check_config(&run, &other).unwrap_err().to_string();
        assert!(
            err.contains("`inner.rates.1` was 0.2, now 0.3") && err.contains("--epochs"),
            "{err}"
        );
        let other = Config { seed: 4, ..longer };
        let err = store_or_check_config(&run, &other).unwrap_err().to_string();
        assert!(err.contains("`seed` was 3, now 4"), "{err}");
    }

    #[test]
    fn a_field_an_older_config_lacks_compares_as_its_default() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        run.write_json(CONFIG_FILE, &json!({"epochs": 1, "seed": 3}))
            .unwrap();
        let config = Config {
            epochs: 2,
            seed: 3,
            inner: Inner::default(),
        };
        store_or_check_config(&run, &config).unwrap();
    }

    #[test]
    fn differences_name_missing_fields_and_whole_lists() {
        let diff = |a, b| first_difference(&a, &b, "");
        assert_eq!(diff(json!({"a": 1}), json!({"a": 1})), None);
        assert_eq!(
            diff(json!({"a": {"b": 1}}), json!({"a": {}})),
            Some(("a.b".into(), "1".into(), "absent".into()))
        );
        assert_eq!(
            diff(json!({"a": [1]}), json!({"a": [1, 2]})),
            Some(("a".into(), "[1]".into(), "[1,2]".into()))
        );
    }

    #[test]
    fn the_last_epoch_metrics_lists_is_complete_and_needs_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        assert_eq!(latest_weights(&run).unwrap(), None);
        run.save_metrics(&[json!({"epoch": 1, "loss": 0.5})])
            .unwrap();
        let err = latest_weights(&run).unwrap_err().to_string();
        assert!(
            err.contains("lists epoch 1") && err.contains("checkpoint-0001.bpk"),
            "{err}"
        );
        std::fs::write(run.file(&weights_file(1)), b"w").unwrap();
        assert_eq!(
            latest_weights(&run).unwrap(),
            Some((1, run.file("checkpoint-0001.bpk")))
        );
    }
}
