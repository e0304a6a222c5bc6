//! The bundle manifest: what a bundle holds and how the device must treat it.
//!
//! A bundle is a directory with `manifest.json`, the ONNX files, a golden input/output pair
//! per model and `manifest.sig` (ed25519 over the exact bytes of `manifest.json`). The
//! manifest is untrusted input until its signature checks out, so parsing validates every
//! field that later code would otherwise have to trust (paths, hashes, the type list).

use crate::garment::{GarmentType, STYLE_DIM};
use crate::preprocess::PreprocessSpec;
pub use crate::tensor::{Dim, TensorSpec};
use crate::{embedder, stylist};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Component, Path};

/// The manifest layout this code reads and writes. Bump it on any incompatible change.
/// Format 2: the preprocessing spec includes the garment crop (`garment_crop`).
/// Format 3: the stylist decoder outputs logits (`stylist.decoder_output`).
pub const MANIFEST_FORMAT: u32 = 3;
/// The oldest layout this code still reads: format 2 differs only in its decoder output
/// (probabilities), which [`StylistSpec::decoder_output`] records.
pub const OLDEST_READABLE_FORMAT: u32 = 2;
/// File name of the manifest inside a bundle directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// File name of the detached signature inside a bundle directory.
pub const SIGNATURE_FILE: &str = "manifest.sig";

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Layout version of this file; see [`MANIFEST_FORMAT`].
    pub format: u32,
    /// Monotonically increasing; a device refuses an older bundle unless told otherwise.
    pub bundle_version: u64,
    /// When the bundle was made, seconds since the Unix epoch.
    pub created_unix: u64,
    /// The garment type list the models were trained with, in contract order.
    pub garment_types: Vec<String>,
    /// How camera pictures become embedder input.
    pub preprocessing: PreprocessSpec,
    pub models: Vec<ModelEntry>,
    /// What the models were trained on.
    pub training: TrainingInfo,
    /// Measured figures (e.g. `fmnist_recall_at_1`, `fitb_hard_k15`), by name.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// How to feed the stylist models; present exactly when the bundle has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stylist: Option<StylistSpec>,
}

/// What the device must know to run the stylist's encoder and decoder on a wardrobe graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StylistSpec {
    /// GCN layers: a change to the graph alters node embeddings up to this many hops away.
    pub layers: usize,
    /// Width of a node embedding (the encoder's output, the decoder's inputs).
    pub hidden: usize,
    /// Width of a node's feature row (the embedder's output dimension).
    pub feature_dim: usize,
    /// Neighbours averaged per node at most; longer lists are cut to this many.
    pub max_neighbours: usize,
    /// What the node features are. `embedder`: the bundle's embedder output for the
    /// garment's picture; `embedder+style-v1`: that, followed by the picture's style
    /// statistics (`garment::style_features`). The wardrobe stores both per garment.
    pub features: String,
    /// What the decoder's `compatibility` output holds. Format-2 bundles predate the field
    /// and output probabilities.
    #[serde(default)]
    pub decoder_output: DecoderOutput,
}

/// What a stylist decoder outputs per pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecoderOutput {
    /// The compatibility probability, 0..1 (format 2).
    #[default]
    Probability,
    /// The compatibility logit (format 3).
    Logit,
}

/// Node features: the bundle's embedder output.
pub const STYLIST_FEATURES_EMBEDDER: &str = "embedder";
/// Node features: the bundle's embedder output, then the `style-v1` statistics.
pub const STYLIST_FEATURES_EMBEDDER_STYLE: &str =
    concat!("embedder", "+", crate::garment::style::style_source!());

impl StylistSpec {
    /// Whether node features continue with the style statistics after the embedding.
    pub fn reads_style(&self) -> bool {
        self.features == STYLIST_FEATURES_EMBEDDER_STYLE
    }
}

/// What a model file does in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelRole {
    /// Picture → L2-normalised embedding.
    Embedder,
    /// Node features + wardrobe graph → node embeddings.
    StylistEncoder,
    /// Two node embeddings + their types → compatibility logit.
    StylistDecoder,
}

