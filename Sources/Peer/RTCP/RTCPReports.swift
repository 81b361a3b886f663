// RTCP sender and receiver reports (RFC 3550 §6.4.1, §6.4.2), report blocks, SDES (§6.5,
// CNAME for lip sync) and BYE (§6.6).

/// One reception report block (RFC 3550 §6.4.1).
public struct RTCPReportBlock: Sendable, Equatable {
    public var ssrc: UInt32
    /// Fraction of packets lost since the last report, in 1/256.
    public var fractionLost: UInt8
    /// Cumulative packets lost (24-bit signed).
    public var cumulativeLost: Int32
    public var extendedHighestSequence: UInt32
    /// Interarrival jitter in RTP timestamp units.
    public var jitter: UInt32
    /// Middle 32 bits of the NTP timestamp of the last SR received from this source, 0 if none.
    public var lastSenderReport: UInt32
    /// Delay since that SR, in 1/65536 s.
    public var delaySinceLastSenderReport: UInt32

    public init(ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, extendedHighestSequence: UInt32 = 0,
                jitter: UInt32 = 0, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = max(-0x80_0000, min(0x7F_FFFF, cumulativeLost))
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    static let size = 24

    static func parse(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> RTCPReportBlock {
        let lost24 = readU24(b, i + 5)
        let lost = Int32(bitPattern: lost24 << 8) >> 8  // sign-extend 24 bits
        return RTCPReportBlock(ssrc: readU32(b, i), fractionLost: b[i + 4], cumulativeLost: lost,
                               extendedHighestSequence: readU32(b, i + 8), jitter: readU32(b, i + 12),
                               lastSenderReport: readU32(b, i + 16), delaySinceLastSenderReport: readU32(b, i + 20))
    }

    func serialize(into out: inout [UInt8]) {
        appendU32(&out, ssrc)
        out.append(fractionLost)
        appendU24(&out, UInt32(bitPattern: cumulativeLost) & 0xFF_FFFF)
        appendU32(&out, extendedHighestSequence)
        appendU32(&out, jitter)
        appendU32(&out, lastSenderReport)
        appendU32(&out, delaySinceLastSenderReport)
    }
}

private func parseBlocks(_ b: UnsafeBufferPointer<UInt8>, from: Int, count: Int) throws(RTCPError) -> [RTCPReportBlock] {
    guard b.count >= from + count * RTCPReportBlock.size else { throw .truncated("\(count) report blocks") }
    return (0..<count).map { RTCPReportBlock.parse(b, from + $0 * RTCPReportBlock.size) }
}

public struct RTCPSenderReport: Sendable, Equatable {
    public var ssrc: UInt32
    /// 64-bit NTP timestamp (RFC 3550 §4) of the moment `rtpTimestamp` stands for.
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    public var reports: [RTCPReportBlock]

    public init(ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
                reports: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reports = reports
    }

    static func parse(count: UInt8, body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPSenderReport {
        guard b.count >= 24 else { throw .truncated("sender info") }
        let ntp = UInt64(readU32(b, 4)) << 32 | UInt64(readU32(b, 8))
        // Profile-specific extensions after the blocks (§6.4.1) are ignored.
        return RTCPSenderReport(ssrc: readU32(b, 0), ntpTimestamp: ntp, rtpTimestamp: readU32(b, 12),
                                packetCount: readU32(b, 16), octetCount: readU32(b, 20),
                                reports: try parseBlocks(b, from: 24, count: Int(count)))
    }

    func serializeBody(into out: inout [UInt8]) -> UInt8 {
        appendU32(&out, ssrc)
        appendU32(&out, UInt32(ntpTimestamp >> 32))
        appendU32(&out, UInt32(ntpTimestamp & 0xFFFF_FFFF))
        appendU32(&out, rtpTimestamp)
        appendU32(&out, packetCount)
        appendU32(&out, octetCount)
        for block in reports.prefix(31) { block.serialize(into: &out) }
        return UInt8(min(31, reports.count))
    }
}

public struct RTCPReceiverReport: Sendable, Equatable {
    public var ssrc: UInt32
    public var reports: [RTCPReportBlock]

    public init(ssrc: UInt32, reports: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.reports = reports
    }

    static func parse(count: UInt8, body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPReceiverReport {
        guard b.count >= 4 else { throw .truncated("receiver report SSRC") }
        return RTCPReceiverReport(ssrc: readU32(b, 0), reports: try parseBlocks(b, from: 4, count: Int(count)))
    }

    func serializeBody(into out: inout [UInt8]) -> UInt8 {
        appendU32(&out, ssrc)
        for block in reports.prefix(31) { block.serialize(into: &out) }
        return UInt8(min(31, reports.count))
    }
}

/// SDES (RFC 3550 §6.5): chunks of (SSRC, items); item type 1 is CNAME.
public struct RTCPSourceDescription: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var type: UInt8
        /// The item's bytes as sent (at most 255; kept as bytes so any input round-trips).
        public var value: [UInt8]
        public var text: String { String(decoding: value, as: UTF8.self) }
        public init(type: UInt8, text: String) {
            self.type = type
            value = Array(text.utf8.prefix(255))
        }
        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = Array(value.prefix(255))
        }
        public static func cname(_ text: String) -> Item { Item(type: 1, text: text) }
    }

    public struct Chunk: Sendable, Equatable {
        public var ssrc: UInt32
        public var items: [Item]
        public init(ssrc: UInt32, items: [Item]) {
            self.ssrc = ssrc
            self.items = items
        }
    }

    public var chunks: [Chunk]
    public init(chunks: [Chunk]) { self.chunks = chunks }

    public func cname(of ssrc: UInt32) -> String? {
        chunks.first { $0.ssrc == ssrc }?.items.first { $0.type == 1 }?.text
    }

    static func parse(count: UInt8, body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPSourceDescription {
        var chunks: [Chunk] = []
        var i = 0
        for _ in 0..<count {
            guard b.count >= i + 4 else { throw .truncated("SDES chunk SSRC") }
            var chunk = Chunk(ssrc: readU32(b, i), items: [])
            i += 4
            while true {
                guard i < b.count else { throw .truncated("SDES items without terminator") }
                let type = b[i]
                if type == 0 {  // end of list, then pad to the next 32-bit boundary
                    i += 1
                    i = (i + 3) & ~3
                    break
                }
                guard i + 2 <= b.count else { throw .truncated("SDES item header") }
                let length = Int(b[i + 1])
                guard i + 2 + length <= b.count else { throw .truncated("SDES item text") }
                chunk.items.append(Item(type: type, value: Array(b[(i + 2)..<(i + 2 + length)])))
                i += 2 + length
            }
            chunks.append(chunk)
        }
        return RTCPSourceDescription(chunks: chunks)
    }

    func serializeBody(into out: inout [UInt8]) -> UInt8 {
        for chunk in chunks.prefix(31) {
            let start = out.count
            appendU32(&out, chunk.ssrc)
            for item in chunk.items where item.type != 0 {
                let value = item.value.prefix(255)
                out.append(item.type)
                out.append(UInt8(value.count))
                out.append(contentsOf: value)
            }
            out.append(0)  // end of items; then null-pad the chunk to 32 bits
            while (out.count - start) % 4 != 0 { out.append(0) }
        }
        return UInt8(min(31, chunks.count))
    }
}

/// BYE (RFC 3550 §6.6).
public struct RTCPBye: Sendable, Equatable {
    public var ssrcs: [UInt32]
    /// The reason's bytes as sent (kept as bytes so any input round-trips).
    public var reasonBytes: [UInt8]?
    public var reason: String? { reasonBytes.map { String(decoding: $0, as: UTF8.self) } }

    public init(ssrcs: [UInt32], reason: String? = nil) {
        self.ssrcs = Array(ssrcs.prefix(31))
        reasonBytes = reason.map { Array($0.utf8.prefix(255)) }
    }

    public init(ssrcs: [UInt32], reasonBytes: [UInt8]?) {
        self.ssrcs = Array(ssrcs.prefix(31))
        self.reasonBytes = reasonBytes.map { Array($0.prefix(255)) }
    }

    static func parse(count: UInt8, body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPBye {
        guard b.count >= Int(count) * 4 else { throw .truncated("BYE SSRC list") }
        let ssrcs = (0..<Int(count)).map { readU32(b, $0 * 4) }
        var reason: [UInt8]?
        let at = Int(count) * 4
        // A reason is present when bytes remain and they are not just the zero fill.
        if at < b.count, b[at] != 0 {
            let length = Int(b[at])
            guard at + 1 + length <= b.count else { throw .truncated("BYE reason") }
            reason = Array(b[(at + 1)..<(at + 1 + length)])
        }
        return RTCPBye(ssrcs: ssrcs, reasonBytes: reason)
    }

    func serializeBody(into out: inout [UInt8]) -> UInt8 {
        for ssrc in ssrcs.prefix(31) { appendU32(&out, ssrc) }
        if let reasonBytes, !reasonBytes.isEmpty {
            let start = out.count
            let text = reasonBytes.prefix(255)
            out.append(UInt8(text.count))
            out.append(contentsOf: text)
            while (out.count - start) % 4 != 0 { out.append(0) }
        }
        return UInt8(min(31, ssrcs.count))
    }
}
