// The local control socket's protocol (issue #7 item 10): one JSON object per line in each direction,
// for `videophone press ACTION`, `videophone status` and home-automation scripts. Requests:
//   {"command":"press","action":"call"}   {"command":"press","action":"speed_dial","index":2}
//   {"command":"status"}                  {"command":"hangup"}
//   {"command":"snapshot","path":"/tmp/screen.png"}   {"command":"chat","text":"hello"}
// Plain words are accepted too (`press call`, `press speed_dial 2`, `status`, `hangup`, `snapshot`,
// `chat hello there`) for `socat`.
// Replies: {"ok":true,...} or {"ok":false,"error":"..."}. Transport-free: the socket server feeds lines in.
import Foundation
import SignalingCore

public enum ControlRequest: Sendable, Equatable {
    case press(ApplianceAction)
    case status
    case hangup
    /// Draw the screen now and write it as a PNG (headless screens; default path in screen.snapshot_dir).
    case snapshot(path: String?)
    /// Send a chat message to the room.
    case chat(String)

    /// Longest request line accepted (a control socket is local, but a client must not grow memory).
    public static let maxLineBytes = 4096

    public static func parse(_ line: String) -> Result<ControlRequest, ControlError> {
        guard line.utf8.count <= maxLineBytes else { return .failure(ControlError("request longer than \(maxLineBytes) bytes")) }
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("{") {
            guard let json = try? JSONValue.parse(Substring(text)), case .object = json else {
                return .failure(ControlError("not a JSON object"))
            }
            guard let command = json["command"]?.stringValue else { return .failure(ControlError("missing \"command\"")) }
            var words = [command]
            if let action = json["action"]?.stringValue { words.append(action) }
            if case .number(let n)? = json["index"] { words.append(String(Int(exactly: n) ?? -1)) }
            if let path = json["path"]?.stringValue { words.append(path) }
            if let text = json["text"]?.stringValue {
                return command == "chat" ? chat(text) : .failure(ControlError("\"text\" only goes with chat"))
            }
            return parse(words: words)
        }
        return parse(words: text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
    }

    private static func parse(words: [String]) -> Result<ControlRequest, ControlError> {
        guard let command = words.first?.lowercased() else { return .failure(ControlError("empty request")) }
        switch command {
        case "status" where words.count == 1: return .success(.status)
        case "hangup" where words.count == 1: return .success(.hangup)
        case "snapshot" where words.count == 1: return .success(.snapshot(path: nil))
        case "snapshot" where words.count == 2:
            guard words[1].hasPrefix("/") else { return .failure(ControlError("snapshot needs an absolute path")) }
            return .success(.snapshot(path: words[1]))
        case "chat": return chat(words.dropFirst().joined(separator: " "))
        case "press":
            guard words.count >= 2 else { return .failure(ControlError("press needs an action: \(actionNames)")) }
            return ApplianceAction.parse(words.dropFirst().joined(separator: " ")).map(ControlRequest.press)
        default:
            return .failure(ControlError("unknown command \"\(command)\"; expected press, status, hangup, snapshot or chat"))
        }
    }

    private static func chat(_ text: String) -> Result<ControlRequest, ControlError> {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty else { return .failure(ControlError("chat needs a message")) }
        guard t.count <= 1000 else { return .failure(ControlError("chat messages are limited to 1000 characters")) }
        return .success(.chat(t))
    }

    static let actionNames = "call, accept, end, mute, camera, single, speed_dial N"
}

public struct ControlError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

extension ApplianceAction {
    /// `call`, `accept`, `end`, `mute`, `camera`, `single`, `speed_dial 2` / `speed_dial_2` / `speed-dial-2`.
    public static func parse(_ text: String) -> Result<ApplianceAction, ControlError> {
        let t = text.lowercased().replacingOccurrences(of: "-", with: "_")
        switch t {
        case "call": return .success(.call)
        case "accept", "answer": return .success(.accept)
        case "end", "hangup", "decline": return .success(.end)
        case "mute": return .success(.mute)
        case "camera": return .success(.cameraToggle)
        case "single": return .success(.single)
        default:
            for prefix in ["speed_dial ", "speed_dial_", "speed_dial"] where t.hasPrefix(prefix) {
                if let n = Int(t.dropFirst(prefix.count)), (1...99).contains(n) { return .success(.speedDial(n)) }
            }
            return .failure(ControlError("unknown action \"\(text)\"; expected \(ControlRequest.actionNames)"))
        }
    }
}

public enum ControlReply {
    /// `{"ok":true, "state", "room", "peer", "status", "members", "muted", "cameraOff", "devicesOpen",
    /// "signaling", "call": stats}`; `stats` is what the Peer reports (fps, bitrate, RTT, loss, latency).
    public static func status(_ s: CallSnapshot, stats: [String: JSONValue] = [:], extra: [String: JSONValue] = [:]) -> String {
        JSONValue.object(extra.merging([
            "ok": .bool(true), "state": .string(s.phase.rawValue), "room": s.room.map(JSONValue.string) ?? .null,
            "peer": s.peerName.map(JSONValue.string) ?? .null, "status": .string(s.status),
            "members": .array(s.members.map(JSONValue.string)), "muted": .bool(s.muted), "cameraOff": .bool(s.cameraOff),
            "devicesOpen": .bool(s.devicesOpen), "signaling": .bool(s.signalingUp), "call": .object(stats),
        ]) { $1 }).serialized()
    }

    /// The reply to a press: whether the machine acted on it, and why not.
    public static func pressed(_ d: CallDisposition, _ s: CallSnapshot) -> String {
        switch d {
        case .handled:
            return JSONValue.object(["ok": .bool(true), "state": .string(s.phase.rawValue), "status": .string(s.status)]).serialized()
        case .ignored(let why):
            return JSONValue.object(["ok": .bool(false), "error": .string(why), "state": .string(s.phase.rawValue)]).serialized()
        }
    }

    public static func ok(_ fields: [String: JSONValue] = [:]) -> String {
        JSONValue.object(fields.merging(["ok": .bool(true)]) { $1 }).serialized()
    }

    public static func error(_ e: ControlError) -> String {
        JSONValue.object(["ok": .bool(false), "error": .string(e.description)]).serialized()
    }
}
