import Foundation
import RoomServer
import SignalingCore
import Testing

/// A device store under test, on its own temporary directory (removed by `cleanUp`).
enum DeviceStoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite
    var testDescription: String { rawValue }

    func make() throws -> (store: any DeviceStore, cleanUp: @Sendable () -> Void) {
        switch self {
        case .memory:
            // Always true on Linux; InMemoryDeviceStore's Mutex needs macOS 15.
            guard #available(macOS 15.0, *) else { throw DeviceStoreError.closed }
            return (InMemoryDeviceStore(), {})
        case .sqlite:
            let dir = TemporaryDirectory()
            return (try SQLiteDeviceStore(path: dir.file("devices.sqlite")), dir.remove)
        }
    }
}

/// A config as an admin tool would make it (the store neither parses the document nor checks the
/// signature, so a fixed 64-byte signature does).
private func config(_ deviceId: String, _ version: Int, keyId: String? = "admin-1") -> SignedDeviceConfig {
    SignedDeviceConfig(
        deviceId: deviceId, version: version,
        document: #"{"deviceId":"\#(deviceId)","version":\#(version)}"#,
        signature: Data(repeating: UInt8(truncatingIfNeeded: version), count: 64).base64EncodedString(),
        keyId: keyId)
}

private func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

@Suite struct DeviceStoreTests {
    @Test(arguments: DeviceStoreKind.allCases)
    func storeAndLatest(kind: DeviceStoreKind) throws {
        let (store, cleanUp) = try kind.make()
        defer { store.close(); cleanUp() }
        #expect(try store.latestConfig(deviceId: "kitchen") == nil)

        try store.storeConfig(config("kitchen", 1), now: t0)
        #expect(try store.latestConfig(deviceId: "kitchen") == config("kitchen", 1))

        let unnamedKey = config("kitchen", 5, keyId: nil)
        try store.storeConfig(unnamedKey, now: t0 + 1)
        #expect(try store.latestConfig(deviceId: "kitchen") == unnamedKey)
        #expect(try store.latestConfig(deviceId: "hall") == nil)
    }

    @Test(arguments: DeviceStoreKind.allCases)
    func staleVersionRefusedWithCurrentAndChangesNothing(kind: DeviceStoreKind) throws {
        let (store, cleanUp) = try kind.make()
        defer { store.close(); cleanUp() }
        try store.storeConfig(config("kitchen", 3), now: t0)

        var replayed = config("kitchen", 3)
        replayed.document = #"{"deviceId":"kitchen","version":3,"room":"elsewhere"}"#
        #expect(throws: DeviceStoreError.staleVersion(current: 3)) { try store.storeConfig(replayed, now: t0 + 1) }
        #expect(throws: DeviceStoreError.staleVersion(current: 3)) { try store.storeConfig(config("kitchen", 2), now: t0 + 1) }
        #expect(try store.latestConfig(deviceId: "kitchen") == config("kitchen", 3))
        #expect(try store.devices().map(\.latestVersion) == [3])

        // Versions are per device.
        try store.storeConfig(config("hall", 1), now: t0)
        try store.storeConfig(config("kitchen", 4), now: t0)
        #expect(try store.devices().map(\.latestVersion) == [1, 4])
        #expect(DeviceStoreError.staleVersion(current: 3).description.contains("3"))
    }

