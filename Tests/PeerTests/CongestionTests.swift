// Congestion control tests on a simulated bottleneck (deterministic): transport-wide feedback
// built by the receiver-side generator drives the send-side estimator; a 300 kbps link makes
// the target settle under the cap, a wide link lets it grow, random loss pulls it down; REMB is
// followed; the pacer spreads bursts at its rate with audio first.
import Media
import Testing
@testable import Peer

/// A FIFO bottleneck: packets queue behind each other at `capacity` bits/s, then cross a fixed delay.
struct Bottleneck {
    var capacity: Double
    var propagation: UInt64 = 20_000_000
    var queueFreeAt: UInt64 = 0
    var lossRate = 0.0
    var rng = SplitMix64(state: 77)
    var maxQueue: UInt64 = 2_000_000_000

    mutating func arrival(sentAt: UInt64, bytes: Int) -> UInt64? {
        if lossRate > 0, Double.random(in: 0..<1, using: &rng) < lossRate { return nil }
        let start = max(sentAt, queueFreeAt)
        if start - sentAt > maxQueue { return nil }  // tail drop
        queueFreeAt = start + UInt64(Double(bytes * 8) / capacity * 1e9)
        return queueFreeAt + propagation
    }
}

/// Sends 1200-byte packets at the estimator's target for `seconds`, feedback every 100 ms.
func simulateCongestion(link: inout Bottleneck, seconds: Int, start: Int = 600_000) -> [(time: Double, target: Int, clear: Bool)] {
    var estimator = SendSideBandwidthEstimator(configuration: BandwidthEstimatorConfiguration(
        minimumBitrate: 50_000, maximumBitrate: 2_500_000, startBitrate: start))
    var generator = TransportFeedbackGenerator(senderSSRC: 1, mediaSSRC: 2)
    var inFlight: [(at: UInt64, seq: UInt16)] = []
    var pendingFeedback: [(at: UInt64, feedback: TransportFeedback)] = []
    var trace: [(Double, Int, Bool)] = [(0, estimator.targetBitrate, estimator.pathIsClear)]
    var now: UInt64 = 1_000_000_000
    var seq: UInt16 = 65000
    var credit = 0.0
    var nextFeedback = now + 100_000_000
    let end = now + UInt64(seconds) * 1_000_000_000
    while now < end {
        credit += Double(estimator.targetBitrate) / 8 * 0.001  // 1 ms of bytes
        while credit >= 1200 {
            credit -= 1200
            estimator.onPacketSent(transportSequenceNumber: seq, bytes: 1200, at: MediaTime(nanoseconds: now))
            if let at = link.arrival(sentAt: now, bytes: 1200) { inFlight.append((at, seq)) }
            seq &+= 1
        }
        for packet in inFlight where packet.at <= now {
            generator.record(transportSequenceNumber: packet.seq, arrival: MediaTime(nanoseconds: packet.at))
        }
        inFlight.removeAll { $0.at <= now }
        if now >= nextFeedback {
            nextFeedback += 100_000_000
            if let feedback = generator.makeFeedback() {
                // Through the RTCP codec, as it would travel; back in 20 ms.
                let wire = RTCPPacket.transportFeedback(feedback).serialize()
                if case let .transportFeedback(parsed) = try! RTCPPacket.parseCompound(wire)[0] {
                    pendingFeedback.append((now + 20_000_000, parsed))
                }
            }
        }
        for item in pendingFeedback where item.at <= now {
            estimator.onTransportFeedback(item.feedback, now: MediaTime(nanoseconds: now))
        }
        pendingFeedback.removeAll { $0.at <= now }
        if now % 100_000_000 == 0 {
            trace.append((Double(now - 1_000_000_000) / 1e9, estimator.targetBitrate, estimator.pathIsClear))
        }
        now += 1_000_000
    }
    return trace
}

@Suite("Congestion control")
struct CongestionTests {
    @Test("feedback generator: arrivals survive the 250 µs grid and the RTCP codec; losses reported")
    func generator() throws {
        var generator = TransportFeedbackGenerator(senderSSRC: 1, mediaSSRC: 2)
        let base: UInt64 = 5_000_123_000
        for (i, seq) in [UInt16(65534), 65535, 1, 2].enumerated() {  // 0 lost
            generator.record(transportSequenceNumber: seq, arrival: MediaTime(nanoseconds: base + UInt64(i) * 1_300_000))
        }
        let made = generator.makeFeedback()
        let feedback = try #require(made)
        #expect(feedback.baseSequenceNumber == 65534 && feedback.deltas.count == 5 && feedback.deltas[2] == nil)
        let arrivals = feedback.arrivals.compactMap(\.arrivalMicroseconds)
        for (i, micros) in arrivals.enumerated() {
            #expect(abs(micros - Int64(base / 1000) - Int64(i) * 1300) <= 125)
        }
        let nothing = generator.makeFeedback()
        #expect(nothing == nil)
        generator.record(transportSequenceNumber: 3, arrival: MediaTime(nanoseconds: base + 90_000_000))
        let madeNext = generator.makeFeedback()
        let next = try #require(madeNext)
        #expect(next.baseSequenceNumber == 3 && next.feedbackPacketCount == 1)
    }

