// Fuzz invariants for the media parsers (RTP RFC 3550 §5.1 + RFC 8285, VP8 descriptor RFC 7741
// §4.2, compound RTCP RFC 3550 §6 / RFC 4585 / transport-cc draft §3.1), for the libFuzzer entry
// and corpus replay: any input parses or throws (never traps), and whatever parses survives its
// serializer and parses again to the same value. Each function returns the violations found.

public enum MediaParserExercise {
    public static func rtp(_ input: [UInt8]) -> (decoded: Bool, violations: [String]) {
        guard let packet = try? RTPPacket.parse(input) else { return (false, []) }
        _ = try? VP8Depacketizer.inspect(packet)
        let bytes = packet.serialize()
        if bytes.count != packet.serializedSize { return (true, ["rtp: serializedSize \(packet.serializedSize) ≠ \(bytes.count)"]) }
        guard let again = try? RTPPacket.parse(bytes) else { return (true, ["rtp: serialized packet does not parse"]) }
        return (true, again == packet ? [] : ["rtp: serialized packet parses differently"])
    }

    public static func vp8(_ input: [UInt8]) -> (decoded: Bool, violations: [String]) {
        guard let (descriptor, offset) = try? VP8PayloadDescriptor.parse(input) else { return (false, []) }
        var bytes: [UInt8] = []
        descriptor.serialize(into: &bytes)
        bytes.append(contentsOf: input[offset...])
        guard let (again, _) = try? VP8PayloadDescriptor.parse(bytes) else { return (true, ["vp8: serialized descriptor does not parse"]) }
        return (true, again == descriptor ? [] : ["vp8: serialized descriptor parses differently"])
    }

    public static func rtcp(_ input: [UInt8]) -> (decoded: Bool, violations: [String]) {
        guard let packets = try? RTCPPacket.parseCompound(input) else { return (false, []) }
        let bytes = RTCPPacket.serializeCompound(packets)
        guard bytes.count % 4 == 0 else { return (true, ["rtcp: serialized length not a multiple of 4"]) }
        guard let again = try? RTCPPacket.parseCompound(bytes) else { return (true, ["rtcp: serialized packets do not parse"]) }
        return (true, again == packets ? [] : ["rtcp: serialized packets parse differently"])
    }
}
