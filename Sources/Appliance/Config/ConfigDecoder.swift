// Typed reading of the appliance's settings from dotted-key TOML values (TOMLConfig), every problem
// reported with its key in words an installer can act on, never a crash or a silent guess.
import CEvdev
import Foundation
import TOMLConfig

extension ApplianceConfig {
    /// Keys whose values are secrets: redacted in summaries and logs.
    public static let secretKeys: Set<String> = ["ice.turn_password", "ice.turn_username"]

    /// Decodes layered values (see ``ConfigLayers``). Unknown keys are warnings; with `strict` they are
    /// problems (remote updates must not carry typos that silently do nothing).
    public static func decode(_ values: [String: TOMLValue], strict: Bool = false) -> ConfigDecoding {
        var r = ConfigReader(values: values)
        var c = ApplianceConfig()

        c.signaling.url = r.string("signaling.url", c.signaling.url) { url in
            guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(),
                  ["http", "https", "ws", "wss"].contains(scheme), let host = u.host, !host.isEmpty else {
                return "expected an http, https, ws or wss URL such as \"https://signal.example.org\""
            }
            return nil
        }
        c.signaling.room = r.string("signaling.room", c.signaling.room, check: ConfigReader.roomName)
        c.signaling.name = r.string("signaling.name", c.signaling.name) { name in
            let t = name.trimmingCharacters(in: .whitespaces)
            return t.isEmpty || t.count > 64 ? "expected a name of 1 to 64 characters" : nil
        }
        c.signaling.caFile = r.string("signaling.ca_file", c.signaling.caFile, check: ConfigReader.absolutePathOrEmpty)

        c.call.autoAnswer = r.oneOf("call.auto_answer", c.call.autoAnswer)
        c.call.autoAnswerDelay = r.seconds("call.auto_answer_delay", c.call.autoAnswerDelay, 0...600)
        c.call.allowedCallers = r.strings("call.allowed_callers", c.call.allowedCallers)
        c.call.ringTimeout = r.seconds("call.ring_timeout", c.call.ringTimeout, 5...600)
        c.call.setupTimeout = r.seconds("call.setup_timeout", c.call.setupTimeout, 2...300)

        c.camera.device = r.string("camera.device", c.camera.device) { d in
            d == "synthetic" || d.hasPrefix("/dev/") ? nil : "expected \"synthetic\" or a device path such as \"/dev/video0\""
        }
        c.camera.width = r.integer("camera.width", c.camera.width, 16...4096)
        c.camera.height = r.integer("camera.height", c.camera.height, 16...4096)
        c.camera.fps = r.integer("camera.fps", c.camera.fps, 1...120)
        c.camera.keepWarm = r.bool("camera.keep_warm", c.camera.keepWarm)
        let maxBitrate = r.integer("camera.max_bitrate", c.camera.maxBitrate, 0...50_000_000)
        if maxBitrate != 0 && maxBitrate < 100_000 {
            r.problem("camera.max_bitrate", "expected 0 (by picture size) or at least 100000 bit/s; got \(maxBitrate)")
        } else {
            c.camera.maxBitrate = maxBitrate
        }
        c.camera.adaptResolution = r.bool("camera.adapt_resolution", c.camera.adaptResolution)
        if c.camera.width % 2 != 0 || c.camera.height % 2 != 0 {
            r.problem("camera.width", "width and height must be even (I420 frames); got \(c.camera.width)x\(c.camera.height)")
        }

        c.microphone.device = r.string("microphone.device", c.microphone.device, check: ConfigReader.nonEmpty)
        c.speaker.device = r.string("speaker.device", c.speaker.device, check: ConfigReader.nonEmpty)

        c.screen.device = r.string("screen.device", c.screen.device) { d in
            d == "headless" || d.hasPrefix("/dev/dri/") ? nil : "expected \"headless\" or a DRM device such as \"/dev/dri/card0\""
        }
        c.screen.snapshotDir = r.string("screen.snapshot_dir", c.screen.snapshotDir, check: ConfigReader.absolutePathOrEmpty)
        c.screen.width = r.integer("screen.width", c.screen.width, 160...3840)
        c.screen.height = r.integer("screen.height", c.screen.height, 120...2160)

        // A path, or (as EvdevButtons matches them) part of a device's name, e.g. "button box".
        c.buttons.devices = r.strings("buttons.devices", c.buttons.devices) { d in
            if d.hasPrefix("/dev/input/") { return nil }
            if d.hasPrefix("/") { return "expected a device path under /dev/input/ or a device name; got the path \"\(d)\"" }
            return d.trimmingCharacters(in: .whitespaces).isEmpty ? "expected a device path under /dev/input/ or a device name; got an empty name" : nil
        }
        c.buttons.grab = r.bool("buttons.grab", c.buttons.grab)
        c.buttons.keys.call = r.string("buttons.keys.call", c.buttons.keys.call, check: ConfigReader.keyName)
        c.buttons.keys.accept = r.string("buttons.keys.accept", c.buttons.keys.accept, check: ConfigReader.keyName)
        c.buttons.keys.end = r.string("buttons.keys.end", c.buttons.keys.end, check: ConfigReader.keyName)
        c.buttons.keys.mute = r.string("buttons.keys.mute", c.buttons.keys.mute, check: ConfigReader.keyName)
        c.buttons.keys.camera = r.string("buttons.keys.camera", c.buttons.keys.camera, check: ConfigReader.keyName)
        c.buttons.keys.speedDial = r.strings("buttons.keys.speed_dial", c.buttons.keys.speedDial, check: ConfigReader.keyName)
        c.buttons.singleButton = r.string("buttons.single_button", c.buttons.singleButton) { k in
            k.isEmpty ? nil : ConfigReader.keyName(k)
        }

        c.speedDial.rooms = r.strings("speed_dial.rooms", c.speedDial.rooms, check: ConfigReader.roomName)
        if c.speedDial.rooms.count > c.buttons.keys.speedDial.count {
            r.problem("speed_dial.rooms", "\(c.speedDial.rooms.count) rooms but only \(c.buttons.keys.speedDial.count) keys in buttons.keys.speed_dial")
        }

        c.admin.publicKeys = r.strings("admin.public_keys", c.admin.publicKeys) { k in
            guard let d = Data(base64Encoded: k) else { return "expected base64 Ed25519 public keys" }
            return d.count == 32 ? nil : "expected 32-byte Ed25519 public keys; one decodes to \(d.count) bytes"
        }
        c.admin.deviceId = r.string("admin.device_id", c.admin.deviceId) { id in
            id.isEmpty || DeviceIdRule.isValid(id) ? nil : "expected 1 to 64 characters of A-Z a-z 0-9 . _ : -"
        }

        c.state.dir = r.string("state.dir", c.state.dir) { d in d.hasPrefix("/") ? nil : "expected an absolute directory path" }

        c.ice.stunURLs = r.strings("ice.stun_urls", c.ice.stunURLs) { u in
            u.hasPrefix("stun:") || u.hasPrefix("stuns:") ? nil : "expected stun: or stuns: URLs"
        }
        c.ice.turnURLs = r.strings("ice.turn_urls", c.ice.turnURLs) { u in
            u.hasPrefix("turn:") || u.hasPrefix("turns:") ? nil : "expected turn: or turns: URLs"
        }
        c.ice.turnUsername = r.string("ice.turn_username", c.ice.turnUsername)
        c.ice.turnPassword = r.string("ice.turn_password", c.ice.turnPassword)
        c.ice.fromServer = r.bool("ice.from_server", c.ice.fromServer)
        c.ice.loopbackOnly = r.bool("ice.loopback_only", c.ice.loopbackOnly)
        if !c.ice.turnURLs.isEmpty && (c.ice.turnUsername.isEmpty || c.ice.turnPassword.isEmpty) && !c.ice.fromServer {
            r.problem("ice.turn_urls", "TURN servers need ice.turn_username and ice.turn_password (or ice.from_server = true)")
        }

        c.control.socket = r.string("control.socket", c.control.socket, check: ConfigReader.absolutePathOrEmpty)
        c.control.group = r.string("control.group", c.control.group)
        c.log.level = r.string("log.level", c.log.level) { l in
            ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(l)
                ? nil : "expected one of trace, debug, info, notice, warning, error, critical; got \"\(l)\""
        }

        let unknown = values.keys.filter { !r.used.contains($0) }.sorted().map {
            ConfigProblem(key: $0, message: "unknown key" + (strict ? "" : " (ignored)"))
        }
        return strict ? ConfigDecoding(config: c, problems: r.problems + unknown, warnings: [])
                      : ConfigDecoding(config: c, problems: r.problems, warnings: unknown)
    }
}

