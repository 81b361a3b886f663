import Appliance
import SystemCrypto
import Foundation
import SignalingCore
import TOMLConfig
import Testing
import TestSupport

@Suite struct RemoteConfigTests {
    let admin = Ed25519PrivateKey()
    let other = Ed25519PrivateKey()
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-remote-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    var fileLayer: [String: TOMLValue] {
        ["signaling.room": .string("home"), "signaling.name": .string("Kitchen"),
         "admin.device_id": .string("kitchen-1"), "state.dir": .string(dir),
         "admin.public_keys": .array([.string(Data(admin.publicKey.rawRepresentation).base64EncodedString())])]
    }

    func manager() -> RemoteConfigManager {
        let loaded = ConfigLoader.load(file: fileLayer, flags: [:])
        return RemoteConfigManager(layers: loaded.layers, store: RemoteConfigStore(directory: dir))
    }

    func signed(_ version: Int, _ settings: [String: TOMLValue], key: Ed25519PrivateKey? = nil,
                device: String = "kitchen-1") throws -> SignedDeviceConfig {
        try RemoteConfigDocument.sign(deviceId: device, version: version, settings: settings, key: key ?? admin, keyId: "admin-1")
    }

    @Test func goodSignatureIsAppliedPersistedAndSurvivesRestart() async throws {
        let m = manager()
        #expect(await m.hello == DeviceHello(deviceId: "kitchen-1", configVersion: 0))
        let update = try signed(1, ["signaling.room": .string("grandma"), "call.auto_answer": .string("after"),
                                    "call.auto_answer_delay": .integer(2), "ice.turn_password": .string("pw")])
        // As it arrives over Socket.IO: the envelope's JSON, the document string untouched.
        let out = await m.receive(update.json)
        #expect(out.result == DeviceConfigResult(version: 1, ok: true), "\(out.result)")
        #expect(out.config?.signaling.room == "grandma" && out.config?.call.autoAnswerDelay == 2)
        #expect(out.changedKeys.contains("signaling.room") && out.changedKeys.contains("call.auto_answer"))
        #expect(await m.appliedVersion == 1)
        let text = try String(contentsOfFile: dir + "/remote-config.toml", encoding: .utf8)
        #expect(text.contains(#"signaling.room = "grandma""#))
        #expect(try String(contentsOfFile: dir + "/remote-config.version", encoding: .utf8) == "1\n")

        // "Restart": a fresh load layers the stored remote settings over the file; flags still win.
        let loaded = ConfigLoader.load(file: fileLayer, flags: [:])
        #expect(loaded.decoding.config.signaling.room == "grandma" && loaded.remoteVersion == 1)
        #expect(loaded.decoding.config.call.autoAnswer == .after)
        #expect(loaded.decoding.config.signaling.name == "Kitchen")
        let withFlag = ConfigLoader.load(file: fileLayer, flags: ["signaling.room": .string("flag-room")])
        #expect(withFlag.decoding.config.signaling.room == "flag-room")

        // The restarted manager remembers the version: replaying v1 is refused.
        let m2 = manager()
        #expect(await m2.hello?.configVersion == 1)
        let replay = await m2.receive(update)
        #expect(!replay.result.ok && replay.result.errors.first?.contains("not above") == true)

        // A second update keeps the previous file.
        let second = await m2.receive(try signed(2, ["signaling.room": .string("hall")]))
        #expect(second.result.ok)
        #expect(try String(contentsOfFile: dir + "/remote-config.toml.previous", encoding: .utf8).contains("grandma"))
    }

    func expectRefused(_ out: RemoteConfigOutcome, _ fragment: String, _ m: RemoteConfigManager) async {
        #expect(!out.result.ok && out.config == nil, "\(out.result)")
        #expect(out.result.errors.joined(separator: " ").contains(fragment), "\(out.result.errors)")
        // Nothing changed.
        #expect(await m.appliedVersion == 0)
        #expect(!FileManager.default.fileExists(atPath: dir + "/remote-config.toml"))
        #expect(await m.config.signaling.room == "home")
    }

    @Test func wrongKeyIsRefused() async throws {
        let m = manager()
        await expectRefused(await m.receive(try signed(1, ["signaling.room": .string("x")], key: other)), "signature", m)
    }

    @Test func tamperedDocumentIsRefused() async throws {
        let m = manager()
        var s = try signed(1, ["signaling.room": .string("grandma")])
        s.document = s.document.replacingOccurrences(of: "grandma", with: "evil-room")
        await expectRefused(await m.receive(s), "signature", m)
        // A signature swapped from another document fails too.
        var swapped = try signed(1, ["signaling.room": .string("grandma")])
        swapped.signature = try signed(1, ["signaling.room": .string("other")]).signature
        await expectRefused(await m.receive(swapped), "signature", m)
    }

    @Test func envelopeVersionMustMatchTheSignedOne() async throws {
        let m = manager()
        var s = try signed(1, ["signaling.room": .string("grandma")])
        s.version = 99   // an old signed document dressed up as new
        await expectRefused(await m.receive(s), "signed version", m)
    }

    @Test func otherDeviceIsRefused() async throws {
        let m = manager()
        await expectRefused(await m.receive(try signed(1, ["signaling.room": .string("x")], device: "hall-2")), "hall-2", m)
    }

