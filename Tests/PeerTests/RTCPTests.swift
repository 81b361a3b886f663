// RTCP tests: byte-exact vectors built by hand from the RFC figures (RFC 3550 §6.4-6.6,
// RFC 4585 §6.2.1/§6.3.1, RFC 5104 §4.3.1, REMB draft §2.2, transport-cc draft §3.1), round
// trips of every type in a compound packet, statistics (A.3, A.8), RTT, and garbage.
import Media
import Testing
@testable import Peer

@Suite("RTCP packets")
struct RTCPPacketTests {
    static let block = RTCPReportBlock(ssrc: 0x0A0B_0C0D, fractionLost: 64, cumulativeLost: -3, extendedHighestSequence: 0x0001_0005,
                                       jitter: 77, lastSenderReport: 0x1234_5678, delaySinceLastSenderReport: 0x0001_8000)

    @Test("SR with one report block, byte for byte (RFC 3550 §6.4.1)")
    func senderReportVector() throws {
        let bytes: [UInt8] = [
            0x81, 200, 0x00, 0x0C,  // V=2 RC=1, PT=SR, length 12 words
            0x11, 0x22, 0x33, 0x44,  // SSRC of sender
            0xE0, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,  // NTP 0xE0000000.80000000
            0x00, 0x01, 0x5F, 0x90,  // RTP timestamp 90000
            0x00, 0x00, 0x00, 0x0A,  // packet count 10
            0x00, 0x00, 0x03, 0xE8,  // octet count 1000
            0x0A, 0x0B, 0x0C, 0x0D,  // report block SSRC
            0x40, 0xFF, 0xFF, 0xFD,  // fraction 64/256, cumulative −3 (24-bit two's complement)
            0x00, 0x01, 0x00, 0x05,  // extended highest sequence
            0x00, 0x00, 0x00, 0x4D,  // jitter 77
            0x12, 0x34, 0x56, 0x78,  // LSR
            0x00, 0x01, 0x80, 0x00,  // DLSR 1.5 s
        ]
        let sr = RTCPSenderReport(ssrc: 0x1122_3344, ntpTimestamp: 0xE000_0000_8000_0000, rtpTimestamp: 90000,
                                  packetCount: 10, octetCount: 1000, reports: [Self.block])
        #expect(RTCPPacket.senderReport(sr).serialize() == bytes)
        #expect(try RTCPPacket.parseCompound(bytes, requireReportFirst: true) == [.senderReport(sr)])
    }

