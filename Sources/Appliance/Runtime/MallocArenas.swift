// Resident memory of a long-running media process: glibc's allocator gives each thread that
// allocates its own arena (up to 8 per core), and each arena keeps its own free memory. A call
// runs about ten threads (NIO event loops, the Swift cooperative pool, dispatch workers, the
// media pump), so freed packet and frame buffers stay spread over five or six arenas of about
// 1 MB each. Two arenas hold the same traffic: `videophone peer` at 640x480 dropped from
// 49.5-50.0 to 48.3-48.4 MiB peak RSS with no change in CPU (scripts/bench-media --call).
// Most small allocations never reach an arena's lock anyway: glibc's per-thread cache serves them.
#if canImport(Glibc)
import CGlibc
import Glibc

public enum MallocArenas {
    /// Caps glibc's arenas at two for this process; call before the call starts. The
    /// MALLOC_ARENA_MAX environment variable, when set, still wins.
    public static func limit() {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = mallopt(M_ARENA_MAX, 2)
    }
}
#else
public enum MallocArenas {
    public static func limit() {}
}
#endif
