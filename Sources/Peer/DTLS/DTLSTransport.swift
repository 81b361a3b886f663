// A sans-I/O DTLS 1.2 endpoint (RFC 6347) for DTLS-SRTP (RFC 5764) over two OpenSSL memory BIOs:
// datagrams in, datagrams and events out; the caller owns the socket (ICE) and the timer.
//
// - Identity: self-signed certificates checked against the SDP fingerprint (RFC 8122 §5, RFC 8827
//   §6.5) inside OpenSSL's verify callback, so a mismatch aborts the handshake with an alert.
// - use_srtp (RFC 5764 §4.1.2) offering SRTP_AEAD_AES_128_GCM then SRTP_AES128_CM_SHA1_80; on
//   success the "EXTRACTOR-dtls_srtp" exporter output is split per RFC 5764 §4.2.
// - Retransmission (RFC 6347 §4.2.4): OpenSSL 3.0 keeps the flight timer itself and reads the
//   system clock for it; `nextTimeout` reports when that timer fires, relative to the `now` the
//   caller passes, and `handleTimeout` lets OpenSSL resend the flight. The initial timeout is ours
//   (DTLS_set_timer_cb), doubling up to 60 s; OpenSSL gives up after 12 expiries.
// - Datagrams: OpenSSL writes one record per BIO write but a memory BIO concatenates them, so the
//   output is split at record boundaries (RFC 6347 §4.1 header) and packed into datagrams <= MTU.
//
// Threading: not Sendable. One DTLSTransport lives on one event loop, like the socket it serves.
import COpenSSL
import NIOCore

public enum DTLSRole: Sendable, Hashable {
    /// Sends the ClientHello (SDP a=setup:active).
    case client
    /// Waits for it (a=setup:passive).
    case server
}

public enum DTLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The peer's certificate does not hash to the fingerprint its SDP announced.
    case fingerprintMismatch(expected: DTLSFingerprint, actual: DTLSFingerprint)
    /// The SDP fingerprint names a hash we do not implement, or its value is not colon hex.
    case unsupportedFingerprint(String)
    /// The peer presented no certificate.
    case noPeerCertificate
    /// The handshake finished without a use_srtp profile both sides support.
    case noSRTPProfile
    /// The peer sent a fatal alert (OpenSSL's description of it).
    case alertReceived(String)
    /// The flight was retransmitted the maximum number of times without an answer.
    case retransmissionsExhausted
    /// The handshake failed locally (OpenSSL's error queue).
    case handshakeFailed(String)
    /// A datagram that is not a DTLS record; it is dropped, the association is unaffected.
    case malformedDatagram(String)
    /// Exporting the SRTP keying material failed.
    case keyExport(String)
    /// Building the SSL context failed (certificate, cipher list, profiles).
    case setup(String)

    public var description: String {
        switch self {
        case .fingerprintMismatch(let expected, let actual):
            "DTLS peer certificate fingerprint mismatch: SDP announced \(expected.sdp), certificate has \(actual.sdp)"
        case .unsupportedFingerprint(let what): "unsupported SDP fingerprint: \(what)"
        case .noPeerCertificate: "DTLS peer sent no certificate"
        case .noSRTPProfile: "DTLS handshake negotiated no SRTP profile (use_srtp)"
        case .alertReceived(let text): "DTLS alert from peer: \(text)"
        case .retransmissionsExhausted: "DTLS handshake timed out: no answer to retransmitted flights"
        case .handshakeFailed(let text): "DTLS handshake failed: \(text)"
        case .malformedDatagram(let why): "dropped non-DTLS datagram: \(why)"
        case .keyExport(let why): "DTLS-SRTP key export failed: \(why)"
        case .setup(let why): "DTLS setup failed: \(why)"
        }
    }
}

public enum DTLSEvent: Sendable, Hashable {
    /// Handshake complete and the peer verified: SRTP keys are ready.
    case connected(SRTPKeyingMaterial)
    /// The peer sent close_notify (we answered with ours).
    case closed
    /// Fatal: the association is over.
    case failed(DTLSError)
    /// One datagram was dropped; the association goes on.
    case discarded(DTLSError)
}

