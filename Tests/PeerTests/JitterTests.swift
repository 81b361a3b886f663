// Jitter buffer tests on a simulated lossy path (seeded: reproducible): the VP8 packetizer's
// output goes through shuffling/dropping into the video jitter buffer; NACKs are answered from
// the sender's RetransmissionHistory via RTX; PLIs make the sender send a keyframe. Also the
// audio jitter buffer (FEC, concealment, adaptation), RTX history and lip sync.
import Codec
import Media
import Testing
@testable import Peer

/// Fake VP8 frames: byte 0 carries the P bit (keyframe when clear), bytes 1...4 the frame index.
func fakeVP8Frame(index: Int, keyframe: Bool, size: Int) -> [UInt8] {
    var data = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: max(5, size))
    data[0] = keyframe ? 0x10 : 0x11
    for i in 0..<4 { data[1 + i] = UInt8(truncatingIfNeeded: index >> (8 * i)) }
    return data
}

func fakeFrameIndex(_ data: [UInt8]) -> Int {
    (0..<4).reduce(0) { $0 | Int(data[1 + $1]) << (8 * $1) }
}

/// A small moving-box picture for the real-codec test.
func movingBox(_ index: Int, width: Int = 160, height: Int = 120) -> VideoFrame {
    var frame = VideoFrame(width: width, height: height, timestamp: MediaTime(nanoseconds: UInt64(index) * 33_333_333))
    frame.withMutablePlanes { p in
        for y in 0..<height {
            for x in 0..<width {
                let inBox = (x - index * 3 % (width - 30) >= 0) && (x - index * 3 % (width - 30) < 30) && y >= 45 && y < 75
                p.y[y * p.strideY + x] = inBox ? 235 : UInt8(16 + (x + y) % 160)
            }
        }
    }
    return frame
}

/// A one-way path with random loss and delay; events are delivered in arrival order.
struct LossyPath {
    var rng: SplitMix64
    var loss: Double
    var baseDelay: UInt64 = 20_000_000
    var jitter: UInt64
    var inFlight: [(at: UInt64, order: Int, packet: RTPPacket)] = []
    var counter = 0
    var dropped = 0

    mutating func send(_ packet: RTPPacket, now: UInt64) {
        if Double.random(in: 0..<1, using: &rng) < loss { dropped += 1; return }
        let delay = baseDelay + (jitter > 0 ? UInt64.random(in: 0...jitter, using: &rng) : 0)
        counter += 1
        inFlight.append((now + delay, counter, packet))
    }

    mutating func arrivals(upTo now: UInt64) -> [RTPPacket] {
        let due = inFlight.filter { $0.at <= now }.sorted { ($0.at, $0.order) < ($1.at, $1.order) }
        inFlight.removeAll { $0.at <= now }
        return due.map(\.packet)
    }
}

struct VideoCallSimulation {
    var forward: LossyPath
    var backward: LossyPath
    var answerNACKs: Bool
    var frames = 90
    var packetizer = VP8Packetizer(ssrc: 100, payloadType: 96, maxPayloadSize: 300, firstSequenceNumber: 65000)
    var history = RetransmissionHistory(rtxSSRC: 200, rtxPayloadType: 97, firstRTXSequenceNumber: 40000)
    var buffer = VideoJitterBuffer()
    var delivered: [(index: Int, key: Bool)] = []
    /// Simulated time of each delivery (for freeze measurement).
    var deliveredAt: [UInt64] = []
    var keyframesSent = 0
    var plisReceived = 0
    /// PLIs that reached the sender while the checked frames were being sent.
    var plisBeforeTail = 0
    var nacksSent = 0
    var rng = SplitMix64(state: 1234)
    /// Real encoder output instead of fake frames: (index, keyframe requested) → VP8 bytes.
    var source: ((Int, Bool) -> [UInt8])?
    /// Sees every frame the buffer delivers (e.g. a real decoder).
    var sink: ((AssembledVideoFrame) -> Void)?

