// SDP parse errors (RFC 8866 §5: "a parser MUST ... reject" malformed mandatory lines).
// Errors name the 1-based line number and the offending text so a log of a failed call
// from Chromium, Firefox or aiortc points straight at the line that broke us.

/// An SDP or ICE-candidate text that this parser refuses.
public enum SDPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Line `number` (1-based, counting every physical line) is malformed.
    case malformedLine(number: Int, line: String, reason: String)
    /// A stand-alone (trickled) candidate string is malformed (RFC 8839 §5.1).
    case invalidCandidate(text: String, reason: String)

    public var description: String {
        switch self {
        case let .malformedLine(number, line, reason):
            return "SDP line \(number) \"\(line)\": \(reason)"
        case let .invalidCandidate(text, reason):
            return "ICE candidate \"\(text)\": \(reason)"
        }
    }
}

/// Internal: a field-level failure; the session parser adds the line number.
struct SDPFieldError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

// MARK: - Small lexical helpers shared by the SDP and candidate parsers

extension Substring {
    /// Splits on single spaces, dropping empty pieces (browsers never emit double spaces,
    /// but hand-written SDP in tests and some gateways do).
    func sdpTokens() -> [Substring] { split(separator: " ", omittingEmptySubsequences: true) }
}

func sdpInt(_ text: Substring, _ what: String, max: Int = Int.max) throws(SDPFieldError) -> Int {
    guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text), value <= max else {
        throw SDPFieldError("\(what) \"\(text)\" is not a number\(max == Int.max ? "" : " in 0...\(max)")")
    }
    return value
}

func sdpUInt32(_ text: Substring, _ what: String) throws(SDPFieldError) -> UInt32 {
    guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt32(text) else {
        throw SDPFieldError("\(what) \"\(text)\" is not a 32-bit unsigned number")
    }
    return value
}

/// Splits "name:value" at the first colon; `value` is nil when there is no colon.
func sdpSplitAttribute(_ text: Substring) -> (name: Substring, value: Substring?) {
    guard let colon = text.firstIndex(of: ":") else { return (text, nil) }
    return (text[..<colon], text[text.index(after: colon)...])
}
