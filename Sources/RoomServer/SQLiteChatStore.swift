import Foundation
import GRDB
import Logging
import SignalingCore

/// Chat in an SQLite file (the embedded default): history survives a server restart.
///
/// One GRDB `DatabaseQueue` (a single serialised connection, `Sendable`) is plenty for a signaling
/// server, whose chat traffic is a few short statements per message; WAL mode keeps each commit cheap
/// and lets tools such as `sqlite3` read the file while the server runs.
public final class SQLiteChatStore: ChatStore {
    public let path: String
    public let retention: ChatRetention
    private let dbQueue: DatabaseQueue
    private let logger: Logger

    /// Opens (creating if missing, together with its directory) the store at `path` and brings its
    /// schema up to date. A file that is not a usable database is reported as
    /// ``ChatStoreError/cannotOpen(path:reason:)`` rather than overwritten: it may be someone's data.
    public init(path: String, retention: ChatRetention = ChatRetention(),
                logger: Logger = Logger(label: "videophone.chat-store")) throws {
        self.path = path
        self.retention = retention
        self.logger = logger
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var config = Configuration()
            config.label = "videophone.chat"
            config.journalMode = .wal
            // Another process (a backup, an operator's sqlite3) may hold the lock briefly.
            config.busyMode = .timeout(5)
            dbQueue = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(dbQueue)
        } catch {
            throw ChatStoreError.cannotOpen(path: path, reason: Self.describe(error))
        }
    }

    /// Schema versions. Add migrations at the end; never edit a shipped one (files in the field have
    /// already applied it).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: chat_message") { db in
            // `seq` gives the insertion order (timestamps can tie or go backwards with the clock);
            // AUTOINCREMENT so a deleted row's seq is never reused for a later message.
            try db.execute(sql: """
                CREATE TABLE chat_message (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    room TEXT NOT NULL,
                    id TEXT NOT NULL,
                    userName TEXT NOT NULL,
                    senderId TEXT NOT NULL,
                    text TEXT NOT NULL,
                    timestamp INTEGER NOT NULL
                );
                CREATE INDEX chat_message_room_seq ON chat_message(room, seq);
                CREATE INDEX chat_message_timestamp ON chat_message(timestamp);
                """)
        }
        return migrator
    }

    public func append(room: String, message: ChatMessage) throws {
        let timestamp = try message.storedTimestamp()
        let keep = retention.maxMessagesPerRoom
        try inWriteTransaction { db in
            try db.execute(
                sql: """
                    INSERT INTO chat_message (room, id, userName, senderId, text, timestamp)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [room, message.id, message.userName, message.senderId, message.text, timestamp])
            // Trim the room to its newest `keep` messages (the index on (room, seq) serves both parts).
            try db.execute(
                sql: """
                    DELETE FROM chat_message WHERE room = ? AND seq <= (
                        SELECT seq FROM chat_message WHERE room = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)
                    """,
                arguments: [room, room, keep])
        }
    }

    public func history(room: String, limit: Int) throws -> [ChatMessage] {
        guard limit > 0 else { return [] }
        return try withOpenDatabase { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, userName, senderId, text, timestamp FROM chat_message
                    WHERE room = ? ORDER BY seq DESC LIMIT ?
                    """,
                arguments: [room, limit])
            return rows.reversed().map { row in
                ChatMessage(id: row["id"], userName: row["userName"], senderId: row["senderId"],
                            text: row["text"], timestamp: String(row["timestamp"] as Int64))
            }
        }
    }

    public func prune(now: Date) throws -> Int {
        let cutoff = retention.cutoffMilliseconds(now: now)
        let keep = retention.maxMessagesPerRoom
        return try inWriteTransaction { db in
            try db.execute(sql: "DELETE FROM chat_message WHERE timestamp < ?", arguments: [cutoff])
            let expired = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM chat_message WHERE seq IN (
                        SELECT seq FROM (
                            SELECT seq, ROW_NUMBER() OVER (PARTITION BY room ORDER BY seq DESC) AS rank
                            FROM chat_message)
                        WHERE rank > ?)
                    """,
                arguments: [keep])
            return expired + db.changesCount
        }
    }

    /// Runs `body` on the connection, or throws ``ChatStoreError/closed`` after `close()`. GRDB's
    /// `read`/`write` dereference a closed connection (a crash, not an error), so every access goes
    /// through `inDatabase`, which is serialised with `close()` on the same queue (the check cannot
    /// race), and checks first.
    private func withOpenDatabase<T>(_ body: (Database) throws -> T) throws -> T {
        try dbQueue.inDatabase { db in
            guard db.sqliteConnection != nil else { throw ChatStoreError.closed }
            return try body(db)
        }
    }

    /// `body` in one IMMEDIATE transaction (taking the write lock up front, so a concurrent external
    /// reader cannot make the upgrade fail half-way), committed if it returns, rolled back if it throws.
    private func inWriteTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try withOpenDatabase { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!  // set: the transaction ran `body` to completion
        }
    }

    /// Closes the connection, which also checkpoints the WAL into the main file. A failure is logged,
    /// not thrown: at shutdown there is nothing better to do, and SQLite's journal keeps the data safe.
    public func close() {
        do {
            try dbQueue.close()
        } catch {
            logger.error("closing chat store failed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// SQLite's message ("file is not a database") is the useful part of a GRDB error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        if let error = error as? CocoaError, let path = error.filePath { return "\(error.localizedDescription) (\(path))" }
        return "\(error)"
    }
}
