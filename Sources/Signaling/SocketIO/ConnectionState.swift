import Synchronization

/// What a person (or the daemon's state machine) sees of the signaling connection.
public enum ConnectionState: Sendable, Equatable, CustomStringConvertible {
    case connecting
    case connected(sid: String, transport: String)
    /// Waiting before (or making) reconnection attempt `attempt`; `lastError` says why the last one failed.
    case reconnecting(attempt: Int, lastError: SignalingError)
    case closed(SignalingError)

    public var description: String {
        switch self {
        case .connecting: return "connecting"
        case .connected(_, let transport): return "connected (\(transport))"
        case .reconnecting(let attempt, let error): return "reconnecting (attempt \(attempt)): \(error)"
        case .closed(let error): return "closed: \(error)"
        }
    }

    public var isConnected: Bool { if case .connected = self { return true } else { return false } }
}

/// A value many tasks can watch: each `updates()` stream starts with the current value.
final class Broadcast<Value: Sendable & Equatable>: Sendable {
    private struct State {
        var value: Value
        var continuations: [Int: AsyncStream<Value>.Continuation] = [:]
        var nextID = 0
    }
    // Held only for a dictionary update; yields happen outside the lock.
    private let state: Mutex<State>

    init(_ initial: Value) { state = Mutex(State(value: initial)) }

    var current: Value { state.withLock { $0.value } }

    func set(_ newValue: Value) {
        let targets = state.withLock { s -> [AsyncStream<Value>.Continuation] in
            guard s.value != newValue else { return [] }
            s.value = newValue
            return Array(s.continuations.values)
        }
        for c in targets { c.yield(newValue) }
    }

    func updates() -> AsyncStream<Value> {
        let (stream, continuation) = AsyncStream.makeStream(of: Value.self, bufferingPolicy: .bufferingNewest(64))
        let id = state.withLock { s -> Int in
            s.nextID += 1
            s.continuations[s.nextID] = continuation
            continuation.yield(s.value)
            return s.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    func finish() {
        let targets = state.withLock { s -> [AsyncStream<Value>.Continuation] in
            defer { s.continuations.removeAll() }
            return Array(s.continuations.values)
        }
        for c in targets { c.finish() }
    }
}