/// Numeric precision of a model's weights and compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    F16,
    Int8,
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::F16, Precision::Int8];

    /// `f32`, `f16`, `int8`: the manifest's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Int8 => "int8",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Raised when a string names no precision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown precision {given:?}; expected f32, f16 or int8")]
pub struct UnknownPrecision {
    pub given: String,
}

impl std::str::FromStr for Precision {
    type Err = UnknownPrecision;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Precision::ALL
            .into_iter()
            .find(|p| p.name() == s.trim())
            .ok_or_else(|| UnknownPrecision { given: s.into() })
    }
}

/// A golden input/output pair (`.npy` files) that a device must reproduce before it
/// switches to the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenPair {
    pub inputs: Vec<String>,
    pub output: String,
    /// Largest absolute difference accepted between the device's output and the golden one.
    pub tolerance: f32,
}

/// One model file in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub role: ModelRole,
    /// Path relative to the bundle directory.
    pub file: String,
    /// Lower-case hex sha256 of the file.
    pub sha256: String,
    pub precision: Precision,
    pub inputs: Vec<TensorSpec>,
    /// Width of the (last axis of the) output.
    pub output_dim: usize,
    pub golden: GoldenPair,
    /// Parameter count, for the model card.
    #[serde(default)]
    pub params: u64,
}

/// Provenance of the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    /// Dataset names and versions, e.g. `fashion-mnist`, `synthetic seed 7`.
    pub datasets: Vec<String>,
    /// The command lines that produced the models.
    #[serde(default)]
    pub commands: Vec<String>,
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest.json is not valid: at `{path}`: {message}")]
    Parse { path: String, message: String },
    #[error("manifest.json: `{field}` {problem}")]
    Invalid { field: String, problem: String },
    #[error(
        "manifest.json is format {found}; this capsule reads formats \
         {OLDEST_READABLE_FORMAT} to {MANIFEST_FORMAT}: {advice}"
    )]
    Format { found: u32, advice: &'static str },
}

/// Only the `format` field, read before the rest so an older or newer layout is named as
/// such instead of failing on its first unknown field.
#[derive(Deserialize)]
struct FormatOnly {
    format: u32,
}

impl Manifest {
    /// Parses and validates manifest bytes exactly as they were signed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ManifestError> {
        if let Ok(FormatOnly { format }) = serde_json::from_slice::<FormatOnly>(bytes)
            && !(OLDEST_READABLE_FORMAT..=MANIFEST_FORMAT).contains(&format)
        {
            let advice = if format < OLDEST_READABLE_FORMAT {
                "rebuild the bundle with this release's `capsule-host bundle` (older bundles \
                 were made for a preprocessing without the garment crop)"
            } else {
                "update capsule on this board to a release that reads it"
            };
            return Err(ManifestError::Format {
                found: format,
                advice,
            });
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let manifest: Manifest =
            serde_path_to_error::deserialize(&mut de).map_err(|e| ManifestError::Parse {
                path: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        de.end().map_err(|e| ManifestError::Parse {
            path: ".".into(),
            message: e.to_string(),
        })?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Pretty JSON with a trailing newline: the bytes that get signed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The model with `role` and `precision`, if the bundle has one.
    pub fn model(&self, role: ModelRole, precision: Precision) -> Option<&ModelEntry> {
        self.models
            .iter()
            .find(|m| m.role == role && m.precision == precision)
    }

    /// Every file the bundle must contain besides the manifest and signature.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.models.iter().flat_map(|m| {
            std::iter::once(m.file.as_str())
                .chain(m.golden.inputs.iter().map(String::as_str))
                .chain(std::iter::once(m.golden.output.as_str()))
        })
    }

