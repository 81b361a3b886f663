// STUN attributes: the TLV framing of RFC 8489 §14 (type, length, value padded to 4 bytes),
// the attribute registry of RFC 8489 §18.3, the ICE attributes of RFC 8445 §16.1
// (PRIORITY, USE-CANDIDATE, ICE-CONTROLLED, ICE-CONTROLLING) and the TURN attributes of
// RFC 8656 §18 (CHANNEL-NUMBER, LIFETIME, XOR-PEER-ADDRESS, DATA, XOR-RELAYED-ADDRESS,
// REQUESTED-TRANSPORT, DONT-FRAGMENT).

/// A STUN attribute type (RFC 8489 §14, §18.3). Kept as an open struct, not an enum, because
/// unknown types must survive decoding and be reported (RFC 8489 §6.3.1, UNKNOWN-ATTRIBUTES).
public struct STUNAttributeType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    // RFC 8489 §14 / §18.3.1 (comprehension-required, 0x0000-0x7FFF)
    public static let mappedAddress = STUNAttributeType(rawValue: 0x0001)
    public static let username = STUNAttributeType(rawValue: 0x0006)
    public static let messageIntegrity = STUNAttributeType(rawValue: 0x0008)
    public static let errorCode = STUNAttributeType(rawValue: 0x0009)
    public static let unknownAttributes = STUNAttributeType(rawValue: 0x000A)
    public static let realm = STUNAttributeType(rawValue: 0x0014)
    public static let nonce = STUNAttributeType(rawValue: 0x0015)
    public static let messageIntegritySHA256 = STUNAttributeType(rawValue: 0x001C)
    public static let passwordAlgorithm = STUNAttributeType(rawValue: 0x001D)
    public static let userhash = STUNAttributeType(rawValue: 0x001E)
    public static let xorMappedAddress = STUNAttributeType(rawValue: 0x0020)
    // RFC 8489 §18.3.2 (comprehension-optional, 0x8000-0xFFFF)
    public static let passwordAlgorithms = STUNAttributeType(rawValue: 0x8002)
    public static let alternateDomain = STUNAttributeType(rawValue: 0x8003)
    public static let software = STUNAttributeType(rawValue: 0x8022)
    public static let alternateServer = STUNAttributeType(rawValue: 0x8023)
    public static let fingerprint = STUNAttributeType(rawValue: 0x8028)
    // RFC 8445 §16.1
    public static let priority = STUNAttributeType(rawValue: 0x0024)
    public static let useCandidate = STUNAttributeType(rawValue: 0x0025)
    public static let iceControlled = STUNAttributeType(rawValue: 0x8029)
    public static let iceControlling = STUNAttributeType(rawValue: 0x802A)
    // RFC 8656 §18
    public static let channelNumber = STUNAttributeType(rawValue: 0x000C)
    public static let lifetime = STUNAttributeType(rawValue: 0x000D)
    public static let xorPeerAddress = STUNAttributeType(rawValue: 0x0012)
    public static let data = STUNAttributeType(rawValue: 0x0013)
    public static let xorRelayedAddress = STUNAttributeType(rawValue: 0x0016)
    public static let requestedAddressFamily = STUNAttributeType(rawValue: 0x0017)
    public static let evenPort = STUNAttributeType(rawValue: 0x0018)
    public static let requestedTransport = STUNAttributeType(rawValue: 0x0019)
    public static let dontFragment = STUNAttributeType(rawValue: 0x001A)
    public static let reservationToken = STUNAttributeType(rawValue: 0x0022)

    /// RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required; an agent that does not
    /// understand one must reject a request (420) or discard a response.
    public var isComprehensionRequired: Bool { rawValue < 0x8000 }

    /// The types this implementation decodes into typed values (`STUNAttributeValue`).
    /// Anything else that is comprehension-required is "unknown" in the RFC 8489 §6.3 sense.
    public static let understood: Set<STUNAttributeType> = [
        .mappedAddress, .username, .messageIntegrity, .errorCode, .unknownAttributes, .realm, .nonce,
        .messageIntegritySHA256, .xorMappedAddress, .software, .alternateServer, .fingerprint,
        .priority, .useCandidate, .iceControlled, .iceControlling,
        .channelNumber, .lifetime, .xorPeerAddress, .data, .xorRelayedAddress, .requestedTransport,
        .dontFragment,
    ]

    public var description: String {
        let names: [UInt16: String] = [
            0x0001: "MAPPED-ADDRESS", 0x0006: "USERNAME", 0x0008: "MESSAGE-INTEGRITY",
            0x0009: "ERROR-CODE", 0x000A: "UNKNOWN-ATTRIBUTES", 0x000C: "CHANNEL-NUMBER",
            0x000D: "LIFETIME", 0x0012: "XOR-PEER-ADDRESS", 0x0013: "DATA", 0x0014: "REALM",
            0x0015: "NONCE", 0x0016: "XOR-RELAYED-ADDRESS", 0x0017: "REQUESTED-ADDRESS-FAMILY",
            0x0018: "EVEN-PORT", 0x0019: "REQUESTED-TRANSPORT", 0x001A: "DONT-FRAGMENT",
            0x001C: "MESSAGE-INTEGRITY-SHA256", 0x001D: "PASSWORD-ALGORITHM", 0x001E: "USERHASH",
            0x0020: "XOR-MAPPED-ADDRESS", 0x0022: "RESERVATION-TOKEN", 0x0024: "PRIORITY",
            0x0025: "USE-CANDIDATE", 0x8002: "PASSWORD-ALGORITHMS", 0x8003: "ALTERNATE-DOMAIN",
            0x8022: "SOFTWARE", 0x8023: "ALTERNATE-SERVER", 0x8028: "FINGERPRINT",
            0x8029: "ICE-CONTROLLED", 0x802A: "ICE-CONTROLLING",
        ]
        let hex = String(rawValue, radix: 16, uppercase: true)
        let code = "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return names[rawValue].map { "\($0)(\(code))" } ?? code
    }
}

