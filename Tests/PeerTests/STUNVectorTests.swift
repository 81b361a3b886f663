// RFC 5769 STUN test vectors (§2.1-§2.4), typed from the RFC. They check our RFC 8489
// encoding, XOR-MAPPED-ADDRESS (§14.2), MESSAGE-INTEGRITY (§14.5) and FINGERPRINT (§14.7)
// against independent implementations' output.
import TestSupport
import Testing
@testable import Peer

/// Hex text (whitespace ignored) to bytes.
func stunHex(_ text: String) -> [UInt8] { hexBytes(text) }

enum RFC5769 {
    static let shortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt"

    /// §2.1 Sample Request
    static let request = stunHex("""
        00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
        00 24 00 04 6e 00 01 ff
        80 29 00 08 93 2f f9 b1 51 26 3b 36
        00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
        00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
        80 28 00 04 e5 7a 3b cf
        """)

    /// §2.2 Sample IPv4 Response
    static let ipv4Response = stunHex("""
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 08 00 01 a1 47 e1 12 a6 43
        00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
        80 28 00 04 c0 7d 4c 96
        """)

    /// §2.3 Sample IPv6 Response
    static let ipv6Response = stunHex("""
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
        80 28 00 04 c8 fb 0b 4c
        """)

    /// §2.4 Sample Request with Long-Term Authentication
    static let longTermRequest = stunHex("""
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
        00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
        00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66
        """)

    static let all = [request, ipv4Response, ipv6Response, longTermRequest]
}

@Suite("STUN RFC 5769 vectors")
struct STUNVectorTests {
    let shortKey = STUNMessage.shortTermKey(password: RFC5769.shortTermPassword)

    @Test("§2.1 sample request: fields, integrity, fingerprint, exact re-encoding")
    func sampleRequest() throws {
        let m = try STUNMessage.decode(RFC5769.request)
        #expect(m.messageClass == .request)
        #expect(m.method == .binding)
        #expect(m.transactionID.bytes == stunHex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"))
        #expect(m.software == "STUN test client")
        #expect(m.priority == 0x6E00_01FF)
        #expect(m.iceControlled == 0x932F_F9B1_5126_3B36)
        #expect(m.iceControlling == nil)
        #expect(m.username == "evtj:h6vY")
        #expect(m.useCandidate == false)
        #expect(m.unknownComprehensionRequired.isEmpty)
        #expect(m.validateIntegrity(key: shortKey))
        #expect(m.validateFingerprint())
        #expect(!m.validateIntegrity(key: STUNMessage.shortTermKey(password: "wrong")))

        // Re-encoding the decoded message (padding kept) reproduces the bytes exactly.
        #expect(m.encode(integrityKey: shortKey, fingerprint: true) == RFC5769.request)

        // Building it from typed fields only, with the vector's space padding on USERNAME.
        var built = STUNMessage(.request, .binding, transactionID: m.transactionID)
        built.append(.software("STUN test client"))
        built.append(.priority(0x6E00_01FF))
        built.append(.iceControlled(tieBreaker: 0x932F_F9B1_5126_3B36))
        var user = STUNAttributeValue.username("evtj:h6vY").encode(transactionID: m.transactionID)
        user.padding = [0x20, 0x20, 0x20]
        built.append(user)
        #expect(built.encode(integrityKey: shortKey, fingerprint: true) == RFC5769.request)

        // With the default zero padding the bytes differ only in padding, and still validate.
        var zeroPadded = built
        zeroPadded.attributes[3].padding = []
        let again = try STUNMessage.decode(zeroPadded.encode(integrityKey: shortKey, fingerprint: true))
        // Same fields; MESSAGE-INTEGRITY and FINGERPRINT differ because the padding is covered.
        #expect(Array(again.attributes.prefix(4)) == Array(m.attributes.prefix(4)))
        #expect(again.messageIntegrity != m.messageIntegrity)
        #expect(again.validateIntegrity(key: shortKey))
        #expect(again.validateFingerprint())
    }

