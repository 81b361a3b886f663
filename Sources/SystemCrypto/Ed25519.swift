// Ed25519 signatures (RFC 8032 §5.1) from the system's libcrypto: the administrator signs a
// device's configuration, the appliance verifies it against `admin.public_keys`. Keys are kept as
// their raw 32 bytes (the private key's seed, the public key's encoding) and turned into an
// EVP_PKEY for each operation: configuration updates are rare, and a value type stays Sendable.
import COpenSSL

public enum Ed25519Error: Error, Equatable, CustomStringConvertible {
    /// A key that is not 32 bytes, or that libcrypto refused.
    case invalidKey(String)
    /// libcrypto failed to sign (it cannot for a valid key unless out of memory).
    case signingFailed

    public var description: String {
        switch self {
        case .invalidKey(let why): "invalid Ed25519 key: \(why)"
        case .signingFailed: "Ed25519 signing failed in libcrypto"
        }
    }
}

public struct Ed25519PublicKey: Sendable, Equatable {
    public static let byteCount = 32
    /// The 32-byte encoding (RFC 8032 §5.1.2).
    public let rawRepresentation: [UInt8]

    public init(rawRepresentation raw: some Collection<UInt8>) throws(Ed25519Error) {
        guard raw.count == Self.byteCount else { throw .invalidKey("a public key is 32 bytes, not \(raw.count)") }
        // Whether the bytes decode to a curve point is known only when verifying, as in libcrypto:
        // such a key verifies nothing.
        rawRepresentation = Array(raw)
    }

    /// True only for a valid signature of exactly these bytes by this key.
    public func isValidSignature(_ signature: some Collection<UInt8>, for message: some Collection<UInt8>) -> Bool {
        guard signature.count == 64, let pkey = Ed25519Key.make(public: rawRepresentation) else { return false }
        defer { EVP_PKEY_free(pkey) }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else { return false }
        return Digest.withBytes(signature) { s in
            Digest.withBytes(message) { m in
                EVP_DigestVerify(ctx, s.baseAddress!.assumingMemoryBound(to: UInt8.self), s.count,
                                 (m.baseAddress ?? Digest.emptyInput).assumingMemoryBound(to: UInt8.self), m.count) == 1
            }
        }
    }
}

public struct Ed25519PrivateKey: Sendable {
    public static let byteCount = 32
    /// The 32-byte seed (RFC 8032 §5.1.5): what an administrator keeps secret.
    public let rawRepresentation: [UInt8]
    public let publicKey: Ed25519PublicKey

    /// A new key from libcrypto's random generator.
    public init() {
        var seed = [UInt8](repeating: 0, count: Self.byteCount)
        precondition(RAND_bytes(&seed, Int32(seed.count)) == 1, "libcrypto has no randomness")
        // Any 32 bytes are a valid seed.
        try! self.init(rawRepresentation: seed)
    }

    public init(rawRepresentation seed: some Collection<UInt8>) throws(Ed25519Error) {
        guard seed.count == Self.byteCount else { throw .invalidKey("a private key is 32 bytes, not \(seed.count)") }
        rawRepresentation = Array(seed)
        guard let pkey = Ed25519Key.make(private: rawRepresentation) else { throw .invalidKey("libcrypto refused the private key") }
        defer { EVP_PKEY_free(pkey) }
        var raw = [UInt8](repeating: 0, count: Ed25519PublicKey.byteCount)
        var length = raw.count
        guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == raw.count else {
            throw .invalidKey("libcrypto gave no public key")
        }
        publicKey = try Ed25519PublicKey(rawRepresentation: raw)
    }

    /// The 64-byte signature of the message (Ed25519 is deterministic: the same bytes every time).
    public func signature(for message: some Collection<UInt8>) throws(Ed25519Error) -> [UInt8] {
        guard let pkey = Ed25519Key.make(private: rawRepresentation) else { throw .signingFailed }
        defer { EVP_PKEY_free(pkey) }
        guard let ctx = EVP_MD_CTX_new() else { throw .signingFailed }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, nil, nil, pkey) == 1 else { throw .signingFailed }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = signature.count
        let signed = Digest.withBytes(message) { m in
            EVP_DigestSign(ctx, &signature, &length,
                           (m.baseAddress ?? Digest.emptyInput).assumingMemoryBound(to: UInt8.self), m.count) == 1
        }
        guard signed, length == 64 else { throw .signingFailed }
        return signature
    }
}

enum Ed25519Key {
    static func make(public raw: [UInt8]) -> OpaquePointer? {
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, raw.count)
    }

    static func make(private seed: [UInt8]) -> OpaquePointer? {
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, seed.count)
    }
}
