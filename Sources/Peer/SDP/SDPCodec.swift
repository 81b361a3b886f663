// Codec view of an RTP m= section: rtpmap + fmtp + rtcp-fb joined per payload type
// (RFC 8866 §6.6, §6.15; RFC 4585 §4.2) and RTX association by fmtp "apt=" (RFC 4588 §8.1).
// Static payload types without an rtpmap use RFC 3551 §6 Table 4 (PCMU 0, PCMA 8, G722 9).

/// One offered or answered codec.
public struct SDPCodec: Equatable, Sendable {
    public var payloadType: Int
    public var name: String
    public var clockRate: Int
    public var channels: Int?
    /// The fmtp parameters as sent, e.g. "minptime=10;useinbandfec=1" or "apt=96".
    public var fmtp: String?
    /// Feedback for this payload type (wildcard "*" entries included).
    public var rtcpFeedback: [SDPRtcpFeedback]

    public init(payloadType: Int, name: String, clockRate: Int, channels: Int? = nil, fmtp: String? = nil,
                rtcpFeedback: [SDPRtcpFeedback] = []) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.fmtp = fmtp
        self.rtcpFeedback = rtcpFeedback
    }

    /// fmtp as key/value pairs.
    public var parameters: [String: String] {
        fmtp.map { SDPFmtp(payloadType: payloadType, parameters: $0).parameterMap } ?? [:]
    }

    /// For an RTX codec, the payload type it retransmits (RFC 4588 §8.1 "apt").
    public var associatedPayloadType: Int? { parameters["apt"].flatMap { Int($0) } }
    public var isRTX: Bool { name.lowercased() == "rtx" }
}

private let staticPayloadTypes: [Int: (String, Int, Int?)] = [
    0: ("PCMU", 8000, nil), 8: ("PCMA", 8000, nil), 9: ("G722", 8000, nil),
]

extension SDPMedia {
    /// Codecs in m= line order (the offerer's preference order, RFC 3264 §5.1).
    public var codecs: [SDPCodec] {
        payloadTypes.compactMap { pt -> SDPCodec? in
            let info: (String, Int, Int?)
            if let map = rtpMaps.first(where: { $0.payloadType == pt }) {
                info = (map.encoding, map.clockRate, map.channels)
            } else if let known = staticPayloadTypes[pt] {
                info = known
            } else {
                return nil  // dynamic type without rtpmap: unusable, RFC 8866 §6.6
            }
            let (name, rate, channels) = info
            let key = String(pt)
            return SDPCodec(payloadType: pt, name: name, clockRate: rate, channels: channels,
                            fmtp: fmtps.first(where: { $0.payloadType == pt })?.parameters,
                            rtcpFeedback: rtcpFeedback.filter { $0.payload == key || $0.payload == "*" })
        }
    }

    /// The first (most preferred) codec named `name`, case-insensitively ("VP8", "opus").
    /// A `filter` can narrow choices, e.g. H.264 profile or Opus channel count.
    public func pick(name: String, where filter: (SDPCodec) -> Bool = { _ in true }) -> SDPCodec? {
        let wanted = name.lowercased()
        return codecs.first { $0.name.lowercased() == wanted && filter($0) }
    }

    /// The RTX codec whose apt= points at `payloadType`, if offered.
    public func rtx(for payloadType: Int) -> SDPCodec? {
        codecs.first { $0.isRTX && $0.associatedPayloadType == payloadType }
    }

    /// Adds a codec's rtpmap, fmtp and rtcp-fb lines and its payload type to the m= line.
    public mutating func append(codec: SDPCodec) {
        formats.append(String(codec.payloadType))
        rtpMaps.append(SDPRtpMap(payloadType: codec.payloadType, encoding: codec.name,
                                 clockRate: codec.clockRate, channels: codec.channels))
        rtcpFeedback += codec.rtcpFeedback.map {
            SDPRtcpFeedback(payload: String(codec.payloadType), type: $0.type, parameter: $0.parameter)
        }
        if let fmtp = codec.fmtp { fmtps.append(SDPFmtp(payloadType: codec.payloadType, parameters: fmtp)) }
    }
}
