// SRTP and SRTCP protection (RFC 3711 §3-4; AES-GCM per RFC 7714) through libsrtp2. One session
// protects everything we send (policy ssrc_any_outbound), another unprotects everything we receive
// (ssrc_any_inbound), keyed from the DTLS exporter (RFC 5764 §4.2, see SRTPKeyingMaterial).
//
// Threading: a libsrtp session (srtp_t) is not thread-safe. An SRTPSession is deliberately not
// Sendable: create it on, and use it only from, one event loop (the one that owns the call's socket).
import CSRTP
import NIOCore

/// Why libsrtp refused a packet. Inbound failures are per-packet: log, drop, carry on.
public enum SRTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The authentication tag did not verify (tampered, wrong key, or not SRTP at all).
    case authenticationFailed
    /// The packet index was already seen or is older than the replay window (RFC 3711 §3.3.2).
    case replayed
    /// Too short, not RTP/RTCP, or otherwise unparseable.
    case badPacket(String)
    /// The key does not match the profile (length) or libsrtp could not create the session.
    case badKey(String)
    /// The caller's buffer has no room for the trailer (needs `SRTPSession.trailerRoom` bytes).
    case bufferTooSmall(needed: Int, available: Int)
    /// Any other libsrtp status, by number and name.
    case library(code: Int32, name: String)

    public var description: String {
        switch self {
        case .authenticationFailed: "SRTP authentication failed"
        case .replayed: "SRTP replayed or too old packet"
        case .badPacket(let why): "bad SRTP/RTP packet: \(why)"
        case .badKey(let why): "bad SRTP key: \(why)"
        case .bufferTooSmall(let needed, let available): "SRTP buffer too small: need \(needed) bytes, have \(available)"
        case .library(let code, let name): "libsrtp error \(code) (\(name))"
        }
    }

    init(status: srtp_err_status_t) {
        switch status {
        case srtp_err_status_auth_fail: self = .authenticationFailed
        case srtp_err_status_replay_fail, srtp_err_status_replay_old, srtp_err_status_pkt_idx_old:
            self = .replayed
        case srtp_err_status_bad_param, srtp_err_status_parse_err, srtp_err_status_no_ctx, srtp_err_status_bad_mki:
            self = .badPacket("libsrtp status \(status.rawValue)")
        default: self = .library(code: Int32(status.rawValue), name: "srtp_err_status \(status.rawValue)")
        }
    }
}

/// libsrtp must be initialised once per process before any session exists, and its ciphers and
/// HMAC moved onto OpenSSL (SRTPOpenSSLCrypto) before any session allocates one. A global `let` is
/// initialised lazily and exactly once (swift_once), so this is thread-safe.
private let srtpLibrary: (status: srtp_err_status_t, openSSL: (cipherCM: Bool, cipherGCM: Bool, hmac: Bool)) = {
    let status = srtp_init()
    guard status == srtp_err_status_ok else { return (status, (false, false, false)) }
    return (status, SRTPOpenSSLCrypto.install())
}()

/// One direction of SRTP + SRTCP for one DTLS association.
public final class SRTPSession {
    public enum Direction: Sendable, Hashable {
        /// Protects what we send: any SSRC we originate (ssrc_any_outbound).
        case outbound
        /// Unprotects what we receive: any SSRC the peer originates (ssrc_any_inbound).
        case inbound
    }

    /// Bytes that must be free after a packet for protect (SRTP_MAX_TRAILER_LEN + 4 for SRTCP's index).
    public static let trailerRoom: Int = Int(vp_srtp_max_trailer_len())

    /// Initialises libsrtp once for the process (idempotent, thread-safe). Anything that calls libsrtp
    /// directly must use this instead of `srtp_init()`: two concurrent `srtp_init` calls race inside libsrtp.
    public static func initializeLibrary() throws {
        guard srtpLibrary.status == srtp_err_status_ok else {
            throw SRTPError.library(code: Int32(srtpLibrary.status.rawValue), name: "srtp_init failed")
        }
    }

