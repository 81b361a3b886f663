/// A Socket.IO v5 packet (socket.io-protocol v5, "Packet encoding"):
/// `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`, carried in an Engine.IO message.
public struct SocketIOPacket: Sendable, Equatable {
    public enum Kind: Character, Sendable {
        case connect = "0"
        case disconnect = "1"
        case event = "2"
        case ack = "3"
        case connectError = "4"
        case binaryEvent = "5"
        case binaryAck = "6"
    }

    public var kind: Kind
    public var namespace: String
    public var ackID: UInt64?
    public var data: JSONValue?

    public init(kind: Kind, namespace: String = "/", ackID: UInt64? = nil, data: JSONValue? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.ackID = ackID
        self.data = data
    }

    /// An EVENT: data is `[name, ...args]`.
    public static func event(_ name: String, _ args: [JSONValue], ackID: UInt64? = nil, namespace: String = "/") -> SocketIOPacket {
        SocketIOPacket(kind: .event, namespace: namespace, ackID: ackID, data: .array([.string(name)] + args))
    }

    /// For an EVENT: its name and arguments.
    public func eventNameAndArgs() throws(SignalingDecodeError) -> (name: String, args: [JSONValue]) {
        guard case .array(let items)? = data, case .string(let name)? = items.first else { throw .eventNotArray }
        return (name, Array(items.dropFirst()))
    }

    public func encoded() -> String {
        var out = String(kind.rawValue)
        if namespace != "/" { out += namespace + "," }
        if let ackID { out += String(ackID) }
        if let data { out += data.serialized() }
        return out
    }

    /// Largest ack id accepted: JavaScript numbers are exact up to 2^53.
    static let maxAckID: UInt64 = 1 << 53

    public static func decode(_ text: String) throws(SignalingDecodeError) -> SocketIOPacket {
        var rest = Substring(text)
        guard let typeChar = rest.first else { throw .empty }
        guard let kind = Kind(rawValue: typeChar) else { throw .unknownSocketIOPacketType(typeChar) }
        rest = rest.dropFirst()

        if kind == .binaryEvent || kind == .binaryAck {
            let digits = rest.prefix(while: \.isASCIIDigit)
            guard !digits.isEmpty, rest.dropFirst(digits.count).first == "-", let count = Int(digits), count < 1_000 else {
                throw .malformedHeader("binary packet without '<attachments>-'")
            }
            // Attachments would follow as separate Engine.IO binary messages; the caller skips them.
            throw .binaryAttachmentsUnsupported(count)
        }

        var namespace = "/"
        if rest.first == "/" {
            // The namespace runs to the first ',' or, without one, to the end of the packet (e.g. "1/admin");
            // either way the per-type rules below still apply ("3/admin" is an ACK without an id).
            let end = rest.firstIndex(of: ",") ?? rest.endIndex
            namespace = String(rest[..<end])
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
        }

        var ackID: UInt64?
        let digits = rest.prefix(while: \.isASCIIDigit)
        if !digits.isEmpty {
            guard digits.count <= 16, let id = UInt64(digits), id <= maxAckID else { throw .malformedHeader("ack id out of range") }
            ackID = id
            rest = rest.dropFirst(digits.count)
        }

        var data: JSONValue?
        if !rest.isEmpty { data = try JSONValue.parse(rest) }

        // Per-type shape rules (socket.io-protocol v5): reject what the official parser rejects.
        switch kind {
        case .event:
            guard case .array(let items)? = data, case .string? = items.first else { throw .eventNotArray }
        case .ack:
            guard ackID != nil, case .array? = data else { throw .malformedHeader("ACK needs an id and an array") }
        case .connect:
            if let data, case .object = data {} else if data != nil { throw .malformedHeader("CONNECT data must be an object") }
        case .connectError:
            // A string or an object, as the official parser requires (a number would not survive re-encoding:
            // "4 5" would come back as "45", an id without data).
            switch data {
            case .string?, .object?: break
            default: throw .malformedHeader("CONNECT_ERROR data must be a string or an object")
            }
        case .disconnect:
            guard data == nil else { throw .malformedHeader("DISCONNECT carries no data") }
        case .binaryEvent, .binaryAck:
            break
        }
        return SocketIOPacket(kind: kind, namespace: namespace, ackID: ackID, data: data)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