    /// Checks what serde cannot: versions, the type list, paths and hashes.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let invalid =
            |field: String, problem: String| Err(ManifestError::Invalid { field, problem });
        if !(OLDEST_READABLE_FORMAT..=MANIFEST_FORMAT).contains(&self.format) {
            return Err(ManifestError::Format {
                found: self.format,
                advice: "make it with this release's `capsule-host bundle`",
            });
        }
        if self.garment_types != GarmentType::names() {
            return invalid(
                "garment_types".into(),
                format!(
                    "is {:?}, this device expects {:?}",
                    self.garment_types,
                    GarmentType::names()
                ),
            );
        }
        if let Err(e) = self.preprocessing.validate() {
            return invalid("preprocessing".into(), e.to_string());
        }
        if self.models.is_empty() {
            return invalid("models".into(), "is empty".into());
        }
        for (i, model) in self.models.iter().enumerate() {
            let at = |name: &str| format!("models[{i}].{name}");
            if !is_sha256_hex(&model.sha256) {
                return invalid(
                    at("sha256"),
                    format!("{:?} is not 64 lower-case hex digits", model.sha256),
                );
            }
            if model.output_dim == 0 {
                return invalid(at("output_dim"), "is 0".into());
            }
            if !(model.golden.tolerance.is_finite() && model.golden.tolerance >= 0.0) {
                return invalid(
                    at("golden.tolerance"),
                    "must be finite and not negative".into(),
                );
            }
            if model.role == ModelRole::Embedder {
                let want = vec![embedder::input_spec(self.preprocessing.size)];
                if model.inputs != want {
                    return invalid(
                        at("inputs"),
                        format!(
                            "are {:?}; the preprocessing spec makes {want:?}",
                            model.inputs
                        ),
                    );
                }
            }
        }
        self.validate_stylist()?;
        for file in self.files() {
            if !is_safe_relative_path(file) {
                return invalid(
                    "models[].file".into(),
                    format!("{file:?} must be a plain path inside the bundle (no `..`, no root)"),
                );
            }
        }
        Ok(())
    }
}