    @Test("§2.2 IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853")
    func ipv4Response() throws {
        let m = try STUNMessage.decode(RFC5769.ipv4Response)
        #expect(m.messageClass == .successResponse)
        #expect(m.method == .binding)
        #expect(m.software == "test vector")
        #expect(m.xorMappedAddress == STUNAddress(ipv4: 192, 0, 2, 1, port: 32853))
        #expect(m.xorMappedAddress?.description == "192.0.2.1:32853")
        #expect(m.validateIntegrity(key: shortKey))
        #expect(m.validateFingerprint())
        #expect(m.encode(integrityKey: shortKey, fingerprint: true) == RFC5769.ipv4Response)
    }

    @Test("§2.3 IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853")
    func ipv6Response() throws {
        let m = try STUNMessage.decode(RFC5769.ipv6Response)
        #expect(m.messageClass == .successResponse)
        let expected = STUNAddress(host: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853)
        #expect(expected != nil)
        #expect(m.xorMappedAddress == expected)
        #expect(m.xorMappedAddress?.description == "[2001:db8:1234:5678:11:2233:4455:6677]:32853")
        #expect(m.validateIntegrity(key: shortKey))
        #expect(m.validateFingerprint())
        #expect(m.encode(integrityKey: shortKey, fingerprint: true) == RFC5769.ipv6Response)

        // Encoding the address from scratch gives the vector's XORed bytes.
        var built = STUNMessage(.successResponse, .binding, transactionID: m.transactionID)
        built.append(.xorMappedAddress(expected!))
        #expect(built.attributes[0].value == stunHex("00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"))
    }

    @Test("§2.4 long-term authentication: username, nonce, realm, MD5 key, integrity")
    func longTermRequest() throws {
        let m = try STUNMessage.decode(RFC5769.longTermRequest)
        let username = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}"
        #expect(m.username == username)
        #expect(m.nonce == "f//499k954d6OL34oL9FSTvy64sA")
        #expect(m.realm == "example.org")
        #expect(m.fingerprint == nil)
        #expect(!m.validateFingerprint())
        // "TheMatrIX" is the SASLprep'd form of "The\u{00AD}M\u{00AA}tr\u{2168}".
        let key = STUNMessage.longTermKey(username: username, realm: "example.org", password: "TheMatrIX")
        #expect(key.count == 16)
        #expect(m.validateIntegrity(key: key))
        #expect(!m.validateIntegrity(key: STUNMessage.shortTermKey(password: "TheMatrIX")))
        #expect(m.encode(integrityKey: key, fingerprint: false) == RFC5769.longTermRequest)
    }

    @Test("a corrupted byte breaks integrity (and fingerprint)")
    func corruptedByte() throws {
        // Flip a bit inside SOFTWARE: still decodes (valid UTF-8), but neither check may pass.
        var bytes = RFC5769.request
        bytes[25] ^= 0x01
        let m = try STUNMessage.decode(bytes)
        #expect(!m.validateIntegrity(key: shortKey))
        #expect(!m.validateFingerprint())

        // Every single-byte change in the HMAC-covered attribute region is detected.
        for i in 20..<(RFC5769.request.count - 8 - 24) {
            var b = RFC5769.request
            b[i] ^= 0x80
            if let m = try? STUNMessage.decode(b) {
                #expect(!m.validateIntegrity(key: shortKey), "byte \(i)")
            }
        }
    }

    @Test("a wrong fingerprint is detected while integrity still holds")
    func wrongFingerprint() throws {
        var bytes = RFC5769.ipv4Response
        bytes[bytes.count - 1] ^= 0xFF
        let m = try STUNMessage.decode(bytes)
        #expect(!m.validateFingerprint())
        #expect(m.validateIntegrity(key: shortKey))
    }

    @Test("every proper prefix of every vector is rejected without trapping")
    func prefixes() {
        for vector in RFC5769.all {
            for n in 0..<vector.count {
                #expect(throws: STUNError.self) { try STUNMessage.decode(Array(vector.prefix(n))) }
            }
        }
    }
}
