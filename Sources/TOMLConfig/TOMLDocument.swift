/// The subset of TOML v1.0 (https://toml.io/en/v1.0.0) that videophone's config files use:
/// `[table]` and `[table.sub]` headers, `key = value` with bare or quoted keys, basic and literal
/// strings (with the standard escapes), integers (with `_`), floats, booleans, single-line arrays of
/// those, and `#` comments. Anything else is rejected with the line number, never guessed at.
///
/// Written here because the one TOML package in the machine's mirror (TOMLKit) depends on a package
/// the mirror lacks; the subset is small and fully tested.
public enum TOMLValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .integer(let i): return String(i)
        case .float(let d): return String(d)
        case .bool(let b): return String(b)
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public init(line: Int, reason: String) { self.line = line; self.reason = reason }
    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

/// A parsed file: values by dotted path (`"server.port"`), in file order.
public struct TOMLDocument: Sendable, Equatable {
    public private(set) var values: [String: TOMLValue] = [:]
    public private(set) var keys: [String] = []

    public init(parsing text: String) throws(TOMLError) {
        var table = ""
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var scanner = Scanner(Substring(rawLine), line: lineNumber)
            scanner.skipWhitespace()
            if scanner.atEndOrComment { continue }
            if scanner.peek == "[" {
                scanner.advance()
                guard scanner.peek != "[" else { throw TOMLError(line: lineNumber, reason: "arrays of tables are not supported") }
                table = try scanner.dottedKey().joined(separator: ".")
                scanner.skipWhitespace()
                try scanner.expect("]")
                scanner.skipWhitespace()
                guard scanner.atEndOrComment else { throw TOMLError(line: lineNumber, reason: "text after table header") }
                continue
            }
            let key = try scanner.dottedKey().joined(separator: ".")
            scanner.skipWhitespace()
            try scanner.expect("=")
            scanner.skipWhitespace()
            let value = try scanner.value()
            scanner.skipWhitespace()
            guard scanner.atEndOrComment else { throw TOMLError(line: lineNumber, reason: "text after value") }
            let path = table.isEmpty ? key : table + "." + key
            guard values[path] == nil else { throw TOMLError(line: lineNumber, reason: "key '\(path)' defined twice") }
            values[path] = value
            keys.append(path)
        }
    }

    public subscript(path: String) -> TOMLValue? { values[path] }
}

/// A cursor over one line.
private struct Scanner {
    private let text: Substring
    private var index: Substring.Index
    private let line: Int

    init(_ text: Substring, line: Int) {
        self.text = text
        index = text.startIndex
        self.line = line
    }

    var peek: Character? { index < text.endIndex ? text[index] : nil }
    var atEndOrComment: Bool { peek == nil || peek == "#" || peek == "\r" }
    mutating func advance() { index = text.index(after: index) }

    func fail(_ reason: String) -> TOMLError { TOMLError(line: line, reason: reason) }

    mutating func skipWhitespace() { while peek == " " || peek == "\t" { advance() } }

    mutating func expect(_ c: Character) throws(TOMLError) {
        guard peek == c else { throw fail("expected '\(c)'") }
        advance()
    }

    mutating func dottedKey() throws(TOMLError) -> [String] {
        var parts: [String] = []
        repeat {
            if !parts.isEmpty { advance() }
            skipWhitespace()
            if peek == "\"" || peek == "'" {
                parts.append(try string())
            } else {
                var key = ""
                while let c = peek, c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") { key.append(c); advance() }
                guard !key.isEmpty else { throw fail("expected a key") }
                parts.append(key)
            }
            skipWhitespace()
        } while peek == "."
        return parts
    }

    mutating func value() throws(TOMLError) -> TOMLValue {
        switch peek {
        case "\"", "'": return .string(try string())
        case "[": return try array()
        case "t", "f": return try boolean()
        case .some: return try number()
        case nil: throw fail("missing value")
        }
    }

    mutating func string() throws(TOMLError) -> String {
        let quote = peek!
        advance()
        if peek == quote, text[index...].hasPrefix(String(repeating: quote, count: 2)) {
            throw fail("multi-line strings are not supported")
        }
        var out = ""
        while let c = peek {
            advance()
            if c == quote { return out }
            if c == "\\" && quote == "\"" { out.append(try escape()) } else { out.append(c) }
        }
        throw fail("unterminated string")
    }

    mutating func escape() throws(TOMLError) -> Character {
        guard let c = peek else { throw fail("unterminated escape") }
        advance()
        switch c {
        case "n": return "\n"
        case "t": return "\t"
        case "r": return "\r"
        case "b": return "\u{8}"
        case "f": return "\u{c}"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            var hex = ""
            for _ in 0..<(c == "u" ? 4 : 8) { guard let h = peek, h.isHexDigit else { throw fail("bad unicode escape") }; hex.append(h); advance() }
            guard let scalar = UInt32(hex, radix: 16).flatMap(Unicode.Scalar.init) else { throw fail("bad unicode escape") }
            return Character(scalar)
        default: throw fail("unknown escape '\\\(c)'")
        }
    }

    mutating func array() throws(TOMLError) -> TOMLValue {
        advance()
        var items: [TOMLValue] = []
        while true {
            skipWhitespace()
            if peek == "]" { advance(); return .array(items) }
            items.append(try value())
            skipWhitespace()
            if peek == "," { advance(); continue }
            if peek == "]" { advance(); return .array(items) }
            throw fail(peek == nil ? "arrays must be on one line" : "expected ',' or ']' in array")
        }
    }

    mutating func boolean() throws(TOMLError) -> TOMLValue {
        for (word, value) in [("true", true), ("false", false)] where text[index...].hasPrefix(word) {
            index = text.index(index, offsetBy: word.count)
            return .bool(value)
        }
        throw fail("expected true or false")
    }

    mutating func number() throws(TOMLError) -> TOMLValue {
        var literal = ""
        while let c = peek, c.isLetter || c.isNumber || "+-._".contains(c) { literal.append(c); advance() }
        let digits = literal.replacingOccurrences(of: "_", with: "")
        if let i = Int(digits) { return .integer(i) }
        if digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let d = Double(digits), d.isFinite { return .float(d) }
        throw fail(literal.isEmpty ? "missing value" : "not a value: '\(literal)' (strings need quotes)")
    }
}

import Foundation
