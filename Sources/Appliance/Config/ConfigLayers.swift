// Where the settings come from, lowest first: built-in defaults, the TOML file, the signed remote
// layer (state.dir/remote-config.toml, applied by RemoteConfig), then command-line flags. Each layer
// is a set of dotted keys; a later layer replaces a key of an earlier one.
import Foundation
import TOMLConfig

public struct ConfigLayers: Sendable, Equatable {
    public var file: [String: TOMLValue] = [:]
    public var remote: [String: TOMLValue] = [:]
    public var flags: [String: TOMLValue] = [:]

    public init(file: [String: TOMLValue] = [:], remote: [String: TOMLValue] = [:], flags: [String: TOMLValue] = [:]) {
        self.file = file
        self.remote = remote
        self.flags = flags
    }

    public var merged: [String: TOMLValue] {
        file.merging(remote) { $1 }.merging(flags) { $1 }
    }

    public func decode() -> ConfigDecoding { ApplianceConfig.decode(merged) }

    /// Reads a TOML file into a layer. A missing file at the default path is an empty layer (all
    /// defaults); a missing file given explicitly is a problem.
    public static func readFile(_ path: String, required: Bool) -> Result<[String: TOMLValue], ConfigProblem> {
        guard FileManager.default.fileExists(atPath: path) else {
            return required ? .failure(ConfigProblem(key: "", message: "\(path): no such file")) : .success([:])
        }
        // FileHandle rather than Data(contentsOf:), which refuses non-regular files such as /dev/null.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failure(ConfigProblem(key: "", message: "\(path): cannot open the file (permissions?)"))
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.readToEnd() ?? Data() } catch {
            return .failure(ConfigProblem(key: "", message: "\(path): cannot read the file (\(error.localizedDescription))"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(ConfigProblem(key: "", message: "\(path): not UTF-8 text"))
        }
        do {
            return .success(try TOMLDocument(parsing: text).values)
        } catch {
            return .failure(ConfigProblem(key: "", message: "\(path): \(error)"))
        }
    }

    /// Settings that a remote update may not change: where the state (and the replay counter) lives,
    /// which keys may sign, and who the device is. Changing those from afar could lock the
    /// administrator out or reset the version counter.
    public static let localOnlyPrefixes = ["state.", "admin."]
}

/// Renders dotted-key values back to TOML text our parser reads (used to persist the remote layer).
public enum TOMLWriter {
    public static func render(_ values: [String: TOMLValue], header: String = "") -> String {
        var out = header
        for key in values.keys.sorted() {
            out += key.split(separator: ".").map { quoteKeyIfNeeded(String($0)) }.joined(separator: ".")
            out += " = " + render(values[key]!) + "\n"
        }
        return out
    }

    static func quoteKeyIfNeeded(_ k: String) -> String {
        let bare = !k.isEmpty && k.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        return bare ? k : quote(k)
    }

    public static func render(_ v: TOMLValue) -> String {
        switch v {
        case .string(let s): return quote(s)
        case .integer(let i): return String(i)
        case .float(let d): return d.rounded() == d && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .array(let a): return "[" + a.map(render).joined(separator: ", ") + "]"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension ApplianceConfig {
    /// A human-readable summary, one `key = value` per line, secrets redacted.
    public var summary: String {
        TOMLWriter.render(redactedValues)
    }

    /// Every setting as dotted-key values, with secrets replaced by `"<redacted>"` when set.
    public var redactedValues: [String: TOMLValue] {
        var v = values
        for key in Self.secretKeys { if case .string(let s)? = v[key], !s.isEmpty { v[key] = .string("<redacted>") } }
        return v
    }

    /// Every setting as dotted-key values (round-trips through ``decode(_:strict:)``).
    public var values: [String: TOMLValue] {
        func s(_ x: String) -> TOMLValue { .string(x) }
        func a(_ x: [String]) -> TOMLValue { .array(x.map(TOMLValue.string)) }
        return [
            "signaling.url": s(signaling.url), "signaling.room": s(signaling.room),
            "signaling.name": s(signaling.name), "signaling.ca_file": s(signaling.caFile),
            "call.auto_answer": s(call.autoAnswer.rawValue), "call.auto_answer_delay": .float(call.autoAnswerDelay),
            "call.allowed_callers": a(call.allowedCallers), "call.ring_timeout": .float(call.ringTimeout),
            "call.setup_timeout": .float(call.setupTimeout),
            "camera.device": s(camera.device), "camera.width": .integer(camera.width), "camera.height": .integer(camera.height),
            "camera.fps": .integer(camera.fps), "camera.keep_warm": .bool(camera.keepWarm),
            "camera.max_bitrate": .integer(camera.maxBitrate), "camera.adapt_resolution": .bool(camera.adaptResolution),
            "microphone.device": s(microphone.device), "speaker.device": s(speaker.device),
            "screen.device": s(screen.device), "screen.snapshot_dir": s(screen.snapshotDir),
            "screen.width": .integer(screen.width), "screen.height": .integer(screen.height),
            "buttons.devices": a(buttons.devices), "buttons.grab": .bool(buttons.grab),
            "buttons.keys.call": s(buttons.keys.call), "buttons.keys.accept": s(buttons.keys.accept),
            "buttons.keys.end": s(buttons.keys.end), "buttons.keys.mute": s(buttons.keys.mute),
            "buttons.keys.camera": s(buttons.keys.camera), "buttons.keys.speed_dial": a(buttons.keys.speedDial),
            "buttons.single_button": s(buttons.singleButton),
            "speed_dial.rooms": a(speedDial.rooms),
            "admin.public_keys": a(admin.publicKeys), "admin.device_id": s(admin.deviceId),
            "state.dir": s(state.dir),
            "ice.stun_urls": a(ice.stunURLs), "ice.turn_urls": a(ice.turnURLs),
            "ice.turn_username": s(ice.turnUsername), "ice.turn_password": s(ice.turnPassword),
            "ice.from_server": .bool(ice.fromServer), "ice.loopback_only": .bool(ice.loopbackOnly),
            "control.socket": s(control.socket), "control.group": s(control.group),
            "log.level": s(log.level),
        ]
    }
}
