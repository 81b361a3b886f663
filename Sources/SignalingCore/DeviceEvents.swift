import Foundation

// The device channel (issue #3 item 5, issue #7 item 8): an appliance joins the server as a device,
// an administrator posts a signed configuration for it, the server stores the latest one per device and
// relays it, and the appliance verifies, applies and answers with the result.
//
// The server never verifies signatures and does not hold the signing key; the device does not need to
// trust the server. So the signed document travels as a string: the exact bytes the administrator
// signed reach the device however the JSON around them is re-encoded on the way.

/// Socket.IO event names of the device channel.
public enum DeviceEventName {
    /// Device → server, with an ack: ``DeviceHello``.
    public static let hello = "device:hello"
    /// Server → device: ``SignedDeviceConfig``.
    public static let config = "device:config"
    /// Device → server: ``DeviceConfigResult``.
    public static let configResult = "device:config:result"
}

/// Rules shared by the device-channel types.
public enum DeviceRules {
    /// Longest device id.
    public static let maxDeviceIdLength = 64
    /// Largest version (the largest integer a JSON number carries exactly: JavaScript's
    /// `Number.MAX_SAFE_INTEGER`; versions pass through JavaScript and through `Double` on the wire).
    public static let maxVersion = 9_007_199_254_740_991
    /// Default bound on ``SignedDeviceConfig/document`` (UTF-8 bytes).
    public static let maxDocumentBytes = 65_536
    /// An Ed25519 signature.
    public static let signatureBytes = 64
    /// Longest ``SignedDeviceConfig/keyId``.
    public static let maxKeyIdLength = 128
    /// Bounds on what a device reports in ``DeviceConfigResult/errors``.
    public static let maxResultErrors = 32
    public static let maxResultErrorLength = 1024

    /// 1...64 characters of `A-Z a-z 0-9 . _ : -` (safe in a URL path, a file name and a log line).
    public static func isValidDeviceId(_ id: String) -> Bool {
        let bytes = id.utf8
        guard (1...maxDeviceIdLength).contains(bytes.count) else { return false }
        return bytes.allSatisfy { b in
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    static func checkDeviceId(_ id: String, event: String) throws(SignalingDecodeError) {
        guard isValidDeviceId(id) else {
            throw .badPayload(event: event, reason:
                "'deviceId' must be 1...\(maxDeviceIdLength) characters of A-Z a-z 0-9 . _ : -")
        }
    }

    static func checkVersion(_ version: Int, field: String, minimum: Int, event: String) throws(SignalingDecodeError) {
        guard (minimum...maxVersion).contains(version) else {
            throw .badPayload(event: event, reason: "'\(field)' must be an integer in \(minimum)...\(maxVersion), not \(version)")
        }
    }
}

extension KeyedDecodingContainer {
    /// An integer field read as a JSON number: Foundation's own `Int` decoding reports a fractional
    /// number as "not valid JSON" without naming the field (and numbers cross JavaScript as doubles).
    func decodeWholeNumber(_ key: Key) throws -> Int {
        let n = try decode(Double.self, forKey: key)
        guard n.rounded() == n, abs(n) <= Double(DeviceRules.maxVersion) + 1 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self,
                                                   debugDescription: "\(n) is not a whole number of at most 2^53")
        }
        return Int(n)
    }
}

// MARK: device:hello

/// What an appliance says when it joins as a device: who it is and which configuration version it runs
/// (0 when it has never applied a remote one). Sent with an ack.
public struct DeviceHello: Codable, Sendable, Equatable {
    public var deviceId: String
    public var configVersion: Int

    public init(deviceId: String, configVersion: Int) {
        self.deviceId = deviceId
        self.configVersion = configVersion
    }

    enum CodingKeys: String, CodingKey { case deviceId, configVersion }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deviceId = try c.decode(String.self, forKey: .deviceId)
        configVersion = try c.decodeWholeNumber(.configVersion)
    }

    /// Throws `.badPayload(event: "device:hello", …)` naming the bad field.
    public func validate() throws(SignalingDecodeError) {
        try DeviceRules.checkDeviceId(deviceId, event: DeviceEventName.hello)
        try DeviceRules.checkVersion(configVersion, field: "configVersion", minimum: 0, event: DeviceEventName.hello)
    }

    /// `self`, once ``validate()`` passed.
    public func validated() throws(SignalingDecodeError) -> DeviceHello {
        try validate()
        return self
    }

    /// Decodes and validates the event's payload.
    public static func decode(_ payload: JSONValue) throws(SignalingDecodeError) -> DeviceHello {
        try payload.decode(DeviceHello.self, event: DeviceEventName.hello).validated()
    }

    public var json: JSONValue {
        .object(["deviceId": .string(deviceId), "configVersion": .number(Double(configVersion))])
    }
}

// MARK: device:config

/// A configuration document signed by an administrator for one device.
///
/// `document` is the exact JSON text that was signed (a JSON object; it should name `deviceId` and
/// `version` too, so that the signature covers them: the appliance checks they match). `signature` is
/// standard base64 of the Ed25519 signature over the UTF-8 bytes of `document`. `keyId` optionally names
/// the admin key, for rotation. The server checks the shape (``validate(maxDocumentBytes:)``) but never
/// the signature.
public struct SignedDeviceConfig: Codable, Sendable, Equatable {
    public var deviceId: String
    public var version: Int
    public var document: String
    public var signature: String
    public var keyId: String?

    public init(deviceId: String, version: Int, document: String, signature: String, keyId: String? = nil) {
        self.deviceId = deviceId
        self.version = version
        self.document = document
        self.signature = signature
        self.keyId = keyId
    }

