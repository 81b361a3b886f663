import Appliance
import Foundation
import TOMLConfig
import Testing
import TestSupport

@Suite struct ApplianceConfigTests {
    static func decode(_ toml: String) throws -> ConfigDecoding {
        ApplianceConfig.decode(try TOMLDocument(parsing: toml).values)
    }

    @Test func documentedExampleParsesToTheDefaults() throws {
        let text = try String(contentsOfFile: Repo.path("config/videophone.toml"), encoding: .utf8)
        let d = try Self.decode(text)
        #expect(d.problems.isEmpty, "\(d.problems)")
        #expect(d.warnings.isEmpty, "\(d.warnings)")
        #expect(d.config == ApplianceConfig())
        // …and documents every key there is.
        let keys = Set(try TOMLDocument(parsing: text).keys)
        #expect(keys == Set(ApplianceConfig().values.keys))
    }

    @Test func emptyFileIsAllDefaults() throws {
        let d = try Self.decode("")
        #expect(d.isValid && d.config == ApplianceConfig())
        #expect(d.config.call.autoAnswer == .off && !d.config.camera.keepWarm && d.config.camera.device == "synthetic")
    }

    @Test func valuesRoundTrip() throws {
        var c = ApplianceConfig()
        c.signaling.room = "kitchen"
        c.call.autoAnswer = .after
        c.call.autoAnswerDelay = 2.5
        c.call.allowedCallers = ["Grandma", "Bob \"the\" builder"]
        c.speedDial.rooms = ["grandma", "office"]
        c.ice.turnPassword = "s3cret"
        c.camera.maxBitrate = 800_000
        c.camera.adaptResolution = false
        let text = TOMLWriter.render(c.values)
        let d = try Self.decode(text)
        #expect(d.isValid, "\(d.problems)")
        #expect(d.config == c)
    }

    @Test func everyProblemNamesItsKey() throws {
        let d = try Self.decode("""
            [signaling]
            url = "ftp://x"
            room = ""
            [call]
            auto_answer = "sometimes"
            ring_timeout = "long"
            setup_timeout = 1
            [camera]
            device = "webcam"
            width = 641
            fps = 500
            keep_warm = "yes"
            [screen]
            device = "hdmi"
            [buttons]
            keys.call = "KEY_NOPE"
            devices = ["/dev/event3"]
            [admin]
            public_keys = ["bm90IGEga2V5"]
            device_id = "has space"
            [state]
            dir = "relative"
            [log]
            level = "loud"
            [speeker]
            device = "x"
            """)
        let keys = d.problems.map(\.key)
        #expect(d.problems.map(\.description).contains(#"call.auto_answer: expected one of off, immediate, after; got "sometimes""#))
        for key in ["signaling.url", "signaling.room", "call.auto_answer", "call.ring_timeout", "call.setup_timeout",
                    "camera.device", "camera.width", "camera.fps", "camera.keep_warm", "screen.device", "buttons.keys.call",
                    "buttons.devices", "admin.public_keys", "admin.device_id", "state.dir", "log.level"] {
            #expect(keys.contains(key), "no problem reported for \(key): \(d.problems)")
        }
        #expect(d.warnings.map(\.description) == ["speeker.device: unknown key (ignored)"])
        // A bad value never replaces the default with garbage.
        #expect(d.config.call.autoAnswer == .off && d.config.camera.fps == 30)
    }

    @Test func videoBitrateCeilingIsZeroOrAtLeast100k() throws {
        #expect(try Self.decode("camera.max_bitrate = 0").isValid)
        #expect(try Self.decode("camera.max_bitrate = 800000").config.camera.maxBitrate == 800_000)
        let low = try Self.decode("camera.max_bitrate = 50000")
        #expect(low.problems.map(\.description) == ["camera.max_bitrate: expected 0 (by picture size) or at least 100000 bit/s; got 50000"])
        #expect(low.config.camera.maxBitrate == 0, "a bad value never replaces the default")
        #expect(try Self.decode("camera.adapt_resolution = false").config.camera.adaptResolution == false)
    }

    @Test func keyNamesComeFromLibevdev() throws {
        #expect(try Self.decode(#"buttons.keys.call = "BTN_0""#).isValid)
        // Buttons by path or by (part of) the device's name, as EvdevButtons matches them.
        #expect(try Self.decode(#"buttons.devices = ["/dev/input/event3", "Button Box"]"#).isValid)
        #expect(!(try Self.decode(#"buttons.devices = [" "]"#).isValid))
        #expect(try Self.decode(#"buttons.single_button = "KEY_PLAYPAUSE""#).isValid)
        #expect(!(try Self.decode(#"buttons.single_button = "KEY_PLAYPAUSEX""#).isValid))
    }

    @Test func flagsOverrideFileAndRemote() throws {
        let file = try TOMLDocument(parsing: "[signaling]\nroom = \"file\"\nname = \"Kitchen\"\n[call]\nauto_answer = \"after\"").values
        let layers = ConfigLayers(file: file, remote: ["signaling.room": .string("remote"), "call.auto_answer": .string("immediate")],
                                  flags: ["signaling.room": .string("flag")])
        let c = layers.decode().config
        #expect(c.signaling.room == "flag" && c.signaling.name == "Kitchen" && c.call.autoAnswer == .immediate)
    }

    @Test func problemsNeverShowSecretValues() throws {
        let d = try Self.decode("[ice]\nturn_password = 987654321\nturn_username = 123456789")
        #expect(Set(d.problems.map(\.key)) == ["ice.turn_username", "ice.turn_password"])
        #expect(!d.problems.map(\.description).joined().contains("987654321"))
        #expect(!d.problems.map(\.description).joined().contains("123456789"))
    }

    @Test func summaryRedactsSecrets() {
        var c = ApplianceConfig()
        c.ice.turnUsername = "1700000000:kitchen"
        c.ice.turnPassword = "hunter2"
        #expect(!c.summary.contains("hunter2") && !c.summary.contains("1700000000"))
        #expect(c.summary.contains(#"ice.turn_password = "<redacted>""#))
        #expect(c.summary.contains(#"signaling.room = "home""#))
    }

    @Test func checkConfigCommand() async throws {
        try await offPool { try Self.checkConfigRuns() }
    }

    static func checkConfigRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.toml").path
        try "[call]\nauto_answer = \"sometimes\"\n[nope]\nx = 1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let (status, out, err) = try run(["--check-config", "--config", bad, "--state-dir", dir.path])
        #expect(status == 1)
        #expect(out.contains(#"call.auto_answer: expected one of off, immediate, after; got "sometimes""#), "\(out)")
        #expect(err.contains("nope.x: unknown key"), "\(err)")

        let good = Repo.path("config/videophone.toml")
        let ok = try run(["--check-config", "--config", good, "--state-dir", dir.path])
        #expect(ok.0 == 0, "\(ok)")
        // Flags are checked like the file.
        let flag = try run(["--check-config", "--config", good, "--state-dir", dir.path, "--auto-answer", "maybe"])
        #expect(flag.0 == 1 && flag.1.contains("call.auto_answer"))
        let missing = try run(["--check-config", "--config", dir.appendingPathComponent("none.toml").path])
        #expect(missing.0 != 0 && missing.2.contains("no such file"))
        let printed = try run(["--print-config", "--config", good, "--state-dir", dir.path, "--room", "hall"])
        #expect(printed.0 == 0 && printed.1.contains(#"signaling.room = "hall""#))
    }

    static func run(_ args: [String]) throws -> (Int32, String, String) {
        try Repo.run("videophoned", args)
    }
}
