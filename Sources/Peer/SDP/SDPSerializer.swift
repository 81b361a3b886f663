// SDPSession → text. RFC 8866 §5 fixes the order of session lines (v o s i u e p c b t r z k a)
// and media lines (m i c b k a); attribute order follows what Chromium writes
// (RFC 8829 §5.2.1 lists the same sequence), since some peers are pickier than the RFC.
// Lines end in CRLF (RFC 8866 §5).

extension SDPSession {
    /// The SDP text with CRLF line endings.
    public func serialize() -> String {
        var out: [String] = []
        out.append("v=\(version)")
        let o = origin
        out.append("o=\(o.username) \(o.sessionId) \(o.sessionVersion) \(o.netType) \(o.addressType) \(o.address)")
        out.append("s=\(sessionName)")
        out += otherLines.filter { $0.sessionSlot == 0 }.map(\.text)
        if let connection { out.append(connection.line) }
        out += otherLines.filter { $0.sessionSlot == 1 }.map(\.text)
        out.append("t=\(timing.start) \(timing.stop)")
        out += otherLines.filter { $0.sessionSlot == 2 }.map(\.text)

        if iceLite { out.append("a=ice-lite") }
        if let iceUfrag { out.append("a=ice-ufrag:\(iceUfrag)") }
        if let icePwd { out.append("a=ice-pwd:\(icePwd)") }
        if !iceOptions.isEmpty { out.append("a=ice-options:" + iceOptions.joined(separator: " ")) }
        out += fingerprints.map { "a=fingerprint:\($0.algorithm) \($0.value)" }
        if let setup { out.append("a=setup:\(setup.rawValue)") }
        out += groups.map { "a=group:" + ([$0.semantics] + $0.mids).joined(separator: " ") }
        out += otherAttributes.map(\.line)
        if let msidSemantic { out.append("a=msid-semantic:\(msidSemantic)") }

        for m in media { m.appendLines(to: &out) }
        return out.joined(separator: "\r\n") + "\r\n"
    }
}

extension SDPMedia {
    func appendLines(to out: inout [String]) {
        let portText = portCount.map { "\(port)/\($0)" } ?? "\(port)"
        out.append("m=" + ([kind.rawValue, portText, proto] + formats).joined(separator: " "))
        out += otherLines.filter { $0.mediaSlot == 0 }.map(\.text)
        if let connection { out.append(connection.line) }
        out += otherLines.filter { $0.mediaSlot == 1 }.map(\.text)

        // Unknown attributes such as a=rtcp:9 IN IP4 0.0.0.0 come first, where Chromium puts a=rtcp.
        out += otherAttributes.map(\.line)
        if let iceUfrag { out.append("a=ice-ufrag:\(iceUfrag)") }
        if let icePwd { out.append("a=ice-pwd:\(icePwd)") }
        if !iceOptions.isEmpty { out.append("a=ice-options:" + iceOptions.joined(separator: " ")) }
        out += fingerprints.map { "a=fingerprint:\($0.algorithm) \($0.value)" }
        if let setup { out.append("a=setup:\(setup.rawValue)") }
        if let mid { out.append("a=mid:\(mid)") }
        out += extmaps.map { "a=extmap:\($0.value)" }
        if let direction { out.append("a=\(direction.rawValue)") }
        out += msids.map { "a=msid:\($0.value)" }
        if rtcpMux { out.append("a=rtcp-mux") }
        if rtcpMuxOnly { out.append("a=rtcp-mux-only") }
        if rtcpRsize { out.append("a=rtcp-rsize") }

        // Per payload type, in m= order: rtpmap, rtcp-fb, fmtp (the parser sorts to match).
        var written = Set<String>()
        for format in formats where !written.contains(format) {
            written.insert(format)
            out += rtpMaps.filter { String($0.payloadType) == format }.map { "a=rtpmap:\($0.value)" }
            out += rtcpFeedback.filter { $0.payload == format }.map { "a=rtcp-fb:\($0.value)" }
            out += fmtps.filter { String($0.payloadType) == format }.map { "a=fmtp:\($0.value)" }
        }
        out += rtpMaps.filter { !written.contains(String($0.payloadType)) }.map { "a=rtpmap:\($0.value)" }
        out += rtcpFeedback.filter { !written.contains($0.payload) }.map { "a=rtcp-fb:\($0.value)" }
        out += fmtps.filter { !written.contains(String($0.payloadType)) }.map { "a=fmtp:\($0.value)" }

        out += ssrcGroups.map { "a=ssrc-group:\($0.text)" }
        out += ssrcs.map { "a=ssrc:\($0.text)" }
        out += candidates.map { "a=candidate:\($0.value)" }
        if endOfCandidates { out.append("a=end-of-candidates") }
    }
}

extension SDPConnection {
    var line: String { "c=\(netType) \(addressType) \(address)" }
}

extension SDPLine {
    var text: String { "\(type)=\(value)" }
}

extension SDPLine {
    /// Where RFC 8866 §5 puts a session-level line we keep as text: i= u= e= p= before c= (0),
    /// b= after it (1), everything else (r= z= k= and unknown types) after t= (2).
    var sessionSlot: Int { "iuep".contains(type) ? 0 : (type == "b" ? 1 : 2) }
    /// In a media section: i= before c= (0), the rest after it (1).
    var mediaSlot: Int { type == "i" ? 0 : 1 }
}
