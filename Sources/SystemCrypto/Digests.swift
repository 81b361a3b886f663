// Hashes and MACs from the system's libcrypto (OpenSSL 3), which every process here already loads
// for DTLS: SHA-256 (FIPS 180-4), SHA-1 inside HMAC (RFC 2104) for STUN MESSAGE-INTEGRITY and TURN
// REST credentials, MD5 for TURN's long-term key (RFC 8489 §9.2.2). swift-crypto would compile a
// second BoringSSL into every build (366 C files: 4.6 minutes of a release build, 2.1 of a debug
// one, on 2 cores) for these few calls.
import COpenSSL

public enum SHA256 {
    public static let byteCount = 32

    public static func hash(_ message: some Collection<UInt8>) -> [UInt8] {
        Digest.compute(message, EVP_sha256(), byteCount)
    }
}

public enum InsecureMD5 {
    public static let byteCount = 16

    /// MD5, for the protocols that still specify it (TURN long-term credentials), never for new uses.
    public static func hash(_ message: some Collection<UInt8>) -> [UInt8] {
        Digest.compute(message, EVP_md5(), byteCount)
    }
}

public enum HMACSHA1 {
    public static let byteCount = 20

    public static func authenticationCode(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount)
        var length: UInt32 = 0
        let done = Digest.withBytes(key) { k in
            Digest.withBytes(message) { m in
                out.withUnsafeMutableBufferPointer { o in
                    // OpenSSL reads a null key as "keep the previous one": an empty key gets a real pointer.
                    HMAC(EVP_sha1(), k.baseAddress ?? Digest.emptyInput, Int32(k.count),
                         (m.baseAddress ?? Digest.emptyInput).assumingMemoryBound(to: UInt8.self), m.count,
                         o.baseAddress, &length) != nil
                }
            }
        }
        // HMAC with SHA-1 fails only when libcrypto cannot allocate; a MAC of zeros would then
        // verify nothing, which is the safe way to fail.
        precondition(done && Int(length) == byteCount, "libcrypto HMAC-SHA1 failed")
        return out
    }
}

/// Equality that takes the same time wherever the inputs differ (for secrets: tokens, MACs).
public func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    return Digest.withBytes(a) { x in
        Digest.withBytes(b) { y in
            x.count == 0 || CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) == 0
        }
    }
}

enum Digest {
    /// A valid address for zero-length inputs (never read).
    nonisolated(unsafe) static let emptyInput = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

    static func compute(_ message: some Collection<UInt8>, _ md: OpaquePointer?, _ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var length: UInt32 = 0
        let done = withBytes(message) { m in
            out.withUnsafeMutableBufferPointer { o in
                EVP_Digest(m.baseAddress, m.count, o.baseAddress, &length, md, nil) == 1
            }
        }
        precondition(done && Int(length) == count, "libcrypto digest failed")
        return out
    }

    /// The bytes as one contiguous buffer, copied only when the collection is not already one.
    static func withBytes<R>(_ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let r = bytes.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
        return Array(bytes).withUnsafeBytes(body)
    }
}
