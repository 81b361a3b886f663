// ICE candidate attribute grammar, RFC 8839 §5.1:
//   candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority SP
//                         connection-address SP port SP "typ" SP cand-type
//                         [SP "raddr" SP addr] [SP "rport" SP port] *(SP extension-att-name SP extension-att-value)
// tcptype is RFC 6544 §4.5; generation/ufrag/network-id/network-cost are Chromium extensions.
// Used both inside SDP (a=candidate:...) and for trickled candidates (RFC 8838 §4: "candidate:..." strings).

/// One ICE candidate as written in SDP or trickled over signaling.
public struct IceCandidateLine: Equatable, Sendable, CustomStringConvertible {
    /// `cand-type` (RFC 8839 §5.1); open so a future type does not fail the whole SDP.
    public struct CandidateType: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let host = CandidateType(rawValue: "host")
        public static let serverReflexive = CandidateType(rawValue: "srflx")
        public static let peerReflexive = CandidateType(rawValue: "prflx")
        public static let relay = CandidateType(rawValue: "relay")
    }

    /// An extension attribute pair, kept in order (RFC 8839 §5.1 says unknown ones MUST be ignored, we keep them).
    public struct Extension: Equatable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var foundation: String
    public var component: Int
    /// As sent: Firefox writes "UDP"/"TCP", Chromium and aiortc lower case.
    public var transport: String
    public var priority: UInt32
    /// IPv4, IPv6, an FQDN or an mDNS ".local" name (RFC 8839 §5.1 allows FQDNs).
    public var address: String
    public var port: Int
    public var type: CandidateType
    public var relatedAddress: String?
    public var relatedPort: Int?
    public var extensions: [Extension]

    public init(foundation: String, component: Int = 1, transport: String = "udp", priority: UInt32,
                address: String, port: Int, type: CandidateType, relatedAddress: String? = nil,
                relatedPort: Int? = nil, extensions: [Extension] = []) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.extensions = extensions
    }

    public var isUDP: Bool { transport.lowercased() == "udp" }
    /// RFC 6544 §4.5: "active", "passive" or "so" for TCP candidates.
    public var tcpType: String? { extensionValue("tcptype") }
    public var generation: Int? { extensionValue("generation").flatMap { Int($0) } }
    public var ufrag: String? { extensionValue("ufrag") }
    public var networkId: Int? { extensionValue("network-id").flatMap { Int($0) } }
    public var networkCost: Int? { extensionValue("network-cost").flatMap { Int($0) } }

    public func extensionValue(_ name: String) -> String? {
        extensions.first(where: { $0.name == name })?.value
    }

    /// Parses "candidate:..." (trickle form), tolerating a leading "a=" too.
    public static func parse(_ text: String) throws(SDPError) -> IceCandidateLine {
        var body = Substring(text).trimmingSDPSpaces()
        if body.hasPrefix("a=") { body = body.dropFirst(2) }
        guard body.hasPrefix("candidate:") else {
            throw .invalidCandidate(text: text, reason: "does not start with \"candidate:\"")
        }
        do {
            return try parseValue(body.dropFirst("candidate:".count))
        } catch {
            throw .invalidCandidate(text: text, reason: error.reason)
        }
    }

    /// Parses the attribute value, i.e. the text after "a=candidate:".
    static func parseValue(_ value: Substring) throws(SDPFieldError) -> IceCandidateLine {
        let t = value.sdpTokens()
        guard t.count >= 8 else { throw SDPFieldError("candidate needs at least 8 fields, has \(t.count)") }
        // RFC 8839 §5.1: foundation is 1*32 ice-char (ALPHA / DIGIT / "+" / "/").
        guard t[0].count <= 32, t[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") })
        else { throw SDPFieldError("candidate foundation \"\(t[0])\" is not 1-32 ice-chars") }
        let component = try sdpInt(t[1], "component id", max: 256)
        guard component >= 1 else { throw SDPFieldError("component id must be 1-256") }
        guard t[2].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw SDPFieldError("candidate transport \"\(t[2])\" is not a token")
        }
        let priority = try sdpUInt32(t[3], "priority")
        guard priority >= 1 else { throw SDPFieldError("priority must be 1 or more") }
        let port = try sdpInt(t[5], "port", max: 65535)
        guard t[6] == "typ" else { throw SDPFieldError("expected \"typ\" after the port, found \"\(t[6])\"") }
        var candidate = IceCandidateLine(foundation: String(t[0]), component: component, transport: String(t[2]),
                                         priority: priority, address: String(t[4]), port: port,
                                         type: CandidateType(rawValue: String(t[7])))
        var rest = t.dropFirst(8)
        guard rest.count % 2 == 0 else { throw SDPFieldError("candidate extension \"\(rest.last!)\" has no value") }
        while let name = rest.popFirst(), let value = rest.popFirst() {
            switch name {
            case "raddr": candidate.relatedAddress = String(value)
            case "rport": candidate.relatedPort = try sdpInt(value, "rport", max: 65535)
            default: candidate.extensions.append(Extension(name: String(name), value: String(value)))
            }
        }
        return candidate
    }

    /// The attribute value without "candidate:" prefix, fields in grammar order.
    var value: String {
        var s = "\(foundation) \(component) \(transport) \(priority) \(address) \(port) typ \(type.rawValue)"
        if let relatedAddress { s += " raddr \(relatedAddress)" }
        if let relatedPort { s += " rport \(relatedPort)" }
        for e in extensions { s += " \(e.name) \(e.value)" }
        return s
    }

    /// "candidate:..." as trickled (RFC 8838 §4); the SDP serializer prefixes "a=".
    public func serialize() -> String { "candidate:" + value }
    public var description: String { serialize() }
}
