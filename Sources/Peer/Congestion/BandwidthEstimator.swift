// Send-side bandwidth estimation from transport-wide feedback (draft-holmer-rmcat-transport-wide-
// cc-extensions-01 §1; the estimator is the one of draft-ietf-rmcat-gcc-02): packets are grouped
// into 5 ms send bursts (§5.2); each group's delay variation (arrival delta − send delta) is
// accumulated and smoothed, a trendline (least-squares slope over the last 20 groups) is compared
// with an adaptive threshold (§5.4, γ in [6, 600] ms) to detect overuse; the rate controller
// (§5.5, AIMD) cuts to 0.85 × the acknowledged bitrate on overuse, holds on underuse and grows
// 8 % per second otherwise. Before the path first pushes back it slow-starts instead: 50 % a second
// from a modest start (libwebrtc starts at 300 kbps and probes upward), ending at the first sign of
// a queue (the trend above half the threshold), overuse or loss, so a narrow link is never flooded
// by a blind high start and a good one is found in seconds. A loss-based controller (§6) cuts by half the loss above 10 % and
// grows 8 % below 2 %. The target is the smaller of both, clamped to [min, max].
// REMB (draft-alvestrand-rmcat-remb) is followed instead when the peer sends it without TWCC.
import Media

/// Sender-side record of transport sequence numbers: when each packet left and how big it was.
public struct TransportSequenceHistory: Sendable {
    private var unwrapper = SequenceNumberUnwrapper()
    private var sent: [Int64: (sendMicros: Int64, bytes: Int)] = [:]
    private var oldest: Int64 = .max

    public init() {}

    public mutating func onPacketSent(transportSequenceNumber: UInt16, bytes: Int, at time: MediaTime) {
        let seq = unwrapper.unwrap(transportSequenceNumber)
        sent[seq] = (Int64(time.nanoseconds / 1000), bytes)
        oldest = min(oldest, seq)
        // Keep ~2^14 packets (many seconds of video).
        while sent.count > 16384, oldest < seq {
            sent[oldest] = nil
            oldest += 1
        }
    }

    func lookup(_ seq: UInt16) -> (sendMicros: Int64, bytes: Int)? { sent[unwrapper.peek(seq)] }
}

public struct BandwidthEstimatorConfiguration: Sendable, Equatable {
    public var minimumBitrate: Int = 50_000
    public var maximumBitrate: Int = 2_500_000
    public var startBitrate: Int = 300_000
    public init(minimumBitrate: Int = 50_000, maximumBitrate: Int = 2_500_000, startBitrate: Int = 300_000) {
        self.minimumBitrate = minimumBitrate
        self.maximumBitrate = maximumBitrate
        self.startBitrate = startBitrate
    }
}

public enum BandwidthUsage: Sendable, Equatable { case normal, overusing, underusing }

public struct SendSideBandwidthEstimator: Sendable {
    public var configuration: BandwidthEstimatorConfiguration
    public var history = TransportSequenceHistory()

    // Delay-based state
    private var groupFirstSend: Int64?
    private var groupLastSend: Int64 = 0
    private var groupLastArrival: Int64 = 0
    private var previousGroup: (send: Int64, arrival: Int64)?
    private var accumulatedDelay = 0.0
    private var smoothedDelay = 0.0
    private var samples: [(x: Double, y: Double)] = []
    private var firstArrival: Int64?
    private var threshold = 12.5
    private var lastThresholdUpdate: Int64?
    private var overuseStart: Int64?
    private var previousTrend = 0.0
    private var deltaCount = 0
    public private(set) var usage: BandwidthUsage = .normal

    // Rate control
    private var delayBasedRate: Double
    private var lossBasedRate: Double
    private var lastIncrease: Int64?
    private var lastDecrease: Int64?
    private var lastLossUpdate: Int64?
    /// Growing 50 %/s until the first queueing delay, overuse or loss.
    public private(set) var inSlowStart = true
    private var remb: Double?
    // Acknowledged bitrate over a sliding window of arrivals.
    private var ackedWindow: [(arrival: Int64, bytes: Int)] = []
    public private(set) var lossFraction = 0.0