/// One attribute as it is on the wire: type and unpadded value. Values of XOR-* attributes are
/// kept XORed (as received), because un-XORing needs the message's transaction id; use
/// `STUNAttributeValue` or the typed accessors on `STUNMessage` to read them.
public struct STUNAttribute: Sendable, Hashable {
    public var type: STUNAttributeType
    public var value: [UInt8]
    /// The padding bytes as received. RFC 8489 §14 says receivers ignore padding, so it takes no
    /// part in equality; it is kept only so that a decoded message re-encodes byte for byte
    /// (RFC 5769's vectors pad with spaces), which keeps re-encoded integrity values identical.
    /// When its length does not fit the value, zeros are written instead.
    public var padding: [UInt8]

    public init(type: STUNAttributeType, value: [UInt8], padding: [UInt8] = []) {
        self.type = type
        self.value = value
        self.padding = padding
    }

    public static func == (lhs: STUNAttribute, rhs: STUNAttribute) -> Bool {
        lhs.type == rhs.type && lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(value)
    }

    /// Padding needed after a value of `length` bytes (RFC 8489 §14: attributes end on 4-byte boundaries).
    static func paddingLength(_ length: Int) -> Int { (4 - length % 4) % 4 }

    /// Appends header, value and padding.
    func write(to out: inout [UInt8]) {
        out.appendUInt16(type.rawValue)
        out.appendUInt16(UInt16(truncatingIfNeeded: value.count))
        out.append(contentsOf: value)
        let pad = STUNAttribute.paddingLength(value.count)
        if padding.count == pad {
            out.append(contentsOf: padding)
        } else {
            out.append(contentsOf: repeatElement(0, count: pad))
        }
    }
}

/// ERROR-CODE (RFC 8489 §14.8): a three-digit code (300-699) and a UTF-8 reason phrase.
public struct STUNErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// Class * 100 + number, e.g. 401.
    public var code: Int
    public var reason: String

    public init(code: Int, reason: String = "") {
        self.code = code
        self.reason = reason.isEmpty ? STUNErrorCode.defaultReason(code) : reason
    }

    // RFC 8489 §14.8, RFC 8445 §7.3.1.1 (487), RFC 8656 §19 (437-508)
    public static let tryAlternate = 300
    public static let badRequest = 400
    public static let unauthorized = 401
    public static let forbidden = 403
    public static let unknownAttribute = 420
    public static let allocationMismatch = 437
    public static let staleNonce = 438
    public static let addressFamilyNotSupported = 440
    public static let wrongCredentials = 441
    public static let unsupportedTransportProtocol = 442
    public static let peerAddressFamilyMismatch = 443
    public static let allocationQuotaReached = 486
    public static let roleConflict = 487
    public static let serverError = 500
    public static let insufficientCapacity = 508

    /// The reason phrases the RFCs suggest.
    public static func defaultReason(_ code: Int) -> String {
        switch code {
        case 300: "Try Alternate"
        case 400: "Bad Request"
        case 401: "Unauthenticated"
        case 403: "Forbidden"
        case 420: "Unknown Attribute"
        case 437: "Allocation Mismatch"
        case 438: "Stale Nonce"
        case 440: "Address Family not Supported"
        case 441: "Wrong Credentials"
        case 442: "Unsupported Transport Protocol"
        case 443: "Peer Address Family Mismatch"
        case 486: "Allocation Quota Reached"
        case 487: "Role Conflict"
        case 500: "Server Error"
        case 508: "Insufficient Capacity"
        default: ""
        }
    }

    public var description: String { "\(code) \(reason)" }
}