/// What one call produced: datagrams to send (each <= MTU), in order, and events.
public struct DTLSOutput: Sendable {
    public var datagrams: [[UInt8]] = []
    public var events: [DTLSEvent] = []
    public init() {}
}

/// State shared with OpenSSL's C callbacks through SSL app data.
final class DTLSCallbackContext {
    let expected: DTLSFingerprint
    let initialTimeoutMicroseconds: UInt32
    /// The peer leaf certificate's fingerprint, once seen.
    var actual: DTLSFingerprint?
    var mismatch = false

    init(expected: DTLSFingerprint, initialTimeoutMicroseconds: UInt32) {
        self.expected = expected
        self.initialTimeoutMicroseconds = initialTimeoutMicroseconds
    }

    static func from(ssl: OpaquePointer?) -> DTLSCallbackContext? {
        guard let ssl, let raw = vp_SSL_get_app_data(ssl) else { return nil }
        return Unmanaged<DTLSCallbackContext>.fromOpaque(raw).takeUnretainedValue()
    }
}

/// Accepts any chain (WebRTC certificates are self-signed) but requires the leaf to match the SDP
/// fingerprint. Returning 0 makes OpenSSL abort the handshake with a bad_certificate alert.
private let verifyPeer: @convention(c) (Int32, OpaquePointer?) -> Int32 = { _, store in
    guard let store,
          let sslRaw = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
          let context = DTLSCallbackContext.from(ssl: OpaquePointer(sslRaw))
    else { return 0 }
    guard X509_STORE_CTX_get_error_depth(store) == 0 else { return 1 }  // only the leaf counts
    guard let leaf = X509_STORE_CTX_get_current_cert(store),
          let actual = DTLSFingerprint.of(certificate: leaf, algorithm: context.expected.algorithm)
    else { return 0 }
    context.actual = actual
    if actual.value == context.expected.value { return 1 }
    context.mismatch = true
    return 0
}

/// RFC 6347 §4.2.4.1: start at the configured value, double on each expiry, at most 60 s.
private let retransmitTimer: @convention(c) (OpaquePointer?, UInt32) -> UInt32 = { ssl, previous in
    let initial = DTLSCallbackContext.from(ssl: ssl)?.initialTimeoutMicroseconds ?? 1_000_000
    guard previous != 0 else { return initial }
    return min(previous.multipliedReportingOverflow(by: 2).partialValue, 60_000_000)
}

public final class DTLSTransport {
    public enum State: Sendable, Hashable { case new, handshaking, connected, closed, failed }

    /// Datagrams we emit are at most this long (IPv4/IPv6 safe without fragmentation).
    public static let defaultMTU = 1200
    /// The cipher suites offered: ECDHE-ECDSA with AES-GCM (what Chromium and aiortc use).
    public static let cipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
    /// RFC 5764 §4.2 exporter label.
    public static let exporterLabel = "EXTRACTOR-dtls_srtp"

    public let role: DTLSRole
    public let mtu: Int
    public let remoteFingerprint: DTLSFingerprint
    public private(set) var state: State = .new
    /// Set once connected.
    public private(set) var keyingMaterial: SRTPKeyingMaterial?
    /// When to call `handleTimeout` next (nil: no retransmission pending).
    public private(set) var nextTimeout: NIODeadline?
    /// The peer leaf certificate's fingerprint once it was seen (even if it did not match).
    public var peerFingerprint: DTLSFingerprint? { context.actual }

    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private let context: DTLSCallbackContext
    /// Reused for SSL_read after the handshake (application data is read and dropped).
    private var scratch = [UInt8](repeating: 0, count: 2048)

