// What the appliance's buttons mean, and the key map from configuration (key names are the
// kernel's <linux/input-event-codes.h> names, resolved by libevdev_event_code_from_name).
import CEvdev

/// A high-level button action; the appliance maps it to call behaviour.
public enum ButtonAction: Sendable, Hashable, CustomStringConvertible {
    case call
    case accept
    case end
    case mute
    case camera
    /// Call the n-th configured contact (1-based).
    case speedDial(Int)
    /// A one-button phone: call when idle, accept when ringing, end when in a call.
    case single

    /// Parses "call", "accept", "end", "mute", "camera", "single", "speed_dial_3",
    /// "speed-dial-3", "speedDial(3)" (case-insensitive).
    public init?(name: String) {
        let lowered = name.lowercased().trimmingCharacters(in: " \t")
        switch lowered {
        case "call": self = .call
        case "accept", "answer": self = .accept
        case "end", "hangup", "hang_up": self = .end
        case "mute": self = .mute
        case "camera", "video": self = .camera
        case "single": self = .single
        default:
            let digits = lowered.drop { !$0.isNumber }.prefix { $0.isNumber }
            let prefix = lowered.prefix { !$0.isNumber }
            guard ["speed_dial_", "speed-dial-", "speeddial(", "speeddial", "speed_dial"].contains(String(prefix)),
                  let number = Int(digits), (1...99).contains(number) else { return nil }
            self = .speedDial(number)
        }
    }

    public var description: String {
        switch self {
        case .call: "call"
        case .accept: "accept"
        case .end: "end"
        case .mute: "mute"
        case .camera: "camera"
        case .speedDial(let n): "speed_dial_\(n)"
        case .single: "single"
        }
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}

/// Which key does what, on a short press and (optionally) on a long press.
public struct KeyMap: Sendable, Equatable {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Key code to action on a short press.
    public var short: [UInt16: ButtonAction]
    /// Key code to action when held past the long-press time.
    public var long: [UInt16: ButtonAction]

    public init(short: [UInt16: ButtonAction] = [:], long: [UInt16: ButtonAction] = [:]) {
        self.short = short
        self.long = long
    }

    /// Every key the map uses.
    public var keys: Set<UInt16> { Set(short.keys).union(long.keys) }

    /// The map from configuration entries `action = "KEYS"`, e.g. `call = "KEY_ENTER"`,
    /// `end = "KEY_ESC, long:KEY_ENTER"`, `speed_dial_1 = "KEY_1"`. A `long:` prefix binds the
    /// long press. Unknown actions or key names, and a key bound twice, are errors naming them.
    public static func parse(_ entries: [String: String]) throws -> KeyMap {
        var map = KeyMap()
        for (actionName, keyList) in entries.sorted(by: { $0.key < $1.key }) {
            guard let action = ButtonAction(name: actionName) else {
                throw ParseError(description: "unknown button action '\(actionName)' (call, accept, end, mute, camera, single, speed_dial_N)")
            }
            let names = keyList.split(separator: ",").map { String($0).trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw ParseError(description: "no key given for '\(actionName)'") }
            for entry in names {
                let isLong = entry.lowercased().hasPrefix("long:")
                let keyName = isLong ? String(entry.dropFirst(5)).trimmingCharacters(in: " \t") : entry
                guard let code = keyCode(named: keyName) else {
                    throw ParseError(description: "unknown key '\(keyName)' for '\(actionName)' (use kernel names such as KEY_ENTER, BTN_0)")
                }
                if isLong {
                    if let other = map.long[code] { throw ParseError(description: "long \(keyName) bound to both \(other) and \(action)") }
                    map.long[code] = action
                } else {
                    if let other = map.short[code] { throw ParseError(description: "\(keyName) bound to both \(other) and \(action)") }
                    map.short[code] = action
                }
            }
        }
        return map
    }

    /// A key's code from its kernel name (KEY_* or BTN_*), through libevdev's table.
    public static func keyCode(named name: String) -> UInt16? {
        let upper = name.uppercased()
        guard upper.hasPrefix("KEY_") || upper.hasPrefix("BTN_") else { return nil }
        let code = libevdev_event_code_from_name(UInt32(EV_KEY), upper)
        return code >= 0 ? UInt16(code) : nil
    }

    /// A key's kernel name, e.g. "KEY_ENTER".
    public static func keyName(_ code: UInt16) -> String {
        libevdev_event_code_get_name(UInt32(EV_KEY), UInt32(code)).map { String(cString: $0) } ?? "KEY_\(code)"
    }
}
