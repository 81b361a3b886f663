// Receiver statistics for report blocks: loss (RFC 3550 §A.3: expected vs received, fraction
// over the interval since the last report), interarrival jitter (§A.8: J += (|D| − J)/16 in
// timestamp units), and RTT from an RR's LSR/DLSR (§6.4.1: A − LSR − DLSR in 1/65536 s).
import Media

/// 64-bit NTP timestamps (RFC 3550 §4): seconds since 1900 in the high 32 bits, fraction below.
public enum NTPTime {
    /// Seconds from 1900 to 1970.
    public static let unixEpochOffset: UInt64 = 2_208_988_800

    /// From nanoseconds since the Unix epoch (or any clock both ends of a comparison share).
    public static func from(unixNanoseconds ns: UInt64) -> UInt64 {
        let seconds = ns / 1_000_000_000 + unixEpochOffset
        let fraction = ((ns % 1_000_000_000) << 32) / 1_000_000_000
        return seconds << 32 | fraction
    }

    /// The middle 32 bits (LSR field, RFC 3550 §6.4.1).
    public static func compact(_ ntp: UInt64) -> UInt32 { UInt32((ntp >> 16) & 0xFFFF_FFFF) }

    /// Seconds as a Double (lip sync arithmetic).
    public static func seconds(_ ntp: UInt64) -> Double { Double(ntp >> 32) + Double(ntp & 0xFFFF_FFFF) / 4_294_967_296 }
}

public enum RTCPRoundTrip {
    /// RTT in seconds from a report block received at `arrivalNTP` (our clock, the same one our SR
    /// used); nil when the block carries no LSR or the result is negative (clock confusion).
    public static func seconds(arrivalNTP: UInt64, block: RTCPReportBlock) -> Double? {
        guard block.lastSenderReport != 0 else { return nil }
        let rtt = NTPTime.compact(arrivalNTP) &- block.lastSenderReport &- block.delaySinceLastSenderReport
        guard rtt < 0x8000_0000 else { return nil }
        return Double(rtt) / 65536
    }

    /// DLSR for a report block: time since the SR arrived, in 1/65536 s.
    public static func delaySinceLastSR(receivedAt: MediaTime, now: MediaTime) -> UInt32 {
        guard now >= receivedAt else { return 0 }
        let micros = (now.nanoseconds - receivedAt.nanoseconds) / 1000  // µs: no overflow for years
        return UInt32(min(UInt64(UInt32.max), micros * 65536 / 1_000_000))
    }
}

/// Per-source receive statistics feeding RR/SR report blocks.
public struct ReceiveStatistics: Sendable {
    public let clockRate: Int
    private var unwrapper = SequenceNumberUnwrapper()
    private var baseSequence: Int64?
    private var maxSequence: Int64 = 0
    public private(set) var packetsReceived: Int64 = 0
    public private(set) var bytesReceived: Int64 = 0
    private var expectedPrior: Int64 = 0
    private var receivedPrior: Int64 = 0
    /// Jitter in timestamp units, ×16 like the RFC's integer form.
    private var jitterQ4: Int64 = 0
    private var lastTransit: Int32?
    /// The last SR from this source (compact NTP) and when it arrived.
    private var lastSR: (compact: UInt32, at: MediaTime)?

    public init(clockRate: Int) { self.clockRate = clockRate }

    public mutating func record(sequenceNumber: UInt16, rtpTimestamp: UInt32, arrival: MediaTime, bytes: Int = 0) {
        let seq = unwrapper.unwrap(sequenceNumber)
        if baseSequence == nil { baseSequence = seq; maxSequence = seq }
        if seq > maxSequence { maxSequence = seq }
        packetsReceived += 1
        bytesReceived += Int64(bytes)
        // §A.8: transit = arrival − timestamp in RTP units; wrapping arithmetic is fine for differences.
        let transit = Int32(bitPattern: arrival.ticks(rate: clockRate) &- rtpTimestamp)
        if let last = lastTransit {
            let d = abs(Int64(Int32(truncatingIfNeeded: Int64(transit) - Int64(last))))
            jitterQ4 += d - ((jitterQ4 + 8) >> 4)
        }
        lastTransit = transit
    }

    public mutating func recordSenderReport(_ report: RTCPSenderReport, at time: MediaTime) {
        lastSR = (NTPTime.compact(report.ntpTimestamp), time)
    }

    public var jitter: UInt32 { UInt32(max(0, jitterQ4 >> 4)) }
    public var jitterSeconds: Double { Double(jitterQ4) / 16 / Double(clockRate) }
    public var extendedHighestSequence: Int64 { maxSequence }
    public var expected: Int64 { baseSequence.map { maxSequence - $0 + 1 } ?? 0 }
    public var cumulativeLost: Int64 { expected - packetsReceived }

    /// The report block for the interval since the last call (which it closes).
    public mutating func makeReportBlock(ssrc: UInt32, now: MediaTime) -> RTCPReportBlock {
        let expectedInterval = expected - expectedPrior
        let receivedInterval = packetsReceived - receivedPrior
        expectedPrior = expected
        receivedPrior = packetsReceived
        let lostInterval = expectedInterval - receivedInterval
        let fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : UInt8(min(255, (lostInterval << 8) / expectedInterval))
        return RTCPReportBlock(ssrc: ssrc, fractionLost: fraction,
                               cumulativeLost: Int32(max(-0x80_0000, min(0x7F_FFFF, cumulativeLost))),
                               extendedHighestSequence: UInt32(truncatingIfNeeded: maxSequence), jitter: jitter,
                               lastSenderReport: lastSR?.compact ?? 0,
                               delaySinceLastSenderReport: lastSR.map { RTCPRoundTrip.delaySinceLastSR(receivedAt: $0.at, now: now) } ?? 0)
    }
}

/// Sender-side counters for SR (RFC 3550 §6.4.1 sender info).
public struct SendStatistics: Sendable {
    public private(set) var packetCount: UInt32 = 0
    public private(set) var octetCount: UInt32 = 0
    public private(set) var lastRTPTimestamp: UInt32 = 0
    public private(set) var lastSendTime: MediaTime?

    public init() {}

    public mutating func record(_ packet: RTPPacket, at time: MediaTime) {
        packetCount &+= 1
        octetCount &+= UInt32(truncatingIfNeeded: packet.payload.count)
        lastRTPTimestamp = packet.timestamp
        lastSendTime = time
    }

    /// An SR whose RTP timestamp is extrapolated from the last packet to `now` (§6.4.1: it must
    /// stand for the same instant as the NTP timestamp).
    public func makeSenderReport(ssrc: UInt32, now: MediaTime, ntp: UInt64, clockRate: Int,
                                 reports: [RTCPReportBlock] = []) -> RTCPSenderReport {
        var rtp = lastRTPTimestamp
        if let last = lastSendTime, now >= last {
            let ticks = Double(now.nanoseconds - last.nanoseconds) * Double(clockRate) / 1e9  // no overflow when idle for days
            rtp &+= UInt32(truncatingIfNeeded: UInt64(ticks))
        }
        return RTCPSenderReport(ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: rtp, packetCount: packetCount,
                                octetCount: octetCount, reports: reports)
    }
}
