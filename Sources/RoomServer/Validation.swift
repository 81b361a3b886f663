// Validation of what clients type: room names, user names and chat text.
//
// Everything here runs on input from untrusted sockets before it reaches a room, a log line or the
// chat store, so the rules are deliberately narrow and the reasons are meant to be shown to a person.

/// Input a client sent that the server refuses, with a reason a person can read.
public struct InvalidInput: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The rules for names and chat text. Each function returns the normalised (trimmed) value that the
/// server stores and relays, or throws why it is refused.
public enum InputRules {
    public static let roomLength = 1...64
    public static let userNameLength = 1...48
    public static let chatTextLength = 1...2000

    /// A room name: trimmed, 1...64 characters, letters (any script), decimal digits and `-_.:`.
    /// Why so narrow: room names appear in URLs, log lines and shared links, where spaces, slashes and
    /// look-alike punctuation cause trouble; letters of every script keep it friendly.
    public static func room(_ raw: String) throws(InvalidInput) -> String {
        let room = trimmed(raw)
        try checkLength(room, roomLength, what: "room name")
        for scalar in room.unicodeScalars where !isRoomScalar(scalar) {
            throw InvalidInput("room name may contain only letters, digits and - _ . : (found \(visible(scalar)))")
        }
        return room
    }

    /// A user name: trimmed, 1...48 characters, anything printable. Control characters, line breaks and
    /// bidirectional overrides are refused: the name is shown to the other member and written to logs,
    /// where those could forge lines or reverse the text around them.
    public static func userName(_ raw: String) throws(InvalidInput) -> String {
        let name = trimmed(raw)
        try checkLength(name, userNameLength, what: "user name")
        for scalar in name.unicodeScalars where !isPrintable(scalar) {
            throw InvalidInput("user name may not contain \(visible(scalar))")
        }
        return name
    }

    /// Chat text: trimmed, 1...2000 characters. Tabs and line breaks are allowed (people paste
    /// paragraphs); other control characters are refused.
    public static func chatText(_ raw: String) throws(InvalidInput) -> String {
        let text = trimmed(raw)
        try checkLength(text, chatTextLength, what: "message")
        for scalar in text.unicodeScalars where !isPrintable(scalar) && !["\t", "\n", "\r"].contains(scalar) {
            throw InvalidInput("message may not contain \(visible(scalar))")
        }
        return text
    }

    // MARK: Helpers

    static func trimmed(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[start...end])
    }

    /// Lengths count characters as a person sees them (grapheme clusters). A UTF-8 ceiling of four
    /// bytes per allowed character also bounds a single cluster stacked with thousands of combining
    /// marks, which would otherwise count as one character.
    static func checkLength(_ s: String, _ range: ClosedRange<Int>, what: String) throws(InvalidInput) {
        if s.isEmpty { throw InvalidInput("\(what) is empty") }
        if s.count > range.upperBound || s.utf8.count > range.upperBound * 4 {
            throw InvalidInput("\(what) is longer than \(range.upperBound) characters")
        }
        if s.count < range.lowerBound { throw InvalidInput("\(what) is shorter than \(range.lowerBound) characters") }
    }

    static func isRoomScalar(_ scalar: Unicode.Scalar) -> Bool {
        if "-_.:".unicodeScalars.contains(scalar) { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             // Marks, so that letters written with combining accents (decomposed forms) are accepted.
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber:
            return true
        default:
            return false
        }
    }

    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
            return false
        case .format:
            // Zero-width joiners and the like build emoji; bidirectional embeddings, overrides and
            // isolates (U+202A...U+202E, U+2066...U+2069) can disguise text, so they are refused.
            return !(0x202A...0x202E).contains(scalar.value) && !(0x2066...0x2069).contains(scalar.value)
        default:
            return true
        }
    }

    /// A refused character in a form that is safe to show: its code point, and the glyph if printable.
    static func visible(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return isPrintable(scalar) && !scalar.properties.isWhitespace ? "'\(scalar)' (\(code))" : code
    }
}