/// Typed view of one attribute. `encode(transactionID:)` and `init(_:transactionID:)` convert to
/// and from the wire form; the transaction id is needed for the XOR-* address attributes
/// (RFC 8489 §14.2). Unknown or not-understood types stay `.other`.
public enum STUNAttributeValue: Sendable, Hashable {
    case mappedAddress(STUNAddress)
    case xorMappedAddress(STUNAddress)
    case username(String)
    /// The 20-byte HMAC-SHA1 (normally produced by `STUNMessage.encode(integrityKey:fingerprint:)`).
    case messageIntegrity([UInt8])
    /// 16-32 bytes (RFC 8489 §14.6); parsed only, we never generate it.
    case messageIntegritySHA256([UInt8])
    case fingerprint(UInt32)
    case errorCode(STUNErrorCode)
    case realm(String)
    case nonce(String)
    case unknownAttributes([STUNAttributeType])
    case software(String)
    case alternateServer(STUNAddress)
    case priority(UInt32)
    case useCandidate
    case iceControlled(tieBreaker: UInt64)
    case iceControlling(tieBreaker: UInt64)
    case channelNumber(UInt16)
    /// Seconds (RFC 8656 §18.2).
    case lifetime(UInt32)
    case xorPeerAddress(STUNAddress)
    case data([UInt8])
    case xorRelayedAddress(STUNAddress)
    /// IANA protocol number; 17 = UDP (RFC 8656 §18.7).
    case requestedTransport(UInt8)
    case dontFragment
    case other(STUNAttribute)

    // Limits from RFC 8489 §14.3 (USERNAME < 513 bytes), §14.9 (REALM), §14.10 (NONCE),
    // §14.14 (SOFTWARE): fewer than 128 characters, i.e. at most 763 bytes of UTF-8.
    static let maxUsernameBytes = 512
    static let maxTextBytes = 763

    public var type: STUNAttributeType {
        switch self {
        case .mappedAddress: .mappedAddress
        case .xorMappedAddress: .xorMappedAddress
        case .username: .username
        case .messageIntegrity: .messageIntegrity
        case .messageIntegritySHA256: .messageIntegritySHA256
        case .fingerprint: .fingerprint
        case .errorCode: .errorCode
        case .realm: .realm
        case .nonce: .nonce
        case .unknownAttributes: .unknownAttributes
        case .software: .software
        case .alternateServer: .alternateServer
        case .priority: .priority
        case .useCandidate: .useCandidate
        case .iceControlled: .iceControlled
        case .iceControlling: .iceControlling
        case .channelNumber: .channelNumber
        case .lifetime: .lifetime
        case .xorPeerAddress: .xorPeerAddress
        case .data: .data
        case .xorRelayedAddress: .xorRelayedAddress
        case .requestedTransport: .requestedTransport
        case .dontFragment: .dontFragment
        case .other(let attribute): attribute.type
        }
    }

