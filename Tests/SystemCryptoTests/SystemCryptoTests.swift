import SystemCrypto
import TestSupport
import Testing

private func hex(_ text: String) -> [UInt8] { hexBytes(text) }

@Suite struct DigestTests {
    @Test("SHA-256: FIPS 180-4 examples (empty, \"abc\")")
    func sha256() {
        #expect(SHA256.hash([UInt8]()) == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        #expect(SHA256.hash(Array("abc".utf8)) == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        // A non-contiguous collection gives the same digest as its bytes.
        #expect(SHA256.hash("abc".utf8) == SHA256.hash(Array("abc".utf8)))
    }

    @Test("MD5: RFC 1321 test suite examples")
    func md5() {
        #expect(InsecureMD5.hash([UInt8]()) == hex("d41d8cd98f00b204e9800998ecf8427e"))
        #expect(InsecureMD5.hash(Array("abc".utf8)) == hex("900150983cd24fb0d6963f7d28e17f72"))
    }

    @Test("HMAC-SHA1: RFC 2202 test cases 1 and 2, and an empty key and message")
    func hmacSHA1() {
        #expect(HMACSHA1.authenticationCode(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
                == hex("b617318655057264e28bc0b6fb378c8ef146be00"))
        #expect(HMACSHA1.authenticationCode(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
                == hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"))
        #expect(HMACSHA1.authenticationCode(key: [UInt8](), message: [UInt8]()) == hex("fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"))
        // A key longer than the block (RFC 2202 case 6) is hashed first.
        #expect(HMACSHA1.authenticationCode(key: [UInt8](repeating: 0xaa, count: 80),
                                            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
                == hex("aa4ae5e15272d00e95705637ce8a3b55ed402112"))
    }

    @Test("constant-time equality: equal, different, different lengths, empty")
    func equality() {
        #expect(constantTimeEquals([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(!constantTimeEquals([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        #expect(!constantTimeEquals([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        #expect(constantTimeEquals([UInt8](), [UInt8]()))
        // A slice (as STUN compares a MAC inside a received packet).
        let packet: [UInt8] = [9, 9, 1, 2, 3]
        #expect(constantTimeEquals(packet[2...], [1, 2, 3] as [UInt8]))
    }
}

@Suite struct Ed25519Tests {
    // RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
    static let vectors: [(seed: String, publicKey: String, message: String, signature: String)] = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ]

    @Test("RFC 8032 §7.1 vectors: public key from seed, signature, verification")
    func rfc8032() throws {
        for v in Self.vectors {
            let key = try Ed25519PrivateKey(rawRepresentation: hex(v.seed))
            #expect(key.publicKey.rawRepresentation == hex(v.publicKey))
            #expect(try key.signature(for: hex(v.message)) == hex(v.signature))
            let publicKey = try Ed25519PublicKey(rawRepresentation: hex(v.publicKey))
            #expect(publicKey.isValidSignature(hex(v.signature), for: hex(v.message)))
        }
    }

    @Test("a signature fails for another message, another key, a flipped bit or a wrong length")
    func refusals() throws {
        let key = Ed25519PrivateKey()
        let message = Array("{\"deviceId\":\"kitchen-1\",\"version\":7}".utf8)
        let signature = try key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: message + [0x20]))
        #expect(!Ed25519PrivateKey().publicKey.isValidSignature(signature, for: message))
        var flipped = signature
        flipped[10] ^= 1
        #expect(!key.publicKey.isValidSignature(flipped, for: message))
        #expect(!key.publicKey.isValidSignature(signature.dropLast(), for: message))
        #expect(!key.publicKey.isValidSignature([UInt8](), for: message))
        // Two new keys differ (randomness reaches the seed).
        #expect(Ed25519PrivateKey().rawRepresentation != Ed25519PrivateKey().rawRepresentation)
    }

    @Test("keys of the wrong length are refused with a reason")
    func badKeys() {
        #expect(throws: Ed25519Error.invalidKey("a public key is 32 bytes, not 31")) {
            try Ed25519PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: Ed25519Error.invalidKey("a private key is 32 bytes, not 33")) {
            try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 33))
        }
    }
}
