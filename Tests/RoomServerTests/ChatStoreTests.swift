import Foundation
import RoomServer
import SignalingCore
import Testing

/// A store under test, on its own temporary directory (removed by `cleanUp`).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite
    var testDescription: String { rawValue }

    func make(_ retention: ChatRetention = ChatRetention()) throws -> (store: any ChatStore, cleanUp: @Sendable () -> Void) {
        switch self {
        case .memory:
            // Always true on Linux; InMemoryChatStore's Mutex needs macOS 15.
            guard #available(macOS 15.0, *) else { throw ChatStoreError.closed }
            return (InMemoryChatStore(retention: retention), {})
        case .sqlite:
            let dir = TemporaryDirectory()
            return (try SQLiteChatStore(path: dir.file("chat.sqlite"), retention: retention), dir.remove)
        }
    }
}

struct TemporaryDirectory: Sendable {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("roomserver-\(UUID().uuidString)")
    func file(_ name: String) -> String { url.appendingPathComponent(name).path }
    @Sendable func remove() { try? FileManager.default.removeItem(at: url) }
}

let t0 = Date(timeIntervalSince1970: 1_700_000_000)

func message(_ n: Int, at date: Date = t0, sender: String = "A") -> ChatMessage {
    ChatMessage(id: "m\(n)", userName: "Alice", senderId: sender, text: "hello \(n)",
                timestamp: String(Int64(date.timeIntervalSince1970 * 1000)))
}

@Suite struct ChatStoreTests {
    @Test(arguments: StoreKind.allCases)
    func appendAndHistoryOldestFirst(kind: StoreKind) throws {
        let (store, cleanUp) = try kind.make()
        defer { store.close(); cleanUp() }
        for n in 1...5 { try store.append(room: "one", message: message(n)) }
        try store.append(room: "two", message: message(99))

        #expect(try store.history(room: "one", limit: 10).map(\.id) == ["m1", "m2", "m3", "m4", "m5"])
        #expect(try store.history(room: "one", limit: 2).map(\.id) == ["m4", "m5"])
        #expect(try store.history(room: "one", limit: 0).isEmpty)
        #expect(try store.history(room: "two", limit: 10) == [message(99)])
        #expect(try store.history(room: "none", limit: 10).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func retentionByCountOnAppend(kind: StoreKind) throws {
        let (store, cleanUp) = try kind.make(ChatRetention(maxMessagesPerRoom: 3))
        defer { store.close(); cleanUp() }
        for n in 1...10 { try store.append(room: "one", message: message(n)) }
        try store.append(room: "two", message: message(100))
        #expect(try store.history(room: "one", limit: 100).map(\.id) == ["m8", "m9", "m10"])
        #expect(try store.history(room: "two", limit: 100).map(\.id) == ["m100"])
        #expect(try store.prune(now: t0) == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func retentionByAgeInPrune(kind: StoreKind) throws {
        let day: TimeInterval = 24 * 3600
        let (store, cleanUp) = try kind.make(ChatRetention(maxAge: 7 * day))
        defer { store.close(); cleanUp() }
        try store.append(room: "old", message: message(1, at: t0))
        try store.append(room: "mixed", message: message(2, at: t0))
        try store.append(room: "mixed", message: message(3, at: t0 + 2 * day))
        try store.append(room: "mixed", message: message(4, at: t0 + 7 * day))

        let now = t0 + 7 * day + 1
        #expect(try store.prune(now: now) == 2)
        #expect(try store.history(room: "old", limit: 10).isEmpty)
        #expect(try store.history(room: "mixed", limit: 10).map(\.id) == ["m3", "m4"])
        #expect(try store.prune(now: now) == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentAppendsAreAllKept(kind: StoreKind) async throws {
        let (store, cleanUp) = try kind.make()
        defer { store.close(); cleanUp() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<50 { group.addTask { try store.append(room: "busy", message: message(n)) } }
            try await group.waitForAll()
        }
        #expect(Set(try store.history(room: "busy", limit: 100).map(\.id)).count == 50)
    }

    @Test(arguments: StoreKind.allCases)
    func refusesUseAfterCloseAndBadTimestamps(kind: StoreKind) throws {
        let (store, cleanUp) = try kind.make()
        defer { cleanUp() }
        var bad = message(1)
        bad.timestamp = "yesterday"
        #expect(throws: ChatStoreError.invalidTimestamp("yesterday")) { try store.append(room: "r", message: bad) }
        store.close()
        store.close()
        #expect(throws: (any Error).self) { try store.append(room: "r", message: message(2)) }
        #expect(throws: (any Error).self) { try store.history(room: "r", limit: 1) }
    }

    @Test func sqliteHistorySurvivesReopening() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // A nested directory that does not exist yet, as on a first start.
        let path = dir.file("state/chat/chat.sqlite")
        let first = try SQLiteChatStore(path: path)
        let sent = try ChatMessage.make(senderId: "A", userName: "Alice", text: "  still here?  ", now: t0)
        try first.append(room: "lobby", message: sent)
        try first.append(room: "lobby", message: message(2))
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "WAL mode")
        first.close()

        let second = try SQLiteChatStore(path: path)
        defer { second.close() }
        #expect(try second.history(room: "lobby", limit: 10) == [sent, message(2)])
        #expect(sent.text == "still here?")
        #expect(sent.timestamp == "1700000000000")
    }

    @Test func sqliteRetentionLoweredSinceWritingIsAppliedByPrune() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("chat.sqlite")
        let generous = try SQLiteChatStore(path: path)
        for n in 1...6 { try generous.append(room: "r", message: message(n)) }
        generous.close()

        let strict = try SQLiteChatStore(path: path, retention: ChatRetention(maxMessagesPerRoom: 2))
        defer { strict.close() }
        #expect(try strict.prune(now: t0) == 4)
        #expect(try strict.history(room: "r", limit: 10).map(\.id) == ["m5", "m6"])
    }

    @Test func sqliteReportsAFileThatIsNotADatabase() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(at: dir.url, withIntermediateDirectories: true)
        let path = dir.file("chat.sqlite")
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: path))

        #expect {
            _ = try SQLiteChatStore(path: path)
        } throws: { error in
            guard case ChatStoreError.cannotOpen(let p, let reason) = error else { return false }
            return p == path && reason.contains("not a database")
        }
        // The file is left as it was: it may be someone's data.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x42, count: 4096))
    }

    @Test func makeValidatesText() throws {
        let m = try ChatMessage.make(senderId: "A", userName: "Alice", text: "line one\nline two", now: t0, id: "x")
        #expect(m == ChatMessage(id: "x", userName: "Alice", senderId: "A", text: "line one\nline two", timestamp: "1700000000000"))
        #expect(throws: InvalidInput("message is empty")) {
            try ChatMessage.make(senderId: "A", userName: "Alice", text: " \n ", now: t0)
        }
        #expect(throws: InvalidInput("message is longer than 2000 characters")) {
            try ChatMessage.make(senderId: "A", userName: "Alice", text: String(repeating: "x", count: 2001), now: t0)
        }
        #expect(throws: InvalidInput.self) {
            try ChatMessage.make(senderId: "A", userName: "Alice", text: "bell\u{7}", now: t0)
        }
        let ids = try (0..<100).map { _ in try ChatMessage.make(senderId: "A", userName: "A", text: "x", now: t0).id }
        #expect(Set(ids).count == 100)
    }
}
