// SRTP protection profiles negotiated by the DTLS use_srtp extension (RFC 5764 §4.1.2, with the
// AEAD profiles of RFC 7714 §14.2), and the keying material split of RFC 5764 §4.2.

/// The two profiles this endpoint offers, most preferred first (browsers and aiortc speak both).
public enum SRTPProfile: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// SRTP_AEAD_AES_128_GCM {0x00, 0x07}: AES-128-GCM, 16-byte tag, 12-byte salt (RFC 7714).
    case aeadAES128GCM = "SRTP_AEAD_AES_128_GCM"
    /// SRTP_AES128_CM_HMAC_SHA1_80 {0x00, 0x01}: AES-128 counter mode, 80-bit HMAC-SHA1 tag, 14-byte salt.
    case aes128CMHMACSHA1_80 = "SRTP_AES128_CM_SHA1_80"

    /// The profile id on the wire (and OpenSSL's SRTP_PROTECTION_PROFILE.id).
    public var id: UInt16 {
        switch self {
        case .aeadAES128GCM: 0x0007
        case .aes128CMHMACSHA1_80: 0x0001
        }
    }

    /// OpenSSL's name for the profile (the `use_srtp` list and `SSL_get_selected_srtp_profile`).
    public var openSSLName: String { rawValue }

    /// Master key length in bytes (both profiles use AES-128).
    public var keyLength: Int { 16 }

    /// Master salt length in bytes: 96 bits for GCM (RFC 7714 §14.2), 112 bits for CM (RFC 3711 §8.2).
    public var saltLength: Int {
        switch self {
        case .aeadAES128GCM: 12
        case .aes128CMHMACSHA1_80: 14
        }
    }

    /// Bytes to export with "EXTRACTOR-dtls_srtp": 2 * (key + salt) (RFC 5764 §4.2).
    public var keyingMaterialLength: Int { 2 * (keyLength + saltLength) }

    /// The `use_srtp` list, GCM preferred.
    public static let offerList: String = allCases.map(\.openSSLName).joined(separator: ":")

    public init?(id: UInt) {
        guard let match = Self.allCases.first(where: { UInt($0.id) == id }) else { return nil }
        self = match
    }

    public var description: String { rawValue }
}

/// The SRTP master keys and salts exported from a DTLS handshake.
///
/// RFC 5764 §4.2: the exporter output is client_write_SRTP_master_key | server_write_SRTP_master_key |
/// client_write_SRTP_master_salt | server_write_SRTP_master_salt. The DTLS client protects what it
/// sends with the client key and salt; the server with the server ones.
public struct SRTPKeyingMaterial: Sendable, Hashable {
    public let profile: SRTPProfile
    public let clientKey: [UInt8]
    public let serverKey: [UInt8]
    public let clientSalt: [UInt8]
    public let serverSalt: [UInt8]

    /// Splits exporter output; nil unless it is exactly `profile.keyingMaterialLength` bytes.
    public init?(profile: SRTPProfile, exported: [UInt8]) {
        guard exported.count == profile.keyingMaterialLength else { return nil }
        let k = profile.keyLength, s = profile.saltLength
        self.profile = profile
        clientKey = Array(exported[0..<k])
        serverKey = Array(exported[k..<2 * k])
        clientSalt = Array(exported[2 * k..<2 * k + s])
        serverSalt = Array(exported[2 * k + s..<2 * k + 2 * s])
    }

    /// key || salt, the form libsrtp's policy wants, for the client's direction.
    public var clientMasterKeyAndSalt: [UInt8] { clientKey + clientSalt }
    /// key || salt for the server's direction.
    public var serverMasterKeyAndSalt: [UInt8] { serverKey + serverSalt }

    /// The master key+salt this endpoint protects outgoing packets with.
    public func localMasterKeyAndSalt(isClient: Bool) -> [UInt8] {
        isClient ? clientMasterKeyAndSalt : serverMasterKeyAndSalt
    }

    /// The master key+salt this endpoint unprotects incoming packets with.
    public func remoteMasterKeyAndSalt(isClient: Bool) -> [UInt8] {
        isClient ? serverMasterKeyAndSalt : clientMasterKeyAndSalt
    }
}
