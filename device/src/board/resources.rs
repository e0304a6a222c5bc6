//! What the board has left: free disk space where the data lives, and how long it has been
//! up. Read for the system page; `None` where the platform does not say.

use serde::Serialize;
use std::path::Path;

/// Space on the file system that holds a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiskSpace {
    pub total_bytes: u64,
    /// What an unprivileged process may still write.
    pub free_bytes: u64,
}

/// The space on the file system holding `path`, or `None` when it cannot be read.
pub fn disk_space(path: &Path) -> Option<DiskSpace> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c_path` is a NUL-terminated string that outlives the call, and `stats` is a
    // buffer of the type statvfs fills; it is read only after the call reports success.
    let stats = unsafe {
        if libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) != 0 {
            return None;
        }
        stats.assume_init()
    };
    // The field widths differ between 32- and 64-bit targets.
    #[allow(clippy::useless_conversion)]
    let fragment = u64::from(stats.f_frsize);
    #[allow(clippy::useless_conversion)]
    let (blocks, available) = (u64::from(stats.f_blocks), u64::from(stats.f_bavail));
    Some(DiskSpace {
        total_bytes: blocks.saturating_mul(fragment),
        free_bytes: available.saturating_mul(fragment),
    })
}

/// Seconds since the board booted (`/proc/uptime`).
pub fn uptime_s() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let seconds: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(seconds as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_directory_has_a_size_and_the_board_an_uptime() {
        let dir = tempfile::tempdir().unwrap();
        let space = disk_space(dir.path()).unwrap();
        assert!(space.total_bytes > 0 && space.free_bytes <= space.total_bytes);
        assert_eq!(disk_space(&dir.path().join("no such folder")), None);
        assert!(uptime_s().is_some_and(|s| s > 0));
    }
}