    @Test("300 kbps bottleneck: the target settles under the cap within 10 s and stays there")
    func narrowLink() {
        var link = Bottleneck(capacity: 300_000)
        let trace = simulateCongestion(link: &link, seconds: 30, start: 1_000_000)
        let settled = trace.filter { $0.time >= 10 }.map(\.target)
        let mean = settled.reduce(0, +) / max(1, settled.count)
        #expect(mean < 300_000, "mean \(mean)")
        #expect(mean > 120_000, "the link is still used: mean \(mean)")
        #expect(settled.filter { $0 > 360_000 }.count < settled.count / 10, "\(settled)")
        // Before any feedback the pacer keeps bursts short; the growing queue shows as overuse.
        #expect(trace[0].clear == false)
        #expect(trace.contains { !$0.clear && $0.time > 0 })
    }

    @Test("wide link: the target grows from the start bitrate")
    func wideLink() {
        var link = Bottleneck(capacity: 5_000_000)
        let trace = simulateCongestion(link: &link, seconds: 20, start: 300_000)
        #expect(trace.last!.target > 1_000_000, "\(trace.last!.target)")
        #expect(trace.last!.clear, "no queue, no loss: long pacer bursts")
    }

    @Test("20 % random loss without queueing pulls the target down")
    func lossyLink() {
        var link = Bottleneck(capacity: 50_000_000)
        link.lossRate = 0.2
        let trace = simulateCongestion(link: &link, seconds: 10, start: 1_000_000)
        #expect(trace.last!.target < 500_000, "\(trace.last!.target)")
        #expect(!trace.last!.clear, "20 % loss: short pacer bursts")
    }

    @Test("REMB caps the send-side estimate; the REMB follower tracks it within [min, max]")
    func remb() {
        var estimator = SendSideBandwidthEstimator()
        estimator.onREMB(bitrate: 200_000)
        #expect(estimator.targetBitrate == 200_000)
        var follower = REMBBandwidthEstimator(configuration: BandwidthEstimatorConfiguration(minimumBitrate: 100_000, maximumBitrate: 1_000_000))
        follower.onREMB(bitrate: 500_000)
        #expect(follower.targetBitrate == 475_000)
        follower.onREMB(bitrate: 10_000_000)
        #expect(follower.targetBitrate == 1_000_000)
        follower.onREMB(bitrate: 1)
        #expect(follower.targetBitrate == 100_000)
    }