    @Test("RR + SDES CNAME + BYE compound, byte for byte (RFC 3550 §6.4.2, §6.5.1, §6.6)")
    func compoundVector() throws {
        let packets: [RTCPPacket] = [
            .receiverReport(RTCPReceiverReport(ssrc: 7)),
            .sourceDescription(RTCPSourceDescription(chunks: [.init(ssrc: 7, items: [.cname("ab")])])),
            .bye(RTCPBye(ssrcs: [7], reason: "bye")),
        ]
        let wire = RTCPPacket.serializeCompound(packets)
        #expect(wire == [
            0x80, 201, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07,
            // SDES, 1 chunk: SSRC 7, CNAME (1) length 2 "ab", null item, padded to 12 bytes
            0x81, 202, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x01, 0x02, 0x61, 0x62, 0x00, 0x00, 0x00, 0x00,
            0x81, 203, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0x03, 0x62, 0x79, 0x65,  // BYE SSRC 7, "bye"
        ])
        let parsed = try RTCPPacket.parseCompound(wire, requireReportFirst: true)
        #expect(parsed == packets)
        if case let .sourceDescription(sdes) = parsed[1] { #expect(sdes.cname(of: 7) == "ab") }
    }

    @Test("generic NACK: PID + BLP, byte for byte (RFC 4585 §6.2.1)")
    func nackVector() throws {
        let bytes: [UInt8] = [
            0x81, 205, 0x00, 0x04,  // FMT=1, RTPFB, 4 words
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // sender 1, media 2
            0xFF, 0xFE, 0x80, 0x05,  // PID 65534, BLP bits 0, 2, 15 → 65535, 1, 14
            0x00, 0x64, 0x00, 0x00,  // PID 100 alone
        ]
        let parsed = try RTCPPacket.parseCompound(bytes)
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [65534, 65535, 1, 14, 100])
        #expect(parsed == [.nack(nack)])
        #expect(RTCPPacket.nack(nack).serialize() == bytes)
    }

    @Test("PLI, FIR and REMB, byte for byte")
    func psfbVectors() throws {
        let pli: [UInt8] = [0x81, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2]
        #expect(try RTCPPacket.parseCompound(pli) == [.pli(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2))])
        let fir: [UInt8] = [0x84, 206, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0x05, 0, 0, 0]
        let firPacket = RTCPPacket.fir(RTCPFullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 9, sequenceNumber: 5)]))
        #expect(firPacket.serialize() == fir)
        #expect(try RTCPPacket.parseCompound(fir) == [firPacket])
        // REMB 1,000,000 bps: 1e6 = 0x0F4240 (20 bits) → mantissa 0x3D090 × 2^2.
        let remb: [UInt8] = [
            0x8F, 206, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 0,
            0x52, 0x45, 0x4D, 0x42,  // "REMB"
            0x01, 0x0B, 0xD0, 0x90,  // 1 SSRC; exp=2 (000010), mantissa 0x3D090 (11 1101 0000 1001 0000)
            0x00, 0x00, 0x00, 0x09,
        ]
        let rembPacket = RTCPPacket.remb(RTCPREMB(senderSSRC: 1, bitrate: 1_000_000, ssrcs: [9]))
        #expect(rembPacket.serialize() == remb)
        #expect(try RTCPPacket.parseCompound(remb) == [rembPacket])
    }

    @Test("transport-wide feedback parses a hand-written byte string (draft §3.1)")
    func twccVector() throws {
        let bytes: [UInt8] = [
            0x8F, 205, 0x00, 0x07,  // V=2 FMT=15, RTPFB, length 7 words (32 bytes)
            0x00, 0x00, 0x00, 0x01,  // sender SSRC 1
            0x00, 0x00, 0x00, 0x02,  // media SSRC 2
            0x00, 0x0A,  // base sequence number 10
            0x00, 0x05,  // packet status count 5 (seq 10...14)
            0x00, 0x00, 0x10,  // reference time 16 × 64 ms = 1.024 s
            0x03,  // feedback packet count 3
            // chunk 1: 1 1 | 01 10 00 01 01 00 00: two-bit vector, symbols
            //   seq10 small, seq11 large, seq12 not received, seq13 small, seq14 small, (2 unused)
            0xD8, 0x50,
            // chunk 2 would not be needed; receive deltas follow:
            0x04,  // seq10 small: 4 × 250 µs = 1 ms
            0xFF, 0xF8,  // seq11 large: −8 × 250 µs = −2 ms (reordered)
            0x08,  // seq13 small: 2 ms
            0x00,  // seq14 small: 0
            0x00, 0x00, 0x00, 0x00, 0x00,  // zero fill to the 32-bit boundary (no P bit): ignored
        ]
        let fixed = bytes
        #expect(fixed.count == 32)
        let parsed = try RTCPPacket.parseCompound(fixed)
        let expected = TransportFeedback(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 10, referenceTime: 16,
                                         feedbackPacketCount: 3, deltas: [4, -8, nil, 8, 0])
        #expect(parsed == [.transportFeedback(expected)])
        let arrivals = expected.arrivals
        #expect(arrivals.map(\.sequenceNumber) == [10, 11, 12, 13, 14])
        #expect(arrivals.map(\.arrivalMicroseconds) == [1_025_000, 1_023_000, nil, 1_025_000, 1_025_000])
        // seq11 is large, so our serializer also picks one two-bit vector: the bytes match the
        // hand-written ones up to the padding (ours pads to 28 bytes with the P bit).
        let ours = RTCPPacket.transportFeedback(expected).serialize()
        #expect(Array(ours[4..<27]) == Array(fixed[4..<27]))
        #expect(try RTCPPacket.parseCompound(ours) == [.transportFeedback(expected)])
    }

    @Test("transport feedback chunk choice: run length, one-bit and two-bit vectors all round-trip")
    func twccChunks() throws {
        var rng = SplitMix64(state: 99)
        for round in 0..<300 {
            let count = Int.random(in: 1..<400, using: &rng)
            var deltas: [Int32?] = []
            for _ in 0..<count {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: deltas.append(nil)
                case 1: deltas.append(Int32.random(in: -32768...32767, using: &rng))
                case 2...5 where round % 2 == 0: deltas.append(4)  // long runs of one symbol
                default: deltas.append(Int32.random(in: 0...255, using: &rng))
                }
            }
            let feedback = TransportFeedback(senderSSRC: 5, mediaSSRC: 6, baseSequenceNumber: UInt16.random(in: 0...65535, using: &rng),
                                             referenceTime: Int32.random(in: -0x80_0000...0x7F_FFFF, using: &rng),
                                             feedbackPacketCount: UInt8(round % 256), deltas: deltas)
            #expect(try RTCPPacket.parseCompound(RTCPPacket.transportFeedback(feedback).serialize()) == [.transportFeedback(feedback)])
        }
        // A run of 8191+ identical symbols needs two run-length chunks.
        let chunks = TransportFeedback.chunks([UInt8](repeating: 1, count: 9000))
        #expect(chunks == [0x2000 | 0x1FFF, 0x2000 | UInt16(9000 - 8191)])
        #expect(TransportFeedback.chunks([1, 0, 1, 1, 0]) == [0x8000 | 0b10110 << 9])
    }

    @Test("every type survives one compound round trip; reduced-size packets accepted")
    func compoundRoundTrip() throws {
        let all: [RTCPPacket] = [
            .senderReport(RTCPSenderReport(ssrc: 1, ntpTimestamp: 42, rtpTimestamp: 3, packetCount: 4, octetCount: 5,
                                           reports: [Self.block, Self.block])),
            .receiverReport(RTCPReceiverReport(ssrc: 1, reports: [Self.block])),
            .sourceDescription(RTCPSourceDescription(chunks: [.init(ssrc: 1, items: [.cname("x"), .init(type: 6, text: "tool")]),
                                                              .init(ssrc: 2, items: [.cname("{abcd}")])])),
            .bye(RTCPBye(ssrcs: [1, 2])),
            .nack(RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [5, 6, 7, 30])),
            .pli(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2)),
            .fir(RTCPFullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 1), .init(ssrc: 3, sequenceNumber: 9)])),
            .remb(RTCPREMB(senderSSRC: 1, bitrate: 300_000 & ~0x3, ssrcs: [2, 3])),
            .transportFeedback(TransportFeedback(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 65530, referenceTime: -5,
                                                 feedbackPacketCount: 255, deltas: [1, nil, nil, 300, -1])),
            .other(packetType: 204, count: 3, body: [0, 0, 0, 1, 0x61, 0x62, 0x63, 0x64]),
        ]
        let wire = RTCPPacket.serializeCompound(all)
        #expect(wire.count % 4 == 0)
        #expect(try RTCPPacket.parseCompound(wire, requireReportFirst: true) == all)
        // RFC 5506: a lone PLI is a valid reduced-size packet, but not a valid compound one.
        let pli = RTCPPacket.pli(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2)).serialize()
        #expect(try RTCPPacket.parseCompound(pli).count == 1)
        #expect(throws: RTCPError.self) { try RTCPPacket.parseCompound(pli, requireReportFirst: true) }
    }

    @Test("malformed RTCP is rejected with an error; random bytes never trap")
    func malformed() {
        #expect(throws: RTCPError.self) { try RTCPPacket.parseCompound([]) }
        #expect(throws: RTCPError.badVersion(1)) { try RTCPPacket.parseCompound([0x40, 200, 0, 0]) }
        #expect(throws: RTCPError.self) { try RTCPPacket.parseCompound([0x80, 200, 0, 9, 0, 0, 0, 0]) }  // length overruns
        #expect(throws: RTCPError.self) { try RTCPPacket.parseCompound([0x81, 201, 0, 1, 0, 0, 0, 1]) }  // block missing
        #expect(throws: RTCPError.badPadding) { try RTCPPacket.parseCompound([0xA0, 201, 0, 1, 0, 0, 0, 9]) }
        #expect(throws: RTCPError.self) { try RTCPPacket.parseCompound([0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]) }  // NACK no FCI
        #expect(throws: RTCPError.self) {  // TWCC claims 100 packets with no chunks
            try RTCPPacket.parseCompound([0x8F, 205, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 100, 0, 0, 0, 0])
        }
        #expect(throws: RTCPError.self) {  // run-length chunk with reserved symbol 3
            try RTCPPacket.parseCompound([0x8F, 205, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x01, 0, 0])
        }
        var rng = SplitMix64(state: 3)
        for _ in 0..<5000 {
            var bytes = (0..<Int.random(in: 0..<80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if bytes.count >= 4 {
                bytes[0] = 0x80 | (bytes[0] & 0x3F)
                bytes[1] = [200, 201, 202, 203, 205, 206][Int(bytes[1]) % 6]
                bytes[2] = 0
                bytes[3] = UInt8((bytes.count / 4 - 1) & 0xFF)
            }
            if let packets = try? RTCPPacket.parseCompound(bytes) {
                _ = try? RTCPPacket.parseCompound(RTCPPacket.serializeCompound(packets))
            }
        }
    }
}