/// The device-id rule of the device channel (SignalingCore's `DeviceRules`), kept here so the
/// config module does not depend on the wire types' internals.
enum DeviceIdRule {
    static func isValid(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._:-".unicodeScalars.contains($0))
        }
    }
}

/// Reads typed values and records every problem with its key; a bad value leaves the default.
struct ConfigReader {
    let values: [String: TOMLValue]
    private(set) var problems: [ConfigProblem] = []
    private(set) var used: Set<String> = []

    init(values: [String: TOMLValue]) { self.values = values }

    mutating func problem(_ key: String, _ message: String) { problems.append(ConfigProblem(key: key, message: message)) }

    private mutating func take(_ key: String) -> TOMLValue? {
        used.insert(key)
        return values[key]
    }

    private static func describe(_ v: TOMLValue) -> String {
        switch v {
        case .string: return "the string \(v)"
        case .integer, .float: return "the number \(v)"
        case .bool: return "\(v)"
        case .array: return "a list"
        }
    }

    mutating func string(_ key: String, _ fallback: String, check: (String) -> String? = { _ in nil }) -> String {
        guard let v = take(key) else { return fallback }
        // A secret's value never appears in a message (messages are logged and sent back to the server).
        let secret = ApplianceConfig.secretKeys.contains(key)
        guard case .string(let s) = v else {
            problem(key, "expected a string in quotes" + (secret ? "" : "; got \(Self.describe(v))"))
            return fallback
        }
        if let reason = check(s) {
            problem(key, secret || reason.contains("got") ? reason : "\(reason); got \"\(s)\"")
            return fallback
        }
        return s
    }