impl Manifest {
    /// Stylist models come in pairs, with a spec this device can follow.
    fn validate_stylist(&self) -> Result<(), ManifestError> {
        let invalid = |field: &str, problem: String| {
            Err(ManifestError::Invalid {
                field: field.into(),
                problem,
            })
        };
        let has = |role| self.models.iter().any(|m| m.role == role);
        let (encoder, decoder) = (
            has(ModelRole::StylistEncoder),
            has(ModelRole::StylistDecoder),
        );
        match (&self.stylist, encoder && decoder) {
            (None, false) if !encoder && !decoder => Ok(()),
            (_, false) => invalid(
                "models",
                "a stylist needs both a stylist-encoder and a stylist-decoder model".into(),
            ),
            (None, true) => invalid(
                "stylist",
                "is missing but the bundle has stylist models".into(),
            ),
            (Some(spec), true) => {
                if spec.features != STYLIST_FEATURES_EMBEDDER
                    && spec.features != STYLIST_FEATURES_EMBEDDER_STYLE
                {
                    return invalid(
                        "stylist.features",
                        format!(
                            "is {:?}; this device computes {STYLIST_FEATURES_EMBEDDER:?} or \
                             {STYLIST_FEATURES_EMBEDDER_STYLE:?}",
                            spec.features
                        ),
                    );
                }
                let embedding = self
                    .models
                    .iter()
                    .find(|m| m.role == ModelRole::Embedder)
                    .map(|m| m.output_dim);
                let style = if spec.reads_style() { STYLE_DIM } else { 0 };
                if let Some(embedding) = embedding
                    && spec.feature_dim != embedding + style
                {
                    return invalid(
                        "stylist.feature_dim",
                        format!(
                            "is {}, but node features are the embedder's {embedding} numbers \
                             plus {style} style statistics",
                            spec.feature_dim
                        ),
                    );
                }
                for (role, want) in [
                    (
                        ModelRole::StylistEncoder,
                        stylist::encoder_inputs(spec.feature_dim),
                    ),
                    (
                        ModelRole::StylistDecoder,
                        stylist::decoder_inputs(spec.hidden),
                    ),
                ] {
                    for (i, m) in self.models.iter().enumerate() {
                        if m.role == role && m.inputs != want {
                            return invalid(
                                &format!("models[{i}].inputs"),
                                format!("are {:?}; the stylist contract says {want:?}", m.inputs),
                            );
                        }
                    }
                }
                for (field, value, max) in [
                    ("stylist.layers", spec.layers, 16),
                    ("stylist.hidden", spec.hidden, 4096),
                    ("stylist.feature_dim", spec.feature_dim, 4096),
                    ("stylist.max_neighbours", spec.max_neighbours, 256),
                ] {
                    if value == 0 || value > max {
                        return invalid(field, format!("is {value}, expected 1..={max}"));
                    }
                }
                Ok(())
            }
        }
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True for a non-empty relative path that stays inside the directory it is joined to.
pub fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// A valid manifest of one f32 embedder, for tests here and in other crates (feature
/// `test-support`).
#[cfg(any(test, feature = "test-support"))]
pub fn sample() -> Manifest {
    Manifest {
        format: MANIFEST_FORMAT,
        bundle_version: 3,
        created_unix: 1_700_000_000,
        garment_types: GarmentType::names(),
        preprocessing: PreprocessSpec::default(),
        models: vec![ModelEntry {
            role: ModelRole::Embedder,
            file: "embedder.f32.onnx".into(),
            sha256: "a".repeat(64),
            precision: Precision::F32,
            inputs: vec![embedder::input_spec(PreprocessSpec::default().size)],
            output_dim: 128,
            golden: GoldenPair {
                inputs: vec!["golden/embedder.in.npy".into()],
                output: "golden/embedder.out.npy".into(),
                tolerance: 1e-4,
            },
            params: 123,
        }],
        training: TrainingInfo {
            datasets: vec!["fashion-mnist".into()],
            commands: vec![],
        },
        metrics: BTreeMap::from([("fmnist_recall_at_1".into(), 0.8)]),
        stylist: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_signed_bytes() {
        let m = sample();
        let parsed = Manifest::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(parsed, m);
        assert_eq!(
            parsed
                .model(ModelRole::Embedder, Precision::F32)
                .unwrap()
                .output_dim,
            128
        );
        assert!(parsed.model(ModelRole::Embedder, Precision::Int8).is_none());
        assert_eq!(parsed.files().count(), 3);
    }

    #[test]
    fn precisions_print_as_they_parse() {
        for p in Precision::ALL {
            assert_eq!(p.to_string().parse::<Precision>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        assert!("f64".parse::<Precision>().is_err());
    }

    #[test]
    fn another_format_is_named_with_what_to_do() {
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_bytes()).unwrap();
        v["format"] = 1.into();
        v["preprocessing"]
            .as_object_mut()
            .unwrap()
            .remove("garment_crop");
        let err = Manifest::from_bytes(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("format 1") && text.contains("rebuild"),
            "{text}"
        );
        v["format"] = (MANIFEST_FORMAT + 1).into();
        let err = Manifest::from_bytes(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(err.to_string().contains("update capsule"), "{err}");
    }

    #[test]
    fn model_inputs_must_match_the_contract() {
        let mut m = sample();
        m.models[0].inputs = vec![embedder::input_spec(32)];
        assert!(m.validate().unwrap_err().to_string().contains("inputs"));
    }

    #[test]
    fn parse_errors_name_the_json_path() {
        let mut v: serde_json::Value = serde_json::from_slice(&sample().to_bytes()).unwrap();
        v["models"][0]["precision"] = "f64".into();
        let err = Manifest::from_bytes(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(err.to_string().contains("models[0].precision"), "{err}");
        assert!(Manifest::from_bytes(b"{").is_err());
        assert!(Manifest::from_bytes(b"").is_err());
    }

    #[test]
    fn refuses_escaping_paths_bad_hashes_and_foreign_type_lists() {
        for path in ["../x.onnx", "/etc/passwd", "a/../../b", "", "a\\b", "./x"] {
            let mut m = sample();
            m.models[0].file = path.into();
            assert!(m.validate().is_err(), "{path:?} accepted");
        }
        let mut m = sample();
        m.models[0].sha256 = "A".repeat(64);
        assert!(m.validate().unwrap_err().to_string().contains("sha256"));
        let mut m = sample();
        m.garment_types.swap(0, 1);
        assert!(
            m.validate()
                .unwrap_err()
                .to_string()
                .contains("garment_types")
        );
        let mut m = sample();
        m.format = 99;
        assert!(m.validate().is_err());
    }
}
