//! Checking a bundle directory before anything trusts it, in this order: the signature over
//! the exact manifest bytes, then the manifest's own validation, then every listed file (a
//! regular file inside the bundle, the model's sha256). Each step names the file and what
//! was wrong. Whether the models reproduce their golden outputs is the engine's check
//! (`engine::golden`), run before a bundle is switched to.

use capsule_contract::bundle::manifest::{MANIFEST_FILE, Manifest, ManifestError, SIGNATURE_FILE};
use capsule_contract::bundle::signature::{SignatureError, verify_manifest};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("bundle {dir}: cannot read {file}: {reason}")]
    Read {
        dir: PathBuf,
        file: String,
        reason: std::io::Error,
    },
    #[error("bundle {0}: unsigned (no manifest.sig); sign it with `capsule-host sign`")]
    Unsigned(PathBuf),
    #[error("bundle {dir}: signature: {reason}")]
    Signature {
        dir: PathBuf,
        reason: SignatureError,
    },
    #[error("bundle {dir}: {reason}")]
    Manifest { dir: PathBuf, reason: ManifestError },
    #[error("bundle {dir}: {file} {problem}")]
    File {
        dir: PathBuf,
        file: String,
        problem: String,
    },
    #[error("bundle {dir}: {file}: sha256 is {actual}, the manifest says {expected}")]
    Hash {
        dir: PathBuf,
        file: String,
        expected: String,
        actual: String,
    },
}

/// A bundle whose signature, files and hashes have been checked.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The exact signed bytes.
    pub manifest_bytes: Vec<u8>,
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn read(dir: &Path, file: &str) -> Result<Vec<u8>, BundleError> {
    std::fs::read(dir.join(file)).map_err(|reason| BundleError::Read {
        dir: dir.to_path_buf(),
        file: file.to_string(),
        reason,
    })
}

/// Checks the signature, the manifest, that every listed file is a regular file inside `dir`
/// and every model's sha256. Does not run the models: see `engine::golden`.
pub fn verify_signed(dir: &Path, trusted: &[VerifyingKey]) -> Result<VerifiedBundle, BundleError> {
    let manifest_bytes = read(dir, MANIFEST_FILE)?;
    let signature = match std::fs::read(dir.join(SIGNATURE_FILE)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BundleError::Unsigned(dir.to_path_buf()));
        }
        Err(source) => {
            return Err(BundleError::Read {
                dir: dir.to_path_buf(),
                file: SIGNATURE_FILE.into(),
                reason: source,
            });
        }
    };
    let signature = String::from_utf8_lossy(&signature);
    verify_manifest(&manifest_bytes, &signature, trusted).map_err(|source| {
        BundleError::Signature {
            dir: dir.to_path_buf(),
            reason: source,
        }
    })?;
    verify_unsigned_parts(dir, manifest_bytes)
}

/// Everything [`verify_signed`] checks except the signature (for a slot already verified on
/// installation, and for the host before it signs).
pub fn verify_unsigned_parts(
    dir: &Path,
    manifest_bytes: Vec<u8>,
) -> Result<VerifiedBundle, BundleError> {
    let manifest =
        Manifest::from_bytes(&manifest_bytes).map_err(|reason| BundleError::Manifest {
            dir: dir.to_path_buf(),
            reason,
        })?;
    let root = dir.canonicalize().map_err(|reason| BundleError::Read {
        dir: dir.to_path_buf(),
        file: ".".into(),
        reason,
    })?;
    for file in manifest.files() {
        inside(&root, dir, file)?;
    }
    for model in &manifest.models {
        let actual = sha256_hex(&read(dir, &model.file)?);
        if actual != model.sha256 {
            return Err(BundleError::Hash {
                dir: dir.to_path_buf(),
                file: model.file.clone(),
                expected: model.sha256.clone(),
                actual,
            });
        }
    }
    Ok(VerifiedBundle {
        dir: dir.to_path_buf(),
        manifest,
        manifest_bytes,
    })
}

/// `file` must be a regular file (not a link) whose real path lies under `root`.
fn inside(root: &Path, dir: &Path, file: &str) -> Result<(), BundleError> {
    let fail = |problem: String| BundleError::File {
        dir: dir.to_path_buf(),
        file: file.to_string(),
        problem,
    };
    let path = dir.join(file);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| fail(format!("is missing: {e}")))?;
    if !meta.file_type().is_file() {
        return Err(fail("is not a regular file (links are refused)".into()));
    }
    let real = path
        .canonicalize()
        .map_err(|e| fail(format!("cannot be resolved: {e}")))?;
    if !real.starts_with(root) {
        return Err(fail("resolves outside the bundle".into()));
    }
    Ok(())
}
