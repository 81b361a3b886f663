// The signed remote-configuration document (issue #7 item 8) carried by SignalingCore's
// SignedDeviceConfig: the administrator signs, with Ed25519 (RFC 8032, the system libcrypto), the exact UTF-8
// bytes of a JSON object
//
//     {"deviceId": "kitchen-1", "version": 7,
//      "settings": {"signaling": {"room": "grandma"}, "call": {"auto_answer": "after", "auto_answer_delay": 3}}}
//
// `settings` uses the TOML file's sections and keys (nested objects or dotted names). `deviceId` and
// `version` are inside the signed bytes because the envelope around them is not signed: a replayed
// document cannot be dressed up with a new version.
import SystemCrypto
import Foundation
import SignalingCore
import TOMLConfig

public enum RemoteConfigDocument {
    /// Builds the document text (sorted keys, compact) from dotted-key settings.
    public static func make(deviceId: String, version: Int, settings: [String: TOMLValue]) -> String {
        var tree: [String: JSONValue] = [:]
        for (key, value) in settings {
            insert(json(value), at: key.split(separator: ".").map(String.init)[...], into: &tree)
        }
        let doc: JSONValue = .object(["deviceId": .string(deviceId), "version": .number(Double(version)), "settings": .object(tree)])
        return doc.serialized()
    }

    /// Signs a document with an administrator key: what `videophone sign-config` produces and
    /// `POST /api/devices/{id}/config` takes.
    public static func sign(deviceId: String, version: Int, settings: [String: TOMLValue],
                            key: Ed25519PrivateKey, keyId: String? = nil) throws -> SignedDeviceConfig {
        let document = make(deviceId: deviceId, version: version, settings: settings)
        let signature = Data(try key.signature(for: Array(document.utf8)))
        return SignedDeviceConfig(deviceId: deviceId, version: version, document: document,
                                  signature: signature.base64EncodedString(), keyId: keyId)
    }

    /// A new administrator key pair as base64 (private: the 32-byte seed; public: 32 bytes for
    /// `admin.public_keys`).
    public static func generateKeyPair() -> (privateKey: String, publicKey: String) {
        let key = Ed25519PrivateKey()
        return (Data(key.rawRepresentation).base64EncodedString(), Data(key.publicKey.rawRepresentation).base64EncodedString())
    }

    /// The parsed content of a verified document.
    public struct Content: Sendable, Equatable {
        public var deviceId: String
        public var version: Int
        public var settings: [String: TOMLValue]
    }

    /// Parses the (already signature-checked) document; every problem is reported.
    public static func parse(_ text: String) -> Result<Content, RemoteConfigRefusal> {
        let doc: JSONValue
        do { doc = try JSONValue.parse(Substring(text)) } catch {
            return .failure(.malformed(["document: not JSON (\(error))"]))
        }
        guard case .object(let top) = doc else { return .failure(.malformed(["document: not a JSON object"])) }
        var problems: [String] = []
        let deviceId = top["deviceId"]?.stringValue
        if deviceId == nil { problems.append("document.deviceId: missing (it must be signed with the settings)") }
        var version: Int?
        if case .number(let n)? = top["version"], n.rounded() == n, n >= 1, n <= Double(DeviceRules.maxVersion) {
            version = Int(n)
        } else {
            problems.append("document.version: missing or not a whole number ≥ 1 (it must be signed with the settings)")
        }
        var settings: [String: TOMLValue] = [:]
        switch top["settings"] {
        case .object(let tree)?: flatten(tree, prefix: "", into: &settings, problems: &problems)
        case nil: problems.append("document.settings: missing")
        default: problems.append("document.settings: expected an object of sections")
        }
        for key in top.keys where !["deviceId", "version", "settings"].contains(key) {
            problems.append("document.\(key): unknown field")
        }
        guard problems.isEmpty, let deviceId, let version else { return .failure(.malformed(problems)) }
        return .success(Content(deviceId: deviceId, version: version, settings: settings))
    }

    private static func flatten(_ tree: [String: JSONValue], prefix: String, into out: inout [String: TOMLValue],
                                problems: inout [String]) {
        for (k, v) in tree {
            let key = prefix.isEmpty ? k : prefix + "." + k
            switch v {
            case .object(let sub): flatten(sub, prefix: key, into: &out, problems: &problems)
            default:
                if let t = toml(v) { out[key] = t } else { problems.append("\(key): null, nested lists and objects in lists are not settings") }
            }
        }
    }

    static func toml(_ v: JSONValue) -> TOMLValue? {
        switch v {
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9_007_199_254_740_992 { return .integer(Int(n)) }
            return n.isFinite ? .float(n) : nil
        case .array(let a):
            var items: [TOMLValue] = []
            for item in a {
                if case .array = item { return nil }
                if case .object = item { return nil }
                guard let t = toml(item) else { return nil }
                items.append(t)
            }
            return .array(items)
        case .null, .object: return nil
        }
    }

    static func json(_ v: TOMLValue) -> JSONValue {
        switch v {
        case .string(let s): return .string(s)
        case .integer(let i): return .number(Double(i))
        case .float(let d): return .number(d)
        case .bool(let b): return .bool(b)
        case .array(let a): return .array(a.map(json))
        }
    }

    private static func insert(_ value: JSONValue, at path: ArraySlice<String>, into tree: inout [String: JSONValue]) {
        guard let head = path.first else { return }
        if path.count == 1 { tree[head] = value; return }
        var sub: [String: JSONValue] = [:]
        if case .object(let existing)? = tree[head] { sub = existing }
        insert(value, at: path.dropFirst(), into: &sub)
        tree[head] = .object(sub)
    }
}

/// Why an update was refused (each becomes `errors` of the `device:config:result`).
public enum RemoteConfigRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case disabled(String)
    case badEnvelope(String)
    case wrongDevice(expected: String, got: String)
    case badSignature
    case stale(version: Int, applied: Int)
    case malformed([String])
    case invalidSettings([String])
    case storage(String)

    public var reasons: [String] {
        switch self {
        case .disabled(let why): return ["remote configuration is disabled: \(why)"]
        case .badEnvelope(let why): return ["bad update: \(why)"]
        case .wrongDevice(let expected, let got): return ["update is for device \"\(got)\", this is \"\(expected)\""]
        case .badSignature: return ["signature does not verify with any key in admin.public_keys"]
        case .stale(let version, let applied): return ["version \(version) is not above the applied version \(applied) (replayed or old update)"]
        case .malformed(let p): return p
        case .invalidSettings(let p): return p
        case .storage(let why): return ["could not save the configuration: \(why)"]
        }
    }

    public var description: String { reasons.joined(separator: "; ") }
}
