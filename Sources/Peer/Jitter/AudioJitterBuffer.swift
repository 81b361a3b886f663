// Adaptive audio jitter buffer for 20 ms Opus packets (RFC 7587: 48 kHz RTP clock). The target
// delay follows the measured interarrival jitter (RFC 3550 §A.8 estimator, in ms) plus one
// frame; playout pulls one frame every 20 ms and gets a packet to decode, the next packet to
// decode FEC from (RFC 6716 §2.1.7 LBRR: packet N+1 carries frame N), or a conceal marker.
// On underrun playout holds (stretching delay by a frame); when the buffer runs more than two
// frames above target one frame is skipped. Sans-I/O: time is passed in.
import Media

public enum AudioPlayout: Sendable, Equatable {
    /// Decode this packet.
    case decode([UInt8])
    /// The packet for this frame is lost but the next one is here: decode its FEC.
    case decodeFEC(next: [UInt8])
    /// Nothing to decode: run packet loss concealment.
    case conceal
}

public struct AudioPlayoutFrame: Sendable, Equatable {
    public var playout: AudioPlayout
    /// RTP timestamp this frame stands for.
    public var rtpTimestamp: UInt32
}

public struct AudioJitterStatistics: Sendable, Equatable {
    public var packetsReceived = 0
    public var late = 0
    public var duplicates = 0
    public var decoded = 0
    public var fecRecovered = 0
    public var concealed = 0
    public var underruns = 0
    public var skipped = 0
}

public struct AudioJitterBufferConfiguration: Sendable, Equatable {
    public var minimumDelay: UInt64 = 20_000_000
    public var maximumDelay: UInt64 = 300_000_000
    /// Frame length in RTP ticks (20 ms at 48 kHz).
    public var frameTicks: Int64 = 960
    public var clockRate: Int = 48_000
    public var maxPackets: Int = 100
    public init() {}
}

public struct AudioJitterBuffer: Sendable {
    public var configuration: AudioJitterBufferConfiguration
    public private(set) var statistics = AudioJitterStatistics()
    private var unwrapper = TimestampUnwrapper()
    private var packets: [Int64: [UInt8]] = [:]
    private var next: Int64?
    private var firstArrival: MediaTime?
    /// Jitter in ms (RFC 3550 A.8 smoothing).
    public private(set) var jitterMilliseconds: Double = 0
    private var lastTransit: Double?
    /// Extra delay earned by underruns, decaying slowly.
    private var underrunPenaltyMilliseconds: Double = 0

    public init(configuration: AudioJitterBufferConfiguration = AudioJitterBufferConfiguration()) {
        self.configuration = configuration
    }

    /// The delay the buffer aims for: one frame plus three times the jitter, clamped.
    public var targetDelayNanoseconds: UInt64 {
        let ms = 20 + 3 * jitterMilliseconds + underrunPenaltyMilliseconds
        let ns = UInt64(max(0, ms) * 1_000_000)
        return min(configuration.maximumDelay, max(configuration.minimumDelay, ns))
    }

    /// Milliseconds of audio buffered ahead of playout.
    public var bufferedMilliseconds: Double {
        guard let next, let top = packets.keys.max() else { return 0 }
        return Double(top + configuration.frameTicks - next) * 1000 / Double(configuration.clockRate)
    }

    public mutating func insert(_ packet: RTPPacket, now: MediaTime) {
        guard !packet.payload.isEmpty else { return }
        statistics.packetsReceived += 1
        let ts = unwrapper.unwrap(packet.timestamp)
        if let next, ts < next { statistics.late += 1; return }
        if packets[ts] != nil { statistics.duplicates += 1; return }
        packets[ts] = packet.payload
        if firstArrival == nil { firstArrival = now }
        let transit = Double(now.nanoseconds) / 1e6 - Double(ts) * 1000 / Double(configuration.clockRate)
        if let last = lastTransit { jitterMilliseconds += (abs(transit - last) - jitterMilliseconds) / 16 }
        lastTransit = transit
        if packets.count > configuration.maxPackets, let oldest = packets.keys.min() { packets[oldest] = nil }
    }

    /// The frame to play now (call every 20 ms); nil until playout has started.
    public mutating func pull(now: MediaTime) -> AudioPlayoutFrame? {
        let frame = configuration.frameTicks
        if next == nil {
            guard let first = firstArrival, now.nanoseconds >= first.nanoseconds + targetDelayNanoseconds,
                  let earliest = packets.keys.min() else { return nil }
            next = earliest
        }
        guard var position = next else { return nil }
        underrunPenaltyMilliseconds = max(0, underrunPenaltyMilliseconds - 0.05)
        // A long silence from the sender (or a clock jump): resynchronise on what we have.
        let maxTicks = Int64(configuration.maximumDelay / 1_000_000) * Int64(configuration.clockRate) / 1000
        if packets[position] == nil, let earliest = packets.keys.min(), earliest > position + maxTicks {
            position = earliest
        }
        // More buffered than the target needs: drop one frame to catch up.
        let target = Double(targetDelayNanoseconds) / 1e6
        if packets[position] != nil, bufferedMilliseconds > target + 40 {
            packets[position] = nil
            position += frame
            statistics.skipped += 1
        }
        let timestamp = UInt32(truncatingIfNeeded: position)
        if let payload = packets.removeValue(forKey: position) {
            next = position + frame
            statistics.decoded += 1
            return AudioPlayoutFrame(playout: .decode(payload), rtpTimestamp: timestamp)
        }
        if packets.keys.contains(where: { $0 > position }) {
            // Lost (later packets are here): recover from the next packet's FEC if present.
            next = position + frame
            if let following = packets[position + frame] {
                statistics.fecRecovered += 1
                return AudioPlayoutFrame(playout: .decodeFEC(next: following), rtpTimestamp: timestamp)
            }
            statistics.concealed += 1
            return AudioPlayoutFrame(playout: .conceal, rtpTimestamp: timestamp)
        }
        // Underrun: conceal and hold the position, so a late packet still plays; the target grows.
        next = position
        statistics.underruns += 1
        statistics.concealed += 1
        underrunPenaltyMilliseconds = min(100, underrunPenaltyMilliseconds + 10)
        return AudioPlayoutFrame(playout: .conceal, rtpTimestamp: timestamp)
    }
}