@Suite("RTCP statistics")
struct RTCPStatisticsTests {
    @Test("loss fraction and cumulative loss per RFC 3550 A.3, across a sequence wrap")
    func loss() {
        var stats = ReceiveStatistics(clockRate: 90000)
        var seq: UInt16 = 65500
        for i in 0..<100 {
            if i % 10 != 3 { stats.record(sequenceNumber: seq, rtpTimestamp: UInt32(i * 3000), arrival: MediaTime(nanoseconds: UInt64(i) * 33_333_333)) }
            seq &+= 1
        }
        let block = stats.makeReportBlock(ssrc: 9, now: MediaTime(nanoseconds: 4_000_000_000))
        #expect(block.cumulativeLost == 10)
        #expect(block.fractionLost == UInt8(10 * 256 / 100))
        #expect(block.extendedHighestSequence == 65500 + 99)
        // Next interval: no loss.
        for i in 100..<110 { stats.record(sequenceNumber: seq, rtpTimestamp: UInt32(i * 3000), arrival: MediaTime(nanoseconds: UInt64(i) * 33_333_333)); seq &+= 1 }
        let second = stats.makeReportBlock(ssrc: 9, now: MediaTime(nanoseconds: 5_000_000_000))
        #expect(second.fractionLost == 0 && second.cumulativeLost == 10)
    }

