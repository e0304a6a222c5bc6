//! Putting a signed bundle where a board can install it: into a directory (a mounted SD
//! card, a shared folder) atomically, onto a board over the system's `scp`, followed by
//! `ssh … capsule update apply` there, or into a Mender artifact for a fleet ([`mender`]).
//! In every case the board verifies and installs the bundle itself.

pub mod mender;

use capsule_device::bundle::{MANIFEST_FILE, SIGNATURE_FILE, verify::verify_unsigned_parts};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Flashing failed.
#[derive(Debug, thiserror::Error)]
pub enum FlashError {
    #[error("{path}: {step}: {source}")]
    Io {
        path: PathBuf,
        step: &'static str,
        source: std::io::Error,
    },
    #[error("{0}: not a signed bundle (no manifest.sig); sign it with `capsule-host sign` first")]
    Unsigned(PathBuf),
    #[error(transparent)]
    Bundle(#[from] capsule_device::bundle::BundleError),
    #[error("{path}: {problem}")]
    Refused { path: PathBuf, problem: String },
    #[error("`{command}` failed: {problem}")]
    Command { command: String, problem: String },
}

fn io(path: &Path, step: &'static str) -> impl FnOnce(std::io::Error) -> FlashError {
    let path = path.to_path_buf();
    move |source| FlashError::Io { path, step, source }
}

/// Where `--to` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A local directory; the bundle lands in `DIR/<bundle folder name>`.
    Dir(PathBuf),
    /// `user@host[:path]`: a board reachable over ssh.
    Remote {
        user_host: String,
        path: Option<String>,
    },
}

impl Target {
    /// `user@host[:path]` is remote unless a local path of that name exists; anything else
    /// is a directory.
    pub fn parse(to: &str) -> Self {
        let (head, path) = match to.split_once(':') {
            Some((head, path)) => (head, Some(path)),
            None => (to, None),
        };
        let looks_remote = head.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && !host.is_empty() && !head.contains('/')
        });
        if looks_remote && !Path::new(to).exists() {
            Target::Remote {
                user_host: head.to_string(),
                path: path.filter(|p| !p.is_empty()).map(str::to_string),
            }
        } else {
            Target::Dir(PathBuf::from(to))
        }
    }
}

/// Checks that `bundle` is signed and that its files match its manifest (the board checks
/// the signature against its own trusted keys).
pub fn check_bundle(bundle: &Path) -> Result<u64, FlashError> {
    if !bundle.join(SIGNATURE_FILE).is_file() {
        return Err(FlashError::Unsigned(bundle.to_path_buf()));
    }
    let manifest_path = bundle.join(MANIFEST_FILE);
    let bytes = std::fs::read(&manifest_path).map_err(io(&manifest_path, "read"))?;
    Ok(verify_unsigned_parts(bundle, bytes)?
        .manifest
        .bundle_version)
}

/// Copies `bundle` into `dir` as `dir/<bundle folder name>`: first into a hidden staging
/// folder beside it, every file and folder fsynced, then renamed into place, so a reader
/// (or a pulled SD card) sees the old bundle or the whole new one. Returns the new path.
pub fn flash_to_dir(bundle: &Path, dir: &Path) -> Result<PathBuf, FlashError> {
    check_bundle(bundle)?;
    let name = bundle
        .canonicalize()
        .map_err(io(bundle, "resolve"))?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| FlashError::Refused {
            path: bundle.to_path_buf(),
            problem: "has no folder name".into(),
        })?;
    std::fs::create_dir_all(dir).map_err(io(dir, "create folder"))?;
    let dest = dir.join(&name);
    let staging = dir.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging, "remove stale staging folder"))?;
    }
    copy_tree(bundle, &staging)?;
    if dest.exists() {
        let old = dir.join(format!(".{name}.old-{}", std::process::id()));
        std::fs::rename(&dest, &old).map_err(io(&dest, "move the previous copy aside"))?;
        std::fs::rename(&staging, &dest).map_err(io(&dest, "rename into place"))?;
        std::fs::remove_dir_all(&old).map_err(io(&old, "remove the previous copy"))?;
    } else {
        std::fs::rename(&staging, &dest).map_err(io(&dest, "rename into place"))?;
    }
    sync_dir(dir)?;
    Ok(dest)
}

/// Copies regular files and folders (links are refused), fsyncing each.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<(), FlashError> {
    std::fs::create_dir_all(to).map_err(io(to, "create folder"))?;
    let mut dirs = vec![to.to_path_buf()];
    walk_tree(from, &mut |path, relative, is_dir| {
        let target = to.join(relative);
        if is_dir {
            std::fs::create_dir_all(&target).map_err(io(&target, "create folder"))?;
            dirs.push(target);
        } else {
            std::fs::copy(path, &target).map_err(io(path, "copy"))?;
            std::fs::File::open(&target)
                .and_then(|f| f.sync_all())
                .map_err(io(&target, "fsync"))?;
        }
        Ok(())
    })?;
    // Innermost folders first: each fsync makes the names written into that folder durable.
    for dir in dirs.iter().rev() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Calls `visit(path, path relative to root, is_folder)` for every folder and regular file
