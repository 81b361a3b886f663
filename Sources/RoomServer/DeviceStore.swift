import Foundation
import GRDB
import Logging
import SignalingCore
import Synchronization

/// A device as `GET /api/devices` lists it: the newest stored configuration and the device's last word.
public struct DeviceRecord: Codable, Sendable, Equatable {
    public var deviceId: String
    /// Version of the newest configuration stored for the device (`nil`: none posted yet).
    public var latestVersion: Int?
    /// The configuration version the device reported in its last `device:hello`.
    public var reportedVersion: Int?
    /// The device's last `device:config:result`.
    public var lastResult: DeviceConfigResult?
    /// When the device last said hello or reported a result, in milliseconds since the epoch.
    public var lastSeen: Int64?

    public init(deviceId: String, latestVersion: Int? = nil, reportedVersion: Int? = nil,
                lastResult: DeviceConfigResult? = nil, lastSeen: Int64? = nil) {
        self.deviceId = deviceId
        self.latestVersion = latestVersion
        self.reportedVersion = reportedVersion
        self.lastResult = lastResult
        self.lastSeen = lastSeen
    }
}

/// Where the device channel keeps the latest signed configuration per device and each device's status.
///
/// Synchronous and `Sendable`, like ``ChatStore``: each call is a few rows. Stores do not validate what
/// they are given (the server checks payloads with `validate()` first) and never look at signatures.
public protocol DeviceStore: Sendable {
    /// Stores `config` as the device's latest. Throws ``DeviceStoreError/staleVersion(current:)`` when its
    /// version is not above the one stored (a replayed or older update), leaving the stored one in place.
    func storeConfig(_ config: SignedDeviceConfig, now: Date) throws
    /// The device's latest configuration, exactly as stored, or `nil`.
    func latestConfig(deviceId: String) throws -> SignedDeviceConfig?
    /// Records the version a device reports and when it was seen.
    func recordHello(_ hello: DeviceHello, now: Date) throws
    /// Records a device's answer to a configuration and when it was seen.
    func recordResult(deviceId: String, result: DeviceConfigResult, now: Date) throws
    /// Every device with a stored configuration or a status, sorted by `deviceId` (byte order).
    func devices() throws -> [DeviceRecord]
    /// Releases the store (graceful shutdown). Later calls throw ``DeviceStoreError/closed``.
    func close()
}

public enum DeviceStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The posted version is not above `current`, the version stored for the device.
    case staleVersion(current: Int)
    /// The store file could not be opened or is not a database we can use.
    case cannotOpen(path: String, reason: String)
    /// `close()` was called.
    case closed

    public var description: String {
        switch self {
        case .staleVersion(let current): return "configuration version must be above the stored version \(current)"
        case .cannotOpen(let path, let reason): return "cannot open device store at \(path): \(reason)"
        case .closed: return "device store is closed"
        }
    }
}

extension String {
    /// Byte order of the UTF-8 encoding: what SQLite's default (BINARY) collation sorts by, so both
    /// stores list devices in the same order.
    fileprivate func utf8Precedes(_ other: String) -> Bool { utf8.lexicographicallyPrecedes(other.utf8) }
}

// MARK: - In memory

/// Devices kept in memory: for tests and `--store memory`.
@available(macOS 15.0, *)
public final class InMemoryDeviceStore: DeviceStore {
    private struct State {
        var configs: [String: SignedDeviceConfig] = [:]
        var status: [String: DeviceRecord] = [:]  // reportedVersion, lastResult, lastSeen
        var closed = false
    }
    /// A `Mutex` rather than an actor because the protocol is synchronous (see ``DeviceStore``).
    private let state = Mutex(State())

    public init() {}

    public func storeConfig(_ config: SignedDeviceConfig, now: Date) throws {
        try state.withLock { (s: inout State) throws(DeviceStoreError) in
            guard !s.closed else { throw .closed }
            if let current = s.configs[config.deviceId]?.version, config.version <= current {
                throw .staleVersion(current: current)
            }
            s.configs[config.deviceId] = config
        }
    }

    public func latestConfig(deviceId: String) throws -> SignedDeviceConfig? {
        try state.withLock { (s: inout State) throws(DeviceStoreError) in
            guard !s.closed else { throw .closed }
            return s.configs[deviceId]
        }
    }

    public func recordHello(_ hello: DeviceHello, now: Date) throws {
        try state.withLock { (s: inout State) throws(DeviceStoreError) in
            guard !s.closed else { throw .closed }
            var record = s.status[hello.deviceId] ?? DeviceRecord(deviceId: hello.deviceId)
            record.reportedVersion = hello.configVersion
            record.lastSeen = now.millisecondsSince1970
            s.status[hello.deviceId] = record
        }
    }

    public func recordResult(deviceId: String, result: DeviceConfigResult, now: Date) throws {
        try state.withLock { (s: inout State) throws(DeviceStoreError) in
            guard !s.closed else { throw .closed }
            var record = s.status[deviceId] ?? DeviceRecord(deviceId: deviceId)
            record.lastResult = result
            record.lastSeen = now.millisecondsSince1970
            s.status[deviceId] = record
        }
    }

    public func devices() throws -> [DeviceRecord] {
        try state.withLock { (s: inout State) throws(DeviceStoreError) in
            guard !s.closed else { throw .closed }
            let ids = Set(s.configs.keys).union(s.status.keys)
            return ids.sorted { $0.utf8Precedes($1) }.map { id in
                var record = s.status[id] ?? DeviceRecord(deviceId: id)
                record.latestVersion = s.configs[id]?.version
                return record
            }
        }
    }

    public func close() {
        state.withLock { $0 = State(closed: true) }
    }
}

