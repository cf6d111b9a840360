//! Returns freed heap memory to the OS after big one-off work (the startup scan): glibc keeps it
//! otherwise, and the idle server's resident size would stay at the scan's peak.

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
