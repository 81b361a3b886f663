// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
// §3.1): RTPFB FMT 15. After the SSRCs: base sequence number (16), packet status count (16),
// reference time (24-bit signed, ×64 ms), feedback packet count (8); packet status chunks
// (§3.1.3 run length: T=0, S(2), length(13); §3.1.4 status vector: T=1, S=0 → 14 one-bit
// symbols, S=1 → 7 two-bit symbols); then one receive delta per received packet (§3.1.5:
// 1 byte unsigned for "small", 2 bytes signed for "large", in 250 µs units).

public struct TransportFeedback: Sendable, Equatable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var baseSequenceNumber: UInt16
    /// Reference time in 64 ms units (24-bit signed on the wire).
    public var referenceTime: Int32
    public var feedbackPacketCount: UInt8
    /// One entry per packet from the base sequence number on: the receive delta from the previous
    /// received packet (the first from the reference time) in 250 µs units, nil if not received.
    public var deltas: [Int32?]

    public static let deltaMicroseconds: Int64 = 250
    public static let referenceMicroseconds: Int64 = 64_000

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, baseSequenceNumber: UInt16, referenceTime: Int32,
                feedbackPacketCount: UInt8, deltas: [Int32?]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.baseSequenceNumber = baseSequenceNumber
        self.referenceTime = referenceTime
        self.feedbackPacketCount = feedbackPacketCount
        self.deltas = deltas
    }

    /// Per packet: its transport sequence number and arrival time in µs on the receiver's clock
    /// (reference time + running sum of deltas), nil if not received.
    public var arrivals: [(sequenceNumber: UInt16, arrivalMicroseconds: Int64?)] {
        var clock = Int64(referenceTime) * Self.referenceMicroseconds
        return deltas.enumerated().map { index, delta in
            let seq = baseSequenceNumber &+ UInt16(truncatingIfNeeded: index)
            guard let delta else { return (seq, nil) }
            clock += Int64(delta) * Self.deltaMicroseconds
            return (seq, clock)
        }
    }

    /// Status symbols of §3.1.1: 0 not received, 1 small delta (0...255), 2 large or negative delta.
    static func symbol(_ delta: Int32?) -> UInt8 {
        guard let delta else { return 0 }
        return (0...255).contains(delta) ? 1 : 2
    }

    static func parse(body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> TransportFeedback {
        guard b.count >= 16 else { throw .truncated("transport feedback header") }
        let base = readU16(b, 8)
        let statusCount = Int(readU16(b, 10))
        let reference = Int32(bitPattern: readU24(b, 12) << 8) >> 8
        var symbols: [UInt8] = []
        symbols.reserveCapacity(statusCount)
        var i = 16
        while symbols.count < statusCount {
            guard i + 2 <= b.count else { throw .truncated("packet status chunks") }
            let chunk = readU16(b, i)
            i += 2
            let remaining = statusCount - symbols.count
            if chunk & 0x8000 == 0 {
                let symbol = UInt8((chunk >> 13) & 0x03)
                let run = Int(chunk & 0x1FFF)
                guard symbol != 3 else { throw .malformed("transport feedback: reserved status 3") }
                guard run > 0 else { throw .malformed("transport feedback: empty run") }
                symbols.append(contentsOf: repeatElement(symbol, count: min(run, remaining)))
            } else if chunk & 0x4000 == 0 {
                for bit in 0..<min(14, remaining) { symbols.append(UInt8((chunk >> UInt16(13 - bit)) & 1)) }
            } else {
                for index in 0..<min(7, remaining) {
                    let symbol = UInt8((chunk >> UInt16(12 - 2 * index)) & 0x03)
                    guard symbol != 3 else { throw .malformed("transport feedback: reserved status 3") }
                    symbols.append(symbol)
                }
            }
        }
        var deltas: [Int32?] = []
        deltas.reserveCapacity(statusCount)
        for symbol in symbols {
            switch symbol {
            case 1:
                guard i + 1 <= b.count else { throw .truncated("small receive delta") }
                deltas.append(Int32(b[i]))
                i += 1
            case 2:
                guard i + 2 <= b.count else { throw .truncated("large receive delta") }
                deltas.append(Int32(Int16(bitPattern: readU16(b, i))))
                i += 2
            default:
                deltas.append(nil)
            }
        }
        return TransportFeedback(senderSSRC: readU32(b, 0), mediaSSRC: readU32(b, 4), baseSequenceNumber: base,
                                 referenceTime: reference, feedbackPacketCount: b[15], deltas: deltas)
    }

    /// Packet status chunks for the symbols: a run-length chunk for runs of 7 or more equal
    /// symbols (or runs the vectors cannot hold), else a one-bit vector when the next 14 hold no
    /// large delta, else a two-bit vector of 7.
    static func chunks(_ symbols: [UInt8]) -> [UInt16] {
        var chunks: [UInt16] = []
        var i = 0
        while i < symbols.count {
            var run = 1
            while i + run < symbols.count, symbols[i + run] == symbols[i], run < 0x1FFF { run += 1 }
            if run >= 7 {
                chunks.append(UInt16(symbols[i]) << 13 | UInt16(run))
                i += run
                continue
            }
            let window = symbols[i..<min(symbols.count, i + 14)]
            if window.count == 14 || i + window.count == symbols.count, !window.contains(2) {
                var chunk: UInt16 = 0x8000
                for (bit, symbol) in window.enumerated() { chunk |= UInt16(symbol) << UInt16(13 - bit) }
                chunks.append(chunk)
                i += window.count
            } else {
                var chunk: UInt16 = 0xC000
                let seven = symbols[i..<min(symbols.count, i + 7)]
                for (index, symbol) in seven.enumerated() { chunk |= UInt16(symbol) << UInt16(12 - 2 * index) }
                chunks.append(chunk)
                i += seven.count
            }
        }
        return chunks
    }

    func serializeBody(into out: inout [UInt8]) {
        appendU32(&out, senderSSRC)
        appendU32(&out, mediaSSRC)
        appendU16(&out, baseSequenceNumber)
        appendU16(&out, UInt16(min(0xFFFF, deltas.count)))
        appendU24(&out, UInt32(bitPattern: referenceTime) & 0xFF_FFFF)
        out.append(feedbackPacketCount)
        let clamped = deltas.prefix(0xFFFF).map { $0.map { max(-32768, min(32767, $0)) } }
        let symbols = clamped.map(Self.symbol)
        for chunk in Self.chunks(symbols) { appendU16(&out, chunk) }
        for delta in clamped {
            guard let delta else { continue }
            if (0...255).contains(delta) {
                out.append(UInt8(delta))
            } else {
                appendU16(&out, UInt16(bitPattern: Int16(delta)))
            }
        }
    }
}
