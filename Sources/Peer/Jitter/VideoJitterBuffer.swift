// Receiver-side VP8 frame assembly and loss recovery: frames are the packets of one RTP
// timestamp from the S=1/PID=0 packet to the marker (RFC 7741 §4.4, RFC 3550 §5.1 M bit);
// gaps in the sequence are asked for with generic NACK (RFC 4585 §6.2.1), retried once per
// RTT up to a limit; a frame that cannot be completed within the deadline is given up and a
// keyframe asked for with PLI (RFC 4585 §6.3.1). The deadline counts a stall, not a transfer:
// from when a packet was first seen missing, or, with nothing missing, from the last packet
// that arrived. A large frame paced out slowly over a narrow link (a keyframe, or pictures that
// do not compress) takes as long as it takes; giving it up after a fixed time from its first
// packet asked for a keyframe, which is larger still. Frames come out in order and decodable: the
// encoder runs without temporal layers, so a delta frame needs the frame right before it, and
// after a loss only a keyframe restarts the stream. Sans-I/O: time is passed in.
import Media

public struct VideoJitterBufferConfiguration: Sendable, Equatable {
    /// Attempts per missing packet.
    public var maxNackRetries: Int = 10
    /// Wait before the first NACK of a gap (a little reordering is normal).
    public var firstNackDelay: UInt64 = 5_000_000
    /// Least time between two NACKs of one packet (the RTT when larger).
    public var minRetryInterval: UInt64 = 20_000_000
    /// Give a frame up when a packet it needs has been missing this long (or 3 RTTs if that is
    /// longer), or when nothing has arrived for it this long; then ask for a keyframe.
    public var maxWait: UInt64 = 250_000_000
    /// Least time between two keyframe requests (or 1.5 RTTs if longer).
    public var keyframeRequestInterval: UInt64 = 250_000_000
    /// Time a stream may run without a keyframe at the start before we ask for one.
    public var initialKeyframeGrace: UInt64 = 100_000_000
    /// Packets held at most; beyond that the buffer resets and asks for a keyframe.
    public var maxPackets: Int = 2048

    public init() {}
}

/// One complete VP8 frame, ready for the decoder.
public struct AssembledVideoFrame: Sendable, Equatable {
    public var data: [UInt8]
    public var rtpTimestamp: UInt32
    public var isKeyframe: Bool
    public var pictureID: UInt16?
    public var firstSequence: Int64
    public var lastSequence: Int64
    /// Arrival of the packet that completed it.
    public var completedAt: MediaTime
}

/// What the receiver should send now.
public struct VideoJitterFeedback: Sendable, Equatable {
    public var nack: [UInt16] = []
    public var requestKeyframe = false
    public var isEmpty: Bool { nack.isEmpty && !requestKeyframe }
}

public struct VideoJitterStatistics: Sendable, Equatable {
    public var packetsReceived = 0
    public var duplicates = 0
    public var malformed = 0
    public var recovered = 0
    public var framesDelivered = 0
    public var framesDropped = 0
    public var nacksSent = 0
    public var keyframeRequests = 0
}

public struct VideoJitterBuffer: Sendable {
    private struct Slot: Sendable {
        var packet: RTPPacket
        var info: VP8PacketInfo
        var arrival: MediaTime
    }

    private struct Missing: Sendable {
        var firstSeen: MediaTime
        var lastSent: MediaTime?
        var retries = 0
    }

    public var configuration: VideoJitterBufferConfiguration
    /// Round-trip time in nanoseconds (from RTCP), used for retry spacing and deadlines.
    public var roundTripTime: UInt64 = 100_000_000
    public private(set) var statistics = VideoJitterStatistics()

