// RTP (RFC 3550 §5.1, RFC 8285 extensions), VP8 payload (RFC 7741), Opus (RFC 7587), RTX
// (RFC 4588) and sequence unwrapping tests: hand-built byte vectors, round trips and garbage.
import Media
import Testing
@testable import Peer

@Suite("RTP packets")
struct RTPPacketTests {
    @Test("byte-exact header with CSRC, one-byte extensions and padding")
    func handBuiltVector() throws {
        let bytes: [UInt8] = [
            0xB1,  // V=2, P=1, X=1, CC=1
            0xE0,  // M=1, PT=96
            0x12, 0x34,  // sequence 0x1234
            0x00, 0x00, 0x0B, 0xB8,  // timestamp 3000
            0xDE, 0xAD, 0xBE, 0xEF,  // SSRC
            0x01, 0x02, 0x03, 0x04,  // CSRC
            0xBE, 0xDE, 0x00, 0x02,  // one-byte profile, 2 words
            0x32, 0xAA, 0xBB, 0xCC,  // id 3, L=2 → 3 bytes (abs-send-time)
            0x51, 0x00, 0x07, 0x00,  // id 5, L=1 → 2 bytes (tw seq 7), then one byte of padding
            0x99, 0x98,  // payload
            0x00, 0x00, 0x03,  // 3 bytes padding
        ]
        let packet = try RTPPacket.parse(bytes)
        #expect(packet.marker && packet.payloadType == 96 && packet.sequenceNumber == 0x1234)
        #expect(packet.timestamp == 3000 && packet.ssrc == 0xDEAD_BEEF && packet.csrcs == [0x0102_0304])
        #expect(packet.extensions == [RTPHeaderExtension(id: 3, value: [0xAA, 0xBB, 0xCC]),
                                      RTPHeaderExtension(id: 5, value: [0x00, 0x07])])
        let ids = RTPExtensionIDs(absSendTime: 3, transportWideSequence: 5)
        #expect(packet.transportSequenceNumber(ids: ids) == 7)
        #expect(packet.absSendTime(ids: ids) == 0xAABBCC)
        #expect(packet.payload == [0x99, 0x98] && packet.paddingLength == 3)
        #expect(packet.serialize() == bytes)
        #expect(packet.serializedSize == bytes.count)
    }

    @Test("two-byte form is used for long values and id > 14, and round-trips")
    func twoByteExtensions() throws {
        var packet = RTPPacket(payloadType: 111, sequenceNumber: 65535, timestamp: .max, ssrc: 1, payload: [1, 2, 3])
        packet.setExtension(id: 1, value: SDESMid.encode("0"))
        packet.setExtension(id: 20, value: Array(repeating: 0x41, count: 40))
        packet.setExtension(id: 2, value: [])
        let bytes = packet.serialize()
        #expect(bytes[12] == 0x10 && bytes[13] == 0x00)
        let parsed = try RTPPacket.parse(bytes)
        #expect(parsed == packet)
        #expect(parsed.mid(ids: RTPExtensionIDs(mid: 1)) == "0")
        #expect(bytes.count == packet.serializedSize)
    }

    @Test("extension values: abs-send-time 6.18 fixed point, transport seq, mid")
    func extensionValues() {
        #expect(AbsSendTime.fixed(MediaTime(nanoseconds: 1_000_000_000)) == 1 << 18)
        #expect(AbsSendTime.fixed(MediaTime(nanoseconds: 64_500_000_000)) == (1 << 18) / 2)  // wraps at 64 s
        #expect(AbsSendTime.encode(MediaTime(nanoseconds: 1_500_000_000)) == [0x06, 0x00, 0x00])
        #expect(TransportSequenceNumber.decode(TransportSequenceNumber.encode(0xBEEF)) == 0xBEEF)
        #expect(SDESMid.decode([0x61, 0x00, 0x00]) == "a")
        let ids = RTPExtensionIDs(extmap: [(1, RTPExtensionURI.mid), (3, RTPExtensionURI.absSendTime),
                                           (5, RTPExtensionURI.transportWideCC), (9, "urn:x")])
        #expect(ids == RTPExtensionIDs(absSendTime: 3, transportWideSequence: 5, mid: 1))
    }

    @Test("malformed packets are rejected with errors, random bytes never trap")
    func malformed() {
        #expect(throws: RTPError.tooShort(3)) { try RTPPacket.parse([0x80, 0, 0]) }
        #expect(throws: RTPError.badVersion(1)) { try RTPPacket.parse([0x40] + [UInt8](repeating: 0, count: 11)) }
        #expect(throws: RTPError.self) { try RTPPacket.parse([0x82] + [UInt8](repeating: 0, count: 11)) }  // CSRCs missing
        #expect(throws: RTPError.self) { try RTPPacket.parse([0x90] + [UInt8](repeating: 0, count: 11) + [0xBE, 0xDE, 0, 9]) }
        #expect(throws: RTPError.badPadding(200)) { try RTPPacket.parse([0xA0] + [UInt8](repeating: 0, count: 11) + [1, 200]) }
        #expect(throws: RTPError.badPadding(0)) { try RTPPacket.parse([0xA0] + [UInt8](repeating: 0, count: 11) + [1, 0]) }
        // one-byte element whose length runs past the extension block
        #expect(throws: RTPError.self) {
            try RTPPacket.parse([0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 1, 0x1F, 1, 2, 3])
        }
        var rng = SplitMix64(state: 7)
        for _ in 0..<3000 {
            var bytes = (0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if !bytes.isEmpty { bytes[0] = 0x80 | (bytes[0] & 0x3F) }
            if let packet = try? RTPPacket.parse(bytes) { _ = try? RTPPacket.parse(packet.serialize()) }
            _ = try? VP8PayloadDescriptor.parse(bytes)
        }
    }

    @Test("sequence numbers and timestamps unwrap to 64 bits across wraps and reordering")
    func unwrapping() {
        var u = SequenceNumberUnwrapper()
        #expect(u.unwrap(65534) == 65534)
        #expect(u.unwrap(65535) == 65535)
        #expect(u.unwrap(1) == 65537)
        #expect(u.unwrap(0) == 65536)  // late packet
        #expect(u.unwrap(65533) == 65533)
        #expect(u.unwrap(2) == 65538)
        for i in 0..<200_000 { _ = u.unwrap(UInt16(truncatingIfNeeded: 3 + i)) }
        let final = u.current
        #expect(final == Int64(265_538))
        var t = TimestampUnwrapper()
        #expect(t.unwrap(.max) == Int64(UInt32.max))
        #expect(t.unwrap(89_999) == Int64(UInt32.max) + 90_000)
        #expect(sequenceIsNewer(1, than: 65535) && !sequenceIsNewer(65535, than: 1))
    }
}

