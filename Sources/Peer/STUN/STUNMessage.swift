// STUN messages, RFC 8489: header and message type (§5), transaction ids (§6, §5),
// attribute framing (§14), MESSAGE-INTEGRITY (§14.5), MESSAGE-INTEGRITY-SHA256 (§14.6, parsed
// only), FINGERPRINT (§14.7) and the credential keys (§9.1.1 short-term, §9.2.2 long-term).
// TURN methods from RFC 8656 §17. Decoding never traps: every failure is a `STUNError` value.
import CZlib
import SystemCrypto

/// The 96-bit transaction id (RFC 8489 §5).
public struct STUNTransactionID: Sendable, Hashable, CustomStringConvertible {
    /// Always 12 bytes.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 12 else { return nil }
        self.bytes = bytes
    }

    /// RFC 8489 §6: ids must be uniformly and cryptographically random, so off-path attackers
    /// cannot forge responses; SystemRandomNumberGenerator is the OS CSPRNG (getrandom on Linux).
    public static func random() -> STUNTransactionID {
        var rng = SystemRandomNumberGenerator()
        return STUNTransactionID(unchecked: (0..<12).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// The message class (RFC 8489 §5: bits C1 C0 of the message type).
public enum STUNClass: UInt16, Sendable, Hashable, CaseIterable {
    case request = 0b00
    case indication = 0b01
    case successResponse = 0b10
    case errorResponse = 0b11
}

/// The 12-bit method (RFC 8489 §5, §18.2; TURN methods RFC 8656 §17). Open struct so that a
/// message with an unknown method still decodes (the agent answers 400 rather than dropping it).
public struct STUNMethod: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    /// Values above 0xFFF do not fit the 12-bit field and are rejected.
    public init?(rawValue: UInt16) {
        guard rawValue <= 0xFFF else { return nil }
        self.rawValue = rawValue
    }
    private init(_ v: UInt16) { rawValue = v }

    public static let binding = STUNMethod(0x001)
    public static let allocate = STUNMethod(0x003)
    public static let refresh = STUNMethod(0x004)
    public static let send = STUNMethod(0x006)
    public static let data = STUNMethod(0x007)
    public static let createPermission = STUNMethod(0x008)
    public static let channelBind = STUNMethod(0x009)

    public var description: String {
        switch rawValue {
        case 0x001: "Binding"
        case 0x003: "Allocate"
        case 0x004: "Refresh"
        case 0x006: "Send"
        case 0x007: "Data"
        case 0x008: "CreatePermission"
        case 0x009: "ChannelBind"
        default: "Method(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// Why bytes are not an acceptable STUN message, or why a TURN frame is invalid.
public enum STUNError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Fewer than the 20 header bytes.
    case tooShort(Int)
    /// The two most significant bits are not zero (RFC 8489 §5): not STUN at all.
    case notSTUN(firstByte: UInt8)
    /// The magic cookie is not 0x2112A442 (RFC 8489 §5; RFC 3489 messages are not supported).
    case badMagicCookie(UInt32)
    /// The length field is not a multiple of 4 (RFC 8489 §5).
    case lengthNotMultipleOfFour(Int)
    /// The length field disagrees with the bytes received.
    case lengthMismatch(declared: Int, available: Int)
    /// An attribute header or padded value runs past the end of the message (RFC 8489 §14).
    case truncatedAttribute(type: UInt16, offset: Int)
    /// A known attribute's value has the wrong size or content.
    case malformedAttribute(STUNAttributeType, String)
    /// FINGERPRINT is present but is not the last attribute (RFC 8489 §14.7).
    case fingerprintNotLast
    /// TURN ChannelData (RFC 8656 §12.4): channel number outside 0x4000-0x4FFF.
    case invalidChannelNumber(UInt16)
    /// TURN ChannelData shorter than its header or its declared length.
    case channelDataTruncated(declared: Int, available: Int)
    /// TURN ChannelData payload longer than the 16-bit length field allows.
    case channelDataTooLong(Int)

    public var description: String {
        switch self {
        case .tooShort(let n): "STUN message too short: \(n) bytes, header needs 20"
        case .notSTUN(let b): "not STUN: first byte 0x\(String(b, radix: 16)) has its top two bits set"
        case .badMagicCookie(let c): "bad STUN magic cookie 0x\(String(c, radix: 16))"
        case .lengthNotMultipleOfFour(let n): "STUN length \(n) is not a multiple of 4"
        case .lengthMismatch(let d, let a): "STUN length \(d) but \(a) attribute bytes present"
        case .truncatedAttribute(let t, let o): "STUN attribute 0x\(String(t, radix: 16)) at offset \(o) is truncated"
        case .malformedAttribute(let t, let why): "malformed STUN attribute \(t): \(why)"
        case .fingerprintNotLast: "FINGERPRINT is not the last STUN attribute"
        case .invalidChannelNumber(let n): "TURN channel number 0x\(String(n, radix: 16)) not in 0x4000-0x4FFF"
        case .channelDataTruncated(let d, let a): "ChannelData declares \(d) bytes but \(a) present"
        case .channelDataTooLong(let n): "ChannelData payload of \(n) bytes exceeds 65535"
        }
    }
}

/// A STUN message (RFC 8489 §5): class, method, transaction id and ordered attributes.
///
/// Decoded messages keep the bytes they came from (`rawBytes`) because MESSAGE-INTEGRITY and
/// FINGERPRINT are checked against what was received, not against a re-encoding.
public struct STUNMessage: Sendable, Equatable {
    /// RFC 8489 §5: fixed value that tells STUN apart from other protocols and RFC 3489.
    public static let magicCookie: UInt32 = 0x2112_A442
    public static let headerLength = 20
    /// RFC 8489 §14.7: XORed into the CRC so a FINGERPRINT cannot be mistaken for another protocol's CRC.
    public static let fingerprintXOR: UInt32 = 0x5354_554E

    public var messageClass: STUNClass
    public var method: STUNMethod
    public var transactionID: STUNTransactionID
    /// In wire order. For decoded messages, attributes after MESSAGE-INTEGRITY other than
    /// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT have been dropped (RFC 8489 §14.5: they are
    /// unauthenticated and must be ignored).
    public var attributes: [STUNAttribute]

    /// The received bytes, for decoded messages; nil for messages built locally.
    public private(set) var rawBytes: [UInt8]?
    /// Offsets (into `rawBytes`) of the first MESSAGE-INTEGRITY and of FINGERPRINT headers.
    private var integrityOffset: Int?
    private var fingerprintOffset: Int?

    public init(_ messageClass: STUNClass, _ method: STUNMethod,
                transactionID: STUNTransactionID = .random(), attributes: [STUNAttribute] = []) {
        self.messageClass = messageClass
        self.method = method
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// Equality of content (class, method, id, attributes); where the bytes came from is ignored.
    public static func == (lhs: STUNMessage, rhs: STUNMessage) -> Bool {
        lhs.messageClass == rhs.messageClass && lhs.method == rhs.method
            && lhs.transactionID == rhs.transactionID && lhs.attributes == rhs.attributes
    }

    // MARK: Message type (RFC 8489 §5, figure 3)

    /// Interleaves the method bits M0-M11 with the class bits C0 (bit 4) and C1 (bit 8).
    static func messageType(_ c: STUNClass, _ m: STUNMethod) -> UInt16 {
        let method = m.rawValue
        let cls = c.rawValue
        return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
            | ((cls & 0b01) << 4) | ((cls & 0b10) << 7)
    }

    static func split(messageType t: UInt16) -> (STUNClass, STUNMethod) {
        let cls = ((t >> 4) & 0b01) | ((t >> 7) & 0b10)
        let method = (t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80)
        // Both are in range by construction (2 bits, 12 bits).
        return (STUNClass(rawValue: cls) ?? .request, STUNMethod(rawValue: method) ?? .binding)
    }

    // MARK: Attributes

    public mutating func append(_ attribute: STUNAttribute) {
        attributes.append(attribute)
    }

    /// Appends a typed attribute (XOR addresses are encoded with this message's transaction id,
    /// so set the id first).
    public mutating func append(_ value: STUNAttributeValue) {
        attributes.append(value.encode(transactionID: transactionID))
    }

    public func attribute(_ type: STUNAttributeType) -> STUNAttribute? {
        attributes.first { $0.type == type }
    }

    /// Every attribute as a typed value (malformed ones, impossible after `decode`, become `.other`).
    public var values: [STUNAttributeValue] {
        attributes.map { (try? STUNAttributeValue($0, transactionID: transactionID)) ?? .other($0) }
    }

    func value(_ type: STUNAttributeType) -> STUNAttributeValue? {
        guard let a = attribute(type) else { return nil }
        return try? STUNAttributeValue(a, transactionID: transactionID)
    }

    /// Comprehension-required attribute types this implementation does not understand
    /// (RFC 8489 §6.3.1: a request with any gets a 420 listing them in UNKNOWN-ATTRIBUTES).
    public var unknownComprehensionRequired: [STUNAttributeType] {
        var seen: [STUNAttributeType] = []
        for a in attributes where a.type.isComprehensionRequired
            && !STUNAttributeType.understood.contains(a.type) && !seen.contains(a.type) {
            seen.append(a.type)
        }
        return seen
    }

    // MARK: Typed accessors

    public var mappedAddress: STUNAddress? {
        if case .mappedAddress(let a) = value(.mappedAddress) { a } else { nil }
    }
    public var xorMappedAddress: STUNAddress? {
        if case .xorMappedAddress(let a) = value(.xorMappedAddress) { a } else { nil }
    }
    public var alternateServer: STUNAddress? {
        if case .alternateServer(let a) = value(.alternateServer) { a } else { nil }
    }
    public var username: String? {
        if case .username(let s) = value(.username) { s } else { nil }
    }
    public var realm: String? {
        if case .realm(let s) = value(.realm) { s } else { nil }
    }
    public var nonce: String? {
        if case .nonce(let s) = value(.nonce) { s } else { nil }
    }
    public var software: String? {
        if case .software(let s) = value(.software) { s } else { nil }
    }
    public var errorCode: STUNErrorCode? {
        if case .errorCode(let e) = value(.errorCode) { e } else { nil }
    }
    public var unknownAttributes: [STUNAttributeType]? {
        if case .unknownAttributes(let t) = value(.unknownAttributes) { t } else { nil }
    }
    public var messageIntegrity: [UInt8]? {
        if case .messageIntegrity(let m) = value(.messageIntegrity) { m } else { nil }
    }
    public var messageIntegritySHA256: [UInt8]? {
        if case .messageIntegritySHA256(let m) = value(.messageIntegritySHA256) { m } else { nil }
    }
    public var fingerprint: UInt32? {
        if case .fingerprint(let f) = value(.fingerprint) { f } else { nil }
    }
    public var priority: UInt32? {
        if case .priority(let p) = value(.priority) { p } else { nil }
    }
    public var useCandidate: Bool { attribute(.useCandidate) != nil }
    public var iceControlled: UInt64? {
        if case .iceControlled(let t) = value(.iceControlled) { t } else { nil }
    }
    public var iceControlling: UInt64? {
        if case .iceControlling(let t) = value(.iceControlling) { t } else { nil }
    }
    public var channelNumber: UInt16? {
        if case .channelNumber(let n) = value(.channelNumber) { n } else { nil }
    }
    public var lifetime: UInt32? {
        if case .lifetime(let l) = value(.lifetime) { l } else { nil }
    }
    /// RFC 8656 §18.3: CreatePermission may carry several.
    public var xorPeerAddresses: [STUNAddress] {
        values.compactMap { if case .xorPeerAddress(let a) = $0 { a } else { nil } }
    }
    /// RFC 8656 §18.5: a dual-stack allocation returns one per family.
    public var xorRelayedAddresses: [STUNAddress] {
        values.compactMap { if case .xorRelayedAddress(let a) = $0 { a } else { nil } }
    }
    public var data: [UInt8]? {
        if case .data(let d) = value(.data) { d } else { nil }
    }
    public var requestedTransport: UInt8? {
        if case .requestedTransport(let p) = value(.requestedTransport) { p } else { nil }
    }
    public var dontFragment: Bool { attribute(.dontFragment) != nil }

    // MARK: Encoding (RFC 8489 §5, §14)

    /// The wire bytes. Any MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT in
    /// `attributes` are left out and regenerated: their values depend on the final bytes.
    /// With a key, MESSAGE-INTEGRITY (HMAC-SHA1, §14.5) is appended; with `fingerprint`,
    /// FINGERPRINT (§14.7) comes last, the order ICE requires (RFC 8445 §7.2.2).
    public func encode(integrityKey: [UInt8]? = nil, fingerprint: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(STUNMessage.headerLength + attributes.count * 12 + 32)
        out.appendUInt16(STUNMessage.messageType(messageClass, method))
        out.appendUInt16(0)  // length, set below
        out.appendUInt32(STUNMessage.magicCookie)
        out.append(contentsOf: transactionID.bytes)
        for a in attributes
            where a.type != .messageIntegrity && a.type != .messageIntegritySHA256 && a.type != .fingerprint {
            a.write(to: &out)
        }
        if let integrityKey {
            // §14.5: the HMAC input is the message up to MESSAGE-INTEGRITY with the length field
            // already counting the MESSAGE-INTEGRITY attribute (24 bytes) but not FINGERPRINT.
            out.setUInt16(UInt16(truncatingIfNeeded: out.count - STUNMessage.headerLength + 24), at: 2)
            let mac = STUNMessage.hmacSHA1(key: integrityKey, message: out)
            STUNAttribute(type: .messageIntegrity, value: mac).write(to: &out)
        }
        if fingerprint {
            // §14.7: the CRC input is the message up to FINGERPRINT with the length field
            // already counting FINGERPRINT (8 bytes).
            out.setUInt16(UInt16(truncatingIfNeeded: out.count - STUNMessage.headerLength + 8), at: 2)
            let crc = STUNMessage.crc32(out) ^ STUNMessage.fingerprintXOR
            var value: [UInt8] = []
            value.appendUInt32(crc)
            STUNAttribute(type: .fingerprint, value: value).write(to: &out)
        }
        out.setUInt16(UInt16(truncatingIfNeeded: out.count - STUNMessage.headerLength), at: 2)
        return out
    }

    // MARK: Decoding (RFC 8489 §5, §6.3, §14)

    /// Decodes and validates one message occupying exactly `bytes` (a UDP datagram).
    /// Known attributes are checked for shape; unknown ones are kept as they are.
    public static func decode(_ bytes: [UInt8]) throws(STUNError) -> STUNMessage {
        guard bytes.count >= headerLength else { throw .tooShort(bytes.count) }
        guard bytes[0] & 0xC0 == 0 else { throw .notSTUN(firstByte: bytes[0]) }
        let cookie = bytes.readUInt32(at: 4)
        guard cookie == magicCookie else { throw .badMagicCookie(cookie) }
        let length = Int(bytes.readUInt16(at: 2))
        guard length % 4 == 0 else { throw .lengthNotMultipleOfFour(length) }
        guard headerLength + length == bytes.count else {
            throw .lengthMismatch(declared: length, available: bytes.count - headerLength)
        }
        let (cls, method) = split(messageType: bytes.readUInt16(at: 0))
        let transactionID = STUNTransactionID(unchecked: Array(bytes[8..<20]))

        var attributes: [STUNAttribute] = []
        var integrityOffset: Int?
        var fingerprintOffset: Int?
        var offset = headerLength
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else {
                throw .truncatedAttribute(type: 0, offset: offset)
            }
            let type = STUNAttributeType(rawValue: bytes.readUInt16(at: offset))
            let valueLength = Int(bytes.readUInt16(at: offset + 2))
            let valueStart = offset + 4
            let padded = valueLength + STUNAttribute.paddingLength(valueLength)
            guard valueStart + padded <= bytes.count else {
                throw .truncatedAttribute(type: type.rawValue, offset: offset)
            }
            if fingerprintOffset != nil { throw .fingerprintNotLast }
            let attribute = STUNAttribute(
                type: type,
                value: Array(bytes[valueStart..<(valueStart + valueLength)]),
                padding: Array(bytes[(valueStart + valueLength)..<(valueStart + padded)]))
            // Validate known shapes now, so typed accessors never see a malformed value.
            _ = try STUNAttributeValue(attribute, transactionID: transactionID)

            switch type {
            case .messageIntegrity where integrityOffset == nil:
                integrityOffset = offset
                attributes.append(attribute)
            case .fingerprint:
                fingerprintOffset = offset
                attributes.append(attribute)
            case .messageIntegritySHA256:
                attributes.append(attribute)
            default:
                // §14.5: after MESSAGE-INTEGRITY everything but MI-SHA256 and FINGERPRINT is ignored.
                if integrityOffset == nil { attributes.append(attribute) }
            }
            offset = valueStart + padded
        }

        var message = STUNMessage(cls, method, transactionID: transactionID, attributes: attributes)
        message.rawBytes = bytes
        message.integrityOffset = integrityOffset
        message.fingerprintOffset = fingerprintOffset
        return message
    }

    // MARK: Integrity and fingerprint checks on received bytes

    /// Checks MESSAGE-INTEGRITY (RFC 8489 §14.5) of the received bytes with `key`
    /// (`shortTermKey` for ICE, `longTermKey` for TURN). False when absent or not decoded.
    public func validateIntegrity(key: [UInt8]) -> Bool {
        guard let raw = rawBytes, let offset = integrityOffset,
              offset + 24 <= raw.count else { return false }
        var covered = Array(raw[0..<offset])
        // The length field as the sender saw it when computing the HMAC: up to the end of MI.
        covered.setUInt16(UInt16(truncatingIfNeeded: offset + 24 - STUNMessage.headerLength), at: 2)
        let mac = raw[(offset + 4)..<(offset + 24)]
        // Compared in constant time, so timing leaks nothing about the MAC.
        return constantTimeEquals(HMACSHA1.authenticationCode(key: key, message: covered), mac)
    }

    /// Checks FINGERPRINT (RFC 8489 §14.7) of the received bytes. False when absent.
    public func validateFingerprint() -> Bool {
        guard let raw = rawBytes, let offset = fingerprintOffset, offset + 8 == raw.count else { return false }
        let expected = STUNMessage.crc32(raw[0..<offset]) ^ STUNMessage.fingerprintXOR
        return raw.readUInt32(at: offset + 4) == expected
    }

    /// True when the received bytes carried MESSAGE-INTEGRITY.
    public var hasIntegrity: Bool { integrityOffset != nil }

    // MARK: Keys (RFC 8489 §9)

    /// Short-term credential key (RFC 8489 §9.1.1): the password itself, after OpaqueString
    /// preparation. ICE passwords (RFC 8445 §5.3) are printable ASCII, for which preparation is
    /// the identity, so the UTF-8 bytes are used as given.
    public static func shortTermKey(password: String) -> [UInt8] {
        Array(password.utf8)
    }

    /// Long-term credential key (RFC 8489 §9.2.2, RFC 5389 §15.4, used by TURN):
    /// MD5(username ":" realm ":" password). Inputs must already be prepared (SASLprep /
    /// OpaqueString); this does not normalise them.
    public static func longTermKey(username: String, realm: String, password: String) -> [UInt8] {
        InsecureMD5.hash(Array("\(username):\(realm):\(password)".utf8))
    }

    // MARK: Primitives

    static func hmacSHA1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        HMACSHA1.authenticationCode(key: key, message: message)
    }

    /// zlib's CRC-32 (ISO 3309 polynomial, as RFC 8489 §14.7 requires).
    static func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBufferPointer { buffer in
            UInt32(truncatingIfNeeded: CZlib.crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
    }
}
