// STUN (RFC 8489), TURN attribute and ChannelData (RFC 8656 §12, §18) and RFC 7983
// demultiplexing tests: round trips of every attribute kind, header validation, robustness
// against garbage (no input may trap), and the demux table.
import Testing
@testable import Peer

/// Deterministic generator so a failing random case can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("STUN codec")
struct STUNTests {
    static let v4 = STUNAddress(ipv4: 198, 51, 100, 7, port: 3478)
    static let v6 = STUNAddress(host: "2001:db8::42", port: 50000)!

    static let everyKind: [STUNAttributeValue] = [
        .mappedAddress(v4), .mappedAddress(v6),
        .xorMappedAddress(v4), .xorMappedAddress(v6),
        .username("alice:bob"),
        .errorCode(STUNErrorCode(code: 487)),
        .errorCode(STUNErrorCode(code: 438, reason: "Stale Nonce ✓")),
        .realm("example.org"), .nonce("abc/def+123"),
        .unknownAttributes([STUNAttributeType(rawValue: 0x7777), .evenPort]),
        .unknownAttributes([STUNAttributeType(rawValue: 0x7777)]),
        .software("videophone"),
        .alternateServer(v6),
        .priority(0x6E00_01FF), .useCandidate,
        .iceControlled(tieBreaker: 0x0123_4567_89AB_CDEF), .iceControlling(tieBreaker: .max),
        .channelNumber(0x4001), .lifetime(600),
        .xorPeerAddress(v4), .xorPeerAddress(v6),
        .data([1, 2, 3, 4, 5]), .data([]),
        .xorRelayedAddress(v6), .xorRelayedAddress(v4),
        .requestedTransport(17), .dontFragment,
        .messageIntegritySHA256(Array(repeating: 0xAB, count: 32)),
        .other(STUNAttribute(type: STUNAttributeType(rawValue: 0xC001), value: [9, 8, 7])),
        .other(STUNAttribute(type: STUNAttributeType(rawValue: 0x7001), value: [])),
    ]

    @Test("every attribute kind survives encode → decode, as typed values")
    func roundTripEveryKind() throws {
        // encode() regenerates MESSAGE-INTEGRITY-SHA256 (by dropping it: we only parse it),
        // so that one is checked on hand-built bytes below.
        for value in Self.everyKind where value.type != .messageIntegritySHA256 {
            var m = STUNMessage(.request, .allocate)
            m.append(value)
            let decoded = try STUNMessage.decode(m.encode())
            #expect(decoded == m)
            #expect(decoded.values == [value], "\(value)")
            #expect(decoded.encode() == m.encode())
        }
        let sha = Array(repeating: UInt8(0xAB), count: 32)
        var shaBytes = STUNMessage(.request, .binding).encode()
        shaBytes[3] = 36
        shaBytes += [0x00, 0x1C, 0x00, 0x20] + sha
        let withSHA = try STUNMessage.decode(shaBytes)
        #expect(withSHA.messageIntegritySHA256 == sha)
        #expect(withSHA.values == [.messageIntegritySHA256(sha)])
        #expect(withSHA.unknownComprehensionRequired.isEmpty)
        shaBytes[23] = 12  // 12 bytes is below the 16-byte minimum of RFC 8489 §14.6
        shaBytes.removeLast(20)
        shaBytes[3] = 16
        #expect(throws: STUNError.malformedAttribute(.messageIntegritySHA256, "length 12")) {
            try STUNMessage.decode(shaBytes)
        }

