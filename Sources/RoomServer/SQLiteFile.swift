import Foundation
import GRDB
import Logging

/// One SQLite file as the stores use it: created with its directory, WAL mode, a busy timeout for
/// outside readers, schema migrations, every access refused after `close()`, and writes in one
/// IMMEDIATE transaction. Shared by ``SQLiteChatStore`` and ``SQLiteDeviceStore``.
final class SQLiteFile: Sendable {
    let path: String
    private let dbQueue: DatabaseQueue
    private let logger: Logger
    private let closedError: @Sendable () -> any Error

    /// Throws the underlying error; callers report it as their own `cannotOpen(path:reason:)` with
    /// ``describe(_:)``. A file that is not a usable database is never overwritten: it may be someone's data.
    init(path: String, label: String, migrator: DatabaseMigrator, logger: Logger,
         closedError: @escaping @Sendable () -> any Error) throws {
        self.path = path
        self.logger = logger
        self.closedError = closedError
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.label = label
        config.journalMode = .wal
        // Another process (a backup, an operator's sqlite3) may hold the lock briefly.
        config.busyMode = .timeout(5)
        dbQueue = try DatabaseQueue(path: path, configuration: config)
        try migrator.migrate(dbQueue)
    }

    /// Runs `body` on the connection, or throws the store's `closed` error after `close()`. GRDB's
    /// `read`/`write` dereference a closed connection (a crash, not an error), so every access goes
    /// through `inDatabase`, which is serialised with `close()` on the same queue (the check cannot
    /// race), and checks first.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try dbQueue.inDatabase { db in
            guard db.sqliteConnection != nil else { throw closedError() }
            return try body(db)
        }
    }

    /// `body` in one IMMEDIATE transaction (taking the write lock up front, so a concurrent external
    /// reader cannot make the upgrade fail half-way), committed if it returns, rolled back if it throws.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try read { db in
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
    func close() {
        do {
            try dbQueue.close()
        } catch {
            logger.error("closing database failed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// SQLite's message ("file is not a database") is the useful part of a GRDB error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        if let error = error as? CocoaError, let path = error.filePath { return "\(error.localizedDescription) (\(path))" }
        return "\(error)"
    }
}
