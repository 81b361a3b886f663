import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A flag that stops a device thread (camera, microphone, speaker, buttons): the consumer sets
/// it, the thread checks it between blocking calls and can sleep on it during a backoff.
public final class DeviceStopFlag: Sendable {
    private let state = Mutex(false)

    public init() {}

    public var isSet: Bool { state.withLock { $0 } }
    public func set() { state.withLock { $0 = true } }

    /// Sleeps up to `seconds`, waking within 50 ms of a stop.
    public func wait(seconds: Double) {
        var remaining = seconds
        while remaining > 0, !isSet {
            usleep(UInt32(min(remaining, 0.05) * 1_000_000))
            remaining -= 0.05
        }
    }
}