    private var unwrapper = SequenceNumberUnwrapper()
    private var slots: [Int64: Slot] = [:]
    private var missing: [Int64: Missing] = [:]
    /// Sorted sequence numbers of keyframe first packets held.
    private var keyframeStarts: [Int64] = []
    private var highest: Int64?
    private var lastDelivered: Int64?
    private var waitingForKeyframe = true
    private var waitingSince: MediaTime?
    private var keyframeGraceUntil: MediaTime?
    private var nackFloor: Int64 = .min
    private var lastKeyframeRequest: MediaTime?
    /// Since when the frame after the last delivered one has been held incomplete.
    private var headIncompleteSince: MediaTime?
    private var ready: [AssembledVideoFrame] = []
    /// Before the first frame: the lowest sequence number known, to walk back to a frame start
    /// when the stream's first packets were lost (nothing before them would reveal the gap).
    private var lowestKnown: Int64?
    private var backfilled = 0
    private var backfillUntil: MediaTime?

    public init(configuration: VideoJitterBufferConfiguration = VideoJitterBufferConfiguration()) {
        self.configuration = configuration
    }

    /// The RTT as used in deadlines (at most 10 s, whatever RTCP claimed).
    private var boundedRTT: UInt64 { min(roundTripTime, 10_000_000_000) }

    /// Whether the buffer is waiting for a keyframe (start, after a loss or a decoder error).
    public var isWaitingForKeyframe: Bool { waitingForKeyframe }

    // MARK: Input

    /// Adds a (restored, if it came by RTX) VP8 RTP packet. Malformed payloads are counted and dropped.
    public mutating func insert(_ packet: RTPPacket, now: MediaTime) {
        guard let info = try? VP8Depacketizer.inspect(packet) else { statistics.malformed += 1; return }
        statistics.packetsReceived += 1
        let seq = unwrapper.unwrap(packet.sequenceNumber)
        if let last = lastDelivered, seq <= last { statistics.duplicates += 1; return }
        if slots[seq] != nil { statistics.duplicates += 1; return }
        if missing.removeValue(forKey: seq) != nil { statistics.recovered += 1 }
        slots[seq] = Slot(packet: packet, info: info, arrival: now)
        if info.isKeyframeStart {
            let index = keyframeStarts.firstIndex { $0 > seq } ?? keyframeStarts.count
            keyframeStarts.insert(seq, at: index)
        }
        if lastDelivered == nil {
            if lowestKnown.map({ seq < $0 }) ?? true { lowestKnown = seq }
            if info.isKeyframeStart {
                // Found the start: nothing before a keyframe is needed.
                missing = missing.filter { $0.key > seq }
                backfilled = 64
                backfillUntil = nil
            } else if seq == lowestKnown, !info.descriptor.startsFrame, backfilled < 64 {
                // The first packets were lost: ask for up to 16 before this one at once (numbers
                // the sender never used are simply not answered) and hold PLIs meanwhile.
                let count = Int64(min(16, 64 - backfilled))
                for k in 1...count where slots[seq - k] == nil { missing[seq - k] = Missing(firstSeen: now) }
                lowestKnown = seq - count
                backfilled += Int(count)
                backfillUntil = now + max(configuration.maxWait, 3 * boundedRTT)
            }
        }
        if waitingSince == nil {
            waitingSince = now
            keyframeGraceUntil = now + configuration.initialKeyframeGrace
        }
        if let top = highest {
            if seq > top {
                if seq - top > 1000 {
                    reset(now: now, keepFrom: seq)
                } else {
                    for gap in (top + 1)..<seq where gap >= nackFloor { missing[gap] = Missing(firstSeen: now) }
                }
                highest = seq
            }
        } else {
            highest = seq
        }
        if slots.count > configuration.maxPackets { reset(now: now, keepFrom: seq) }
        assemble(now: now)
    }

    /// The decoder failed on a frame we delivered: wait for a keyframe and ask for one.
    public mutating func decoderFailed(now: MediaTime) {
        startWaitingForKeyframe(now: now)
    }

    /// Complete frames in decode order since the last call.
    public mutating func takeFrames() -> [AssembledVideoFrame] {
        defer { ready.removeAll(keepingCapacity: true) }
        return ready
    }

    // MARK: Feedback

