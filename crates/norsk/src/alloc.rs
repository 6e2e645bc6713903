//! Process-wide allocator settings, for the program that runs the models
//! (the CLI at the start of `main`, the Python module when it is imported).

/// Lets the large buffers of tensor ops be reused instead of mapped afresh.
///
/// candle allocates a new buffer for every op's output. glibc serves each one
/// above its mmap threshold (which starts at 128 KiB) with a fresh mapping
/// and returns it to the kernel when it is freed, so every op pays for the
/// kernel to zero the pages again on first touch: 7 % of the time of an
/// encoder forward pass on this project's CPU (`perf record` of `norsk
/// bench`). Raising the mmap threshold to its maximum (32 MiB on 64-bit) and
/// keeping freed memory (trim threshold) lets the heap reuse those buffers.
/// Setting them also overrides `MALLOC_TRIM_THRESHOLD_` and the like in the
/// environment, which turn off glibc's own adjustment of the mmap threshold
/// (Dask's worker processes set it: norsk ran 30 % slower in them).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn reuse_freed_buffers() {
    const MIB: libc::c_int = 1 << 20;
    // SAFETY: mallopt only changes allocator parameters, under glibc's own
    // arena locks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * MIB);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 * MIB);
    }
}

/// Other platforms keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn reuse_freed_buffers() {}
