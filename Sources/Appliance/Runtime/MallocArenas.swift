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
import Codec
import Glibc

public enum MallocArenas {
    /// One glibc arena for this process. Call it first thing in `main`, before any thread starts:
    /// glibc gives each new thread an arena of its own until the limit is set, and those stay.
    /// Called from an async `run()` (on a thread of Swift's pool, which already had one), half
    /// the debug daemon's idle trims after a call ended at 25-30 MiB with 15.7 MiB resident in
    /// that second arena; from `main`, all ended at 15-16 MiB, as with MALLOC_ARENA_MAX=1. The
    /// MALLOC_ARENA_MAX environment variable, when set, still wins. It also fixes the mmap and
    /// trim thresholds (below; MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_, when set, win).
    public static func limit() {
        if getenv("MALLOC_ARENA_MAX") == nil { _ = mallopt(M_ARENA_MAX, 1) }
        if getenv("MALLOC_MMAP_THRESHOLD_") == nil, getenv("MALLOC_TRIM_THRESHOLD_") == nil {
            // Codec lowers it for a moment while libvpx allocates frame buffers, and sets it back.
            FrameBufferMemory.fixMmapThreshold(at: mmapThreshold)
            _ = mallopt(M_TRIM_THRESHOLD, Int32(trimThreshold))
        }
    }

    /// Blocks of 4 MiB and more get pages of their own. glibc's default threshold starts at 128 KiB
    /// and rises to the size of each mapped block freed (up to 32 MiB), so where a block lands
    /// depended on what was freed before: the VP8 encoder's token buffer (7 MiB at 640x480,
    /// 21 MiB at 1280x720, zero-filled by libvpx) was mapped in a process's first call and came
    /// from the heap in the next, where Codec's ZeroFilledBlock cannot give its pages back.
    /// Frames (at most 3 MiB, 1920x1080 I420) and libvpx's reference frames stay on the heap.
    static let mmapThreshold = 4 << 20
    /// Setting the mmap threshold freezes the trim threshold at glibc's 128 KiB default (the
    /// dynamic one was twice the mmap threshold): the heap's free top would go back to the kernel
    /// and be faulted in again at every frame freed at the top. 8 MiB keeps that churn away;
    /// WorkingSet's malloc_trim still gives everything back when a call starts and when idle.
    static let trimThreshold = 8 << 20
}
#else
public enum MallocArenas {
    public static func limit() {}
}
#endif