    /// Which implementation runs SRTP's crypto, for logs: "OpenSSL" when libsrtp accepted all three
    /// replacements (each after its self-test), otherwise what was left to libsrtp's own build.
    public static var cryptoBackend: String {
        guard srtpLibrary.status == srtp_err_status_ok else { return "none (srtp_init failed)" }
        let replaced = srtpLibrary.openSSL
        if replaced.cipherCM && replaced.cipherGCM && replaced.hmac { return "OpenSSL" }
        let kept = [replaced.cipherCM ? nil : "AES-CM", replaced.cipherGCM ? nil : "AES-GCM", replaced.hmac ? nil : "HMAC-SHA1"]
        return "OpenSSL, except libsrtp's own " + kept.compactMap { $0 }.joined(separator: ", ")
    }

    /// The default replay window: large enough for video bursts and NACK retransmissions (RFC 3711 default is 64).
    public static let defaultReplayWindow = 1024

    public let profile: SRTPProfile
    public let direction: Direction
    private let session: srtp_t

    /// `masterKeyAndSalt` is key || salt (`profile.keyLength + profile.saltLength` bytes), e.g.
    /// `SRTPKeyingMaterial.localMasterKeyAndSalt(isClient:)` for outbound.
    public init(profile: SRTPProfile, masterKeyAndSalt: [UInt8], direction: Direction,
                replayWindow: Int = SRTPSession.defaultReplayWindow) throws {
        try Self.initializeLibrary()
        let expected = profile.keyLength + profile.saltLength
        guard masterKeyAndSalt.count == expected else {
            throw SRTPError.badKey("\(profile) needs \(expected) bytes of key+salt, got \(masterKeyAndSalt.count)")
        }
        guard (64...0x8000).contains(replayWindow) else {
            throw SRTPError.badKey("replay window \(replayWindow) outside libsrtp's 64...32768")
        }
        var policy = srtp_policy_t()
        let libProfile: srtp_profile_t = profile == .aeadAES128GCM ? srtp_profile_aead_aes_128_gcm : srtp_profile_aes128_cm_sha1_80
        guard srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, libProfile) == srtp_err_status_ok,
              srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, libProfile) == srtp_err_status_ok
        else { throw SRTPError.badKey("libsrtp does not support \(profile)") }
        policy.ssrc.type = direction == .outbound ? ssrc_any_outbound : ssrc_any_inbound
        policy.window_size = UInt(replayWindow)
        // Outbound: allow protecting the same sequence number again (a NACKed packet resent as is);
        // inbound replay protection is unaffected.
        policy.allow_repeat_tx = direction == .outbound ? 1 : 0
        var created: srtp_t? = nil
        var key = masterKeyAndSalt
        let status = key.withUnsafeMutableBufferPointer { bytes -> srtp_err_status_t in
            policy.key = bytes.baseAddress
            return srtp_create(&created, &policy)  // copies the key material
        }
        key.withUnsafeMutableBufferPointer { bytes in  // don't leave the copy lying around
            for i in bytes.indices { bytes[i] = 0 }
        }
        guard status == srtp_err_status_ok, let created else {
            throw SRTPError.badKey("srtp_create failed with status \(status.rawValue)")
        }
        self.profile = profile
        self.direction = direction
        self.session = created
    }

    deinit { srtp_dealloc(session) }

    // MARK: Raw buffers (the zero-copy path)

    /// Protects the RTP packet in `buffer[0..<length]` in place; returns the SRTP length.
    /// `buffer.count` must be at least `length + trailerRoom`.
    public func protectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        try run(buffer, length, room: Self.trailerRoom, minimum: 12, expect: .outbound) { srtp_protect($0, $1, $2) }
    }

    /// Protects the RTCP compound packet in `buffer[0..<length]` in place; returns the SRTCP length.
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        try run(buffer, length, room: Self.trailerRoom, minimum: 8, expect: .outbound) { srtp_protect_rtcp($0, $1, $2) }
    }

    /// Unprotects the SRTP packet in `buffer[0..<length]` in place; returns the RTP length.
    public func unprotectRTP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        try run(buffer, length, room: 0, minimum: 12, expect: .inbound) { srtp_unprotect($0, $1, $2) }
    }

    /// Unprotects the SRTCP packet in `buffer[0..<length]` in place; returns the RTCP length.
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        try run(buffer, length, room: 0, minimum: 8, expect: .inbound) { srtp_unprotect_rtcp($0, $1, $2) }
    }

    private func run(_ buffer: UnsafeMutableRawBufferPointer, _ length: Int, room: Int, minimum: Int,
                     expect: Direction,
                     _ call: (srtp_t, UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> srtp_err_status_t) throws -> Int {
        guard direction == expect else {
            throw SRTPError.badPacket("\(expect == .outbound ? "protect" : "unprotect") called on an \(direction) session")
        }
        guard length >= minimum else { throw SRTPError.badPacket("\(length) bytes is shorter than a header (\(minimum))") }
        guard let base = buffer.baseAddress, length <= buffer.count else {
            throw SRTPError.bufferTooSmall(needed: length, available: buffer.count)
        }
        guard buffer.count >= length + room, length + room <= Int(Int32.max) else {
            throw SRTPError.bufferTooSmall(needed: length + room, available: buffer.count)
        }
        // Version 2 is the only RTP; anything else is not ours (RFC 3550 §5.1).
        guard base.load(as: UInt8.self) >> 6 == 2 else { throw SRTPError.badPacket("RTP version is not 2") }
        var len = Int32(length)
        let status = call(session, base, &len)
        guard status == srtp_err_status_ok else { throw SRTPError(status: status) }
        return Int(len)
    }

    // MARK: [UInt8] (convenience; in place, capacity permitting no reallocation)

    /// Protects an RTP packet held in `packet`, growing it by the tag.
    public func protectRTP(_ packet: inout [UInt8]) throws { try inPlace(&packet, room: Self.trailerRoom, protectRTP) }
    public func protectRTCP(_ packet: inout [UInt8]) throws { try inPlace(&packet, room: Self.trailerRoom, protectRTCP) }
    public func unprotectRTP(_ packet: inout [UInt8]) throws { try inPlace(&packet, room: 0, unprotectRTP) }
    public func unprotectRTCP(_ packet: inout [UInt8]) throws { try inPlace(&packet, room: 0, unprotectRTCP) }

    private func inPlace(_ packet: inout [UInt8], room: Int,
                         _ body: (UnsafeMutableRawBufferPointer, Int) throws -> Int) throws {
        let length = packet.count
        if room > 0 { packet.append(contentsOf: repeatElement(0, count: room)) }
        let result: Int
        do {
            result = try packet.withUnsafeMutableBytes { try body($0, length) }
        } catch {
            packet.removeLast(packet.count - length)
            throw error
        }
        packet.removeLast(packet.count - result)
    }

    // MARK: ByteBuffer (the readable bytes are the packet)

    public func protectRTP(_ packet: inout ByteBuffer) throws { try inPlace(&packet, room: Self.trailerRoom, protectRTP) }
    public func protectRTCP(_ packet: inout ByteBuffer) throws { try inPlace(&packet, room: Self.trailerRoom, protectRTCP) }
    public func unprotectRTP(_ packet: inout ByteBuffer) throws { try inPlace(&packet, room: 0, unprotectRTP) }
    public func unprotectRTCP(_ packet: inout ByteBuffer) throws { try inPlace(&packet, room: 0, unprotectRTCP) }

    private func inPlace(_ packet: inout ByteBuffer, room: Int,
                         _ body: (UnsafeMutableRawBufferPointer, Int) throws -> Int) throws {
        let length = packet.readableBytes
        let start = packet.readerIndex
        if room > 0 { packet.writeRepeatingByte(0, count: room) }
        let result: Int
        do {
            result = try packet.withUnsafeMutableReadableBytes { try body($0, length) }
        } catch {
            packet.moveWriterIndex(to: start + length)
            throw error
        }
        packet.moveWriterIndex(to: start + result)
    }
}