    public init(configuration: BandwidthEstimatorConfiguration = BandwidthEstimatorConfiguration()) {
        self.configuration = configuration
        delayBasedRate = Double(configuration.startBitrate)
        lossBasedRate = Double(configuration.startBitrate)
    }

    /// Feedback has come, and it shows neither a growing queue nor 2 % loss: the pacer may send
    /// longer bursts.
    public var pathIsClear: Bool { hasFeedback && usage != .overusing && lossFraction < 0.02 }

    /// Transport-wide feedback has come: the path has been measured at all.
    public var hasFeedback: Bool { firstArrival != nil }

    /// The bitrate the encoder(s) and pacer should use now.
    public var targetBitrate: Int {
        var rate = min(delayBasedRate, lossBasedRate)
        if let remb { rate = min(rate, remb) }
        return Int(min(Double(configuration.maximumBitrate), max(Double(configuration.minimumBitrate), rate)))
    }

    /// Bits per second the receiver acknowledged over the last 500 ms.
    public var acknowledgedBitrate: Double? {
        guard let first = ackedWindow.first, let last = ackedWindow.last, last.arrival - first.arrival >= 100_000 else { return nil }
        let bytes = ackedWindow.reduce(0) { $0 + $1.bytes }
        return Double(bytes * 8) * 1e6 / Double(last.arrival - first.arrival)
    }

    public mutating func onPacketSent(transportSequenceNumber: UInt16, bytes: Int, at time: MediaTime) {
        history.onPacketSent(transportSequenceNumber: transportSequenceNumber, bytes: bytes, at: time)
    }

    /// A REMB from the peer caps the estimate (and is the only input when it sends no TWCC).
    public mutating func onREMB(bitrate: UInt64) {
        remb = Double(min(bitrate, UInt64(Int.max)))
    }

    /// Processes one feedback message received at `now`.
    public mutating func onTransportFeedback(_ feedback: TransportFeedback, now: MediaTime) {
        let nowMicros = Int64(now.nanoseconds / 1000)
        var lost = 0, total = 0
        for (seq, arrival) in feedback.arrivals {
            guard let sent = history.lookup(seq) else { continue }
            total += 1
            guard let arrival else { lost += 1; continue }
            ackedWindow.append((arrival, sent.bytes))
            onPacket(send: sent.sendMicros, arrival: arrival)
        }
        if let last = ackedWindow.last?.arrival { ackedWindow.removeAll { $0.arrival < last - 500_000 } }
        if total > 0 { updateLossBased(lost: lost, total: total, now: nowMicros) }
        updateRate(now: nowMicros)
    }

    // MARK: Delay-based (trendline + overuse detector)

    private mutating func onPacket(send: Int64, arrival: Int64) {
        guard let first = groupFirstSend else {
            groupFirstSend = send; groupLastSend = send; groupLastArrival = arrival
            return
        }
        if send - first <= 5_000 {  // same 5 ms burst
            groupLastSend = max(groupLastSend, send)
            groupLastArrival = max(groupLastArrival, arrival)
            return
        }
        if send < first { return }  // reordered into a finished group
        // The group ended: compare it with the previous one.
        if let previous = previousGroup {
            let sendDelta = Double(groupLastSend - previous.send) / 1000
            let arrivalDelta = Double(groupLastArrival - previous.arrival) / 1000
            updateTrendline(delayVariation: arrivalDelta - sendDelta, arrival: groupLastArrival)
        }
        previousGroup = (groupLastSend, groupLastArrival)
        groupFirstSend = send; groupLastSend = send; groupLastArrival = arrival
    }

    private mutating func updateTrendline(delayVariation: Double, arrival: Int64) {
        deltaCount += 1
        accumulatedDelay += delayVariation
        smoothedDelay = 0.9 * smoothedDelay + 0.1 * accumulatedDelay
        let start = firstArrival ?? arrival
        firstArrival = start
        samples.append((Double(arrival - start) / 1000, smoothedDelay))
        if samples.count > 20 { samples.removeFirst() }
        guard samples.count == 20 else { return }
        let meanX = samples.reduce(0) { $0 + $1.x } / 20, meanY = samples.reduce(0) { $0 + $1.y } / 20
        var numerator = 0.0, denominator = 0.0
        for s in samples {
            numerator += (s.x - meanX) * (s.y - meanY)
            denominator += (s.x - meanX) * (s.x - meanX)
        }
        let slope = denominator > 0 ? numerator / denominator : 0
        detect(trend: Double(min(deltaCount, 60)) * slope * 4, now: arrival)
    }

