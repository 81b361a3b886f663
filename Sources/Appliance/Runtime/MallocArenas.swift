// Resident memory of a long-running media process: glibc's allocator gives each thread that
// allocates its own arena (up to 8 per core), and each arena keeps its own free memory. A call
// runs about ten threads (NIO event loops, the Swift cooperative pool, dispatch workers, the
// media pump), so freed packet and frame buffers stayed spread over five or six arenas of about
// 1 MB each. One arena holds the same traffic:
// - `videophone peer` at 640x480 (scripts/bench-media --call): 49.5-50.0 MiB peak RSS with glibc's
//   default, 48.3-48.4 with two arenas (before WorkingSet), 36.5-37.9 → 35.3-36.0 with one after it;
//   CPU beyond the codecs 1.24-1.27x → 1.21-1.27x its codec time, the same within the noise.
// - Only the main arena gives its free top back on malloc_trim: with a second arena, a daemon
//   idle after a call kept 6-20 MiB of that arena's top chunk (its idle trims ended at 12-27 MiB
//   resident with 2.8-4.5 MiB of heap in use); with one, every idle trim ends at 12-13 MiB.
// Most small allocations never reach the arena's lock anyway: glibc's per-thread cache serves them.
#if canImport(Glibc)
import CGlibc
import Glibc

public enum MallocArenas {
    /// One glibc arena for this process. Call it first thing in `main`, before any thread starts:
    /// glibc gives each new thread an arena of its own until the limit is set, and those stay.
    /// Called from an async `run()` (on a thread of Swift's pool, which already had one), half
    /// the debug daemon's idle trims after a call ended at 25-30 MiB with 15.7 MiB resident in
    /// that second arena; from `main`, all ended at 15-16 MiB, as with MALLOC_ARENA_MAX=1. The
    /// MALLOC_ARENA_MAX environment variable, when set, still wins.
    public static func limit() {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = mallopt(M_ARENA_MAX, 1)
    }
}
#else
public enum MallocArenas {
    public static func limit() {}
}
#endif
