/// Why a frame, packet or event payload was rejected. Decoders return these instead of trapping,
/// so one malformed frame from a server is logged and dropped, never a crash.
public enum SignalingDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case unknownEngineIOPacketType(Character)
    case unknownSocketIOPacketType(Character)
    case malformedHeader(String)
    case malformedJSON(String)
    case badBase64
    case badHandshake(String)
    case badPayload(event: String, reason: String)
    case eventNotArray
    case binaryAttachmentsUnsupported(Int)
    case oversized(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .empty: return "empty packet"
        case .unknownEngineIOPacketType(let c): return "unknown Engine.IO packet type '\(c)'"
        case .unknownSocketIOPacketType(let c): return "unknown Socket.IO packet type '\(c)'"
        case .malformedHeader(let why): return "malformed Socket.IO header: \(why)"
        case .malformedJSON(let why): return "malformed JSON: \(why)"
        case .badBase64: return "malformed base64 in binary packet"
        case .badHandshake(let why): return "malformed Engine.IO handshake: \(why)"
        case .badPayload(let event, let reason): return "malformed '\(event)' payload: \(reason)"
        case .eventNotArray: return "EVENT data is not a non-empty array starting with the event name"
        case .binaryAttachmentsUnsupported(let n):
            return "binary Socket.IO packet with \(n) attachment(s) refused: no event in the videophone wire contract carries binary data"
        case .oversized(let bytes, let limit): return "payload of \(bytes) bytes exceeds the limit of \(limit) bytes"
        }
    }
}