    @Test("pacer: bursts of at most 5 ms at its rate, audio first, queue drains")
    func pacer() {
        var pacer = Pacer(rate: 1_000_000)
        let video = RTPPacket(payloadType: 96, sequenceNumber: 0, timestamp: 0, ssrc: 1, payload: [UInt8](repeating: 0, count: 1188))
        for _ in 0..<50 { pacer.enqueue(video, kind: .video) }
        pacer.enqueue(RTPPacket(payloadType: 111, sequenceNumber: 0, timestamp: 0, ssrc: 2, payload: [1]), kind: .audio)
        var now = MediaTime(nanoseconds: 1_000_000_000)
        let first = pacer.dequeue(now: now)
        #expect(first.first?.payloadType == 111)
        #expect(first.count <= 3, "5 ms at 1 Mbps is 625 bytes: one MTU burst")
        var sent = first.count - 1
        var byTime: [Int] = []
        for _ in 0..<500 {
            now = now + 1_000_000
            sent += pacer.dequeue(now: now).count
            byTime.append(sent)
        }
        // 1 Mbps = 125 kB/s ≈ 10.4 packets of 1200 B per 100 ms.
        #expect((8...13).contains(byTime[99]), "\(byTime[99])")
        #expect(sent == 50 && pacer.isEmpty && pacer.queuedBytes == 0)
        #expect(pacer.nextSendTime(now: now) == nil)

        // On a clear path a whole frame leaves at once: 40 ms at 1 Mbps is 5000 bytes.
        var clear = Pacer(rate: 1_000_000)
        clear.burst = Pacer.clearBurst
        for _ in 0..<10 { clear.enqueue(video, kind: .video) }
        #expect(clear.dequeue(now: now).count == 5)
        #expect(clear.nextSendTime(now: now)! > now)
        // ... but a keyframe's head never goes as a long burst, and where the link limits the
        // target, a large frame leaves slowly enough that the queue it builds at a link of that
        // rate stays within 50 ms (2500 B at 400 kbit/s) plus the short burst at its head (at
        // the full rate it reaches 8 KB).
        now = now + 1_000_000_000
        _ = clear.dequeue(now: now)
        now = now + 1_000_000_000
        clear.enqueueFrame(Array(repeating: video, count: 10), keyframe: true, linkRate: 400_000, now: now)
        var departures = clear.dequeue(now: now).map { _ in now }
        #expect(departures.count == 1)
        var t = now
        while !clear.isEmpty, let next = clear.nextSendTime(now: t) {
            t = next
            departures += clear.dequeue(now: t).map { _ in t }
        }
        var queue = 0.0, worst = 0.0, last = now
        for departure in departures {
            queue = max(0, queue - 50_000 * Double(departure.nanoseconds - last.nanoseconds) / 1e9) + Double(video.serializedSize)
            worst = max(worst, queue)
            last = departure
        }
        let took = Double(t.nanoseconds - now.nanoseconds) / 1e6
        #expect(departures.count == 10 && worst <= 2500 + 2 * Double(video.serializedSize), "queue \(worst) B")
        // 9 packets after the head at 400 / (1 − 2500 / 12000) = 505 kbit/s: about 165 ms (86 at the full rate).
        #expect((140...200).contains(took), "\(departures.count) packets in \(took) ms")
        // Then the full rate again: a 40 ms burst once the bucket has refilled, and a large frame
        // queued behind a small one slows only itself.
        t = t + 100_000_000
        clear.enqueueFrame(Array(repeating: video, count: 2), keyframe: false, linkRate: 400_000, now: t)
        clear.enqueueFrame(Array(repeating: video, count: 10), keyframe: false, linkRate: 400_000, now: t)
        clear.enqueueFrame(Array(repeating: video, count: 2), keyframe: false, linkRate: 400_000, now: t)
        #expect(clear.dequeue(now: t).count == 5)
        var order: [(MediaTime, Int)] = []
        while !clear.isEmpty, let next = clear.nextSendTime(now: t) {
            t = next
            order.append((t, clear.dequeue(now: t).count))
        }
        #expect(order.reduce(0) { $0 + $1.1 } == 9)
        // 5 went at once (2 small, 3 of the large frame); the large frame's last packet is the
        // 7th after those; the 2 small packets behind it take about 19 ms at 1 Mbit/s (38 slow).
        var sentSoFar = 0
        let largeDone = order.first { sentSoFar += $0.1; return sentSoFar >= 7 }!.0
        let tail = Double(order.last!.0.nanoseconds - largeDone.nanoseconds) / 1e6
        #expect(tail < 25, "the small frame behind the large one took \(tail) ms")
        t = t + 100_000_000
        // A frame within the allowance, or any frame where the link is not the limit, keeps the
        // full rate (only a keyframe's head is shortened).
        for linkRate in [400_000, nil] {
            t = t + 1_000_000_000
            let frame = linkRate == nil ? 10 : 2
            clear.enqueueFrame(Array(repeating: video, count: frame), keyframe: linkRate == nil, linkRate: linkRate, now: t)
            #expect(clear.dequeue(now: t).count == (linkRate == nil ? 1 : 2))
            if linkRate == nil { #expect(clear.dequeue(now: t + 40_000_000).count == 5) }
        }
    }

    @Test("retransmission rate: bytes over the last second, old buckets fall out, a long silence clears all; the limiter admits up to the limit")
    func bitrateWindow() {
        var window = BitrateWindow()
        let start = MediaTime(nanoseconds: 5_000_000_000)
        #expect(window.bitsPerSecond(at: start) == 0)
        // 1000 bytes every 100 ms for a second: 80 kbit/s.
        for step in 0..<10 { window.record(bytes: 1000, at: start + UInt64(step) * 100_000_000) }
        #expect(window.bitsPerSecond(at: start + 950_000_000) == 80_000)
        // Two buckets on, the first two have gone (8 of the 1000s are left, the slot between
        // is empty); records in the same slot add up.
        window.record(bytes: 500, at: start + 1_150_000_000)
        window.record(bytes: 500, at: start + 1_160_000_000)
        #expect(window.bitsPerSecond(at: start + 1_199_000_000) == (8000 + 1000) * 8)
        // Time going backwards (a stale timestamp) counts in the newest bucket, never crashes.
        window.record(bytes: 100, at: start)
        #expect(window.bitsPerSecond(at: start + 1_199_000_000) == (9000 + 100) * 8)
        #expect(window.bitsPerSecond(at: start + 60_000_000_000) == 0)
        // The limiter: 30 kB in a second at 240 kbit/s, then nothing more until the oldest has gone.
        var limited = BitrateWindow()
        let t = MediaTime(nanoseconds: 1_000_000_000)
        var admitted = 0
        for step in 0..<40 where limited.admit(bytes: 1000, limit: 240_000, at: t + UInt64(step) * 1_000_000) { admitted += 1 }
        #expect(admitted == 30)
        let full = limited.admit(bytes: 1, limit: 240_000, at: t + 999_000_000)
        let free = limited.admit(bytes: 1000, limit: 240_000, at: t + 1_000_000_000)
        #expect(!full && free)
    }
}