    mutating func strings(_ key: String, _ fallback: [String], check: (String) -> String? = { _ in nil }) -> [String] {
        guard let v = take(key) else { return fallback }
        let items: [TOMLValue]
        switch v {
        case .array(let a): items = a
        case .string: items = [v]   // a single string is accepted as a one-element list
        default: problem(key, "expected a list of strings; got \(Self.describe(v))"); return fallback
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { problem(key, "expected a list of strings; item \(i + 1) is \(Self.describe(item))"); return fallback }
            if let reason = check(s) { problem(key, "\(reason); got \"\(s)\""); return fallback }
            out.append(s)
        }
        return out
    }

    mutating func integer(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) -> Int {
        guard let v = take(key) else { return fallback }
        guard case .integer(let i) = v else { problem(key, "expected a whole number; got \(Self.describe(v))"); return fallback }
        guard range.contains(i) else { problem(key, "expected \(range.lowerBound) to \(range.upperBound); got \(i)"); return fallback }
        return i
    }

    /// Durations in seconds: integers or decimals.
    mutating func seconds(_ key: String, _ fallback: Double, _ range: ClosedRange<Double>) -> Double {
        guard let v = take(key) else { return fallback }
        let d: Double
        switch v {
        case .integer(let i): d = Double(i)
        case .float(let f): d = f
        default: problem(key, "expected a number of seconds; got \(Self.describe(v))"); return fallback
        }
        guard range.contains(d) else {
            problem(key, "expected \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound)) seconds; got \(Self.format(d))")
            return fallback
        }
        return d
    }

    mutating func bool(_ key: String, _ fallback: Bool) -> Bool {
        guard let v = take(key) else { return fallback }
        guard case .bool(let b) = v else { problem(key, "expected true or false; got \(Self.describe(v))"); return fallback }
        return b
    }

    mutating func oneOf<E: RawRepresentable & CaseIterable>(_ key: String, _ fallback: E) -> E where E.RawValue == String {
        guard let v = take(key) else { return fallback }
        let names = E.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let s) = v, let e = E(rawValue: s) else {
            problem(key, "expected one of \(names); got \(v)")
            return fallback
        }
        return e
    }

    static func format(_ d: Double) -> String { d.rounded() == d ? String(Int(d)) : String(d) }

    static func nonEmpty(_ s: String) -> String? { s.isEmpty ? "expected a non-empty value" : nil }

    static func absolutePathOrEmpty(_ s: String) -> String? { s.isEmpty || s.hasPrefix("/") ? nil : "expected an absolute path" }

    /// What the server accepts as a room (trimmed, 1...64 characters, printable).
    static func roomName(_ s: String) -> String? {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.count <= 64, !t.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return "expected a room name of 1 to 64 printable characters"
        }
        return nil
    }

    /// An evdev key or button name known to libevdev (`KEY_ENTER`, `BTN_0`, ...).
    static func keyName(_ s: String) -> String? {
        guard s.hasPrefix("KEY_") || s.hasPrefix("BTN_"), libevdev_event_code_from_name(UInt32(EV_KEY), s) >= 0 else {
            return "expected an evdev key name such as \"KEY_ENTER\" or \"BTN_0\""
        }
        return nil
    }
}