    private mutating func detect(trend: Double, now: Int64) {
        if trend > threshold / 2 { inSlowStart = false }  // a queue is starting to build
        if trend > threshold {
            if overuseStart == nil { overuseStart = now }
            if now - overuseStart! >= 10_000, trend >= previousTrend { usage = .overusing }
        } else if trend < -threshold {
            overuseStart = nil
            usage = .underusing
        } else {
            overuseStart = nil
            usage = .normal
        }
        previousTrend = trend
        // Adaptive threshold (gcc §5.4): fast up, slow down; ignore spikes far above it.
        if let last = lastThresholdUpdate, abs(trend) < threshold + 15 {
            let k = abs(trend) < threshold ? 0.039 : 0.0087
            threshold += k * Double(min(100_000, now - last)) / 1000 * (abs(trend) - threshold)
            threshold = min(600, max(6, threshold))
        }
        lastThresholdUpdate = now
    }

    // MARK: Rate control

    private mutating func updateRate(now: Int64) {
        let acked = acknowledgedBitrate
        switch usage {
        case .overusing:
            inSlowStart = false
            if lastDecrease.map({ now - $0 >= 200_000 }) ?? true {
                let base = acked ?? delayBasedRate
                delayBasedRate = min(delayBasedRate, 0.85 * base)
                lastDecrease = now
            }
            lastIncrease = now
        case .underusing:
            lastIncrease = now  // hold: queues are draining
        case .normal:
            let elapsed = Double(now - (lastIncrease ?? now)) / 1e6
            var grown = delayBasedRate * (inSlowStart ? 1 + 0.5 * min(1, elapsed) : pow108(min(1, elapsed)))
            // Never run far ahead of what actually gets through.
            if let acked { grown = min(grown, 1.5 * acked + 10_000) }
            delayBasedRate = max(delayBasedRate, grown)
            lastIncrease = now
        }
        delayBasedRate = min(Double(configuration.maximumBitrate), max(Double(configuration.minimumBitrate), delayBasedRate))
    }

    private func pow108(_ seconds: Double) -> Double {
        // 1.08^s without Foundation: exp(s ln 1.08) by a short series (s ≤ 1).
        let x = seconds * 0.076_961_041_136_128_33
        return 1 + x + x * x / 2 + x * x * x / 6
    }

    private mutating func updateLossBased(lost: Int, total: Int, now: Int64) {
        let fraction = Double(lost) / Double(total)
        lossFraction = 0.7 * lossFraction + 0.3 * fraction
        if let last = lastLossUpdate, now - last < 300_000 { return }
        lastLossUpdate = now
        if lossFraction > 0.10 {
            lossBasedRate = max(Double(configuration.minimumBitrate), lossBasedRate * (1 - 0.5 * lossFraction))
            if inSlowStart { delayBasedRate = min(delayBasedRate, lossBasedRate) }  // slow start ends at the first loss
            inSlowStart = false
        } else if lossFraction < 0.02 {
            lossBasedRate = min(Double(configuration.maximumBitrate), max(lossBasedRate * 1.08, delayBasedRate))
        }
    }
}

/// The simple alternative: follow the peer's REMB (slightly under it, to leave headroom).
public struct REMBBandwidthEstimator: Sendable {
    public var configuration: BandwidthEstimatorConfiguration
    private var rate: Double

    public init(configuration: BandwidthEstimatorConfiguration = BandwidthEstimatorConfiguration()) {
        self.configuration = configuration
        rate = Double(configuration.startBitrate)
    }

    public mutating func onREMB(bitrate: UInt64) { rate = Double(min(bitrate, UInt64(Int.max))) * 0.95 }

    public var targetBitrate: Int {
        Int(min(Double(configuration.maximumBitrate), max(Double(configuration.minimumBitrate), rate)))
    }
}