    /// Runs the call; feedback (NACK / PLI) crosses the backward path as marker packets.
    mutating func run() {
        var keyframeRequested = true
        var pendingFeedback: [(at: UInt64, nack: [UInt16], pli: Bool)] = []
        buffer.roundTripTime = 45_000_000
        let step: UInt64 = 5_000_000
        let end = UInt64(frames) * 33_333_333 + 1_500_000_000
        var nextFrame = 0
        var now: UInt64 = 1_000_000_000
        let start = now
        while now < start + end {
            // Sender: one frame every 33.3 ms.
            // (10 frames more than checked: a lost tail packet is only revealed by a later one.)
            if nextFrame < frames + 10, now >= start + UInt64(nextFrame) * 33_333_333 {
                let key = keyframeRequested
                keyframeRequested = false
                if key { keyframesSent += 1 }
                let size = key ? 4000 : Int.random(in: 200...1500, using: &rng)
                let data = source?(nextFrame, key) ?? fakeVP8Frame(index: nextFrame, keyframe: key, size: size)
                for packet in packetizer.packetize(data,
                                                   timestamp: UInt32(nextFrame * 3000)) {
                    history.store(packet, sentAt: MediaTime(nanoseconds: now))
                    forward.send(packet, now: now)
                }
                nextFrame += 1
            }
            // Receiver.
            for packet in forward.arrivals(upTo: now) {
                let restored = packet.ssrc == 200
                    ? try! RTX.unwrap(packet, originalSSRC: 100, originalPayloadType: 96) : packet
                buffer.insert(restored, now: MediaTime(nanoseconds: now))
            }
            for frame in buffer.takeFrames() {
                sink?(frame)
                delivered.append((fakeFrameIndex(frame.data), frame.isKeyframe))
                deliveredAt.append(now)
            }
            let feedback = buffer.feedback(now: MediaTime(nanoseconds: now))
            if !feedback.isEmpty {
                nacksSent += feedback.nack.count
                // The backward path may drop feedback too (modelled by the path's loss).
                if Double.random(in: 0..<1, using: &backward.rng) >= backward.loss {
                    pendingFeedback.append((now + backward.baseDelay, feedback.nack, feedback.requestKeyframe))
                }
            }
            // Sender receives feedback.
            for item in pendingFeedback where item.at <= now {
                if item.pli {
                    plisReceived += 1
                    if nextFrame <= frames { plisBeforeTail += 1 }
                    keyframeRequested = true
                }
                if answerNACKs {
                    for rtx in history.retransmissions(for: item.nack, now: MediaTime(nanoseconds: now), roundTripTime: 40_000_000) {
                        forward.send(rtx, now: now)
                    }
                }
            }
            pendingFeedback.removeAll { $0.at <= now }
            now += step
        }
    }

    /// The longest time without a new frame among the first `count` deliveries, in ms.
    func longestFreeze(first count: Int) -> Double {
        let times = deliveredAt.prefix(count)
        return Double(zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? 0) / 1e6
    }

    /// Every delivered frame is a keyframe or directly follows the previous delivered one.
    var onlyDecodableFrames: Bool {
        var previous: Int?
        for frame in delivered {
            if !frame.key, frame.index != (previous ?? -2) + 1 { return false }
            previous = frame.index
        }
        return delivered.first?.key ?? true
    }
}

@Suite("Video jitter buffer")
struct VideoJitterBufferTests {
    @Test("in-order path: every frame comes out once, in order, with no feedback")
    func clean() {
        var sim = VideoCallSimulation(forward: LossyPath(rng: SplitMix64(state: 1), loss: 0, jitter: 0),
                                      backward: LossyPath(rng: SplitMix64(state: 2), loss: 0, jitter: 0), answerNACKs: true)
        sim.run()
        #expect(sim.delivered.map(\.index) == Array(0..<100))
        #expect(sim.nacksSent == 0 && sim.plisReceived == 0 && sim.keyframesSent == 1)
    }

    @Test("10 % loss, 30 ms reordering jitter: NACK + RTX recover every frame, no PLI", arguments: [11, 22, 33] as [UInt64])
    func recoversWithNACK(seed: UInt64) {
        var sim = VideoCallSimulation(forward: LossyPath(rng: SplitMix64(state: seed), loss: 0.10, jitter: 30_000_000),
                                      backward: LossyPath(rng: SplitMix64(state: seed + 1), loss: 0.05, jitter: 0), answerNACKs: true)
        sim.run()
        #expect(sim.forward.dropped > 20)
        #expect(sim.nacksSent > 0)
        #expect(Array(sim.delivered.map(\.index).prefix(90)) == Array(0..<90), "\(sim.delivered.map(\.index))")
        #expect(sim.plisBeforeTail == 0)
        #expect(sim.longestFreeze(first: 90) < 250, "freeze \(sim.longestFreeze(first: 90)) ms")
        #expect(sim.onlyDecodableFrames)
        #expect(sim.buffer.statistics.recovered > 0)
    }

