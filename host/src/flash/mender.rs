//! A signed bundle wrapped into a Mender artifact, so that a fleet gets it from a Mender
//! server (docs/fleet.md): a module-image of payload type `capsule-bundle` holding the
//! bundle folder as one tar, written by Mender's own `mender-artifact` tool. On the board
//! the update module `boards/mender/capsule-bundle` unpacks it and hands it to
//! `capsule update apply`, which checks it as it checks any bundle; the artifact adds
//! transport, nothing the board trusts.

use super::{FlashError, check_bundle, io, walk_tree};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The artifact's payload type: the name of the update module that installs it.
pub const PAYLOAD_TYPE: &str = "capsule-bundle";
/// The one file of the payload (Mender's payload files are flat, a bundle has folders).
pub const PAYLOAD_FILE: &str = "capsule-bundle.tar";
/// The provides key holding the bundle version (Mender's `rootfs-image.NAME.version`
/// convention for application software, which its server lists per device).
pub const VERSION_PROVIDES: &str = "rootfs-image.capsule-bundle.version";
/// The `NAME` in [`VERSION_PROVIDES`].
const SOFTWARE_NAME: &str = "capsule-bundle";

/// What the artifact is for.
#[derive(Debug, Clone)]
pub struct ArtifactSpec {
    /// Mender device types that may install it (at least one).
    pub device_types: Vec<String>,
    /// The artifact name; default [`default_artifact_name`].
    pub artifact_name: Option<String>,
    /// The `mender-artifact` program.
    pub tool: String,
}

/// An artifact [`write_artifact`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WrittenArtifact {
    pub path: PathBuf,
    pub artifact_name: String,
    pub bundle_version: u64,
    pub device_types: Vec<String>,
}

impl fmt::Display for WrittenArtifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: Mender artifact {} (bundle {}, {VERSION_PROVIDES}={}) for device type {}; \
             upload it to the Mender server, or on a board: mender install {}",
            self.path.display(),
            self.artifact_name,
            self.bundle_version,
            self.bundle_version,
            self.device_types.join(", "),
            self.path.display(),
        )
    }
}

/// `capsule-bundle-vVERSION`.
pub fn default_artifact_name(version: u64) -> String {
    format!("{PAYLOAD_TYPE}-v{version}")
}

/// The `mender-artifact write module-image` command line that wraps `tar` into `out`.
pub fn write_command(
    tool: &str,
    tar: &Path,
    out: &Path,
    artifact_name: &str,
    version: u64,
    device_types: &[String],
) -> Vec<String> {
    let mut argv: Vec<String> = [tool, "write", "module-image", "--type", PAYLOAD_TYPE]
        .map(str::to_string)
        .into();
    argv.extend(["--artifact-name".into(), artifact_name.into()]);
    for device_type in device_types {
        argv.extend(["--device-type".into(), device_type.clone()]);
    }
    argv.extend([
        "--software-name".into(),
        SOFTWARE_NAME.into(),
        "--software-version".into(),
        version.to_string(),
        "--file".into(),
        tar.display().to_string(),
        "--output-path".into(),
        out.display().to_string(),
    ]);
    argv
}

/// Checks that `bundle` is signed and intact, packs it and has `mender-artifact` wrap it
/// into `out`. The artifact is written beside `out` and renamed into place, so `out` is
/// either the old file or the whole new one.
pub fn write_artifact(
    bundle: &Path,
    out: &Path,
    spec: &ArtifactSpec,
) -> Result<WrittenArtifact, FlashError> {
    let version = check_bundle(bundle)?;
    if spec.device_types.is_empty() {
        return Err(FlashError::Refused {
            path: out.to_path_buf(),
            problem: "no device type given; pass --device-type (the board's Mender device type)"
                .into(),
        });
    }
    let artifact_name = spec
        .artifact_name
        .clone()
        .unwrap_or_else(|| default_artifact_name(version));
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| FlashError::Refused {
            path: out.to_path_buf(),
            problem: "is not a file name".into(),
        })?;
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir, "create folder"))?;
    let staging = dir.join(format!(".{file_name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging, "remove stale staging folder"))?;
    }
    std::fs::create_dir_all(&staging).map_err(io(&staging, "create folder"))?;
    let written = write_staged(bundle, &staging, &artifact_name, version, spec).and_then(|tmp| {
        std::fs::rename(&tmp, out).map_err(io(out, "rename into place"))?;
        std::fs::File::open(&dir)
            .and_then(|f| f.sync_all())
            .map_err(io(&dir, "fsync folder"))
    });
    let cleaned = std::fs::remove_dir_all(&staging).map_err(io(&staging, "remove staging folder"));
    written?;
    cleaned?;
    Ok(WrittenArtifact {
        path: out.to_path_buf(),
        artifact_name,
        bundle_version: version,
        device_types: spec.device_types.clone(),
    })
}

