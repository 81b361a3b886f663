// SRTPSession against libsrtp's own reference packets (test/srtp_driver.c srtp_validate and
// srtp_validate_gcm: AES-CM-128/HMAC-SHA1-80 and AEAD-AES-128-GCM, RTP and RTCP), replay and
// tamper rejection, and the RFC 5764 §4.2 keying-material split. The reference packets pass through
// the OpenSSL implementations (SRTPOpenSSLCrypto) that replace libsrtp's own crypto.
import TestSupport
import Testing
import NIOCore
@testable import Peer

private func hex(_ text: String) -> [UInt8] { hexBytes(text) }

@Suite("SRTP sessions")
struct SRTPSessionTests {
    // Plaintext reference packets (SSRC 0xcafebabe, 16 bytes of 0xab payload).
    let rtp = hex("800f1234decafbadcafebabe") + [UInt8](repeating: 0xab, count: 16)
    let rtcp = hex("81c8000bcafebabe") + [UInt8](repeating: 0xab, count: 16)

    @Test("libsrtp runs AES-CM, AES-GCM and HMAC-SHA1 on OpenSSL (each accepted after libsrtp's self-test)")
    func cryptoOnOpenSSL() throws {
        try SRTPSession.initializeLibrary()
        #expect(SRTPSession.cryptoBackend == "OpenSSL")
    }

    @Test("AES-CM-128 HMAC-SHA1-80: libsrtp reference SRTP and SRTCP packets, both ways")
    func cmKnownAnswer() throws {
        let key = hex("e1f97a0d3e018be0d64fa32c06de4139 0ec675ad498afeebb6960b3aabe6")
        let srtp = hex("800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb")
        let srtcp = hex("81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798")
        try knownAnswer(.aes128CMHMACSHA1_80, key: key, srtp: srtp, srtcp: srtcp)
    }

    @Test("AEAD-AES-128-GCM: libsrtp reference SRTP and SRTCP packets, both ways")
    func gcmKnownAnswer() throws {
        let key = hex("000102030405060708090a0b0c0d0e0f a0a1a2a3a4a5a6a7a8a9aaab")
        let srtp = hex("800f1234decafbadcafebabec5002ede04cfdd2eb91159e0880aa06ed2976826f796b201df3131a127e8a392")
        let srtcp = hex("81c8000bcafebabec98b8b5df0392a55852b6c21ac8e7025c52c6fbea2b3b446ea31123ba88ce61e80000001")
        try knownAnswer(.aeadAES128GCM, key: key, srtp: srtp, srtcp: srtcp)
    }

