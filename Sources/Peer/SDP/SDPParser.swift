// SDP text → SDPSession. RFC 8866 §5 (line syntax "<type>=<value>", v= first, then o= s= ... t=,
// media sections start at m=), §5.14 (m= line). Accepts CRLF or bare LF (RFC 8866 §5 asks
// parsers to accept LF). Unknown attributes and line types are kept (RFC 8866 §5: "ignore
// unknown"); a line we understand but cannot parse is an error naming its number.

extension SDPSession {
    /// Parses an SDP offer or answer.
    public static func parse(_ text: String) throws(SDPError) -> SDPSession {
        var parser = SDPParser()
        // Split the UTF-8 bytes on LF and drop a trailing CR: Swift treats "\r\n" as one
        // Character, so splitting the String on "\n" would never split CRLF text.
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, rawBytes) in lines.enumerated() {
            let line = Substring(rawBytes.last == UInt8(ascii: "\r") ? rawBytes.dropLast() : rawBytes)
            // Blank lines occur only at the end (the final CRLF) in practice; tolerate them.
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            do {
                try parser.consume(line)
            } catch {
                throw .malformedLine(number: index + 1, line: String(line), reason: error.reason)
            }
        }
        guard let session = parser.finish() else {
            throw .malformedLine(number: lines.count, line: "", reason: "SDP is empty: no v= line")
        }
        guard parser.sawOrigin else {
            throw .malformedLine(number: lines.count, line: "", reason: "SDP has no o= line")
        }
        return session
    }
}

/// Line-at-a-time state machine; session fields until the first m= line, then the current media.
struct SDPParser {
    private var session: SDPSession?
    private var current: SDPMedia?
    /// o= is mandatory (RFC 8866 §5.2); JSEP peers compare its version on renegotiation.
    private(set) var sawOrigin = false

    mutating func consume(_ line: Substring) throws(SDPFieldError) {
        guard line.count >= 2, let type = line.first, type.isASCII, type.isLetter,
              line[line.index(after: line.startIndex)] == "=" else {
            throw SDPFieldError("not a \"<type>=<value>\" line")
        }
        let value = line.dropFirst(2)
        guard var session else {
            guard type == "v" else { throw SDPFieldError("the first line must be v=0") }
            guard value == "0" else { throw SDPFieldError("only SDP version 0 exists") }
            self.session = SDPSession(origin: SDPOrigin(sessionId: "0"))
            return
        }
        if type == "m" {
            guard sawOrigin else { throw SDPFieldError("no o= line before the first m= line") }
            flushMedia()
            current = try Self.parseMediaLine(value)
            return
        }
        if var media = current {
            try Self.consumeMedia(type: type, value: value, into: &media)
            current = media
            return
        }
        self.session = nil  // avoid a copy-on-write while mutating
        defer { self.session = session }
        switch type {
        case "o":
            session.origin = try Self.parseOrigin(value)
            sawOrigin = true
        case "s": session.sessionName = String(value)
        case "t":
            let t = value.sdpTokens()
            guard t.count == 2, let start = UInt64(t[0]), let stop = UInt64(t[1]) else {
                throw SDPFieldError("t= needs \"<start> <stop>\" numbers")
            }
            session.timing = SDPTiming(start: start, stop: stop)
        case "c": session.connection = try Self.parseConnection(value)
        case "a": try Self.consumeSessionAttribute(value, into: &session)
        default: session.otherLines.append(SDPLine(type: type, value: String(value)))
        }
    }

    mutating func finish() -> SDPSession? {
        flushMedia()
        // Non-attribute lines in the order the serializer writes them (RFC 8866 §5), so that a
        // parsed description survives serialize → parse unchanged (found by the fuzzer: "f=" before "i=").
        if var s = session {
            Self.stableSort(&s.otherLines) { $0.sessionSlot }
            session = s
        }
        return session
    }

    private mutating func flushMedia() {
        guard var media = current else { return }
        current = nil
        Self.canonicalizeOrder(&media)
        session?.media.append(media)
    }

    // MARK: Lines

