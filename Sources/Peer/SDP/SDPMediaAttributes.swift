// RTP media attributes and their grammars:
// RFC 8866 §6.6 (a=rtpmap), §6.15 (a=fmtp); RFC 4585 §4.2 (a=rtcp-fb);
// RFC 8285 §8 (a=extmap with optional direction); RFC 5576 §4.1-4.2 (a=ssrc, a=ssrc-group),
// RFC 4588 §8 (FID groups for RTX).
// Each type parses the attribute value (the text after "a=name:") and renders it back.

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`.
public struct SDPRtpMap: Equatable, Sendable {
    public var payloadType: Int
    public var encoding: String
    public var clockRate: Int
    /// Audio channel count; absent means 1 (RFC 8866 §6.6).
    public var channels: Int?

    public init(payloadType: Int, encoding: String, clockRate: Int, channels: Int? = nil) {
        self.payloadType = payloadType
        self.encoding = encoding
        self.clockRate = clockRate
        self.channels = channels
    }

    static func parse(_ value: Substring) throws(SDPFieldError) -> SDPRtpMap {
        let parts = value.sdpTokens()
        guard parts.count == 2 else { throw SDPFieldError("rtpmap needs \"<pt> <name>/<rate>\"") }
        let pt = try sdpInt(parts[0], "payload type", max: 127)
        let codec = parts[1].split(separator: "/", omittingEmptySubsequences: false)
        guard codec.count == 2 || codec.count == 3, !codec[0].isEmpty else {
            throw SDPFieldError("rtpmap encoding \"\(parts[1])\" is not <name>/<rate>[/<channels>]")
        }
        let rate = try sdpInt(codec[1], "clock rate")
        let channels = codec.count == 3 ? try sdpInt(codec[2], "channel count") : nil
        return SDPRtpMap(payloadType: pt, encoding: String(codec[0]), clockRate: rate, channels: channels)
    }

    var value: String {
        "\(payloadType) \(encoding)/\(clockRate)" + (channels.map { "/\($0)" } ?? "")
    }
}

/// `a=fmtp:<format> <format specific parameters>`; parameters are kept as sent.
public struct SDPFmtp: Equatable, Sendable {
    public var payloadType: Int
    public var parameters: String

    public init(payloadType: Int, parameters: String) {
        self.payloadType = payloadType
        self.parameters = parameters
    }

    static func parse(_ value: Substring) throws(SDPFieldError) -> SDPFmtp {
        guard let space = value.firstIndex(of: " ") else { throw SDPFieldError("fmtp needs \"<pt> <parameters>\"") }
        let pt = try sdpInt(value[..<space], "payload type", max: 127)
        return SDPFmtp(payloadType: pt, parameters: String(value[value.index(after: space)...]))
    }

    var value: String { "\(payloadType) \(parameters)" }

    /// `key=value;key=value` split into pairs (RFC 7587 §6, RFC 4588 §8.1 use this form).
    public var parameterMap: [String: String] {
        var map: [String: String] = [:]
        for item in parameters.split(separator: ";") {
            let trimmed = item.trimmingSDPSpaces()
            if let eq = trimmed.firstIndex(of: "=") {
                map[String(trimmed[..<eq])] = String(trimmed[trimmed.index(after: eq)...])
            } else {
                map[String(trimmed)] = ""
            }
        }
        return map
    }
}

/// `a=rtcp-fb:<pt or *> <type> [<parameter>]` (RFC 4585 §4.2), e.g. "96 nack pli", "111 transport-cc".
public struct SDPRtcpFeedback: Equatable, Sendable {
    /// A payload type, or "*" for all formats.
    public var payload: String
    public var type: String
    public var parameter: String?

    public init(payload: String, type: String, parameter: String? = nil) {
        self.payload = payload
        self.type = type
        self.parameter = parameter
    }

    static func parse(_ value: Substring) throws(SDPFieldError) -> SDPRtcpFeedback {
        let parts = value.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2 else { throw SDPFieldError("rtcp-fb needs \"<pt> <type> [<parameter>]\"") }
        if parts[0] != "*" { _ = try sdpInt(parts[0], "payload type", max: 127) }
        return SDPRtcpFeedback(payload: String(parts[0]), type: String(parts[1]),
                               parameter: parts.count == 3 ? String(parts[2]) : nil)
    }

    var value: String { "\(payload) \(type)" + (parameter.map { " \($0)" } ?? "") }
    /// "nack pli", "ccm fir", "transport-cc": what JSEP matching compares.
    public var kind: String { parameter.map { "\(type) \($0)" } ?? type }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8); Firefox sends directions.
public struct SDPExtmap: Equatable, Sendable {
    public var id: Int
    public var direction: SDPDirection?
    public var uri: String
    public var attributes: String?

    public init(id: Int, direction: SDPDirection? = nil, uri: String, attributes: String? = nil) {
        self.id = id
        self.direction = direction
        self.uri = uri
        self.attributes = attributes
    }

    static func parse(_ value: Substring) throws(SDPFieldError) -> SDPExtmap {
        let parts = value.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2 else { throw SDPFieldError("extmap needs \"<id>[/<direction>] <uri>\"") }
        let idParts = parts[0].split(separator: "/", omittingEmptySubsequences: false)
        guard idParts.count <= 2 else { throw SDPFieldError("extmap id \"\(parts[0])\" is malformed") }
        // RFC 8285 §5: one-byte ids 1-14, two-byte ids up to 255; 4096-4351 are for offers only.
        let id = try sdpInt(idParts[0], "extmap id", max: 4351)
        var direction: SDPDirection?
        if idParts.count == 2 {
            guard let dir = SDPDirection(rawValue: String(idParts[1])) else {
                throw SDPFieldError("extmap direction \"\(idParts[1])\" is unknown")
            }
            direction = dir
        }
        return SDPExtmap(id: id, direction: direction, uri: String(parts[1]),
                         attributes: parts.count == 3 ? String(parts[2]) : nil)
    }

    var value: String {
        "\(id)" + (direction.map { "/\($0.rawValue)" } ?? "") + " \(uri)" + (attributes.map { " \($0)" } ?? "")
    }
}

/// `a=ssrc:<ssrc-id> <attribute>[:<value>]` (RFC 5576 §4.1), e.g. "cname:xyz" or "msid:s t".
public struct SDPSsrcAttribute: Equatable, Sendable {
    public var ssrc: UInt32
    public var attribute: String
    public var value: String?

    public init(ssrc: UInt32, attribute: String, value: String? = nil) {
        self.ssrc = ssrc
        self.attribute = attribute
        self.value = value
    }

    static func parse(_ text: Substring) throws(SDPFieldError) -> SDPSsrcAttribute {
        let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw SDPFieldError("ssrc needs \"<ssrc> <attribute>[:<value>]\"") }
        let ssrc = try sdpUInt32(parts[0], "ssrc")
        let (name, value) = sdpSplitAttribute(parts[1])
        return SDPSsrcAttribute(ssrc: ssrc, attribute: String(name), value: value.map(String.init))
    }

    var text: String { "\(ssrc) \(attribute)" + (value.map { ":\($0)" } ?? "") }
}

/// `a=ssrc-group:<semantics> <ssrc-id> ...` (RFC 5576 §4.2); "FID" pairs media with RTX (RFC 4588).
public struct SDPSsrcGroup: Equatable, Sendable {
    public var semantics: String
    public var ssrcs: [UInt32]

    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }

    static func parse(_ text: Substring) throws(SDPFieldError) -> SDPSsrcGroup {
        let parts = text.sdpTokens()
        guard parts.count >= 2 else { throw SDPFieldError("ssrc-group needs \"<semantics> <ssrc> ...\"") }
        var ssrcs: [UInt32] = []
        for part in parts.dropFirst() { ssrcs.append(try sdpUInt32(part, "ssrc")) }
        return SDPSsrcGroup(semantics: String(parts[0]), ssrcs: ssrcs)
    }

    var text: String { ([semantics] + ssrcs.map(String.init)).joined(separator: " ") }
}

extension Substring {
    func trimmingSDPSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