    @Test("unrecoverable loss (NACKs unanswered): PLI requested, stream resumes from a keyframe, only decodable frames")
    func unrecoverableLossRequestsPLI() {
        var sim = VideoCallSimulation(forward: LossyPath(rng: SplitMix64(state: 5), loss: 0.03, jitter: 10_000_000),
                                      backward: LossyPath(rng: SplitMix64(state: 6), loss: 0, jitter: 0), answerNACKs: false)
        sim.run()
        #expect(sim.plisReceived >= 1)
        #expect(sim.keyframesSent >= 2)
        #expect(sim.onlyDecodableFrames, "\(sim.delivered)")
        #expect(sim.delivered.count > 20)
        #expect(sim.buffer.statistics.framesDropped > 0)
    }

    @Test("real VP8 over a lossy path without retransmission: PLIs bring keyframes, libvpx never sees an undecodable frame")
    func realCodecLossyPath() throws {
        let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: 160, height: 120, bitrate: 300_000))
        let decoder = try VP8Decoder()
        final class Tally { var decoded = 0; var errors: [String] = [] }
        let tally = Tally()
        var sim = VideoCallSimulation(forward: LossyPath(rng: SplitMix64(state: 21), loss: 0.03, jitter: 15_000_000),
                                      backward: LossyPath(rng: SplitMix64(state: 22), loss: 0, jitter: 0), answerNACKs: false)
        sim.source = { index, key in
            if key { encoder.requestKeyframe() }
            return (try? encoder.encode(movingBox(index)))??.data ?? []
        }
        sim.sink = { frame in
            do {
                _ = try decoder.decode(frame.data, timestamp: MediaTime(nanoseconds: 0))
                tally.decoded += 1
            } catch {
                tally.errors.append("\(error)")
            }
        }
        sim.run()
        #expect(tally.errors.isEmpty, "\(tally.errors)")
        #expect(sim.plisReceived >= 1 && sim.keyframesSent >= 2)
        #expect(tally.decoded > 30, "\(tally.decoded) decoded")
    }

    @Test("a stream joined mid-way (no keyframe) yields nothing and asks for a keyframe after the grace period")
    func joinWithoutKeyframe() {
        var packetizer = VP8Packetizer(ssrc: 1, payloadType: 96)
        var buffer = VideoJitterBuffer()
        var now = MediaTime(nanoseconds: 5_000_000_000)
        var requests = 0
        for index in 0..<15 {
            for packet in packetizer.packetize(fakeVP8Frame(index: index, keyframe: false, size: 500), timestamp: UInt32(index * 3000)) {
                buffer.insert(packet, now: now)
            }
            if buffer.feedback(now: now).requestKeyframe { requests += 1 }
            now = now + 33_000_000
        }
        let none = buffer.takeFrames()
        #expect(none.isEmpty)
        #expect(requests == 2)  // after the 100 ms grace (t = 132 ms), then 250 ms later (t = 396 ms)
        for packet in packetizer.packetize(fakeVP8Frame(index: 15, keyframe: true, size: 900), timestamp: 45000) {
            buffer.insert(packet, now: now)
        }
        let frames = buffer.takeFrames()
        #expect(frames.count == 1 && frames[0].isKeyframe && !buffer.isWaitingForKeyframe)
    }

    @Test("a large frame paced out over 700 ms is waited for; a packet missing for 250 ms is not")
    func slowFrameIsNotAStall() {
        var packetizer = VP8Packetizer(ssrc: 1, payloadType: 96)
        var buffer = VideoJitterBuffer()
        var now = MediaTime(nanoseconds: 1_000_000_000)
        var requests = 0
        // A keyframe of 20 packets, one every 35 ms (a 24 KB keyframe over a 280 kbit/s link).
        let keyframe = packetizer.packetize(fakeVP8Frame(index: 0, keyframe: true, size: 24_000), timestamp: 0)
        #expect(keyframe.count >= 20)
        for packet in keyframe {
            buffer.insert(packet, now: now)
            if buffer.feedback(now: now).requestKeyframe { requests += 1 }
            now = now + 35_000_000
        }
        var frames = buffer.takeFrames()
        #expect(frames.count == 1 && frames[0].isKeyframe && requests == 0, "\(requests) keyframe requests while it arrived")
        // A delta frame as large, as slowly: still no give-up, no request.
        for packet in packetizer.packetize(fakeVP8Frame(index: 1, keyframe: false, size: 24_000), timestamp: 3000) {
            buffer.insert(packet, now: now)
            if buffer.feedback(now: now).requestKeyframe { requests += 1 }
            now = now + 35_000_000
        }
        frames = buffer.takeFrames()
        #expect(frames.count == 1 && requests == 0 && buffer.statistics.framesDropped == 0)
        // The next frame loses its second packet for good: given up and a keyframe asked for
        // 250 ms after the gap was seen (NACKs meanwhile), though later packets keep arriving.
        let lossy = packetizer.packetize(fakeVP8Frame(index: 2, keyframe: false, size: 6_000), timestamp: 6000)
        var firstRequest: UInt64?
        let gapSeen = now + 35_000_000
        for (i, packet) in lossy.enumerated() where i != 1 {
            buffer.insert(packet, now: now)
            now = now + 35_000_000
        }
        for _ in 0..<20 where firstRequest == nil {
            if buffer.feedback(now: now).requestKeyframe { firstRequest = now.nanoseconds }
            now = now + 20_000_000
        }
        let after = firstRequest.map { Double($0 - gapSeen.nanoseconds) / 1e6 }
        #expect(after.map { (215...300).contains($0) } ?? false, "keyframe asked for \(after.map { "\($0) ms" } ?? "never") after the gap")
        #expect(buffer.takeFrames().isEmpty && buffer.isWaitingForKeyframe && buffer.statistics.nacksSent > 0)
    }

    @Test("a late retransmission of an abandoned keyframe's first packet does not hold keyframe requests off")
    func lateOldKeyframeStart() {
        var packetizer = VP8Packetizer(ssrc: 1, payloadType: 96, maxPayloadSize: 1000)
        var buffer = VideoJitterBuffer()
        var now = MediaTime(nanoseconds: 1_000_000_000)
        for packet in packetizer.packetize(fakeVP8Frame(index: 0, keyframe: true, size: 900), timestamp: 0) { buffer.insert(packet, now: now) }
        #expect(buffer.takeFrames().count == 1)
        // A second keyframe loses its first two packets; delta frames follow without loss.
        now = now + 33_000_000
        let second = packetizer.packetize(fakeVP8Frame(index: 1, keyframe: true, size: 3000), timestamp: 3000)
        #expect(second.count >= 3)
        for packet in second.dropFirst(2) { buffer.insert(packet, now: now) }
        var requests: [UInt64] = []
        var index = 2
        func tick(_ buffer: inout VideoJitterBuffer, _ packetizer: inout VP8Packetizer) {
            for packet in packetizer.packetize(fakeVP8Frame(index: index, keyframe: false, size: 500), timestamp: UInt32(index * 3000)) {
                buffer.insert(packet, now: now)
            }
            index += 1
            if buffer.feedback(now: now).requestKeyframe { requests.append(now.nanoseconds) }
            now = now + 33_000_000
        }
        for _ in 0..<12 { tick(&buffer, &packetizer) }  // 400 ms: given up, first request
        #expect(requests.count >= 1 && buffer.isWaitingForKeyframe)
        // Now the retransmission of its first packet arrives; its second never does.
        buffer.insert(second[0], now: now)
        let before = requests.count
        for _ in 0..<36 { tick(&buffer, &packetizer) }  // 1.2 s more
        #expect(requests.count - before >= 3, "\(requests.count - before) keyframe requests in the 1.2 s after it")
        #expect(buffer.takeFrames().isEmpty)
    }

    @Test("decoder failure puts the buffer back to waiting for a keyframe and requests one at once")
    func decoderFailure() {
        var packetizer = VP8Packetizer(ssrc: 1, payloadType: 96)
        var buffer = VideoJitterBuffer()
        let now = MediaTime(nanoseconds: 1_000_000_000)
        for packet in packetizer.packetize(fakeVP8Frame(index: 0, keyframe: true, size: 500), timestamp: 0) { buffer.insert(packet, now: now) }
        let one = buffer.takeFrames()
        #expect(one.count == 1)
        buffer.decoderFailed(now: now)
        let feedback = buffer.feedback(now: now)
        #expect(feedback.requestKeyframe)
        for packet in packetizer.packetize(fakeVP8Frame(index: 1, keyframe: false, size: 500), timestamp: 3000) { buffer.insert(packet, now: now) }
        let none = buffer.takeFrames()
        #expect(none.isEmpty)
    }

    @Test("random packets (any sequence, timestamp, marker, descriptor) never trap the buffer")
    func garbage() {
        var rng = SplitMix64(state: 404)
        var buffer = VideoJitterBuffer()
        var now: UInt64 = 1_000_000_000
        for _ in 0..<20_000 {
            let payload = (0..<Int.random(in: 0..<12, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let packet = RTPPacket(payloadType: 96, sequenceNumber: UInt16.random(in: 0...40, using: &rng) &* 1637,
                                   timestamp: UInt32.random(in: 0...3, using: &rng) * 3000, ssrc: 1,
                                   marker: Bool.random(using: &rng), payload: payload)
            buffer.insert(packet, now: MediaTime(nanoseconds: now))
            if Int.random(in: 0..<10, using: &rng) == 0 { buffer.roundTripTime = UInt64.random(in: 0...UInt64.max, using: &rng) }
            _ = buffer.feedback(now: MediaTime(nanoseconds: now))
            _ = buffer.takeFrames()
            now += UInt64.random(in: 0...50_000_000, using: &rng)
        }
        #expect(buffer.statistics.packetsReceived + buffer.statistics.malformed == 20_000)
    }

    @Test("malformed and duplicate packets are counted, not delivered")
    func junk() {
        var buffer = VideoJitterBuffer()
        buffer.insert(RTPPacket(payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: [0x90]), now: MediaTime(nanoseconds: 0))
        var packetizer = VP8Packetizer(ssrc: 1, payloadType: 96)
        let packets = packetizer.packetize(fakeVP8Frame(index: 0, keyframe: true, size: 2000), timestamp: 0)
        buffer.insert(packets[0], now: MediaTime(nanoseconds: 0))
        buffer.insert(packets[0], now: MediaTime(nanoseconds: 0))
        #expect(buffer.statistics.malformed == 1 && buffer.statistics.duplicates == 1)
    }
}

@Suite("Audio jitter buffer")
struct AudioJitterBufferTests {
    static func opusPacket(_ n: Int) -> RTPPacket {
        RTPPacket(payloadType: 111, sequenceNumber: UInt16(n), timestamp: UInt32(n * 960), ssrc: 1, payload: [UInt8(n & 0xFF), 0xAA])
    }

    @Test("a lost packet is recovered from the next packet's FEC; an underrun holds; a double loss is concealed")
    func fecAndConceal() {
        var buffer = AudioJitterBuffer()
        let start: UInt64 = 1_000_000_000
        var out: [AudioPlayout] = []
        for k in 0...10 {
            let now = MediaTime(nanoseconds: start + UInt64(k) * 20_000_000)
            if [0, 1, 3, 6, 7, 8].contains(k) { buffer.insert(Self.opusPacket(k), now: now) }
            if k >= 1, let frame = buffer.pull(now: now) { out.append(frame.playout) }
        }
        #expect(out == [.decode([0, 0xAA]), .decode([1, 0xAA]), .decodeFEC(next: [3, 0xAA]), .decode([3, 0xAA]),
                        .conceal,  // k=5: nothing buffered (underrun): hold at frame 4
                        .conceal,  // k=6: frame 4 lost, 5 lost too: no FEC source
                        .decodeFEC(next: [6, 0xAA]), .decode([6, 0xAA]), .decode([7, 0xAA]), .decode([8, 0xAA])])
        #expect(buffer.statistics.fecRecovered == 2 && buffer.statistics.concealed == 2 && buffer.statistics.underruns == 1)
    }

    @Test("steady 20 ms pull over a jittery lossy path: one frame per pull, timestamps contiguous, delay adapts")
    func jitteryPath() {
        func run(jitter: UInt64, seed: UInt64) -> (AudioJitterBuffer, Bool, Int) {
            var path = LossyPath(rng: SplitMix64(state: seed), loss: 0.05, jitter: jitter)
            var buffer = AudioJitterBuffer()
            var now: UInt64 = 1_000_000_000
            var timestamps: [UInt32] = []
            var decodedOrRecovered = 0
            for tick in 0..<(50 * 20) {  // 20 s in 20 ms steps, pulled at a 7 ms phase
                path.send(Self.opusPacket(tick), now: now)
                for p in path.arrivals(upTo: now + 7_000_000) { buffer.insert(p, now: MediaTime(nanoseconds: now + 7_000_000)) }
                if let frame = buffer.pull(now: MediaTime(nanoseconds: now + 7_000_000)) {
                    timestamps.append(frame.rtpTimestamp)
                    if case .conceal = frame.playout {} else { decodedOrRecovered += 1 }
                }
                now += 20_000_000
            }
            // Timestamps never go back and advance by at most a few frames (holds on underrun, skips to catch up).
            let contiguous = zip(timestamps, timestamps.dropFirst()).allSatisfy { $1 >= $0 && $1 - $0 <= 960 * 2 }
            return (buffer, contiguous, decodedOrRecovered)
        }
        let (calm, calmOK, calmGood) = run(jitter: 0, seed: 8)
        let (rough, roughOK, roughGood) = run(jitter: 60_000_000, seed: 9)
        #expect(calmOK && roughOK)
        #expect(calm.targetDelayNanoseconds < rough.targetDelayNanoseconds)
        #expect(rough.jitterMilliseconds > 10)
        #expect(calmGood > 950 && roughGood > 900, "\(calmGood) \(roughGood) \(rough.statistics)")
    }
}

