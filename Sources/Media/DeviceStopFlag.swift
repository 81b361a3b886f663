import Foundation
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

/// The shape every capture device shares: a blocking loop on its own named thread feeding an
/// AsyncStream, stopped when the consumer drops the stream.
public enum DeviceThread {
    /// Starts `body` on a new thread named `name`; ending the stream sets the stop flag it polls.
    public static func stream<Event: Sendable>(
        named name: String, bufferingNewest limit: Int,
        _ body: @escaping @Sendable (AsyncStream<Event>.Continuation, DeviceStopFlag) -> Void
    ) -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(limit))
        let stop = DeviceStopFlag()
        continuation.onTermination = { _ in stop.set() }
        let thread = Thread { body(continuation, stop) }
        thread.name = name
        thread.start()
        return stream
    }

    /// Only the values `pick` extracts from `events` (e.g. the frames among device events).
    public static func only<Event: Sendable, Value: Sendable>(
        _ events: AsyncStream<Event>, bufferingNewest limit: Int, _ pick: @escaping @Sendable (Event) -> Value?
    ) -> AsyncStream<Value> {
        AsyncStream(bufferingPolicy: .bufferingNewest(limit)) { continuation in
            let task = Task {
                for await event in events { if let value = pick(event) { continuation.yield(value) } }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
