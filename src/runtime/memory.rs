//! The allocator's side of the resident size (glibc): freed heap memory given back to the OS after
//! big one-off work (the startup scan), since glibc keeps it otherwise and the idle server's
//! resident size would stay at the scan's peak; and at most one malloc arena per core.

pub(crate) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only gives free pages back to the kernel; it has no preconditions.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// At most one malloc arena per core, instead of glibc's eight per core: each thread that
/// allocates (a dozen of them at idle: the runtime's, SQLite's, the file watchers') otherwise gets
/// an arena of its own, whose free memory and bookkeeping stay resident. 0.5 MB less at idle, on
/// 2 cores (BENCHMARKS.md, "Memory"); the threads' allocations are small and rare, so sharing
/// arenas costs no measurable time. Call before the server's threads start.
pub(crate) fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        /// glibc's `M_ARENA_MAX` (malloc.h).
        const M_ARENA_MAX: i32 = -8;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // An explicit MALLOC_ARENA_MAX (glibc's own variable) wins.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only changes a malloc parameter; M_ARENA_MAX may be set at any time.
            unsafe {
                mallopt(M_ARENA_MAX, i32::try_from(cores).unwrap_or(i32::MAX));
            }
        }
    }
}
