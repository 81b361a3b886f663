// Receiver side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3.1): record each packet's transport sequence number and arrival time, and
// build a feedback message every ~50-100 ms covering every number since the last one. Deltas
// are kept on a 250 µs grid so rounding never accumulates.
import Media

public struct TransportFeedbackGenerator: Sendable {
    public let senderSSRC: UInt32
    public let mediaSSRC: UInt32
    private var unwrapper = SequenceNumberUnwrapper()
    /// Unwrapped transport seq → arrival in µs.
    private var arrivals: [Int64: Int64] = [:]
    private var nextToReport: Int64?
    private var feedbackCount: UInt8 = 0

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    public mutating func record(transportSequenceNumber: UInt16, arrival: MediaTime) {
        let seq = unwrapper.unwrap(transportSequenceNumber)
        if let next = nextToReport, seq < next { return }  // already reported as lost: too late
        if nextToReport == nil { nextToReport = seq }
        arrivals[seq] = Int64(arrival.nanoseconds / 1000)
        if arrivals.count > 5000, let oldest = arrivals.keys.min() { arrivals[oldest] = nil }
    }

    /// Feedback for everything recorded since the last call, or nil if nothing new arrived.
    public mutating func makeFeedback() -> TransportFeedback? {
        guard let base = nextToReport, let top = arrivals.keys.max(), top >= base else { return nil }
        let pending = arrivals
        guard let firstArrival = (base...top).lazy.compactMap({ pending[$0] }).first else { return nil }
        let reference = firstArrival / TransportFeedback.referenceMicroseconds
        var clockTicks = reference * TransportFeedback.referenceMicroseconds / TransportFeedback.deltaMicroseconds
        var deltas: [Int32?] = []
        var seq = base
        while seq <= top, deltas.count < 0xFFFF {
            guard let arrival = arrivals[seq] else { deltas.append(nil); seq += 1; continue }
            let ticks = (arrival + TransportFeedback.deltaMicroseconds / 2) / TransportFeedback.deltaMicroseconds
            let delta = ticks - clockTicks
            if delta < -32768 || delta > 32767 { break }  // report the rest in the next message
            deltas.append(Int32(delta))
            clockTicks = ticks
            arrivals[seq] = nil
            seq += 1
        }
        nextToReport = seq
        let feedback = TransportFeedback(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC,
                                         baseSequenceNumber: UInt16(truncatingIfNeeded: base),
                                         referenceTime: (Int32(truncatingIfNeeded: reference) << 8) >> 8,
                                         feedbackPacketCount: feedbackCount, deltas: deltas)
        feedbackCount &+= 1
        return feedback
    }
}