/// under `root`, by name, each folder before what it holds. Anything else (a link, a device)
/// is refused, so nothing outside the tree is ever copied or packed.
pub(crate) fn walk_tree(
    root: &Path,
    visit: &mut dyn FnMut(&Path, &Path, bool) -> Result<(), FlashError>,
) -> Result<(), FlashError> {
    walk_below(root, Path::new(""), visit)
}

fn walk_below(
    root: &Path,
    relative: &Path,
    visit: &mut dyn FnMut(&Path, &Path, bool) -> Result<(), FlashError>,
) -> Result<(), FlashError> {
    let dir = root.join(relative);
    let mut entries = std::fs::read_dir(&dir)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(io(&dir, "list"))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(io(&path, "stat"))?;
        let relative = relative.join(entry.file_name());
        if kind.is_dir() {
            visit(&path, &relative, true)?;
            walk_below(root, &relative, visit)?;
        } else if kind.is_file() {
            visit(&path, &relative, false)?;
        } else {
            return Err(FlashError::Refused {
                path,
                problem: "is not a regular file or folder (links are not copied)".into(),
            });
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), FlashError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io(dir, "fsync folder"))
}

/// `'…'` quoting for the remote shell that runs ssh's command line.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The two commands that flash over ssh: `scp -r` the bundle to `path` on the board, then
/// `ssh` to run `<remote_capsule> update apply <path>` there. `path` defaults to
/// `/tmp/capsule-bundle-v<version>`.
pub fn remote_commands(
    bundle: &Path,
    user_host: &str,
    path: Option<&str>,
    version: u64,
    remote_capsule: &str,
) -> Vec<Vec<String>> {
    let path = path.map_or_else(|| format!("/tmp/capsule-bundle-v{version}"), str::to_string);
    vec![
        vec![
            "scp".into(),
            "-r".into(),
            "-q".into(),
            "--".into(),
            bundle.display().to_string(),
            format!("{user_host}:{path}"),
        ],
        vec![
            "ssh".into(),
            "--".into(),
            user_host.into(),
            format!("{remote_capsule} update apply {}", shell_quote(&path)),
        ],
    ]
}

/// Runs [`remote_commands`] in order, stopping at the first failure.
pub fn flash_remote(
    bundle: &Path,
    user_host: &str,
    path: Option<&str>,
    remote_capsule: &str,
) -> Result<(), FlashError> {
    let version = check_bundle(bundle)?;
    for argv in remote_commands(bundle, user_host, path, version, remote_capsule) {
        let command = argv.join(" ");
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .status()
            .map_err(|e| FlashError::Command {
                command: command.clone(),
                problem: format!("cannot start {}: {e}", argv[0]),
            })?;
        if !status.success() {
            return Err(FlashError::Command {
                command,
                problem: format!("exited with {status}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_told_apart() {
        assert_eq!(
            Target::parse("pi@board.local"),
            Target::Remote {
                user_host: "pi@board.local".into(),
                path: None
            }
        );
        assert_eq!(
            Target::parse("pi@10.0.0.7:/var/tmp/b"),
            Target::Remote {
                user_host: "pi@10.0.0.7".into(),
                path: Some("/var/tmp/b".into())
            }
        );
        assert_eq!(Target::parse("/media/sd"), Target::Dir("/media/sd".into()));
        assert_eq!(Target::parse("out/a@b"), Target::Dir("out/a@b".into()));
        assert_eq!(Target::parse("@host"), Target::Dir("@host".into()));
    }

    #[test]
    fn remote_commands_copy_then_apply_with_a_quoted_path() {
        let cmds = remote_commands(
            Path::new("out/bundle v2"),
            "pi@board",
            Some("/tmp/it's here"),
            2,
            "capsule --board /etc/capsule/board.toml",
        );
        assert_eq!(
            cmds[0],
            [
                "scp",
                "-r",
                "-q",
                "--",
                "out/bundle v2",
                "pi@board:/tmp/it's here"
            ]
        );
        assert_eq!(
            cmds[1],
            [
                "ssh",
                "--",
                "pi@board",
                r"capsule --board /etc/capsule/board.toml update apply '/tmp/it'\''s here'"
            ]
        );
        let cmds = remote_commands(Path::new("b"), "pi@board", None, 7, "capsule");
        assert_eq!(cmds[0][5], "pi@board:/tmp/capsule-bundle-v7");
        assert_eq!(cmds[1][3], "capsule update apply '/tmp/capsule-bundle-v7'");
    }
}