        // And all at once, in order, with integrity and fingerprint.
        var all = STUNMessage(.successResponse, .binding)
        for value in Self.everyKind where value.type != .messageIntegritySHA256 { all.append(value) }
        let key = STUNMessage.shortTermKey(password: "pw")
        let decoded = try STUNMessage.decode(all.encode(integrityKey: key, fingerprint: true))
        #expect(Array(decoded.values.dropLast(2)) == all.values)
        #expect(decoded.validateIntegrity(key: key))
        #expect(decoded.validateFingerprint())
        #expect(decoded.xorPeerAddresses == [Self.v4, Self.v6])
        #expect(decoded.xorRelayedAddresses == [Self.v6, Self.v4])
        #expect(decoded.xorMappedAddress == Self.v4)
        #expect(decoded.mappedAddress == Self.v4)
        #expect(decoded.alternateServer == Self.v6)
        #expect(decoded.errorCode?.code == 487)
        #expect(decoded.errorCode?.reason == "Role Conflict")
        #expect(decoded.unknownAttributes == [STUNAttributeType(rawValue: 0x7777), .evenPort])
        #expect(decoded.channelNumber == 0x4001)
        #expect(decoded.lifetime == 600)
        #expect(decoded.data == [1, 2, 3, 4, 5])
        #expect(decoded.requestedTransport == 17)
        #expect(decoded.dontFragment)
        #expect(decoded.useCandidate)
        #expect(decoded.iceControlling == .max)
        #expect(decoded.realm == "example.org")
        #expect(decoded.nonce == "abc/def+123")
        #expect(decoded.messageIntegrity?.count == 20)
        #expect(decoded.fingerprint != nil)
        #expect(decoded.unknownComprehensionRequired == [STUNAttributeType(rawValue: 0x7001)])
    }

    @Test("message type bits interleave class and method (RFC 8489 §5)")
    func messageTypes() throws {
        let cases: [(STUNClass, STUNMethod, UInt16)] = [
            (.request, .binding, 0x0001), (.indication, .binding, 0x0011),
            (.successResponse, .binding, 0x0101), (.errorResponse, .binding, 0x0111),
            (.request, .allocate, 0x0003), (.successResponse, .allocate, 0x0103),
            (.errorResponse, .allocate, 0x0113), (.request, .refresh, 0x0004),
            (.indication, .send, 0x0016), (.indication, .data, 0x0017),
            (.request, .createPermission, 0x0008), (.request, .channelBind, 0x0009),
            (.request, STUNMethod(rawValue: 0xFFF)!, 0x3EEF),
        ]
        for (cls, method, type) in cases {
            let bytes = STUNMessage(cls, method).encode()
            #expect(UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == type, "\(cls) \(method)")
            let m = try STUNMessage.decode(bytes)
            #expect(m.messageClass == cls)
            #expect(m.method == method)
        }
        #expect(STUNMethod(rawValue: 0x1000) == nil)
    }

    @Test("header validation errors")
    func headerErrors() {
        let good = STUNMessage(.request, .binding, attributes: [STUNAttribute(type: .username, value: [0x61])]).encode()
        func check(_ bytes: [UInt8], _ expected: STUNError) {
            #expect(throws: expected) { try STUNMessage.decode(bytes) }
        }
        check([], .tooShort(0))
        var b = good; b[0] |= 0x80
        check(b, .notSTUN(firstByte: b[0]))
        b = good; b[4] = 0
        check(b, .badMagicCookie(0x0012_A442))
        b = good; b[3] = 6
        check(b, .lengthNotMultipleOfFour(6))
        check(good + [0, 0, 0, 0], .lengthMismatch(declared: 8, available: 12))
        // Attribute claims more than the message holds.
        b = good; b[23] = 9
        check(b, .truncatedAttribute(type: 0x0006, offset: 20))
        // Bad shape of a known attribute.
        let badPriority = STUNMessage(.request, .binding, attributes: [STUNAttribute(type: .priority, value: [1, 2])])
        check(badPriority.encode(), .malformedAttribute(.priority, "length 2, expected 4"))
        let badFamily = STUNMessage(.request, .binding,
                                    attributes: [STUNAttribute(type: .xorMappedAddress, value: [0, 3, 0, 0, 1, 2, 3, 4])])
        #expect(throws: STUNError.self) { try STUNMessage.decode(badFamily.encode()) }
        let badUTF8 = STUNMessage(.request, .binding, attributes: [STUNAttribute(type: .username, value: [0xFF, 0xFE])])
        check(badUTF8.encode(), .malformedAttribute(.username, "not UTF-8"))
        let badError = STUNMessage(.errorResponse, .binding, attributes: [STUNAttribute(type: .errorCode, value: [0, 0, 4, 100])])
        #expect(throws: STUNError.self) { try STUNMessage.decode(badError.encode()) }
    }

    @Test("FINGERPRINT must be last; attributes after MESSAGE-INTEGRITY are ignored")
    func orderingRules() throws {
        var m = STUNMessage(.request, .binding)
        m.append(.username("a:b"))
        var bytes = m.encode(integrityKey: [1, 2, 3], fingerprint: true)
        // Append a PRIORITY after FINGERPRINT and fix up the length.
        bytes += [0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1]
        bytes[3] = UInt8(bytes.count - 20)
        #expect(throws: STUNError.fingerprintNotLast) { try STUNMessage.decode(bytes) }

        // PRIORITY after MESSAGE-INTEGRITY (no fingerprint) is dropped but integrity still checks.
        var withMI = m.encode(integrityKey: [1, 2, 3])
        withMI += [0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1]
        withMI[3] = UInt8(withMI.count - 20)
        let decoded = try STUNMessage.decode(withMI)
        #expect(decoded.priority == nil)
        #expect(decoded.attributes.map(\.type) == [.username, .messageIntegrity])
        #expect(decoded.validateIntegrity(key: [1, 2, 3]))
    }

    @Test("locally built messages have no received bytes to validate")
    func localMessagesDoNotValidate() {
        let m = STUNMessage(.request, .binding)
        #expect(!m.validateIntegrity(key: [1]))
        #expect(!m.validateFingerprint())
        #expect(!m.hasIntegrity)
        #expect(STUNTransactionID.random() != STUNTransactionID.random())
        #expect(STUNTransactionID(bytes: [1, 2, 3]) == nil)
    }

    @Test("10,000 random buffers and mutated vectors never trap")
    func garbageNeverTraps() {
        var rng = SplitMix64(state: 0x5354_554E)
        var accepted = 0
        for i in 0..<10_000 {
            var bytes: [UInt8]
            switch i % 3 {
            case 0:
                // Pure noise of random length.
                bytes = (0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1:
                // A valid header with random attribute bytes, so the attribute parser is exercised.
                let body = (0..<(4 * Int.random(in: 0...24, using: &rng))).map { _ in
                    UInt8.random(in: 0...255, using: &rng)
                }
                bytes = STUNMessage(.request, .binding).encode()
                bytes[2] = UInt8(body.count >> 8); bytes[3] = UInt8(body.count & 0xFF)
                bytes += body
            default:
                // A vector with a few random bytes changed.
                bytes = RFC5769.all[Int.random(in: 0..<4, using: &rng)]
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            if let m = try? STUNMessage.decode(bytes) {
                accepted += 1
                // Whatever decodes must be usable without trapping too.
                _ = m.values
                _ = m.unknownComprehensionRequired
                _ = m.validateIntegrity(key: [1, 2, 3])
                _ = m.validateFingerprint()
                _ = m.encode(integrityKey: [1], fingerprint: true)
            }
            _ = try? TURNChannelData.decode(bytes)
            _ = TURNChannelData.framedLength(bytes)
            _ = PacketKind.classify(bytes)
        }
        #expect(accepted > 0)  // the structured cases do reach the attribute parser
    }

    @Test("RFC 7983 §7 demultiplexing table")
    func demux() {
        for b in 0...255 {
            let kind = PacketKind.classify(firstByte: UInt8(b))
            let expected: PacketKind = switch b {
            case 0...3: .stun
            case 20...63: .dtls
            case 64...79: .turnChannelData
            case 128...191: .rtpOrRtcp
            default: .unknown  // includes 16-19 ZRTP
            }
            #expect(kind == expected, "first byte \(b)")
        }
        #expect(PacketKind.classify([UInt8]()) == .unknown)
        #expect(PacketKind.classify(RFC5769.request) == .stun)
        #expect(PacketKind.classify([0x16, 0xFE, 0xFD]) == .dtls)  // DTLS 1.2 handshake record
        #expect(PacketKind.classify([0x80, 0x6F]) == .rtpOrRtcp)  // RTP v2
        #expect(PacketKind.classify([0x81, 0xC8]) == .rtpOrRtcp)  // RTCP SR
        let frame = try? TURNChannelData(channelNumber: 0x4FFF, data: [1]).encode()
        #expect(frame.map { PacketKind.classify($0) } == .turnChannelData)
    }

    @Test("TURN ChannelData round trip, padding and range (RFC 8656 §12.4)")
    func channelData() throws {
        for length in 0..<9 {
            let payload = (0..<length).map { UInt8($0 &+ 1) }
            let frame = try TURNChannelData(channelNumber: 0x4000, data: payload)
            let unpadded = frame.encode()
            #expect(unpadded.count == 4 + length)
            #expect(Array(unpadded.prefix(4)) == [0x40, 0x00, 0x00, UInt8(length)])
            #expect(try TURNChannelData.decode(unpadded) == frame)
            let padded = frame.encode(padded: true)
            #expect(padded.count % 4 == 0)
            #expect(padded.count - unpadded.count == (4 - length % 4) % 4)
            #expect(try TURNChannelData.decode(padded) == frame)
            #expect(TURNChannelData.framedLength(padded) == padded.count)
        }
        #expect(throws: STUNError.invalidChannelNumber(0x3FFF)) { try TURNChannelData(channelNumber: 0x3FFF, data: []) }
        #expect(throws: STUNError.invalidChannelNumber(0x5000)) { try TURNChannelData(channelNumber: 0x5000, data: []) }
        #expect(throws: STUNError.invalidChannelNumber(0x3FFF)) { try TURNChannelData.decode([0x3F, 0xFF, 0, 0]) }
        #expect(throws: STUNError.channelDataTruncated(declared: 5, available: 4)) {
            try TURNChannelData.decode([0x40, 0x01, 0, 5, 1, 2, 3, 4])
        }
        #expect(throws: STUNError.self) { try TURNChannelData.decode([0x40]) }
        #expect(TURNChannelData.framedLength([0x40, 0x01, 0]) == nil)
        #expect(throws: STUNError.channelDataTooLong(65536)) {
            try TURNChannelData(channelNumber: 0x4000, data: Array(repeating: 0, count: 65536))
        }
    }

    @Test("STUNAddress text parsing and formatting")
    func addressText() {
        #expect(STUNAddress("192.0.2.1:32853") == STUNAddress(ipv4: 192, 0, 2, 1, port: 32853))
        #expect(STUNAddress("[2001:db8::42]:50000") == Self.v6)
        #expect(Self.v6.description == "[2001:db8::42]:50000")
        #expect(Self.v6.family == .ipv6)
        #expect(Self.v4.family == .ipv4)
        #expect(STUNAddress(host: "[::1]", port: 1)?.host == "::1")
        #expect(STUNAddress(host: "::ffff:1.2.3.4", port: 1)?.bytes.count == 16)
        for bad in ["", "1.2.3.4", "1.2.3:80", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "2001:db8::1:80",
                    "[2001:db8::1]", "[2001:db8::1]80", "[nope]:1", "example.org:80", "1.2.3.4:8 0"] {
            #expect(STUNAddress(bad) == nil, "\(bad)")
        }
        #expect(STUNAddress(bytes: [1, 2, 3], port: 1) == nil)
    }

    @Test("long-term key is MD5(username:realm:password)")
    func longTermKey() {
        // MD5("user:realm:pass") = 8493fbc53ba582fb4c044c456bdc40eb
        #expect(STUNMessage.longTermKey(username: "user", realm: "realm", password: "pass")
            == stunHex("8493fbc53ba582fb4c044c456bdc40eb"))
        #expect(STUNMessage.shortTermKey(password: "abc") == [0x61, 0x62, 0x63])
    }
}
