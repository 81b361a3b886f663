import SystemCrypto
import Foundation

/// STUN and TURN servers handed to clients, and the secret shared with coturn.
///
/// `description` and the reflection mirror leave the secret out, so logging or dumping a config (the
/// server logs its effective configuration at start) cannot leak it.
public struct ICEServerConfig: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    public var stunURLs: [String]
    public var turnURLs: [String]
    /// coturn's `static-auth-secret` (with `use-auth-secret`). Without it no TURN entry is offered.
    public var turnSecret: String?
    /// Lifetime of the TURN credentials, in seconds.
    public var ttl: Int

    public init(stunURLs: [String] = [], turnURLs: [String] = [], turnSecret: String? = nil, ttl: Int = 86400) {
        self.stunURLs = stunURLs
        self.turnURLs = turnURLs
        self.turnSecret = turnSecret
        self.ttl = ttl
    }

    public var description: String {
        "ICEServerConfig(stunURLs: \(stunURLs), turnURLs: \(turnURLs), "
            + "turnSecret: \(turnSecret == nil ? "none" : "<redacted>"), ttl: \(ttl))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["stunURLs": stunURLs, "turnURLs": turnURLs,
                                "turnSecret": turnSecret == nil ? "none" : "<redacted>", "ttl": ttl])
    }
}

/// One entry of `RTCConfiguration.iceServers` as browsers take it. Absent username and credential are
/// left out of the JSON (not `null`), which is what STUN entries look like.
public struct ICEServer: Codable, Sendable, Equatable {
    public var urls: [String]
    public var username: String?
    public var credential: String?
    public init(urls: [String], username: String? = nil, credential: String? = nil) {
        self.urls = urls; self.username = username; self.credential = credential
    }
}

/// The body of `GET /api/ice-servers` and the `ice:servers` ack: `{iceServers, ttl}`.
public struct ICEServersResponse: Codable, Sendable, Equatable {
    public var iceServers: [ICEServer]
    public var ttl: Int
    public init(iceServers: [ICEServer], ttl: Int) { self.iceServers = iceServers; self.ttl = ttl }
}

/// Issues short-lived TURN credentials that coturn verifies on its own (the TURN REST API, coturn's
/// `use-auth-secret`): username `<expiry unix seconds>:<name>`, credential
/// `base64(HMAC-SHA1(secret, username))`. The server and coturn share only the secret, and a leaked
/// credential stops working at its expiry. SHA-1 is what coturn specifies; within HMAC it is still sound.
public struct ICEServers: Sendable, CustomStringConvertible {
    public let config: ICEServerConfig

    public init(config: ICEServerConfig) { self.config = config }

    /// The servers for a client called `name` (a connection id or user name; it is only a label for
    /// coturn's logs and quota), with credentials valid until `now + ttl`.
    public func iceServers(for name: String, now: Date) -> ICEServersResponse {
        var servers: [ICEServer] = []
        if !config.stunURLs.isEmpty { servers.append(ICEServer(urls: config.stunURLs)) }
        if !config.turnURLs.isEmpty, let secret = config.turnSecret {
            let expiry = Int64(now.timeIntervalSince1970.rounded(.down)) + Int64(config.ttl)
            let username = "\(expiry):\(name)"
            servers.append(ICEServer(urls: config.turnURLs, username: username,
                                     credential: Self.credential(secret: secret, username: username)))
        }
        return ICEServersResponse(iceServers: servers, ttl: config.ttl)
    }

    /// `base64(HMAC-SHA1(secret, username))`, as coturn computes it.
    static func credential(secret: String, username: String) -> String {
        Data(HMACSHA1.authenticationCode(key: Array(secret.utf8), message: Array(username.utf8))).base64EncodedString()
    }

    public var description: String { "ICEServers(\(config))" }
}