    @Test func badSettingsAreRefusedWithReasons() async throws {
        let m = manager()
        let out = await m.receive(try signed(1, ["call.auto_answer": .string("sometimes"), "camera.fps": .integer(0),
                                                 "admin.public_keys": .array([]), "state.dir": .string("/tmp"),
                                                 "call.typo": .bool(true)]))
        await expectRefused(out, "call.auto_answer: expected one of off, immediate, after", m)
        let all = out.result.errors.joined(separator: "\n")
        for key in ["camera.fps", "admin.public_keys", "state.dir", "call.typo"] { #expect(all.contains(key), "\(key): \(all)") }
    }

    @Test func malformedDocumentsAreRefused() async throws {
        let m = manager()
        func sign(_ doc: String) throws -> SignedDeviceConfig {
            SignedDeviceConfig(deviceId: "kitchen-1", version: 1, document: doc,
                               signature: Data(try admin.signature(for: Array(doc.utf8))).base64EncodedString())
        }
        await expectRefused(await m.receive(try sign(#"{"settings":{}}"#)), "document.deviceId", m)
        await expectRefused(await m.receive(try sign(#"{"deviceId":"kitchen-1","version":1,"settings":{"call":{"allowed_callers":[["x"]]}}}"#)),
                            "call.allowed_callers", m)
        await expectRefused(await m.receive(try sign(#"{"deviceId":"kitchen-1","version":1,"settings":[]}"#)), "document.settings", m)
        await expectRefused(await m.receive(try sign("[1]")), "document", m)
        await expectRefused(await m.receive(JSONValue.object(["deviceId": .string("kitchen-1")])), "bad update", m)
        var short = try sign(#"{"deviceId":"kitchen-1","version":1,"settings":{}}"#)
        short.signature = Data(count: 10).base64EncodedString()
        await expectRefused(await m.receive(short), "Ed25519", m)
    }

    @Test func olderVersionIsRefusedAndKeepsTheApplied() async throws {
        let m = manager()
        #expect(await m.receive(try signed(5, ["signaling.room": .string("five")])).result.ok)
        for v in [5, 4, 1] {
            let out = await m.receive(try signed(v, ["signaling.room": .string("older")]))
            #expect(!out.result.ok && out.result.version == v)
        }
        #expect(await m.appliedVersion == 5)
        #expect(await m.config.signaling.room == "five")
        #expect(try String(contentsOfFile: dir + "/remote-config.toml", encoding: .utf8).contains("five"))
    }

    @Test func disabledWithoutKeysOrDeviceId() async throws {
        var layer = fileLayer
        layer["admin.public_keys"] = .array([])
        let m = RemoteConfigManager(layers: ConfigLayers(flags: layer), store: RemoteConfigStore(directory: dir))
        await expectRefused(await m.receive(try signed(1, [:])), "disabled", m)
    }

    @Test func documentMatchesTheServersShape() throws {
        // What the server stores and relays: SignalingCore's own validation accepts it, and the
        // signature covers exactly `document`'s UTF-8 bytes.
        let s = try signed(3, ["signaling.room": .string("grandma"), "call.auto_answer": .string("immediate")])
        try s.validate()
        let decoded = try SignedDeviceConfig.decode(s.json)
        #expect(decoded == s)
        #expect(admin.publicKey.isValidSignature(decoded.signatureData!, for: decoded.signedBytes))
        #expect(s.document == #"{"deviceId":"kitchen-1","settings":{"call":{"auto_answer":"immediate"},"signaling":{"room":"grandma"}},"version":3}"#)
    }

    @Test func atomicWriteReplacesWholeFiles() throws {
        let path = dir + "/file.txt"
        for i in 0..<50 {
            try AtomicFile.write(Data(String(repeating: "\(i % 10)", count: 4096).utf8), to: path)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.count == 4096 && Set(text).count == 1)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }
}

@Suite struct RemoteConfigCrashTests {
    /// A writer killed with SIGKILL at random moments leaves either the old or the new configuration,
    /// never a torn one; the version file is the settings' version or (killed in between) the one before.
    @Test func sigkillWhileWritingNeverLeavesABrokenConfig() async throws {
        try await offPool { try Self.crashRounds() }
    }

    static func crashRounds() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var lastVersion = 0
        for round in 0..<25 {
            let (p, line) = try Process.startReadingFirstLine(Repo.product("videophoned"), ["--stress-remote-store", dir])
            #expect(line == "ready")
            usleep(UInt32(2_000 + (round * 7_919) % 30_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let store = RemoteConfigStore(directory: dir)
            let loaded = store.load()
            #expect(loaded.problem == nil, "round \(round): \(loaded.problem ?? "")")
            guard case .string(let room)? = loaded.settings["signaling.room"], let settingsVersion = Int(room.dropFirst(5)) else {
                #expect(loaded.settings.isEmpty && lastVersion == 0, "round \(round): settings \(loaded.settings.keys)")
                continue
            }
            #expect(loaded.version == settingsVersion || loaded.version == settingsVersion - 1,
                    "round \(round): version file \(loaded.version), settings v\(settingsVersion)")
            #expect(settingsVersion >= lastVersion)
            lastVersion = settingsVersion
            let temps = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
            for t in temps { try? FileManager.default.removeItem(atPath: dir + "/" + t) }   // leftovers are harmless; keep the dir small
        }
        #expect(lastVersion > 0)
    }
}