    /// - Parameters:
    ///   - remoteFingerprint: the peer's SDP `a=fingerprint` (sha-256 recommended).
    ///   - profiles: SRTP profiles offered (client) or accepted (server), most preferred first.
    ///   - initialRetransmitTimeout: first flight timeout (RFC 6347 suggests 1 s).
    public init(role: DTLSRole, certificate: DTLSCertificate, remoteFingerprint: DTLSFingerprint,
                profiles: [SRTPProfile] = SRTPProfile.allCases,
                mtu: Int = DTLSTransport.defaultMTU, initialRetransmitTimeout: TimeAmount = .seconds(1)) throws {
        guard !profiles.isEmpty else { throw DTLSError.setup("no SRTP profile to offer") }
        guard DTLSFingerprint.digest(named: remoteFingerprint.algorithm) != nil else {
            throw DTLSError.unsupportedFingerprint("hash function \(remoteFingerprint.algorithm)")
        }
        guard let digest = remoteFingerprint.bytes, !digest.isEmpty else {
            throw DTLSError.unsupportedFingerprint("value \(remoteFingerprint.value) is not colon-separated hex")
        }
        guard (256...9000).contains(mtu) else { throw DTLSError.setup("MTU \(mtu) outside 256...9000") }
        let micros = max(1_000, min(initialRetransmitTimeout.nanoseconds / 1_000, 60_000_000))
        self.role = role
        self.mtu = mtu
        self.remoteFingerprint = remoteFingerprint
        self.context = DTLSCallbackContext(expected: remoteFingerprint, initialTimeoutMicroseconds: UInt32(micros))

        ERR_clear_error()
        guard let ctx = SSL_CTX_new(DTLS_method()) else { throw DTLSError.setup("SSL_CTX_new: \(OpenSSLErrors.drain())") }
        defer { SSL_CTX_free(ctx) }  // the SSL keeps its own reference
        func require(_ ok: Bool, _ what: String) throws {
            if !ok { throw DTLSError.setup("\(what): \(OpenSSLErrors.drain())") }
        }
        try require(vp_SSL_CTX_set_min_proto_version(ctx, Int(DTLS1_2_VERSION)) == 1, "min version DTLS 1.2")
        try require(vp_SSL_CTX_set_max_proto_version(ctx, Int(DTLS1_2_VERSION)) == 1, "max version DTLS 1.2")
        _ = SSL_CTX_set_options(ctx, vp_SSL_OP_NO_QUERY_MTU() | vp_SSL_OP_NO_TICKET())
        _ = vp_SSL_CTX_set_read_ahead(ctx, 1)
        try require(SSL_CTX_use_certificate(ctx, certificate.certificate) == 1, "SSL_CTX_use_certificate")
        try require(SSL_CTX_use_PrivateKey(ctx, certificate.privateKey) == 1, "SSL_CTX_use_PrivateKey")
        try require(SSL_CTX_check_private_key(ctx) == 1, "certificate and key do not match")
        try require(SSL_CTX_set_cipher_list(ctx, Self.cipherList) == 1, "cipher list")
        try require(SSL_CTX_set_tlsext_use_srtp(ctx, profiles.map(\.openSSLName).joined(separator: ":")) == 0, "use_srtp profiles")  // 0 = success
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verifyPeer)

