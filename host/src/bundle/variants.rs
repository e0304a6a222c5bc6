//! Extra embedder rows in a bundle: the int8 and/or f16-weight variants of the f32 embedder
//! already there, each with its own tolerance on the bundle's golden pair (burn's output), so
//! a device checks every variant it might run before it switches to the bundle.

use super::BundleError;
use crate::embedder::TrainedEmbedder;
use crate::quantize::{
    MAX_F16_ERROR, MAX_INT8_ERROR, calibration_pictures, make_variants, max_abs_diff,
};
use capsule_device::bundle::{
    MANIFEST_FILE, Manifest, ModelEntry, ModelRole, NpyArray, Precision, SIGNATURE_FILE, sha256_hex,
};
use capsule_device::engine::{InputShape, OnnxModel};
use capsule_device::fsutil::write_atomic;
use std::path::Path;
use tract_onnx::prelude::{Tensor, tvec};

/// Golden tolerance of a variant whose measured max error is `measured`: twice that, so
/// another runtime's rounding (onnxruntime, an ARM kernel) passes while a broken file or a
/// different model does not; never below 1e-3.
pub fn variant_tolerance(measured: f32) -> f32 {
    (2.0 * measured).max(1e-3)
}

fn invalid(what: impl Into<String>) -> BundleError {
    BundleError::Invalid(what.into())
}

/// Adds the `precisions` variants (f32 is skipped: it is the bundle's own) of the embedder
/// run at `run_dir` to the unsigned bundle at `bundle`, replacing earlier rows of the same
/// precision. int8 activation ranges are calibrated on `calibration` training pictures of
/// the run (or of `calibrate_from`). Returns the rewritten manifest; sign the bundle after.
pub fn add_embedder_variants(
    bundle: &Path,
    run_dir: &Path,
    precisions: &[Precision],
    calibrate_from: Option<&Path>,
    calibration: usize,
) -> Result<Manifest, BundleError> {
    let manifest_path = bundle.join(MANIFEST_FILE);
    let bytes = std::fs::read(&manifest_path).map_err(|source| BundleError::Io {
        path: manifest_path.clone(),
        step: "read",
        source,
    })?;
    let mut manifest = Manifest::from_bytes(&bytes)?;
    let base = manifest
        .model(ModelRole::Embedder, Precision::F32)
        .cloned()
        .ok_or_else(|| invalid("the bundle has no f32 embedder to derive variants from"))?;
    let golden_in = NpyArray::read(&bundle.join(&base.golden.inputs[0]))?;
    let golden_out = NpyArray::read(&bundle.join(&base.golden.output))?;

    let trained = TrainedEmbedder::load(run_dir, &burn::prelude::Device::flex())?;
    let sample = calibration_pictures(&trained, calibrate_from, calibration)?;
    let variants = make_variants(&trained, &sample, precisions)?;
    for variant in variants.iter().filter(|v| v.precision != Precision::F32) {
        let file = variant.file_name();
        let path = bundle.join(&file);
        let onnx = variant.bytes();
        write_atomic(&path, &onnx)?;
        let model = OnnxModel::load(&path, &[InputShape::Fixed(golden_in.shape.clone())], 1)?;
        let tensor = Tensor::from_shape(&golden_in.shape, &golden_in.data)
            .map_err(|e| invalid(format!("{file}: the golden input does not fit: {e}")))?;
        let (_, got) = model.run_f32(tvec!(tensor.into()))?;
        let measured = max_abs_diff(&got, &golden_out.data);
        let limit = match variant.precision {
            Precision::Int8 => MAX_INT8_ERROR,
            _ => MAX_F16_ERROR,
        };
        // NaN (a non-finite output) must fail too.
        if measured.is_nan() || measured > limit {
            return Err(invalid(format!(
                "{file}: max |tract - burn| on the golden batch is {measured:e}, above {limit:e}: \
                 the variant is broken, not bundled"
            )));
        }
        manifest
            .models
            .retain(|m| !(m.role == ModelRole::Embedder && m.precision == variant.precision));
        manifest.models.push(ModelEntry {
            file,
            sha256: sha256_hex(&onnx),
            precision: variant.precision,
            golden: capsule_device::bundle::GoldenPair {
                tolerance: variant_tolerance(measured),
                ..base.golden.clone()
            },
            ..base.clone()
        });
    }
    manifest.validate()?;
    write_atomic(&manifest_path, &manifest.to_bytes())?;
    // The manifest changed: an older signature no longer covers it.
    let _ = std::fs::remove_file(bundle.join(SIGNATURE_FILE));
    Ok(manifest)
}
