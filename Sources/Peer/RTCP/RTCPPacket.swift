// RTCP packets and compound packets (RFC 3550 §6.1 common header, §6.4 SR/RR, §6.5 SDES,
// §6.6 BYE), reduced-size RTCP (RFC 5506 §3: a single non-SR/RR packet is accepted), and the
// feedback messages of RFC 4585 §6.1 (RTPFB 205 / PSFB 206 with FMT in the count field).
// Parsing never traps; malformed input throws an `RTCPError` naming the problem.

public enum RTCPError: Error, Equatable, CustomStringConvertible {
    case truncated(String)
    case badVersion(UInt8)
    case badLength(String)
    case badPadding
    case malformed(String)

    public var description: String {
        switch self {
        case let .truncated(what): "RTCP truncated: \(what)"
        case let .badVersion(v): "RTCP version \(v), expected 2"
        case let .badLength(what): "RTCP length: \(what)"
        case .badPadding: "RTCP padding count exceeds the packet"
        case let .malformed(what): "RTCP malformed: \(what)"
        }
    }
}

public enum RTCPPacketType {
    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let bye: UInt8 = 203
    public static let app: UInt8 = 204
    public static let transportFeedback: UInt8 = 205  // RTPFB (RFC 4585 §6.1)
    public static let payloadFeedback: UInt8 = 206  // PSFB
}

public enum RTCPPacket: Sendable, Equatable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription(RTCPSourceDescription)
    case bye(RTCPBye)
    case nack(RTCPNack)
    case pli(RTCPPictureLossIndication)
    case fir(RTCPFullIntraRequest)
    case remb(RTCPREMB)
    case transportFeedback(TransportFeedback)
    /// Anything else (APP, XR, unknown feedback): header fields and the body after the length word.
    case other(packetType: UInt8, count: UInt8, body: [UInt8])

    // MARK: Compound

    /// Parses a compound (or RFC 5506 reduced-size) RTCP packet. `requireReportFirst` enforces
    /// RFC 3550 §6.1's rule that a compound packet starts with SR or RR (off for reduced-size).
    public static func parseCompound(_ bytes: [UInt8], requireReportFirst: Bool = false) throws(RTCPError) -> [RTCPPacket] {
        try bytes.withUnsafeBufferPointer { b throws(RTCPError) in
            var packets: [RTCPPacket] = []
            var offset = 0
            while offset < b.count {
                guard b.count - offset >= 4 else { throw .truncated("header at byte \(offset)") }
                let version = b[offset] >> 6
                guard version == 2 else { throw .badVersion(version) }
                let length = (Int(readU16(b, offset + 2)) + 1) * 4
                guard offset + length <= b.count else { throw .badLength("packet at byte \(offset) claims \(length) bytes") }
                var end = offset + length
                if b[offset] & 0x20 != 0 {
                    let padding = Int(b[end - 1])
                    guard padding > 0, end - padding >= offset + 4 else { throw .badPadding }
                    end -= padding
                }
                let body = UnsafeBufferPointer(rebasing: b[(offset + 4)..<end])
                let packet = try parseOne(type: b[offset + 1], count: b[offset] & 0x1F, body: body)
                if packets.isEmpty, requireReportFirst {
                    switch packet {
                    case .senderReport, .receiverReport: break
                    default: throw .malformed("compound packet does not start with SR or RR")
                    }
                }
                packets.append(packet)
                offset += length
            }
            guard !packets.isEmpty else { throw .truncated("empty RTCP packet") }
            return packets
        }
    }

    public static func serializeCompound(_ packets: [RTCPPacket]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        for packet in packets { packet.serialize(into: &out) }
        return out
    }

    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        serialize(into: &out)
        return out
    }

    // MARK: One packet

    static func parseOne(type: UInt8, count: UInt8, body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPPacket {
        switch type {
        case RTCPPacketType.senderReport: return .senderReport(try RTCPSenderReport.parse(count: count, body: b))
        case RTCPPacketType.receiverReport: return .receiverReport(try RTCPReceiverReport.parse(count: count, body: b))
        case RTCPPacketType.sourceDescription: return .sourceDescription(try RTCPSourceDescription.parse(count: count, body: b))
        case RTCPPacketType.bye: return .bye(try RTCPBye.parse(count: count, body: b))
        case RTCPPacketType.transportFeedback:
            switch count {
            case 1: return .nack(try RTCPNack.parse(body: b))
            case 15: return .transportFeedback(try TransportFeedback.parse(body: b))
            default: break
            }
        case RTCPPacketType.payloadFeedback:
            switch count {
            case 1: return .pli(try RTCPPictureLossIndication.parse(body: b))
            case 4: return .fir(try RTCPFullIntraRequest.parse(body: b))
            case 15:
                // Application-layer feedback: REMB is recognised by its 'REMB' identifier.
                if b.count >= 12, b[8] == 0x52, b[9] == 0x45, b[10] == 0x4D, b[11] == 0x42 {
                    return .remb(try RTCPREMB.parse(body: b))
                }
            default: break
            }
        default: break
        }
        return .other(packetType: type, count: count, body: Array(b))
    }

    public func serialize(into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0])  // header, patched below
        let type: UInt8
        let count: UInt8
        switch self {
        case let .senderReport(p): type = RTCPPacketType.senderReport; count = p.serializeBody(into: &out)
        case let .receiverReport(p): type = RTCPPacketType.receiverReport; count = p.serializeBody(into: &out)
        case let .sourceDescription(p): type = RTCPPacketType.sourceDescription; count = p.serializeBody(into: &out)
        case let .bye(p): type = RTCPPacketType.bye; count = p.serializeBody(into: &out)
        case let .nack(p): type = RTCPPacketType.transportFeedback; count = 1; p.serializeBody(into: &out)
        case let .transportFeedback(p): type = RTCPPacketType.transportFeedback; count = 15; p.serializeBody(into: &out)
        case let .pli(p): type = RTCPPacketType.payloadFeedback; count = 1; p.serializeBody(into: &out)
        case let .fir(p): type = RTCPPacketType.payloadFeedback; count = 4; p.serializeBody(into: &out)
        case let .remb(p): type = RTCPPacketType.payloadFeedback; count = 15; p.serializeBody(into: &out)
        case let .other(t, c, body): type = t; count = c; out.append(contentsOf: body)
        }
        // Pad to 32 bits with the P bit and a trailing count (RFC 3550 §6.4.1 padding).
        let unpadded = out.count - start
        var padding = 0
        if unpadded % 4 != 0 {
            padding = 4 - unpadded % 4
            out.append(contentsOf: repeatElement(0, count: padding - 1))
            out.append(UInt8(padding))
        }
        let words = (out.count - start) / 4 - 1
        out[start] = 0x80 | (padding > 0 ? 0x20 : 0) | (count & 0x1F)
        out[start + 1] = type
        out[start + 2] = UInt8((words >> 8) & 0xFF)
        out[start + 3] = UInt8(words & 0xFF)
    }
}
