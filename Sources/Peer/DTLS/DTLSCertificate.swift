// The endpoint's DTLS identity: an ECDSA P-256 key and a self-signed X.509 certificate (RFC 8827
// §6.5: WebRTC authenticates by the certificate fingerprint in SDP, RFC 8122 §5, not by a CA).
// Generated once and kept on disk so the appliance's fingerprint is stable across restarts.
import COpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An SDP `a=fingerprint` value (RFC 8122 §5): hash function name and uppercase colon-separated hex.
public struct DTLSFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// Lowercase hash function name, e.g. "sha-256".
    public let algorithm: String
    /// Uppercase hex bytes joined by ":", e.g. "AB:CD:...".
    public let value: String

    public init(algorithm: String, value: String) {
        self.algorithm = algorithm.lowercased()
        self.value = value.uppercased()
    }

    /// Parses the attribute value "sha-256 AB:CD:..." (what follows `a=fingerprint:`).
    public init?(sdp: String) {
        let parts = sdp.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        self.init(algorithm: String(parts[0]), value: String(parts[1]))
    }

    /// "sha-256 AB:CD:..." as SDP writes it.
    public var sdp: String { "\(algorithm) \(value)" }
    public var description: String { sdp }

    /// The digest bytes, nil if `value` is not colon hex.
    public var bytes: [UInt8]? {
        var out: [UInt8] = []
        for pair in value.split(separator: ":", omittingEmptySubsequences: false) {
            guard pair.count == 2, let byte = UInt8(pair, radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var chars: [UInt8] = []
        for byte in digest {
            if !chars.isEmpty { chars.append(UInt8(ascii: ":")) }
            chars.append(digits[Int(byte >> 4)])
            chars.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: chars, as: UTF8.self)
    }

    /// The EVP digest for an RFC 8122 hash name we accept (RFC 8827 requires sha-256 support).
    static func digest(named name: String) -> OpaquePointer? {
        switch name.lowercased() {
        case "sha-256": EVP_sha256()
        case "sha-384": EVP_sha384()
        case "sha-512": EVP_sha512()
        case "sha-1": EVP_sha1()
        default: nil
        }
    }

    /// The fingerprint of `certificate` (an X509*) with `algorithm`; nil if unsupported or on failure.
    static func of(certificate: OpaquePointer, algorithm: String) -> DTLSFingerprint? {
        guard let md = digest(named: algorithm) else { return nil }
        var buffer = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, md, &buffer, &length) == 1 else { return nil }
        return DTLSFingerprint(algorithm: algorithm, value: hex(buffer[0..<Int(length)]))
    }
}

public struct DTLSCertificateError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ what: String) { description = "\(what): \(OpenSSLErrors.drain())" }
}

/// Key pair + certificate. Immutable after creation; OpenSSL's EVP_PKEY and X509 are reference
/// counted and safe to share read-only between SSL objects on several threads.
public final class DTLSCertificate: @unchecked Sendable {
    /// EVP_PKEY*
    let privateKey: OpaquePointer
    /// X509*
    let certificate: OpaquePointer
    /// SHA-256 of the certificate's DER, for our SDP `a=fingerprint`.
    public let fingerprint: DTLSFingerprint

    private init(privateKey: OpaquePointer, certificate: OpaquePointer) throws {
        self.privateKey = privateKey
        self.certificate = certificate
        guard let fingerprint = DTLSFingerprint.of(certificate: certificate, algorithm: "sha-256") else {
            EVP_PKEY_free(privateKey)
            X509_free(certificate)
            throw DTLSCertificateError("X509_digest")
        }
        self.fingerprint = fingerprint
    }

    deinit {
        EVP_PKEY_free(privateKey)
        X509_free(certificate)
    }