    /// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` (RFC 8866 §5.14).
    static func parseMediaLine(_ value: Substring) throws(SDPFieldError) -> SDPMedia {
        let t = value.sdpTokens()
        guard t.count >= 4 else { throw SDPFieldError("m= needs \"<media> <port> <proto> <fmt> ...\"") }
        let portParts = t[1].split(separator: "/", omittingEmptySubsequences: false)
        guard portParts.count <= 2 else { throw SDPFieldError("m= port \"\(t[1])\" is malformed") }
        let port = try sdpInt(portParts[0], "m= port", max: 65535)
        var media = SDPMedia(kind: SDPMediaKind(rawValue: String(t[0])), port: port, proto: String(t[2]),
                             formats: t.dropFirst(3).map(String.init))
        if portParts.count == 2 { media.portCount = try sdpInt(portParts[1], "m= port count") }
        if media.proto.contains("RTP") {
            for format in t.dropFirst(3) { _ = try sdpInt(format, "RTP payload type", max: 127) }
        }
        return media
    }

    static func parseOrigin(_ value: Substring) throws(SDPFieldError) -> SDPOrigin {
        let t = value.sdpTokens()
        guard t.count == 6 else { throw SDPFieldError("o= needs 6 fields, has \(t.count)") }
        _ = try sdpInt(t[1].prefix(18), "session id")  // digits only; may exceed Int, so check a prefix
        guard t[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { throw SDPFieldError("session id is not digits") }
        guard let version = UInt64(t[2]) else { throw SDPFieldError("session version \"\(t[2])\" is not a number") }
        return SDPOrigin(username: String(t[0]), sessionId: String(t[1]), sessionVersion: version,
                         netType: String(t[3]), addressType: String(t[4]), address: String(t[5]))
    }

    static func parseConnection(_ value: Substring) throws(SDPFieldError) -> SDPConnection {
        let t = value.sdpTokens()
        guard t.count == 3 else { throw SDPFieldError("c= needs \"<nettype> <addrtype> <address>\"") }
        return SDPConnection(netType: String(t[0]), addressType: String(t[1]), address: String(t[2]))
    }

    static func parseFingerprint(_ value: Substring) throws(SDPFieldError) -> SDPFingerprint {
        let t = value.sdpTokens()
        guard t.count == 2 else { throw SDPFieldError("fingerprint needs \"<hash> <hex:hex:...>\"") }
        let hexOK = t[1].split(separator: ":", omittingEmptySubsequences: false)
            .allSatisfy { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }
        guard hexOK else { throw SDPFieldError("fingerprint value is not colon-separated hex pairs") }
        return SDPFingerprint(algorithm: String(t[0]), value: String(t[1]))
    }

    static func parseSetup(_ value: Substring?) throws(SDPFieldError) -> SDPSetup {
        guard let value, let setup = SDPSetup(rawValue: String(value)) else {
            throw SDPFieldError("setup must be actpass, active, passive or holdconn")
        }
        return setup
    }

    static func parseGroup(_ value: Substring) throws(SDPFieldError) -> SDPGroup {
        let t = value.sdpTokens()
        guard let semantics = t.first else { throw SDPFieldError("group needs semantics") }
        return SDPGroup(semantics: String(semantics), mids: t.dropFirst().map(String.init))
    }

    static func required(_ value: Substring?, _ name: String) throws(SDPFieldError) -> Substring {
        guard let value, !value.isEmpty else { throw SDPFieldError("a=\(name) needs a value") }
        return value
    }

    // MARK: Attributes

    static func consumeSessionAttribute(_ text: Substring, into s: inout SDPSession) throws(SDPFieldError) {
        let (name, value) = sdpSplitAttribute(text)
        switch name {
        case "group": s.groups.append(try parseGroup(try required(value, "group")))
        case "msid-semantic": s.msidSemantic = String(try required(value, "msid-semantic"))
        case "ice-options": s.iceOptions.append(contentsOf: try required(value, "ice-options").sdpTokens().map(String.init))
        case "ice-ufrag": s.iceUfrag = String(try required(value, "ice-ufrag"))
        case "ice-pwd": s.icePwd = String(try required(value, "ice-pwd"))
        case "ice-lite" where value == nil: s.iceLite = true
        case "fingerprint": s.fingerprints.append(try parseFingerprint(try required(value, "fingerprint")))
        case "setup": s.setup = try parseSetup(value)
        default: s.otherAttributes.append(SDPAttribute(name: String(name), value: value.map(String.init)))
        }
    }

    static func consumeMedia(type: Character, value: Substring, into m: inout SDPMedia) throws(SDPFieldError) {
        switch type {
        case "c": m.connection = try parseConnection(value)
        case "a": try consumeMediaAttribute(value, into: &m)
        default: m.otherLines.append(SDPLine(type: type, value: String(value)))
        }
    }

    static func consumeMediaAttribute(_ text: Substring, into m: inout SDPMedia) throws(SDPFieldError) {
        let (name, value) = sdpSplitAttribute(text)
        if value == nil, let direction = SDPDirection(rawValue: String(name)) {
            m.direction = direction
            return
        }
        switch (name, value) {
        case ("mid", _): m.mid = String(try required(value, "mid"))
        case ("msid", _):
            let t = try required(value, "msid").sdpTokens()
            guard t.count <= 2 else { throw SDPFieldError("msid needs \"<stream> [<track>]\"") }
            m.msids.append(SDPMsid(streamId: String(t[0]), trackId: t.count == 2 ? String(t[1]) : nil))
        case ("ice-ufrag", _): m.iceUfrag = String(try required(value, "ice-ufrag"))
        case ("ice-pwd", _): m.icePwd = String(try required(value, "ice-pwd"))
        case ("ice-options", _):
            m.iceOptions.append(contentsOf: try required(value, "ice-options").sdpTokens().map(String.init))
        case ("fingerprint", _): m.fingerprints.append(try parseFingerprint(try required(value, "fingerprint")))
        case ("setup", _): m.setup = try parseSetup(value)
        case ("rtcp-mux", nil): m.rtcpMux = true
        case ("rtcp-mux-only", nil): m.rtcpMuxOnly = true
        case ("rtcp-rsize", nil): m.rtcpRsize = true
        case ("rtpmap", _): m.rtpMaps.append(try SDPRtpMap.parse(try required(value, "rtpmap")))
        case ("fmtp", _): m.fmtps.append(try SDPFmtp.parse(try required(value, "fmtp")))
        case ("rtcp-fb", _): m.rtcpFeedback.append(try SDPRtcpFeedback.parse(try required(value, "rtcp-fb")))
        case ("extmap", _): m.extmaps.append(try SDPExtmap.parse(try required(value, "extmap")))
        case ("ssrc", _): m.ssrcs.append(try SDPSsrcAttribute.parse(try required(value, "ssrc")))
        case ("ssrc-group", _): m.ssrcGroups.append(try SDPSsrcGroup.parse(try required(value, "ssrc-group")))
        case ("candidate", _): m.candidates.append(try IceCandidateLine.parseValue(try required(value, "candidate")))
        case ("end-of-candidates", nil): m.endOfCandidates = true
        default: m.otherAttributes.append(SDPAttribute(name: String(name), value: value.map(String.init)))
        }
    }

    /// Sorts rtpmap/rtcp-fb/fmtp stably by the payload type's position on the m= line, the
    /// grouping Chromium writes. Firefox lists all rtpmaps, then all fmtps; without this a
    /// round trip through our serializer would reorder the arrays and compare unequal.
    static func canonicalizeOrder(_ m: inout SDPMedia) {
        var position: [String: Int] = [:]
        for (i, f) in m.formats.enumerated() where position[f] == nil { position[f] = i }
        let last = m.formats.count
        stableSort(&m.otherLines) { $0.mediaSlot }
        stableSort(&m.rtpMaps) { position[String($0.payloadType)] ?? last }
        stableSort(&m.fmtps) { position[String($0.payloadType)] ?? last }
        stableSort(&m.rtcpFeedback) { position[$0.payload] ?? last }
    }

    static func stableSort<T>(_ items: inout [T], key: (T) -> Int) {
        items = items.enumerated()
            .sorted { (key($0.element), $0.offset) < (key($1.element), $1.offset) }
            .map(\.element)
    }
}
