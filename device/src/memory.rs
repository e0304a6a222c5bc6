//! This process's memory: what it holds (resident set size) and handing freed heap back to
//! the system after a burst of large allocations.

/// Hands freed heap memory back to the system. Encoding a large wardrobe allocates tens of
/// MB of short-lived tensors; glibc keeps such memory in its heap after they are freed
/// (its mmap threshold grows after the first large free), so without this the process would
/// go on holding its peak. Call it after such a burst; a no-op where the C library is not
/// glibc.
pub fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only returns free heap pages to the kernel; it takes no
        // pointers and is safe to call at any time from any thread.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Caps glibc's heap arenas at two: the main one and one shared by every other thread.
/// glibc gives each thread that allocates its own arena and keeps what that thread frees
/// there; with tract's tensors allocated on the inference pool's threads, a two-thread
/// embedder held 25-30 MiB more than a one-thread one (docs/results.md). With the cap it
/// holds the same, at the same speed. Call it first thing, before any thread starts; a no-op
/// where the C library is not glibc.
pub fn limit_heap_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator setting; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Resident set size of this process in KiB (`VmRSS` of `/proc/self/status`); `None` where
/// there is no procfs.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}