    /// NACKs due now and whether to send a PLI. Call every 10-20 ms and after inserts.
    public mutating func feedback(now: MediaTime) -> VideoJitterFeedback {
        var result = VideoJitterFeedback()
        let rtt = boundedRTT
        // Give up on a frame that has been stalled too long, or incomplete for four deadlines
        // however it progresses (nothing can hold the stream for good).
        let deadline = max(configuration.maxWait, 3 * rtt)
        let stalled = lastDelivered.flatMap { stall(after: $0, now: now) }.map { $0 >= deadline } ?? false
        let overdue = headIncompleteSince.map { now.nanoseconds >= $0.nanoseconds + 4 * deadline } ?? false
        if !waitingForKeyframe, stalled || overdue {
            countDroppedOnGiveUp()
            startWaitingForKeyframe(now: now)
        }
        if missing.count > 1000 { startWaitingForKeyframe(now: now) }
        // NACKs: one per missing packet per retry interval, in sequence order.
        let retry = max(configuration.minRetryInterval, rtt)
        var due: [Int64] = []
        for (seq, state) in missing {
            if state.retries >= configuration.maxNackRetries { continue }
            if let sent = state.lastSent {
                if now.nanoseconds >= sent.nanoseconds + retry { due.append(seq) }
            } else if now.nanoseconds >= state.firstSeen.nanoseconds + configuration.firstNackDelay {
                due.append(seq)
            }
        }
        due.sort()
        for seq in due {
            missing[seq]!.lastSent = now
            missing[seq]!.retries += 1
            result.nack.append(UInt16(truncatingIfNeeded: seq))
        }
        statistics.nacksSent += result.nack.count
        // Keyframe request while waiting, unless one is plausibly on its way: a keyframe partly
        // here that has not stalled for the give-up deadline is still arriving or being repaired
        // by NACK. Only a keyframe at or above the NACK floor is being repaired: below it, what is missing
        // was never asked for (a late retransmission of an old keyframe's first packet would
        // otherwise hold the requests off for good). And none is waited for longer than four
        // deadlines from its first packet, however it progresses.
        let keyframeInRepair = keyframeStarts.last.flatMap { start -> Bool? in
            guard start >= nackFloor, let first = slots[start],
                  now.nanoseconds < first.arrival.nanoseconds + 4 * deadline,
                  let stalled = stall(after: start - 1, now: now) else { return nil }
            return stalled < deadline
        } ?? false
            || (lastDelivered == nil && backfillUntil.map { now < $0 } ?? false)
        if waitingForKeyframe, !keyframeInRepair, let grace = keyframeGraceUntil, now >= grace {
            let interval = max(configuration.keyframeRequestInterval, rtt * 3 / 2)
            if lastKeyframeRequest.map({ now.nanoseconds >= $0.nanoseconds + interval }) ?? true {
                result.requestKeyframe = true
                lastKeyframeRequest = now
                statistics.keyframeRequests += 1
            }
        }
        return result
    }

    /// How long the frames after `from` have made no progress. Walking up from `from`, the
    /// first packet not held below the highest one is the hole that blocks them: stalled since it
    /// was first seen missing (or, if it never was, since the first packet after it arrived).
    /// Without a hole they are still arriving: stalled since the newest of them came. Nil when
    /// nothing after `from` has come.
    private func stall(after from: Int64, now: MediaTime) -> UInt64? {
        guard let top = highest, top > from else { return nil }
        var seq = from + 1
        var newest: UInt64 = 0
        while seq <= top, let slot = slots[seq] {
            newest = max(newest, slot.arrival.nanoseconds)
            seq += 1
        }
        let since: UInt64
        if seq > top {
            since = newest
        } else if let hole = missing[seq] {
            since = hole.firstSeen.nanoseconds
        } else {
            since = slots.lazy.filter { $0.key > seq }.map(\.value.arrival.nanoseconds).min() ?? newest
        }
        return now.nanoseconds &- min(since, now.nanoseconds)
    }

    // MARK: Assembly