    @Test(arguments: DeviceStoreKind.allCases)
    func helloAndResultRecordedAndListed(kind: DeviceStoreKind) throws {
        let (store, cleanUp) = try kind.make()
        defer { store.close(); cleanUp() }
        #expect(try store.devices().isEmpty)

        try store.recordHello(DeviceHello(deviceId: "hall", configVersion: 0), now: t0)
        try store.storeConfig(config("kitchen", 2), now: t0)
        #expect(try store.devices() == [
            DeviceRecord(deviceId: "hall", reportedVersion: 0, lastSeen: ms(t0)),
            DeviceRecord(deviceId: "kitchen", latestVersion: 2),
        ])

        let refused = DeviceConfigResult(version: 2, ok: false, errors: ["signature does not verify", "é ✓"])
        try store.recordHello(DeviceHello(deviceId: "kitchen", configVersion: 1), now: t0 + 10)
        try store.recordResult(deviceId: "kitchen", result: refused, now: t0 + 11)
        #expect(try store.devices() == [
            DeviceRecord(deviceId: "hall", reportedVersion: 0, lastSeen: ms(t0)),
            DeviceRecord(deviceId: "kitchen", latestVersion: 2, reportedVersion: 1, lastResult: refused,
                         lastSeen: ms(t0 + 11)),
        ])

        // A hello keeps the last result, a result keeps the reported version; both move lastSeen.
        let applied = DeviceConfigResult(version: 2, ok: true)
        try store.recordResult(deviceId: "kitchen", result: applied, now: t0 + 20)
        try store.recordHello(DeviceHello(deviceId: "kitchen", configVersion: 2), now: t0 + 21.5)
        // A result from a device that never said hello still lists it.
        try store.recordResult(deviceId: "attic", result: refused, now: t0 + 30)
        #expect(try store.devices() == [
            DeviceRecord(deviceId: "attic", lastResult: refused, lastSeen: ms(t0 + 30)),
            DeviceRecord(deviceId: "hall", reportedVersion: 0, lastSeen: ms(t0)),
            DeviceRecord(deviceId: "kitchen", latestVersion: 2, reportedVersion: 2, lastResult: applied,
                         lastSeen: ms(t0 + 21.5)),
        ])
        #expect(ms(t0 + 21.5) == 1_700_000_021_500)
    }

    @Test(arguments: DeviceStoreKind.allCases)
    func devicesSortedByIdBytes(kind: DeviceStoreKind) throws {
        let (store, cleanUp) = try kind.make()
        defer { store.close(); cleanUp() }
        let ids = ["b", "A", "a.1", "_x", "Z-9", "10", "9", "a:1", "a-1"]
        for (n, id) in ids.enumerated() {
            if n.isMultiple(of: 2) {
                try store.storeConfig(config(id, n + 1), now: t0)
            } else {
                try store.recordHello(DeviceHello(deviceId: id, configVersion: n), now: t0)
            }
        }
        try store.recordResult(deviceId: "b", result: DeviceConfigResult(version: 1, ok: true), now: t0)
        #expect(try store.devices().map(\.deviceId) == ["10", "9", "A", "Z-9", "_x", "a-1", "a.1", "a:1", "b"])
    }

    @Test(arguments: DeviceStoreKind.allCases)
    func concurrentPostsOfOneVersionStoreItOnce(kind: DeviceStoreKind) async throws {
        let (store, cleanUp) = try kind.make()
        defer { store.close(); cleanUp() }
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    do {
                        try store.storeConfig(config("kitchen", 7), now: t0)
                        return true
                    } catch DeviceStoreError.staleVersion(current: 7) {
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(outcomes.count == 40)
    }

    @Test(arguments: DeviceStoreKind.allCases)
    func refusesUseAfterClose(kind: DeviceStoreKind) throws {
        let (store, cleanUp) = try kind.make()
        defer { cleanUp() }
        try store.storeConfig(config("kitchen", 1), now: t0)
        store.close()
        store.close()
        #expect(throws: DeviceStoreError.closed) { try store.storeConfig(config("kitchen", 2), now: t0) }
        #expect(throws: DeviceStoreError.closed) { try store.latestConfig(deviceId: "kitchen") }
        #expect(throws: DeviceStoreError.closed) {
            try store.recordHello(DeviceHello(deviceId: "kitchen", configVersion: 1), now: t0)
        }
        #expect(throws: DeviceStoreError.closed) {
            try store.recordResult(deviceId: "kitchen", result: DeviceConfigResult(version: 1, ok: true), now: t0)
        }
        #expect(throws: DeviceStoreError.closed) { try store.devices() }
    }

    @Test func sqliteSurvivesReopeningWithTheSignedBytesIntact() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // A nested directory that does not exist yet, as on a first start.
        let path = dir.file("state/devices.sqlite")
        // Decomposed "é" (e + U+0301), a raw tab and escapes: bytes a re-encoding or normalisation would change.
        let document = "{\"deviceId\":\"kitchen\", \"version\":9,\t\"name\":\"Cafe\u{301}\",\"e\":\"\\u00e9\\/\"}"
        var signed = config("kitchen", 9)
        signed.document = document
        let result = DeviceConfigResult(version: 8, ok: false, errors: ["older"])

        let first = try SQLiteDeviceStore(path: path)
        try first.storeConfig(signed, now: t0)
        try first.recordHello(DeviceHello(deviceId: "kitchen", configVersion: 8), now: t0 + 1)
        try first.recordResult(deviceId: "kitchen", result: result, now: t0 + 2)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "WAL mode")
        let before = try first.devices()
        first.close()

        let second = try SQLiteDeviceStore(path: path)
        defer { second.close() }
        let stored = try #require(try second.latestConfig(deviceId: "kitchen"))
        #expect(stored == signed)
        #expect(Array(stored.document.utf8) == Array(document.utf8))
        #expect(stored.signedBytes == Data(document.utf8))
        #expect(try second.devices() == before)
        #expect(before == [DeviceRecord(deviceId: "kitchen", latestVersion: 9, reportedVersion: 8, lastResult: result,
                                        lastSeen: ms(t0 + 2))])
        // Versions still only go up after a restart.
        #expect(throws: DeviceStoreError.staleVersion(current: 9)) { try second.storeConfig(config("kitchen", 9), now: t0) }
    }

    @Test func sqliteReportsAFileThatIsNotADatabase() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(at: dir.url, withIntermediateDirectories: true)
        let path = dir.file("devices.sqlite")
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: path))

        #expect {
            _ = try SQLiteDeviceStore(path: path)
        } throws: { error in
            guard case DeviceStoreError.cannotOpen(let p, let reason) = error else { return false }
            return p == path && reason.contains("not a database")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x42, count: 4096))
    }
}
