import Foundation

/// A JSON document as a value: what Socket.IO event arguments are on the wire.
///
/// Only the codec and the typed-event layer touch it; every other module sees typed events.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else if let o = try? container.decode([String: JSONValue].self) {
            self = .object(o)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n):
            // Integers print without a fraction, as JavaScript's JSON.stringify does.
            if n.rounded() == n, abs(n) < 9_007_199_254_740_992 { try container.encode(Int64(n)) } else { try container.encode(n) }
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension JSONValue {
    /// Parses JSON text. Throws `SignalingDecodeError.malformedJSON` rather than trapping on any input.
    public static func parse(_ text: Substring) throws(SignalingDecodeError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw .malformedJSON(String(describing: error).prefix(200).description)
        }
    }

    /// Compact JSON text with sorted keys (stable output for tests and logs).
    public func serialized() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: every case maps to a JSON primitive.
        let data = (try? encoder.encode(self)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Converts any Encodable (a typed event payload) into a JSON value.
    public init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Decodes a typed payload from this value; a mismatch is a `SignalingDecodeError.badPayload`.
    /// `field` is where this value sits in the event payload (e.g. "offer"); reasons name paths from there.
    public func decode<T: Decodable>(_ type: T.Type, event: String, field: String? = nil) throws(SignalingDecodeError) -> T {
        do {
            let data = try JSONEncoder().encode(self)
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .badPayload(event: event, reason: Self.describe(error, under: field))
        }
    }

    /// A reason naming the offending field by its path in the payload ("offer.type", "users[1].name").
    static func describe(_ error: any Error, under field: String? = nil) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce(field ?? "") { path, key in
                if let index = key.intValue { return path + "[\(index)]" }
                return path.isEmpty ? key.stringValue : path + "." + key.stringValue
            }
        }
        switch error {
        case DecodingError.keyNotFound(let key, let ctx): return "missing field '\(path(ctx.codingPath + [key]))'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at '\(path(ctx.codingPath))': \(ctx.debugDescription)"
        case DecodingError.dataCorrupted(let ctx):
            let at = path(ctx.codingPath)
            return at.isEmpty ? ctx.debugDescription : "invalid value at '\(at)': \(ctx.debugDescription)"
        default: return String(describing: error)
        }
    }
}