@Suite("Retransmission history and lip sync")
struct RetransmissionAndLipSyncTests {
    @Test("NACKed packets come back as RTX at most once per half RTT; expired or unknown ones are skipped")
    func history() throws {
        var history = RetransmissionHistory(capacity: 128, window: 1_000_000_000, rtxSSRC: 9, rtxPayloadType: 97,
                                            firstRTXSequenceNumber: 65535)
        for n in 0..<100 {
            history.store(RTPPacket(payloadType: 96, sequenceNumber: UInt16(truncatingIfNeeded: 65500 + n), timestamp: UInt32(n), ssrc: 1,
                                    payload: [UInt8(n)]), sentAt: MediaTime(nanoseconds: UInt64(n) * 10_000_000))
        }
        let now = MediaTime(nanoseconds: 1_000_000_000)
        let out = history.retransmissions(for: [65535, 0, 10, 7000, 65500], now: now, roundTripTime: 50_000_000)
        // 7000 was never sent; 65500 left 1 s ago (expired); the others are recent.
        #expect(out.map(\.sequenceNumber) == [65535, 0, 1])  // RTX's own numbers
        #expect(try out.map { try RTX.unwrap($0, originalSSRC: 1, originalPayloadType: 96).sequenceNumber } == [65535, 0, 10])
        #expect(out.allSatisfy { $0.ssrc == 9 && $0.payloadType == 97 })
        let first = try RTX.unwrap(out[0], originalSSRC: 1, originalPayloadType: 96)
        #expect(first.sequenceNumber == 65535 && first.payload == [35])
        // A repeat within half an RTT is the same loss; after it, the resend may have been lost.
        let tooSoon = history.retransmissions(for: [65535], now: now + 20_000_000, roundTripTime: 50_000_000)
        let afterRTT = history.retransmissions(for: [65535], now: now + 30_000_000, roundTripTime: 50_000_000)
        let expired = history.retransmissions(for: [0], now: MediaTime(nanoseconds: 3_000_000_000), roundTripTime: 0)
        #expect(tooSoon.isEmpty && afterRTT.count == 1 && expired.isEmpty)
        #expect(history.missed == 3)
    }

    @Test("SR mappings put audio and video on one capture clock; the lag between them is measured")
    func lipSync() {
        var sync = LipSync()
        let ntp = NTPTime.from(unixNanoseconds: 1_700_000_000_000_000_000)
        sync.audio.update(RTCPSenderReport(ssrc: 1, ntpTimestamp: ntp, rtpTimestamp: 48000, packetCount: 0, octetCount: 0))
        #expect(sync.videoLagSeconds(audioRTP: 0, audioPlayout: 0, videoRTP: 0, videoRender: 0) == nil)
        sync.video.update(RTCPSenderReport(ssrc: 2, ntpTimestamp: ntp, rtpTimestamp: UInt32.max - 4499, packetCount: 0, octetCount: 0))
        // Audio captured 100 ms after the SR, heard at local 10.200; video captured 100 ms after
        // the SR (across the RTP wrap), shown at local 10.250: video lags by 50 ms.
        let lag = sync.videoLagSeconds(audioRTP: 48000 + 4800, audioPlayout: 10.2, videoRTP: 4500, videoRender: 10.25)!
        #expect(abs(lag - 0.05) < 1e-5)
    }
}