        guard let ssl = SSL_new(ctx) else { throw DTLSError.setup("SSL_new: \(OpenSSLErrors.drain())") }
        guard let rbio = BIO_new(BIO_s_mem()), let wbio = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw DTLSError.setup("BIO_new: \(OpenSSLErrors.drain())")
        }
        // An empty memory BIO must read as "retry", not EOF.
        _ = vp_BIO_set_mem_eof_return(rbio, -1)
        _ = vp_BIO_set_mem_eof_return(wbio, -1)
        SSL_set_bio(ssl, rbio, wbio)  // the SSL owns both BIOs from here
        self.ssl = ssl
        self.readBIO = rbio
        self.writeBIO = wbio
        // SSL_set_mtu returns the new MTU (0 if too small). Every stored property is set by now,
        // so a throw runs deinit, which frees the SSL: no SSL_free here.
        guard vp_SSL_set_mtu(ssl, mtu) > 0 else {
            throw DTLSError.setup("SSL_set_mtu(\(mtu)): \(OpenSSLErrors.drain())")
        }
        _ = vp_SSL_set_app_data(ssl, Unmanaged.passUnretained(context).toOpaque())
        DTLS_set_timer_cb(ssl, retransmitTimer)
        switch role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    /// Begins the handshake: the client's output carries the ClientHello; the server's is empty.
    public func start(now: NIODeadline) -> DTLSOutput {
        var out = DTLSOutput()
        guard state == .new else { return out }
        state = .handshaking
        step(&out, now: now)
        return out
    }

    /// Feeds one received datagram (its first byte in 20...63, RFC 7983) and returns what follows.
    public func handleDatagram(_ datagram: UnsafeRawBufferPointer, now: NIODeadline) -> DTLSOutput {
        var out = DTLSOutput()
        switch state {
        case .closed, .failed:
            return out
        case .new:
            state = .handshaking
        case .handshaking, .connected:
            break
        }
        // RFC 6347 §4.1: a record has a 13-byte header; content types are 20...63 (RFC 7983 §7).
        guard datagram.count >= 13, let base = datagram.baseAddress else {
            out.events.append(.discarded(.malformedDatagram("\(datagram.count) bytes is shorter than a record header")))
            return out
        }
        guard (20...63).contains(datagram[0]) else {
            out.events.append(.discarded(.malformedDatagram("first byte \(datagram[0]) is not a DTLS content type")))
            return out
        }
        if let problem = Self.malformedRecord(in: datagram) {
            out.events.append(.discarded(.malformedDatagram(problem)))
            return out
        }
        _ = vp_BIO_reset(readBIO)  // one datagram at a time
        guard BIO_write(readBIO, base, Int32(datagram.count)) == Int32(datagram.count) else {
            out.events.append(.discarded(.malformedDatagram("memory BIO refused \(datagram.count) bytes")))
            return out
        }
        step(&out, now: now)
        return out
    }

    public func handleDatagram(_ datagram: [UInt8], now: NIODeadline) -> DTLSOutput {
        datagram.withUnsafeBytes { handleDatagram($0, now: now) }
    }

    public func handleDatagram(_ datagram: ByteBuffer, now: NIODeadline) -> DTLSOutput {
        datagram.withUnsafeReadableBytes { handleDatagram($0, now: now) }
    }

    /// Call at (or after) `nextTimeout`: OpenSSL resends the last flight if its timer expired.
    public func handleTimeout(now: NIODeadline) -> DTLSOutput {
        var out = DTLSOutput()
        guard state == .handshaking || state == .connected else { return out }
        ERR_clear_error()
        if vp_DTLSv1_handle_timeout(ssl) < 0 {
            fail(classifyFailure("retransmission"), &out)
        }
        drain(&out)
        updateTimeout(now: now)
        return out
    }

    /// Sends close_notify (RFC 5246 §7.2.1) and ends the association.
    public func close(now: NIODeadline) -> DTLSOutput {
        var out = DTLSOutput()
        guard state == .handshaking || state == .connected else { return out }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        state = .closed
        drain(&out)
        nextTimeout = nil
        return out
    }

    /// The explicit nonce and tag of an AES-GCM record (RFC 5288 §3), the only suites offered.
    static let minimumProtectedRecord = 8 + 16

    /// RFC 6347 §4.1.2.7: invalid records are silently discarded, never fatal. OpenSSL 3.0.19 ends
    /// the association (an alert) on a protected record too short for the AEAD nonce and tag, so
    /// one forged datagram could hang up a call: such datagrams, and ones whose record lengths
    /// overrun the datagram, are dropped here before OpenSSL sees them.
    static func malformedRecord(in datagram: UnsafeRawBufferPointer) -> String? {
        var offset = 0
        while offset < datagram.count {
            guard datagram.count - offset >= 13 else { return "\(datagram.count - offset) trailing bytes after the last record" }
            let epoch = Int(datagram[offset + 3]) << 8 | Int(datagram[offset + 4])
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            guard offset + 13 + length <= datagram.count else {
                return "record length \(length) overruns the \(datagram.count)-byte datagram"
            }
            if epoch > 0 && length < minimumProtectedRecord {
                return "protected record of \(length) bytes is shorter than the AES-GCM nonce and tag"
            }
            offset += 13 + length
        }
        return nil
    }

    // MARK: Internals

    private func step(_ out: inout DTLSOutput, now: NIODeadline) {
        ERR_clear_error()
        if state == .handshaking {
            let result = SSL_do_handshake(ssl)
            if result == 1 {
                finishHandshake(&out)
                if state == .connected { readApplicationData(&out) }  // anything queued behind Finished
            } else {
                let error = SSL_get_error(ssl, result)
                if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
                    fail(classifyFailure("handshake"), &out)
                }
            }
        } else if state == .connected {
            readApplicationData(&out)
        }
        drain(&out)
        updateTimeout(now: now)
    }

    private func finishHandshake(_ out: inout DTLSOutput) {
        guard let selected = SSL_get_selected_srtp_profile(ssl),
              let profile = SRTPProfile(id: UInt(selected.pointee.id))
        else { return fail(.noSRTPProfile, &out) }
        // The verify callback already compared the leaf; check again on the final certificate.
        guard let peer = SSL_get1_peer_certificate(ssl) else { return fail(.noPeerCertificate, &out) }
        let actual = DTLSFingerprint.of(certificate: peer, algorithm: remoteFingerprint.algorithm)
        X509_free(peer)
        guard let actual, actual.value == remoteFingerprint.value else {
            return fail(.fingerprintMismatch(expected: remoteFingerprint,
                                             actual: actual ?? DTLSFingerprint(algorithm: remoteFingerprint.algorithm, value: "?")),
                        &out)
        }
        context.actual = actual
        var exported = [UInt8](repeating: 0, count: profile.keyingMaterialLength)
        let label = Self.exporterLabel
        let ok = SSL_export_keying_material(ssl, &exported, exported.count, label, label.utf8.count, nil, 0, 0)
        guard ok == 1, let material = SRTPKeyingMaterial(profile: profile, exported: exported) else {
            return fail(.keyExport(OpenSSLErrors.drain()), &out)
        }
        keyingMaterial = material
        state = .connected
        out.events.append(.connected(material))
    }

    /// After the handshake only alerts, close_notify and retransmitted Finished flights matter;
    /// application data (no data channels here) is read and dropped.
    private func readApplicationData(_ out: inout DTLSOutput) {
        while true {
            let n = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 { continue }
            switch SSL_get_error(ssl, n) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return
            case SSL_ERROR_ZERO_RETURN:
                _ = SSL_shutdown(ssl)  // answer with our close_notify
                state = .closed
                nextTimeout = nil
                out.events.append(.closed)
                return
            default:
                return fail(classifyFailure("read"), &out)
            }
        }
    }

    private func classifyFailure(_ stage: String) -> DTLSError {
        let text = OpenSSLErrors.drain()
        if context.mismatch, let actual = context.actual {
            return .fingerprintMismatch(expected: remoteFingerprint, actual: actual)
        }
        if text.contains("read timeout expired") { return .retransmissionsExhausted }
        if text.contains("alert") { return .alertReceived(text) }
        return .handshakeFailed("\(stage): \(text)")
    }

    private func fail(_ error: DTLSError, _ out: inout DTLSOutput) {
        state = .failed
        nextTimeout = nil
        out.events.append(.failed(error))
    }

    /// Moves what OpenSSL wrote into datagrams: whole records, packed up to the MTU.
    private func drain(_ out: inout DTLSOutput) {
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let length = vp_BIO_get_mem_data(writeBIO, &pointer)
        guard length > 0, let pointer else { return }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        var datagram: [UInt8] = []
        var offset = 0
        while offset < length {
            var recordLength = length - offset
            if recordLength >= 13 {  // type, version(2), epoch(2), sequence(6), length(2)
                recordLength = min(recordLength, 13 + (Int(bytes[offset + 11]) << 8 | Int(bytes[offset + 12])))
            }
            if !datagram.isEmpty && datagram.count + recordLength > mtu {
                out.datagrams.append(datagram)
                datagram = []
            }
            if datagram.isEmpty { datagram.reserveCapacity(min(mtu, length - offset)) }
            datagram.append(contentsOf: bytes[offset..<offset + recordLength])
            offset += recordLength
        }
        if !datagram.isEmpty { out.datagrams.append(datagram) }
        _ = vp_BIO_reset(writeBIO)
    }

    private func updateTimeout(now: NIODeadline) {
        guard state == .handshaking || state == .connected else {
            nextTimeout = nil
            return
        }
        var remaining = timeval()
        if vp_DTLSv1_get_timeout(ssl, &remaining) == 1 {
            nextTimeout = now + .microseconds(Int64(remaining.tv_sec) * 1_000_000 + Int64(remaining.tv_usec))
        } else {
            nextTimeout = nil
        }
    }
}