    @Test("jitter (A.8) is 0 for perfectly paced packets and tracks alternating ±2 ms delay")
    func jitter() {
        var steady = ReceiveStatistics(clockRate: 90000)
        for i in 0..<200 {
            steady.record(sequenceNumber: UInt16(i), rtpTimestamp: UInt32(i * 3000), arrival: MediaTime(nanoseconds: 1_000_000_000 + UInt64(i) * 33_333_333))
        }
        #expect(steady.jitter <= 1)
        var bumpy = ReceiveStatistics(clockRate: 90000)
        for i in 0..<500 {
            let wobble: UInt64 = i % 2 == 0 ? 0 : 4_000_000
            bumpy.record(sequenceNumber: UInt16(i), rtpTimestamp: UInt32(i * 3000), arrival: MediaTime(nanoseconds: 1_000_000_000 + UInt64(i) * 33_333_333 + wobble))
        }
        // |D| = 4 ms = 360 ticks every packet → J converges to 360.
        #expect((340...380).contains(bumpy.jitter), "\(bumpy.jitter)")
        #expect(abs(bumpy.jitterSeconds - 0.004) < 0.0003)
    }

    @Test("RTT from LSR/DLSR, and the DLSR a receiver reports")
    func roundTrip() {
        let srNTP = NTPTime.from(unixNanoseconds: 1_700_000_000_000_000_000)
        // Receiver: got our SR at t, reports 250 ms later.
        var stats = ReceiveStatistics(clockRate: 90000)
        stats.recordSenderReport(RTCPSenderReport(ssrc: 1, ntpTimestamp: srNTP, rtpTimestamp: 0, packetCount: 0, octetCount: 0),
                                 at: MediaTime(nanoseconds: 10_000_000_000))
        stats.record(sequenceNumber: 1, rtpTimestamp: 0, arrival: MediaTime(nanoseconds: 10_000_000_000))
        let block = stats.makeReportBlock(ssrc: 1, now: MediaTime(nanoseconds: 10_250_000_000))
        #expect(block.lastSenderReport == NTPTime.compact(srNTP))
        #expect(block.delaySinceLastSenderReport == 65536 / 4)
        // Sender: the RR arrives 330 ms after the SR left → RTT 80 ms.
        let arrival = NTPTime.from(unixNanoseconds: 1_700_000_000_330_000_000)
        let rtt = RTCPRoundTrip.seconds(arrivalNTP: arrival, block: block)!
        #expect(abs(rtt - 0.080) < 0.001)
        #expect(RTCPRoundTrip.seconds(arrivalNTP: arrival, block: RTCPReportBlock(ssrc: 1)) == nil)
        #expect(NTPTime.from(unixNanoseconds: 0) == NTPTime.unixEpochOffset << 32)
    }

