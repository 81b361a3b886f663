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
    private let file: SQLiteFile

    /// Opens (creating if missing, together with its directory) the store at `path` and brings its
    /// schema up to date. A file that is not a usable database is reported as
    /// ``ChatStoreError/cannotOpen(path:reason:)`` rather than overwritten: it may be someone's data.
    public init(path: String, retention: ChatRetention = ChatRetention(),
                logger: Logger = Logger(label: "videophone.chat-store")) throws {
        self.path = path
        self.retention = retention
        do {
            file = try SQLiteFile(path: path, label: "videophone.chat", migrator: Self.migrator, logger: logger,
                                  closedError: { ChatStoreError.closed })
        } catch {
            throw ChatStoreError.cannotOpen(path: path, reason: SQLiteFile.describe(error))
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
        try file.write { db in
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
        return try file.read { db in
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
        return try file.write { db in
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

    public func close() { file.close() }
}