    /// A fresh P-256 key and self-signed certificate (SHA-256 signature, valid from a day ago for
    /// `validityDays`, random 63-bit serial, CN=`commonName`).
    public static func generate(commonName: String = "videophone", validityDays: Int = 3650) throws -> DTLSCertificate {
        ERR_clear_error()
        guard let key = vp_EVP_EC_gen("P-256") else { throw DTLSCertificateError("EC P-256 key generation") }
        guard let x509 = X509_new() else {
            EVP_PKEY_free(key)
            throw DTLSCertificateError("X509_new")
        }
        var serial: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &serial) { RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }
        serial &= 0x7FFF_FFFF_FFFF_FFFF
        var ok = X509_set_version(x509, 2) == 1  // v3
        ok = ok && ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), serial) == 1
        ok = ok && X509_gmtime_adj(X509_getm_notBefore(x509), -86_400) != nil
        ok = ok && X509_gmtime_adj(X509_getm_notAfter(x509), validityDays * 86_400) != nil
        ok = ok && X509_set_pubkey(x509, key) == 1
        if ok, let name = X509_get_subject_name(x509) {
            ok = X509_NAME_add_entry_by_txt(name, "CN", vp_MBSTRING_ASC(), commonName, -1, -1, 0) == 1
            ok = ok && X509_set_issuer_name(x509, name) == 1
        } else {
            ok = false
        }
        ok = ok && X509_sign(x509, key, EVP_sha256()) > 0
        guard ok else {
            EVP_PKEY_free(key)
            X509_free(x509)
            throw DTLSCertificateError("building the self-signed certificate")
        }
        return try DTLSCertificate(privateKey: key, certificate: x509)
    }

    /// Parses a PEM private key and PEM certificate, checking that they belong together.
    public static func fromPEM(key keyPEM: [UInt8], certificate certificatePEM: [UInt8]) throws -> DTLSCertificate {
        ERR_clear_error()
        let key: OpaquePointer? = keyPEM.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw DTLSCertificateError("reading the PEM private key") }
        let x509: OpaquePointer? = certificatePEM.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let x509 else {
            EVP_PKEY_free(key)
            throw DTLSCertificateError("reading the PEM certificate")
        }
        guard X509_check_private_key(x509, key) == 1 else {
            EVP_PKEY_free(key)
            X509_free(x509)
            throw DTLSCertificateError("the private key does not match the certificate")
        }
        return try DTLSCertificate(privateKey: key, certificate: x509)
    }

    /// The private key as PKCS#8 PEM (unencrypted: the file is mode 0600 on the appliance).
    public func privateKeyPEM() throws -> [UInt8] {
        try Self.pem { PEM_write_bio_PrivateKey($0, privateKey, nil, nil, 0, nil, nil) }
    }

    /// The certificate as PEM.
    public func certificatePEM() throws -> [UInt8] {
        try Self.pem { PEM_write_bio_X509($0, certificate) }
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws -> [UInt8] {
        ERR_clear_error()
        guard let bio = BIO_new(BIO_s_mem()) else { throw DTLSCertificateError("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw DTLSCertificateError("PEM_write") }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = vp_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { throw DTLSCertificateError("empty PEM") }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    // MARK: Persistence

    public static let keyFileName = "dtls-key.pem"
    public static let certificateFileName = "dtls-cert.pem"

    /// Loads `dtls-key.pem` + `dtls-cert.pem` from `directory`, or, when either is missing, generates
    /// a new identity and writes both atomically (temp file, fsync, rename; key mode 0600).
    /// A present but unreadable or mismatched pair is an error, never silently replaced: replacing it
    /// would change the fingerprint peers may have pinned.
    public static func loadOrCreate(directory: String) throws -> DTLSCertificate {
        let keyPath = directory + "/" + keyFileName
        let certificatePath = directory + "/" + certificateFileName
        if access(keyPath, F_OK) == 0 && access(certificatePath, F_OK) == 0 {
            let keyPEM = try FileIO.read(keyPath)
            let certificatePEM = try FileIO.read(certificatePath)
            return try fromPEM(key: keyPEM, certificate: certificatePEM)
        }
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw DTLSCertificateError("mkdir \(directory): \(String(cString: strerror(errno)))")
        }
        let created = try generate()
        // Certificate first: a crash between the two renames leaves a key-less directory, which the
        // next start treats as missing and regenerates.
        try FileIO.writeAtomically(certificatePath, try created.certificatePEM(), mode: 0o644)
        try FileIO.writeAtomically(keyPath, try created.privateKeyPEM(), mode: 0o600)
        return created
    }

    /// One in-memory identity per process (tests, tools). Generated on first use; thread-safe.
    public static func sharedInMemory() throws -> DTLSCertificate { try shared.get() }
    private static let shared: Result<DTLSCertificate, any Error> = Result { try generate() }
}

/// Small POSIX file helpers (Peer does not depend on Foundation).
enum FileIO {
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DTLSCertificateError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw DTLSCertificateError("read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            guard out.count < 1 << 20 else { throw DTLSCertificateError("\(path) is larger than 1 MiB") }
        }
    }

    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let temporary = path + ".tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw DTLSCertificateError("open \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let why = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw DTLSCertificateError("write \(temporary): \(why)")
            }
            written += n
        }
        fchmod(fd, mode)  // the umask may have narrowed or the file pre-existed
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw DTLSCertificateError("saving \(path): \(why)")
        }
    }
}

/// The calling thread's OpenSSL error queue as text (and emptied).
enum OpenSSLErrors {
    static func drain() -> String {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "no OpenSSL error" : messages.joined(separator: "; ")
    }
}
