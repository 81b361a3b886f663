import Foundation

/// An Engine.IO v4 packet (engine.io-protocol, "Packet encoding").
///
/// Text packets are one type digit followed by data; a binary message travels as a binary
/// websocket frame, or inside a polling payload as `b` + base64.
public enum EngineIOPacket: Sendable, Equatable {
    case open(EngineIOHandshake)
    case close
    case ping(String)
    case pong(String)
    case message(String)
    case binaryMessage([UInt8])
    case upgrade
    case noop

    /// The text form (polling payload element or websocket text frame).
    public func encoded() -> String {
        switch self {
        case .open(let hs): return "0" + hs.json()
        case .close: return "1"
        case .ping(let d): return "2" + d
        case .pong(let d): return "3" + d
        case .message(let d): return "4" + d
        case .binaryMessage(let bytes): return "b" + Data(bytes).base64EncodedString()
        case .upgrade: return "5"
        case .noop: return "6"
        }
    }

    /// Decodes one text packet (a websocket text frame, or one element of a polling payload).
    public static func decode(_ text: Substring) throws(SignalingDecodeError) -> EngineIOPacket {
        guard let type = text.first else { throw .empty }
        let data = text.dropFirst()
        switch type {
        case "0": return .open(try EngineIOHandshake.parse(data))
        case "1": return .close
        case "2": return .ping(String(data))
        case "3": return .pong(String(data))
        case "4": return .message(String(data))
        case "5": return .upgrade
        case "6": return .noop
        case "b":
            guard let bytes = Data(base64Encoded: String(data)) else { throw .badBase64 }
            return .binaryMessage(Array(bytes))
        default: throw .unknownEngineIOPacketType(type)
        }
    }
}

/// HTTP long-polling payloads: packets joined by the record separator (engine.io-protocol v4).
public enum EngineIOPayload {
    public static let separator: Character = "\u{1e}"

    /// Splits a payload; each element decodes independently so one bad packet does not poison the rest.
    public static func decode(_ body: String) -> [Result<EngineIOPacket, SignalingDecodeError>] {
        body.split(separator: separator, omittingEmptySubsequences: false).map { part in
            Result { () throws(SignalingDecodeError) in try EngineIOPacket.decode(part) }
        }
    }

    public static func encode(_ packets: [EngineIOPacket]) -> String {
        packets.map { $0.encoded() }.joined(separator: String(separator))
    }

    /// Groups packets into payloads of at most `maxPayload` UTF-8 bytes each, preserving order.
    /// A single packet larger than the limit cannot be sent at all and is reported.
    public static func batches(_ packets: [EngineIOPacket], maxPayload: Int) throws(SignalingDecodeError) -> [String] {
        var result: [String] = []
        var current = ""
        var currentBytes = 0
        for packet in packets {
            let text = packet.encoded()
            let bytes = text.utf8.count
            if bytes > maxPayload { throw .oversized(bytes: bytes, limit: maxPayload) }
            let extra = currentBytes == 0 ? bytes : bytes + 1
            if currentBytes > 0, currentBytes + extra > maxPayload {
                result.append(current)
                current = text
                currentBytes = bytes
            } else {
                current += currentBytes == 0 ? text : String(separator) + text
                currentBytes += extra
            }
        }
        if currentBytes > 0 { result.append(current) }
        return result
    }
}

/// The `open` packet's JSON (engine.io-protocol v4 "Handshake").
public struct EngineIOHandshake: Codable, Sendable, Equatable {
    public var sid: String
    public var upgrades: [String]
    /// Milliseconds.
    public var pingInterval: Int
    /// Milliseconds.
    public var pingTimeout: Int
    /// Bytes per polling payload the server accepts (v4 servers send it; default 1e6).
    public var maxPayload: Int

    public init(sid: String, upgrades: [String], pingInterval: Int, pingTimeout: Int, maxPayload: Int) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    enum CodingKeys: String, CodingKey { case sid, upgrades, pingInterval, pingTimeout, maxPayload }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sid = try c.decode(String.self, forKey: .sid)
        upgrades = try c.decodeIfPresent([String].self, forKey: .upgrades) ?? []
        pingInterval = try c.decodeIfPresent(Int.self, forKey: .pingInterval) ?? 25_000
        pingTimeout = try c.decodeIfPresent(Int.self, forKey: .pingTimeout) ?? 20_000
        maxPayload = try c.decodeIfPresent(Int.self, forKey: .maxPayload) ?? 1_000_000
    }

    static func parse(_ text: Substring) throws(SignalingDecodeError) -> EngineIOHandshake {
        do {
            let hs = try JSONDecoder().decode(EngineIOHandshake.self, from: Data(text.utf8))
            guard !hs.sid.isEmpty, hs.pingInterval > 0, hs.pingTimeout > 0, hs.maxPayload > 0 else {
                throw SignalingDecodeError.badHandshake("empty sid or non-positive timing/limit")
            }
            return hs
        } catch let error as SignalingDecodeError {
            throw error
        } catch {
            throw .badHandshake(JSONValue.describe(error))
        }
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