    private func knownAnswer(_ profile: SRTPProfile, key: [UInt8], srtp: [UInt8], srtcp: [UInt8]) throws {
        let sender = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .inbound)
        var packet = rtp
        try sender.protectRTP(&packet)
        #expect(packet == srtp)
        var control = rtcp
        try sender.protectRTCP(&control)
        #expect(control == srtcp)
        var back = srtp
        try receiver.unprotectRTP(&back)
        #expect(back == rtp)
        var controlBack = srtcp
        try receiver.unprotectRTCP(&controlBack)
        #expect(controlBack == rtcp)
    }

    @Test("a replayed SRTP packet and a replayed SRTCP packet are rejected", arguments: SRTPProfile.allCases)
    func replay(profile: SRTPProfile) throws {
        let key = (0..<(profile.keyLength + profile.saltLength)).map { UInt8($0 * 3 + 1) }
        let sender = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .inbound)
        var packet = rtp
        try sender.protectRTP(&packet)
        var first = packet
        try receiver.unprotectRTP(&first)
        #expect(first == rtp)
        var again = packet
        #expect(throws: SRTPError.replayed) { try receiver.unprotectRTP(&again) }
        #expect(again == packet, "a rejected packet is left as it was")

        var control = rtcp
        try sender.protectRTCP(&control)
        var controlFirst = control
        try receiver.unprotectRTCP(&controlFirst)
        var controlAgain = control
        #expect(throws: SRTPError.replayed) { try receiver.unprotectRTCP(&controlAgain) }
    }

    @Test("a tampered payload or tag fails authentication; junk is a bad packet; nothing crashes",
          arguments: SRTPProfile.allCases)
    func tamper(profile: SRTPProfile) throws {
        let key = (0..<(profile.keyLength + profile.saltLength)).map { UInt8(255 - $0) }
        let sender = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .inbound)
        var packet = rtp
        try sender.protectRTP(&packet)
        for index in [14, packet.count - 1] {
            var tampered = packet
            tampered[index] ^= 0x01
            #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotectRTP(&tampered) }
        }
        var wrongKeyReceiver = try SRTPSession(profile: profile, masterKeyAndSalt: key.map { $0 ^ 0x55 }, direction: .inbound)
        var copy = packet
        #expect(throws: SRTPError.authenticationFailed) { try wrongKeyReceiver.unprotectRTP(&copy) }
        wrongKeyReceiver = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .inbound)
        var short: [UInt8] = [0x80, 0x00, 0x01]
        #expect(throws: SRTPError.self) { try wrongKeyReceiver.unprotectRTP(&short) }
        var notRTP = [UInt8](repeating: 0x17, count: 40)
        #expect(throws: SRTPError.self) { try wrongKeyReceiver.unprotectRTP(&notRTP) }
        var garbage = [UInt8](repeating: 0x80, count: 30)
        #expect(throws: SRTPError.self) { try wrongKeyReceiver.unprotectRTCP(&garbage) }
        // The session still works after all that.
        try receiver.unprotectRTP(&packet)
        #expect(packet == rtp)
    }

    @Test("ByteBuffer and raw-buffer paths protect in place; wrong key length and direction are errors")
    func buffersAndMisuse() throws {
        let profile = SRTPProfile.aeadAES128GCM
        let key = [UInt8](repeating: 7, count: 28)
        #expect(throws: SRTPError.self) {
            _ = try SRTPSession(profile: profile, masterKeyAndSalt: [UInt8](repeating: 7, count: 30), direction: .outbound)
        }
        let sender = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .outbound)
        let receiver = try SRTPSession(profile: profile, masterKeyAndSalt: key, direction: .inbound)
        var buffer = ByteBuffer(bytes: rtp)
        try sender.protectRTP(&buffer)
        #expect(buffer.readableBytes == rtp.count + 16)  // GCM tag
        try receiver.unprotectRTP(&buffer)
        #expect(Array(buffer.readableBytesView) == rtp)

        var raw = rtp + [UInt8](repeating: 0, count: 4)  // no room for the trailer
        #expect(throws: SRTPError.self) {
            _ = try raw.withUnsafeMutableBytes { try sender.protectRTP($0, length: 28) }
        }
        var wrongWay = rtp
        #expect(throws: SRTPError.self) { try receiver.protectRTP(&wrongWay) }
    }

    @Test("RFC 5764 §4.2 split: client key | server key | client salt | server salt")
    func keyingMaterialSplit() throws {
        let exported = (0..<60).map { UInt8($0) }
        let material = try #require(SRTPKeyingMaterial(profile: .aes128CMHMACSHA1_80, exported: exported))
        #expect(material.clientKey == Array(0..<16))
        #expect(material.serverKey == Array(16..<32))
        #expect(material.clientSalt == Array(32..<46))
        #expect(material.serverSalt == Array(46..<60))
        #expect(material.localMasterKeyAndSalt(isClient: true) == Array(0..<16) + Array(32..<46))
        #expect(material.remoteMasterKeyAndSalt(isClient: true) == Array(16..<32) + Array(46..<60))
        let gcm = try #require(SRTPKeyingMaterial(profile: .aeadAES128GCM, exported: Array(exported[0..<56])))
        #expect(gcm.clientSalt == Array(32..<44) && gcm.serverSalt == Array(44..<56))
        #expect(SRTPKeyingMaterial(profile: .aeadAES128GCM, exported: exported) == nil)
        #expect(SRTPProfile.offerList == "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80")
    }
}
