//! Which model of a bundle this board runs: the one of the board's precision when the
//! bundle has it, else the f32 one, with a note saying so.

use super::manifest::{Manifest, ModelEntry, ModelRole, Precision};

/// The model chosen for a role, and why it is not the one asked for (if it is not).
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    pub model: &'a ModelEntry,
    /// Set when the bundle lacks the wanted precision and the f32 model stands in.
    pub note: Option<String>,
}

/// The `role` model of `wanted` precision, falling back to f32 (then to any precision the
/// bundle has, in manifest order). `None` when the bundle has no model of that role.
pub fn select_model(
    manifest: &Manifest,
    role: ModelRole,
    wanted: Precision,
) -> Option<Selection<'_>> {
    if let Some(model) = manifest.model(role, wanted) {
        return Some(Selection { model, note: None });
    }
    let model = manifest
        .model(role, Precision::F32)
        .or_else(|| manifest.models.iter().find(|m| m.role == role))?;
    Some(Selection {
        model,
        note: Some(format!(
            "the bundle has no {wanted:?} {role:?} model; running {} ({:?}) instead",
            model.file, model.precision
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::manifest::sample;

    #[test]
    fn picks_the_boards_precision_else_f32_with_a_note() {
        let mut m = sample();
        let f32_only = select_model(&m, ModelRole::Embedder, Precision::Int8).unwrap();
        assert_eq!(f32_only.model.precision, Precision::F32);
        assert!(f32_only.note.unwrap().contains("Int8"));
        assert!(select_model(&m, ModelRole::StylistEncoder, Precision::F32).is_none());

        let mut int8 = m.models[0].clone();
        int8.precision = Precision::Int8;
        int8.file = "embedder.int8.onnx".into();
        m.models.push(int8);
        let chosen = select_model(&m, ModelRole::Embedder, Precision::Int8).unwrap();
        assert_eq!(chosen.model.file, "embedder.int8.onnx");
        assert!(chosen.note.is_none());
        let chosen = select_model(&m, ModelRole::Embedder, Precision::F32).unwrap();
        assert_eq!(chosen.model.file, "embedder.f32.onnx");

        // Only a quantized model: it is what there is, with a note.
        m.models.remove(0);
        let chosen = select_model(&m, ModelRole::Embedder, Precision::F16).unwrap();
        assert_eq!(chosen.model.precision, Precision::Int8);
        assert!(chosen.note.is_some());
    }
}
