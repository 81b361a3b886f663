// RTCIceServer entries as the signaling server hands them out (`ice:servers`, /api/ice-servers):
// stun: and turn: URIs (RFC 7064 §3.1, RFC 7065 §3.1). We speak STUN and TURN over UDP only, so
// turns: and ?transport=tcp entries are skipped with a reason rather than half-used.

extension IceConfiguration {
    /// Adds one RTCIceServer entry; returns why each URL that was not usable was skipped.
    @discardableResult
    public mutating func addServer(urls: [String], username: String?, credential: String?) -> [String] {
        var skipped: [String] = []
        for url in urls {
            let lower = url.lowercased()
            let scheme: String
            if lower.hasPrefix("stun:") { scheme = "stun" } else if lower.hasPrefix("turn:") { scheme = "turn" } else {
                skipped.append("\(url): only stun: and turn: over UDP are supported")
                continue
            }
            var rest = Substring(url.dropFirst(5))
            var query = ""
            if let q = rest.firstIndex(of: "?") {
                query = rest[rest.index(after: q)...].lowercased()
                rest = rest[..<q]
            }
            if !query.isEmpty, query != "transport=udp" {
                skipped.append("\(url): transport \(query) is not supported (UDP only)")
                continue
            }
            guard let (host, port) = Self.hostPort(rest, defaultPort: 3478) else {
                skipped.append("\(url): no host:port")
                continue
            }
            if scheme == "stun" {
                stunServers.append(StunServer(host: host, port: port))
            } else {
                guard let username, let credential else {
                    skipped.append("\(url): TURN needs a username and credential")
                    continue
                }
                turnServers.append(TurnServer(host: host, port: port, username: username, password: credential))
            }
        }
        return skipped
    }

    /// "host", "host:port", "[v6]" or "[v6]:port".
    static func hostPort(_ text: Substring, defaultPort: UInt16) -> (String, UInt16)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.isEmpty { return (host, defaultPort) }
            guard after.hasPrefix(":"), let port = UInt16(after.dropFirst()) else { return nil }
            return (host, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where !parts[0].isEmpty: return (String(parts[0]), defaultPort)
        case 2 where !parts[0].isEmpty: return UInt16(parts[1]).map { (String(parts[0]), $0) }
        default: return nil
        }
    }
}