    /// The wire form.
    public func encode(transactionID: STUNTransactionID) -> STUNAttribute {
        var v: [UInt8] = []
        switch self {
        case .mappedAddress(let a), .alternateServer(let a):
            v = Self.addressValue(a, xor: nil)
        case .xorMappedAddress(let a), .xorPeerAddress(let a), .xorRelayedAddress(let a):
            v = Self.addressValue(a, xor: transactionID)
        case .username(let s), .realm(let s), .nonce(let s), .software(let s):
            v = Array(s.utf8)
        case .messageIntegrity(let bytes), .messageIntegritySHA256(let bytes), .data(let bytes):
            v = bytes
        case .fingerprint(let crc):
            v.appendUInt32(crc)
        case .errorCode(let e):
            // RFC 8489 §14.8: 21 reserved bits, 3-bit class (hundreds), 8-bit number (0-99).
            let code = max(0, e.code)
            v = [0, 0, UInt8(truncatingIfNeeded: (code / 100) & 0x07), UInt8(truncatingIfNeeded: code % 100)]
            v.append(contentsOf: e.reason.utf8)
        case .unknownAttributes(let types):
            for t in types { v.appendUInt16(t.rawValue) }
        case .priority(let p), .lifetime(let p):
            v.appendUInt32(p)
        case .useCandidate, .dontFragment:
            break
        case .iceControlled(let t), .iceControlling(let t):
            v.appendUInt64(t)
        case .channelNumber(let n):
            // RFC 8656 §18.1: 16-bit number then 16 bits RFFU (zero).
            v.appendUInt16(n)
            v.appendUInt16(0)
        case .requestedTransport(let proto):
            // RFC 8656 §18.7: protocol then 24 bits RFFU.
            v = [proto, 0, 0, 0]
        case .other(let attribute):
            return attribute
        }
        return STUNAttribute(type: type, value: v)
    }

    /// Decodes a known attribute, `.other` for types not in `STUNAttributeType.understood`.
    /// Throws `.malformedAttribute` when a known type's value has the wrong shape.
    public init(_ attribute: STUNAttribute, transactionID: STUNTransactionID) throws(STUNError) {
        let v = attribute.value
        let t = attribute.type
        func bad(_ reason: String) -> STUNError { .malformedAttribute(t, reason) }
        func fixed(_ n: Int) throws(STUNError) {
            guard v.count == n else { throw bad("length \(v.count), expected \(n)") }
        }
        func text(max: Int) throws(STUNError) -> String {
            guard v.count <= max else { throw bad("\(v.count) bytes, limit \(max)") }
            guard let s = String(validating: v, as: UTF8.self) else { throw bad("not UTF-8") }
            return s
        }
        switch t {
        case .mappedAddress: self = .mappedAddress(try Self.parseAddress(v, xor: nil, type: t))
        case .alternateServer: self = .alternateServer(try Self.parseAddress(v, xor: nil, type: t))
        case .xorMappedAddress: self = .xorMappedAddress(try Self.parseAddress(v, xor: transactionID, type: t))
        case .xorPeerAddress: self = .xorPeerAddress(try Self.parseAddress(v, xor: transactionID, type: t))
        case .xorRelayedAddress: self = .xorRelayedAddress(try Self.parseAddress(v, xor: transactionID, type: t))
        case .username: self = .username(try text(max: Self.maxUsernameBytes))
        case .realm: self = .realm(try text(max: Self.maxTextBytes))
        case .nonce: self = .nonce(try text(max: Self.maxTextBytes))
        case .software: self = .software(try text(max: Self.maxTextBytes))
        case .messageIntegrity:
            try fixed(20)
            self = .messageIntegrity(v)
        case .messageIntegritySHA256:
            // RFC 8489 §14.6: 16 to 32 bytes, a multiple of 4 (truncated HMAC-SHA256).
            guard (16...32).contains(v.count), v.count % 4 == 0 else { throw bad("length \(v.count)") }
            self = .messageIntegritySHA256(v)
        case .fingerprint:
            try fixed(4)
            self = .fingerprint(v.readUInt32(at: 0))
        case .errorCode:
            guard v.count >= 4 else { throw bad("length \(v.count), expected at least 4") }
            let errorClass = Int(v[2] & 0x07)
            let number = Int(v[3])
            guard (3...6).contains(errorClass), number < 100 else { throw bad("code \(errorClass)/\(number)") }
            guard let reason = String(validating: v[4...], as: UTF8.self) else { throw bad("reason not UTF-8") }
            self = .errorCode(STUNErrorCode(code: errorClass * 100 + number, reason: reason))
        case .unknownAttributes:
            guard v.count % 2 == 0 else { throw bad("odd length \(v.count)") }
            self = .unknownAttributes(stride(from: 0, to: v.count, by: 2).map {
                STUNAttributeType(rawValue: v.readUInt16(at: $0))
            })
        case .priority:
            try fixed(4)
            self = .priority(v.readUInt32(at: 0))
        case .lifetime:
            try fixed(4)
            self = .lifetime(v.readUInt32(at: 0))
        case .useCandidate:
            try fixed(0)
            self = .useCandidate
        case .dontFragment:
            try fixed(0)
            self = .dontFragment
        case .iceControlled:
            try fixed(8)
            self = .iceControlled(tieBreaker: v.readUInt64(at: 0))
        case .iceControlling:
            try fixed(8)
            self = .iceControlling(tieBreaker: v.readUInt64(at: 0))
        case .channelNumber:
            try fixed(4)
            self = .channelNumber(v.readUInt16(at: 0))
        case .requestedTransport:
            try fixed(4)
            self = .requestedTransport(v[0])
        case .data:
            self = .data(v)
        default:
            self = .other(attribute)
        }
    }