    private mutating func startWaitingForKeyframe(now: MediaTime) {
        if !waitingForKeyframe { waitingSince = now }
        waitingForKeyframe = true
        keyframeGraceUntil = now
        headIncompleteSince = nil
        // Only packets that may belong to a keyframe still coming are worth asking for.
        nackFloor = keyframeStarts.last ?? ((highest ?? 0) + 1)
        missing = missing.filter { $0.key >= nackFloor }
    }

    private mutating func reset(now: MediaTime, keepFrom seq: Int64) {
        slots = slots.filter { $0.key >= seq }
        keyframeStarts.removeAll { $0 < seq }
        missing.removeAll()
        startWaitingForKeyframe(now: now)
        nackFloor = seq
    }

    /// The frame whose first packet is `start`, if every packet up to its marker is here.
    private func completeFrame(startingAt start: Int64) -> ClosedRange<Int64>? {
        guard let first = slots[start], first.info.descriptor.startsFrame else { return nil }
        var seq = start
        while true {
            guard let slot = slots[seq] else { return nil }
            if slot.packet.timestamp != first.packet.timestamp {
                // The marker was lost but the next frame has started: the frame ended before.
                return slot.info.descriptor.startsFrame ? start...(seq - 1) : nil
            }
            if slot.packet.marker { return start...seq }
            seq += 1
        }
    }

    private mutating func assemble(now: MediaTime) {
        while true {
            if !waitingForKeyframe, let last = lastDelivered, let range = completeFrame(startingAt: last + 1) {
                deliver(range)
                continue
            }
            // A complete keyframe later on restarts the stream (skipping what is blocked before it).
            var jumped = false
            for start in keyframeStarts where lastDelivered.map({ start > $0 }) ?? true {
                if let range = completeFrame(startingAt: start) {
                    if let last = lastDelivered { countDropped(between: last, and: start) }
                    deliver(range)
                    jumped = true
                    break
                }
            }
            if !jumped { break }
        }
        let pending = lastDelivered.map { last in slots.keys.contains { $0 > last } } ?? !slots.isEmpty
        if pending && !waitingForKeyframe {
            if headIncompleteSince == nil { headIncompleteSince = now }
        } else {
            headIncompleteSince = nil
        }
    }

    /// Frames skipped when jumping from `last` to a keyframe at `start` (counted by first packets held).
    private mutating func countDropped(between last: Int64, and start: Int64) {
        statistics.framesDropped += max(1, slots.filter { $0.key > last && $0.key < start && $0.value.info.descriptor.startsFrame }.count)
    }

    /// Frames abandoned when giving up: the blocked one and every frame start held after it.
    private mutating func countDroppedOnGiveUp() {
        let after = lastDelivered ?? .min
        statistics.framesDropped += max(1, slots.filter { $0.key > after && $0.value.info.descriptor.startsFrame }.count)
    }

    private mutating func deliver(_ range: ClosedRange<Int64>) {
        var data: [UInt8] = []
        data.reserveCapacity(range.reduce(0) { $0 + (slots[$1]?.packet.payload.count ?? 0) })
        let first = slots[range.lowerBound]!
        var completedAt = first.arrival
        for seq in range {
            let slot = slots[seq]!
            data.append(contentsOf: slot.packet.payload[slot.info.dataOffset...])
            if slot.arrival > completedAt { completedAt = slot.arrival }
        }
        ready.append(AssembledVideoFrame(data: data, rtpTimestamp: first.packet.timestamp, isKeyframe: first.info.isKeyframeStart,
                                         pictureID: first.info.descriptor.pictureID, firstSequence: range.lowerBound,
                                         lastSequence: range.upperBound, completedAt: completedAt))
        statistics.framesDelivered += 1
        if first.info.isKeyframeStart {
            waitingForKeyframe = false
            nackFloor = .min
        }
        lastDelivered = range.upperBound
        slots = slots.filter { $0.key > range.upperBound }
        missing = missing.filter { $0.key > range.upperBound }
        keyframeStarts.removeAll { $0 <= range.upperBound }
        headIncompleteSince = nil
    }
}