    enum CodingKeys: String, CodingKey { case deviceId, version, document, signature, keyId }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deviceId = try c.decode(String.self, forKey: .deviceId)
        version = try c.decodeWholeNumber(.version)
        document = try c.decode(String.self, forKey: .document)
        signature = try c.decode(String.self, forKey: .signature)
        keyId = try c.decodeIfPresent(String.self, forKey: .keyId)
    }

    /// Checks the shape: `deviceId` (as in ``DeviceHello``), `version` ≥ 1, `document` a non-empty JSON
    /// object of at most `maxDocumentBytes` UTF-8 bytes, `signature` base64 of 64 bytes, `keyId` (if
    /// present) 1...128 characters without control characters. Throws `.badPayload(event:
    /// "device:config", …)` naming the bad field.
    public func validate(maxDocumentBytes: Int = DeviceRules.maxDocumentBytes) throws(SignalingDecodeError) {
        let event = DeviceEventName.config
        try DeviceRules.checkDeviceId(deviceId, event: event)
        try DeviceRules.checkVersion(version, field: "version", minimum: 1, event: event)

        let size = document.utf8.count
        guard size > 0 else { throw .badPayload(event: event, reason: "'document' is empty") }
        guard size <= maxDocumentBytes else {
            throw .badPayload(event: event, reason: "'document' is \(size) bytes, over the limit of \(maxDocumentBytes)")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(Substring(document))
        } catch {
            throw .badPayload(event: event, reason: "'document' is not JSON text: \(error)")
        }
        guard case .object = parsed else {
            throw .badPayload(event: event, reason: "'document' is JSON but not an object")
        }

        guard let signatureBytes = Data(base64Encoded: signature) else {
            throw .badPayload(event: event, reason: "'signature' is not valid base64")
        }
        guard signatureBytes.count == DeviceRules.signatureBytes else {
            throw .badPayload(event: event, reason:
                "'signature' decodes to \(signatureBytes.count) bytes, not the \(DeviceRules.signatureBytes) of an Ed25519 signature")
        }

        if let keyId {
            guard (1...DeviceRules.maxKeyIdLength).contains(keyId.count),
                  !keyId.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .badPayload(event: event, reason:
                    "'keyId' must be 1...\(DeviceRules.maxKeyIdLength) characters without control characters")
            }
        }
    }

    /// `self`, once ``validate(maxDocumentBytes:)`` passed.
    public func validated(maxDocumentBytes: Int = DeviceRules.maxDocumentBytes) throws(SignalingDecodeError) -> SignedDeviceConfig {
        try validate(maxDocumentBytes: maxDocumentBytes)
        return self
    }

    /// Decodes and validates a payload (the body of `POST /api/devices/{id}/config`, or the event's).
    public static func decode(_ payload: JSONValue,
                              maxDocumentBytes: Int = DeviceRules.maxDocumentBytes) throws(SignalingDecodeError) -> SignedDeviceConfig {
        try payload.decode(SignedDeviceConfig.self, event: DeviceEventName.config).validated(maxDocumentBytes: maxDocumentBytes)
    }

    /// The Ed25519 signature's bytes, or `nil` when `signature` is not base64.
    public var signatureData: Data? { Data(base64Encoded: signature) }

    /// The bytes the signature covers.
    public var signedBytes: Data { Data(document.utf8) }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "deviceId": .string(deviceId), "version": .number(Double(version)),
            "document": .string(document), "signature": .string(signature),
        ]
        if let keyId { members["keyId"] = .string(keyId) }
        return .object(members)
    }
}

// MARK: device:config:result

/// A device's answer to a ``SignedDeviceConfig``: whether it applied `version`, and if not why.
public struct DeviceConfigResult: Codable, Sendable, Equatable {
    public var version: Int
    public var ok: Bool
    public var errors: [String]

    public init(version: Int, ok: Bool, errors: [String] = []) {
        self.version = version
        self.ok = ok
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey { case version, ok, errors }

    /// `errors` may be omitted (an accepted update has none).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decodeWholeNumber(.version)
        ok = try c.decode(Bool.self, forKey: .ok)
        errors = try c.decodeIfPresent([String].self, forKey: .errors) ?? []
    }

    /// `version` ≥ 0 (a device may refuse an update it could not even read the version of), at most 32
    /// errors of at most 1024 characters each (the server stores them). Throws `.badPayload(event:
    /// "device:config:result", …)` naming the bad field.
    public func validate() throws(SignalingDecodeError) {
        let event = DeviceEventName.configResult
        try DeviceRules.checkVersion(version, field: "version", minimum: 0, event: event)
        guard errors.count <= DeviceRules.maxResultErrors else {
            throw .badPayload(event: event, reason: "'errors' has \(errors.count) entries, over the limit of \(DeviceRules.maxResultErrors)")
        }
        if let index = errors.firstIndex(where: { $0.count > DeviceRules.maxResultErrorLength }) {
            throw .badPayload(event: event, reason: "'errors[\(index)]' is longer than \(DeviceRules.maxResultErrorLength) characters")
        }
    }

    /// `self`, once ``validate()`` passed.
    public func validated() throws(SignalingDecodeError) -> DeviceConfigResult {
        try validate()
        return self
    }

    /// Decodes and validates the event's payload.
    public static func decode(_ payload: JSONValue) throws(SignalingDecodeError) -> DeviceConfigResult {
        try payload.decode(DeviceConfigResult.self, event: DeviceEventName.configResult).validated()
    }

    public var json: JSONValue {
        .object(["version": .number(Double(version)), "ok": .bool(ok), "errors": .array(errors.map(JSONValue.string))])
    }
}
