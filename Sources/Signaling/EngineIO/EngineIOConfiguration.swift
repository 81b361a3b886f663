import Foundation
import NIOSSL

/// Where and how to reach an Engine.IO v4 server.
public struct EngineIOConfiguration: Sendable {
    public enum Transports: String, Sendable, CaseIterable {
        /// One websocket from the start (works where polling is blocked).
        case websocket
        /// HTTP long-polling only (works where websockets are blocked).
        case polling
        /// Start with polling, then probe and upgrade to websocket, as the seed's browser app does.
        case pollingThenUpgrade = "polling,websocket"
    }

    /// `http://`, `https://`, `ws://` or `wss://`; a path other than `/` replaces `path`.
    public var url: URL
    public var path: String
    public var transports: Transports
    /// A PEM file with extra trusted CAs (private deployments); the system trust store is always used too.
    public var extraCAFile: String?
    /// Largest payload (polling body or websocket message) accepted from the server.
    public var maxInboundPayload: Int
    /// Time allowed for TCP + TLS + handshake.
    public var connectTimeout: Duration
    /// Time allowed for the websocket upgrade probe before staying on polling.
    public var upgradeTimeout: Duration

    public init(url: URL, path: String = "/socket.io/", transports: Transports = .pollingThenUpgrade,
                extraCAFile: String? = nil, maxInboundPayload: Int = 1_000_000,
                connectTimeout: Duration = .seconds(10), upgradeTimeout: Duration = .seconds(5)) {
        self.url = url
        self.path = path
        self.transports = transports
        self.extraCAFile = extraCAFile
        self.maxInboundPayload = maxInboundPayload
        self.connectTimeout = connectTimeout
        self.upgradeTimeout = upgradeTimeout
    }

    var isSecure: Bool { ["https", "wss"].contains(url.scheme?.lowercased() ?? "") }

    func validate() throws(SignalingError) {
        guard let scheme = url.scheme?.lowercased(), ["http", "https", "ws", "wss"].contains(scheme),
              let host = url.host, !host.isEmpty else {
            throw .invalidURL(url.absoluteString)
        }
    }

    /// The endpoint URL for one transport, e.g. `http://h:p/socket.io/?EIO=4&transport=polling&sid=…`.
    func endpoint(transport: String, sid: String?) -> String {
        let secure = isSecure
        let scheme = transport == "websocket" ? (secure ? "wss" : "ws") : (secure ? "https" : "http")
        let host = url.host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "localhost"
        let port = url.port.map { ":\($0)" } ?? ""
        let urlPath = url.path.isEmpty || url.path == "/" ? path : url.path
        let normalized = urlPath.hasSuffix("/") ? urlPath : urlPath + "/"
        var query = "EIO=4&transport=\(transport)"
        if let sid { query += "&sid=\(sid.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? sid)" }
        return "\(scheme)://\(host)\(port)\(normalized)?\(query)"
    }

    /// Client TLS settings: certificates are always verified (system store plus the optional CA file).
    func tlsConfiguration() -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let extraCAFile { tls.additionalTrustRoots = [.file(extraCAFile)] }
        return tls
    }
}