    /// RFC 8489 §14.1/§14.2 layout: reserved byte, family, port, address. With `xor`, the port is
    /// XORed with the cookie's top 16 bits and the address with cookie (IPv4) or cookie+id (IPv6),
    /// which stops NATs that rewrite visible IP addresses inside payloads from corrupting it.
    static func addressValue(_ a: STUNAddress, xor transactionID: STUNTransactionID?) -> [UInt8] {
        var v: [UInt8] = [0, a.family.rawValue]
        var port = a.port
        var address = a.bytes
        if let transactionID {
            port ^= UInt16(STUNMessage.magicCookie >> 16)
            let mask = xorMask(transactionID)
            for i in address.indices { address[i] ^= mask[i] }
        }
        v.appendUInt16(port)
        v.append(contentsOf: address)
        return v
    }

    static func parseAddress(_ v: [UInt8], xor transactionID: STUNTransactionID?,
                             type: STUNAttributeType) throws(STUNError) -> STUNAddress {
        guard v.count >= 4, let family = STUNAddress.Family(rawValue: v[1]) else {
            throw .malformedAttribute(type, v.count < 4 ? "length \(v.count)" : "address family \(v[1])")
        }
        guard v.count == 4 + family.addressLength else {
            throw .malformedAttribute(type, "length \(v.count) for \(family)")
        }
        var port = v.readUInt16(at: 2)
        var address = Array(v[4...])
        if let transactionID {
            port ^= UInt16(STUNMessage.magicCookie >> 16)
            let mask = xorMask(transactionID)
            for i in address.indices { address[i] ^= mask[i] }
        }
        // Length checked above, so this cannot fail.
        guard let result = STUNAddress(bytes: address, port: port) else {
            throw .malformedAttribute(type, "address length")
        }
        return result
    }

    /// Magic cookie followed by the transaction id: the 16-byte XOR key of RFC 8489 §14.2.
    private static func xorMask(_ transactionID: STUNTransactionID) -> [UInt8] {
        var mask: [UInt8] = []
        mask.appendUInt32(STUNMessage.magicCookie)
        mask.append(contentsOf: transactionID.bytes)
        return mask
    }
}

// MARK: - Big-endian helpers (callers bounds-check first)

extension Array where Element == UInt8 {
    mutating func appendUInt16(_ v: UInt16) {
        append(UInt8(truncatingIfNeeded: v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    mutating func appendUInt32(_ v: UInt32) {
        appendUInt16(UInt16(truncatingIfNeeded: v >> 16))
        appendUInt16(UInt16(truncatingIfNeeded: v))
    }

    mutating func appendUInt64(_ v: UInt64) {
        appendUInt32(UInt32(truncatingIfNeeded: v >> 32))
        appendUInt32(UInt32(truncatingIfNeeded: v))
    }

    mutating func setUInt16(_ v: UInt16, at i: Int) {
        self[i] = UInt8(truncatingIfNeeded: v >> 8)
        self[i + 1] = UInt8(truncatingIfNeeded: v)
    }

    func readUInt16(at i: Int) -> UInt16 {
        UInt16(self[i]) << 8 | UInt16(self[i + 1])
    }

    func readUInt32(at i: Int) -> UInt32 {
        UInt32(readUInt16(at: i)) << 16 | UInt32(readUInt16(at: i + 2))
    }

    func readUInt64(at i: Int) -> UInt64 {
        UInt64(readUInt32(at: i)) << 32 | UInt64(readUInt32(at: i + 4))
    }
}
