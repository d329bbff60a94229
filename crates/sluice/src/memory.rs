//! Giving memory back to the operating system. glibc's allocator keeps freed memory in its
//! arenas (one per thread by default, up to eight per core) and returns only the top of each
//! heap; after a spike — a script container at its heap limit, a burst of key derivations —
//! the server would keep hundreds of MiB it no longer uses. [`configure`] caps the arenas and
//! makes large blocks their own mappings (returned when freed); [`release`], run periodically,
//! hands free pages inside the heaps back (`malloc_trim`). On other C libraries both do nothing.

/// Arenas: enough for the two busiest threads per core to allocate without contention.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS_PER_CORE: i32 = 2;
/// Blocks from this size up are mapped on their own and unmapped when freed (glibc would
/// otherwise raise the threshold dynamically up to 32 MiB, keeping such blocks in its heaps).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 256 * 1024;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
unsafe extern "C" {
    fn mallopt(param: i32, value: i32) -> i32;
    fn malloc_trim(pad: usize) -> i32;
}

/// Sets the allocator up for a long-running server. Call once, first thing in `main`.
#[allow(unsafe_code)]
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_MMAP_THRESHOLD: i32 = -3;
        const M_ARENA_MAX: i32 = -8;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
        // SAFETY: mallopt only changes allocator parameters; called before other threads start.
        unsafe {
            mallopt(M_ARENA_MAX, cores.saturating_mul(ARENAS_PER_CORE));
            mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}

/// Returns free memory inside the allocator's heaps to the operating system.
#[allow(unsafe_code)]
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe; it takes each arena's lock in turn.
    unsafe {
        malloc_trim(0);
    }
}