/// The tar and the artifact inside `staging`; returns the artifact's path there.
fn write_staged(
    bundle: &Path,
    staging: &Path,
    artifact_name: &str,
    version: u64,
    spec: &ArtifactSpec,
) -> Result<PathBuf, FlashError> {
    let tar = staging.join(PAYLOAD_FILE);
    pack_bundle(bundle, &tar)?;
    let artifact = staging.join("artifact.mender");
    let argv = write_command(
        &spec.tool,
        &tar,
        &artifact,
        artifact_name,
        version,
        &spec.device_types,
    );
    let command = argv.join(" ");
    let output = Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .map_err(|e| FlashError::Command {
            command: command.clone(),
            problem: if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{} is not installed; install Mender's artifact tool (Debian and Ubuntu: \
                     apt-get install mender-artifact)",
                    spec.tool
                )
            } else {
                format!("cannot start {}: {e}", spec.tool)
            },
        })?;
    if !output.status.success() {
        return Err(FlashError::Command {
            command,
            problem: format!(
                "exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    std::fs::File::open(&artifact)
        .and_then(|f| f.sync_all())
        .map_err(io(&artifact, "fsync"))?;
    Ok(artifact)
}

/// Packs the bundle folder into a tar of its folders and regular files, named relative to
/// the bundle, owned by root, with fixed modes and times: what the board unpacks depends
/// on the bundle alone.
fn pack_bundle(bundle: &Path, tar_path: &Path) -> Result<(), FlashError> {
    let file = std::fs::File::create(tar_path).map_err(io(tar_path, "create"))?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    walk_tree(bundle, &mut |path, relative, is_dir| {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        if is_dir {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            tar.append_data(&mut header, relative, std::io::empty())
        } else {
            let mut data = std::fs::File::open(path).map_err(io(path, "open"))?;
            let len = data.metadata().map_err(io(path, "stat"))?.len();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(len);
            tar.append_data(&mut header, relative, &mut data)
        }
        .map_err(io(path, "pack into the artifact's tar"))
    })?;
    tar.into_inner()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map_err(io(tar_path, "write"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artifact_is_a_capsule_bundle_module_image_versioned_by_the_bundle() {
        let argv = write_command(
            "mender-artifact",
            Path::new("/tmp/s/capsule-bundle.tar"),
            Path::new("out/v3.mender"),
            "capsule-bundle-v3",
            3,
            &["capsule-rpi4".into(), "capsule-rpi5".into()],
        );
        assert_eq!(
            argv.join(" "),
            "mender-artifact write module-image --type capsule-bundle \
             --artifact-name capsule-bundle-v3 \
             --device-type capsule-rpi4 --device-type capsule-rpi5 \
             --software-name capsule-bundle --software-version 3 \
             --file /tmp/s/capsule-bundle.tar --output-path out/v3.mender"
        );
        assert_eq!(
            VERSION_PROVIDES,
            format!("rootfs-image.{SOFTWARE_NAME}.version")
        );
    }

    #[test]
    fn the_tar_holds_the_bundle_files_by_relative_name() {
        let tmp = tempfile::tempdir().unwrap();
        let bundle = tmp.path().join("b");
        std::fs::create_dir_all(bundle.join("golden")).unwrap();
        std::fs::write(bundle.join("manifest.json"), b"{}").unwrap();
        std::fs::write(bundle.join("golden/x.npy"), b"123").unwrap();
        let tar_path = tmp.path().join("b.tar");
        pack_bundle(&bundle, &tar_path).unwrap();
        let mut archive = tar::Archive::new(std::fs::File::open(&tar_path).unwrap());
        let entries: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.size().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("golden".to_string(), 0o755, 0),
                ("golden/x.npy".to_string(), 0o644, 3),
                ("manifest.json".to_string(), 0o644, 2),
            ]
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/passwd", bundle.join("golden/link")).unwrap();
            let err = pack_bundle(&bundle, &tar_path).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
    }
}
