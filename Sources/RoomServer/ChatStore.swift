import Foundation
import SignalingCore
import Synchronization

/// Where chat messages live between a `chat:message` and the next `room:joined` (which carries the
/// room's history).
///
/// A small synchronous protocol so that the embedded SQLite store, the in-memory store used by tests and
/// `--store memory`, and a later PostgreSQL store (for several server instances) are interchangeable.
/// Implementations are `Sendable` and safe to call from any task; each call is short (one room, a
/// bounded number of rows), so callers may invoke them from their actor without a thread hop.
public protocol ChatStore: Sendable {
    /// Stores `message` in `room` and applies the per-room count limit of the store's retention.
    /// `message.timestamp` must be integer milliseconds since the epoch (as ``ChatMessage/make`` makes).
    func append(room: String, message: ChatMessage) throws
    /// The newest `limit` messages of `room`, oldest first (the order a chat window shows them).
    func history(room: String, limit: Int) throws -> [ChatMessage]
    /// Applies the whole retention policy (age, and count in case it was lowered since the messages were
    /// written) and returns how many messages were removed. The server calls it at start and on a timer.
    func prune(now: Date) throws -> Int
    /// Releases the store (graceful shutdown). Later calls throw.
    func close()
}

/// How much chat is kept. Both limits apply; whichever removes more wins.
public struct ChatRetention: Sendable, Equatable {
    /// Messages kept per room; older ones are removed as new ones arrive.
    public var maxMessagesPerRoom: Int
    /// Messages older than this (by their timestamp) are removed by ``ChatStore/prune(now:)``.
    public var maxAge: TimeInterval

    public init(maxMessagesPerRoom: Int = 200, maxAge: TimeInterval = 30 * 24 * 3600) {
        precondition(maxMessagesPerRoom >= 1 && maxAge > 0, "retention keeps at least one message for some time")
        self.maxMessagesPerRoom = maxMessagesPerRoom
        self.maxAge = maxAge
    }

    /// Messages with a timestamp (ms) below this are expired at `now`.
    func cutoffMilliseconds(now: Date) -> Int64 {
        now.millisecondsSince1970 - Int64((maxAge * 1000).rounded(.down))
    }
}

public enum ChatStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The store file could not be opened or is not a database we can use (corrupt, wrong format,
    /// unwritable directory).
    case cannotOpen(path: String, reason: String)
    /// `close()` was called.
    case closed
    /// The message's timestamp is not integer milliseconds, so retention by age could not apply to it.
    case invalidTimestamp(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open chat store at \(path): \(reason)"
        case .closed: return "chat store is closed"
        case .invalidTimestamp(let t): return "chat message timestamp '\(t)' is not integer milliseconds"
        }
    }
}

extension ChatMessage {
    /// A message the server accepts from `chat:message`: the text validated and trimmed (see
    /// ``InputRules/chatText(_:)``), a server-made id (clients cannot choose or collide ids) and the
    /// server's clock in milliseconds since the epoch as text (what the seed's browser app shows).
    public static func make(
        senderId: String, userName: String, text: String, now: Date,
        id: String = UUID().uuidString.lowercased()
    ) throws(InvalidInput) -> ChatMessage {
        let text = try InputRules.chatText(text)
        return ChatMessage(id: id, userName: userName, senderId: senderId, text: text,
                           timestamp: String(now.millisecondsSince1970))
    }

    /// The timestamp as stored: integer milliseconds.
    func storedTimestamp() throws(ChatStoreError) -> Int64 {
        guard let ms = Int64(timestamp) else { throw .invalidTimestamp(timestamp) }
        return ms
    }
}

extension Date {
    var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// Chat kept in memory: for tests and `--store memory` (history is lost on restart, as in the seed).
@available(macOS 15.0, *)
public final class InMemoryChatStore: ChatStore {
    public let retention: ChatRetention

    private struct State {
        var rooms: [String: [ChatMessage]] = [:]
        var closed = false
    }
    /// A `Mutex` rather than an actor because the protocol is synchronous (see ``ChatStore``).
    private let state = Mutex(State())

    public init(retention: ChatRetention = ChatRetention()) { self.retention = retention }

    public func append(room: String, message: ChatMessage) throws {
        _ = try message.storedTimestamp()
        let limit = retention.maxMessagesPerRoom
        try state.withLock { (s: inout State) throws(ChatStoreError) in
            guard !s.closed else { throw .closed }
            s.rooms[room, default: []].append(message)
            if let count = s.rooms[room]?.count, count > limit { s.rooms[room]?.removeFirst(count - limit) }
        }
    }

    public func history(room: String, limit: Int) throws -> [ChatMessage] {
        try state.withLock { (s: inout State) throws(ChatStoreError) in
            guard !s.closed else { throw .closed }
            return Array((s.rooms[room] ?? []).suffix(max(0, limit)))
        }
    }

    public func prune(now: Date) throws -> Int {
        let cutoff = retention.cutoffMilliseconds(now: now), limit = retention.maxMessagesPerRoom
        return try state.withLock { (s: inout State) throws(ChatStoreError) in
            guard !s.closed else { throw .closed }
            var removed = 0
            for (room, messages) in s.rooms {
                // Timestamps were validated on append.
                var kept = messages.filter { (Int64($0.timestamp) ?? .min) >= cutoff }
                if kept.count > limit { kept.removeFirst(kept.count - limit) }
                removed += messages.count - kept.count
                s.rooms[room] = kept.isEmpty ? nil : kept
            }
            return removed
        }
    }

    public func close() {
        state.withLock { $0 = State(rooms: [:], closed: true) }
    }
}