@Suite("RTP payload formats")
struct RTPPayloadTests {
    @Test("RFC 7741 descriptor: every field round-trips, hand-built 15-bit PictureID vector")
    func vp8Descriptor() throws {
        // X=1 S=1 PID=0 | I=1 | M=1 PictureID 0x1234 | VP8 data
        let bytes: [UInt8] = [0x90, 0x80, 0x92, 0x34, 0x10]
        let (d, offset) = try VP8PayloadDescriptor.parse(bytes)
        #expect(offset == 4 && d.pictureID == 0x1234 && d.pictureIDIs15Bit && d.startsFrame)
        // X=1 N=1 PID=2 | I L T K | 7-bit PictureID 0x11 | TL0PICIDX 9 | TID=2 Y=1 KEYIDX=5
        let full: [UInt8] = [0xA2, 0xF0, 0x11, 0x09, 0xA5, 0x00]
        let (e, at) = try VP8PayloadDescriptor.parse(full)
        #expect(at == 5)
        #expect(e == VP8PayloadDescriptor(nonReference: true, startOfPartition: false, partitionIndex: 2, pictureID: 0x11,
                                          pictureIDIs15Bit: false, tl0PicIndex: 9, temporalLayer: 2, layerSync: true,
                                          keyIndex: 5))
        var out: [UInt8] = []
        e.serialize(into: &out)
        #expect(out == Array(full.prefix(5)))
        #expect(throws: RTPError.self) { try VP8PayloadDescriptor.parse([0x90, 0x80, 0x92]) }
        #expect(throws: RTPError.self) { try VP8PayloadDescriptor.parse([0x10]) }  // no data
    }

    @Test("VP8 packetizer splits evenly, marks the last packet, advances PictureID; depacketizer restores the frame")
    func vp8PacketizeRoundTrip() throws {
        var packetizer = VP8Packetizer(ssrc: 42, payloadType: 96, maxPayloadSize: 100, firstSequenceNumber: 65534,
                                       firstPictureID: 0x7FFF)
        let keyframe: [UInt8] = [0x50] + (1..<250).map { UInt8(truncatingIfNeeded: $0) }  // P bit 0: keyframe
        let packets = packetizer.packetize(keyframe, timestamp: 9000)
        #expect(packets.count == 3)
        #expect(packets.map(\.sequenceNumber) == [65534, 65535, 0])
        #expect(packets.map(\.marker) == [false, false, true])
        #expect(packets.allSatisfy { $0.timestamp == 9000 && $0.payload.count <= 100 })
        let infos = try packets.map { try VP8Depacketizer.inspect($0) }
        #expect(infos.map(\.isKeyframeStart) == [true, false, false])
        #expect(infos.allSatisfy { $0.descriptor.pictureID == 0x7FFF })
        #expect(try VP8Depacketizer.assemble(packets) == keyframe)
        let delta = packetizer.packetize([0x51, 1, 2, 3], timestamp: 12000)
        #expect(delta.count == 1 && delta[0].marker)
        let info = try VP8Depacketizer.inspect(delta[0])
        #expect(!info.isKeyframeStart && info.descriptor.pictureID == 0)
        #expect(throws: RTPError.self) { try VP8Depacketizer.assemble(Array(packets.dropFirst())) }
    }

    @Test("Opus: one frame per packet, marker on the first, sequence advances")
    func opus() {
        var p = OpusPacketizer(ssrc: 7, payloadType: 111, firstSequenceNumber: 10)
        let a = p.packetize([1, 2, 3], timestamp: 960)
        let b = p.packetize([4], timestamp: 1920)
        #expect(a.marker && !b.marker && a.sequenceNumber == 10 && b.sequenceNumber == 11)
        #expect(a.payload == [1, 2, 3] && b.timestamp == 1920 && b.payloadType == 111)
    }

    @Test("RTX wraps with the OSN prefix on its own SSRC/PT and unwraps to the original")
    func rtx() throws {
        let original = RTPPacket(payloadType: 96, sequenceNumber: 0xABCD, timestamp: 1234, ssrc: 1, marker: true,
                                 extensions: [RTPHeaderExtension(id: 3, value: [1, 2, 3])], payload: [9, 9, 9])
        let wrapped = RTX.wrap(original, rtxSSRC: 2, rtxPayloadType: 97, sequenceNumber: 5)
        #expect(wrapped.ssrc == 2 && wrapped.payloadType == 97 && wrapped.sequenceNumber == 5)
        #expect(wrapped.payload == [0xAB, 0xCD, 9, 9, 9] && wrapped.timestamp == 1234 && wrapped.marker)
        let back = try RTX.unwrap(try RTPPacket.parse(wrapped.serialize()), originalSSRC: 1, originalPayloadType: 96)
        #expect(back == original)
        #expect(throws: RTPError.self) {
            try RTX.unwrap(RTPPacket(payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 2, payload: [1]),
                           originalSSRC: 1, originalPayloadType: 96)
        }
    }
}