// MARK: - SQLite

/// Devices in their own SQLite file (the server passes `<state-dir>/devices.sqlite`): configurations
/// and status survive a restart, so a device that reconnects after one still gets its latest update.
///
/// Built like ``SQLiteChatStore``: one GRDB `DatabaseQueue`, WAL, a migrator, every write in one
/// IMMEDIATE transaction, and use after `close()` refused with an error rather than a crash.
public final class SQLiteDeviceStore: DeviceStore {
    public let path: String
    private let file: SQLiteFile
    private let logger: Logger

    /// Opens (creating if missing, together with its directory) the store at `path` and brings its
    /// schema up to date. A file that is not a usable database is reported as
    /// ``DeviceStoreError/cannotOpen(path:reason:)`` rather than overwritten.
    public init(path: String, logger: Logger = Logger(label: "videophone.device-store")) throws {
        self.path = path
        self.logger = logger
        do {
            file = try SQLiteFile(path: path, label: "videophone.devices", migrator: Self.migrator, logger: logger,
                                  closedError: { DeviceStoreError.closed })
        } catch {
            throw DeviceStoreError.cannotOpen(path: path, reason: SQLiteFile.describe(error))
        }
    }

    /// Schema versions. Add migrations at the end; never edit a shipped one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: device_config, device_status") { db in
            // `document` and `signature` are kept as the exact text posted: the signature covers the
            // document's bytes. Times are milliseconds since the epoch.
            try db.execute(sql: """
                CREATE TABLE device_config (
                    deviceId TEXT PRIMARY KEY NOT NULL,
                    version INTEGER NOT NULL,
                    document TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    keyId TEXT,
                    storedAt INTEGER NOT NULL
                );
                CREATE TABLE device_status (
                    deviceId TEXT PRIMARY KEY NOT NULL,
                    reportedVersion INTEGER,
                    lastResultJSON TEXT,
                    lastSeen INTEGER
                );
                """)
        }
        return migrator
    }

    public func storeConfig(_ config: SignedDeviceConfig, now: Date) throws {
        try file.write { db in
            if let current = try Int.fetchOne(db, sql: "SELECT version FROM device_config WHERE deviceId = ?",
                                              arguments: [config.deviceId]),
               config.version <= current {
                throw DeviceStoreError.staleVersion(current: current)
            }
            try db.execute(
                sql: """
                    INSERT INTO device_config (deviceId, version, document, signature, keyId, storedAt)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(deviceId) DO UPDATE SET
                        version = excluded.version, document = excluded.document,
                        signature = excluded.signature, keyId = excluded.keyId, storedAt = excluded.storedAt
                    """,
                arguments: [config.deviceId, config.version, config.document, config.signature, config.keyId,
                            now.millisecondsSince1970])
        }
    }

    public func latestConfig(deviceId: String) throws -> SignedDeviceConfig? {
        try file.read { db in
            try Row.fetchOne(
                db, sql: "SELECT version, document, signature, keyId FROM device_config WHERE deviceId = ?",
                arguments: [deviceId]
            ).map { row in
                SignedDeviceConfig(deviceId: deviceId, version: row["version"], document: row["document"],
                                   signature: row["signature"], keyId: row["keyId"])
            }
        }
    }

    public func recordHello(_ hello: DeviceHello, now: Date) throws {
        try file.write { db in
            try db.execute(
                sql: """
                    INSERT INTO device_status (deviceId, reportedVersion, lastSeen) VALUES (?, ?, ?)
                    ON CONFLICT(deviceId) DO UPDATE SET
                        reportedVersion = excluded.reportedVersion, lastSeen = excluded.lastSeen
                    """,
                arguments: [hello.deviceId, hello.configVersion, now.millisecondsSince1970])
        }
    }

    public func recordResult(deviceId: String, result: DeviceConfigResult, now: Date) throws {
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        try file.write { db in
            try db.execute(
                sql: """
                    INSERT INTO device_status (deviceId, lastResultJSON, lastSeen) VALUES (?, ?, ?)
                    ON CONFLICT(deviceId) DO UPDATE SET
                        lastResultJSON = excluded.lastResultJSON, lastSeen = excluded.lastSeen
                    """,
                arguments: [deviceId, json, now.millisecondsSince1970])
        }
    }

    public func devices() throws -> [DeviceRecord] {
        let rows = try file.read { db in
            try Row.fetchAll(db, sql: """
                SELECT ids.deviceId AS deviceId, c.version AS latestVersion, s.reportedVersion AS reportedVersion,
                       s.lastResultJSON AS lastResultJSON, s.lastSeen AS lastSeen
                FROM (SELECT deviceId FROM device_config UNION SELECT deviceId FROM device_status) AS ids
                LEFT JOIN device_config AS c ON c.deviceId = ids.deviceId
                LEFT JOIN device_status AS s ON s.deviceId = ids.deviceId
                ORDER BY ids.deviceId
                """)
        }
        return rows.map { row in
            let deviceId: String = row["deviceId"]
            var lastResult: DeviceConfigResult?
            if let json: String = row["lastResultJSON"] {
                do {
                    lastResult = try JSONDecoder().decode(DeviceConfigResult.self, from: Data(json.utf8))
                } catch {
                    // Only this store writes the column; one unreadable row must not hide every device.
                    logger.warning("unreadable last result in device store",
                                   metadata: ["deviceId": "\(deviceId)", "error": "\(error)"])
                }
            }
            return DeviceRecord(deviceId: deviceId, latestVersion: row["latestVersion"],
                                reportedVersion: row["reportedVersion"], lastResult: lastResult,
                                lastSeen: row["lastSeen"])
        }
    }

    public func close() { file.close() }
}