    @Test("sender report counts packets and octets and extrapolates the RTP timestamp")
    func senderStats() {
        var stats = SendStatistics()
        stats.record(RTPPacket(payloadType: 96, sequenceNumber: 1, timestamp: 90000, ssrc: 1, payload: [UInt8](repeating: 0, count: 100)),
                     at: MediaTime(nanoseconds: 1_000_000_000))
        let sr = stats.makeSenderReport(ssrc: 1, now: MediaTime(nanoseconds: 1_500_000_000), ntp: 7, clockRate: 90000)
        #expect(sr.packetCount == 1 && sr.octetCount == 100 && sr.rtpTimestamp == 90000 + 45000)
    }
}

@Suite("Media parser fuzz invariants")
struct MediaParserExerciseTests {
    /// Random inputs biased towards valid headers: nothing traps, and everything that parses
    /// re-serializes to the same value (the invariant the libFuzzer entry checks).
    @Test("RTP, VP8 descriptor and RTCP: parse → serialize → parse is the identity on 30,000 inputs")
    func invariants() {
        var rng = SplitMix64(state: 2024)
        var decoded = (rtp: 0, vp8: 0, rtcp: 0)
        for round in 0..<10_000 {
            var bytes = (0..<Int.random(in: 0..<96, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if bytes.count >= 4 && round % 2 == 0 {
                bytes[0] = 0x80 | (bytes[0] & 0x3F)
                if round % 4 == 0 { bytes[1] = [200, 201, 202, 203, 205, 206][Int(bytes[1]) % 6]; bytes[2] = 0; bytes[3] = UInt8(bytes.count / 4 - 1) }
            }
            let r = MediaParserExercise.rtp(bytes), v = MediaParserExercise.vp8(bytes), c = MediaParserExercise.rtcp(bytes)
            #expect(r.violations.isEmpty && v.violations.isEmpty && c.violations.isEmpty, "\(bytes): \(r.violations + v.violations + c.violations)")
            if r.decoded { decoded.rtp += 1 }
            if v.decoded { decoded.vp8 += 1 }
            if c.decoded { decoded.rtcp += 1 }
        }
        #expect(decoded.rtp > 500 && decoded.vp8 > 5000 && decoded.rtcp > 100, "\(decoded)")
    }

    @Test("NACK lists with repeats and out-of-order numbers survive the PID/BLP packing exactly")
    func nackPacking() throws {
        for list: [UInt16] in [[5, 5], [5, 6, 6], [5, 9, 6], [65535, 0, 15, 16, 17], [1, 17, 18]] {
            let nack = RTCPPacket.nack(RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: list))
            #expect(try RTCPPacket.parseCompound(nack.serialize()) == [nack], "\(list)")
        }
    }
}
