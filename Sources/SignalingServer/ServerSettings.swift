import Foundation
import RoomServer
import TOMLConfig

/// Everything `videophone-server` can be told, from defaults, then a TOML file, then flags.
/// Keys are named after their section, as baresip names config keys after their module.
public struct ServerSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 3001
    public var allowedOrigins = ["*"]
    public var logLevel = "info"
    public var pingInterval = 25
    public var pingTimeout = 20
    public var maxPayload = 1_000_000
    public var transports = ["polling", "websocket"]
    public var messageRate = 20.0
    public var messageBurst = 60.0
    public var maxMembers = 2
    public var chatStore = "sqlite"
    public var stateDir = "./state"
    public var chatKeep = 200
    public var chatMaxAgeDays = 30.0
    public var stunURLs: [String] = []
    public var turnURLs: [String] = []
    public var turnSecretFile: String?
    public var turnTTL = 86400
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var adminTokenFile: String?

    public init() {}

    /// Applies a TOML file. Unknown keys and wrong types are errors naming the key, so a typo in a
    /// deployment's file is reported at start-up instead of silently ignored.
    public mutating func apply(_ doc: TOMLDocument) throws(TOMLError) {
        for key in doc.keys {
            guard let setter = Self.setters[key] else {
                throw TOMLError(line: 0, reason: "unknown setting '\(key)' (known: \(Self.setters.keys.sorted().joined(separator: ", ")))")
            }
            try setter(&self, doc[key]!, key)
        }
    }

    public mutating func apply(file path: String) throws(TOMLError) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) }
        catch { throw TOMLError(line: 0, reason: "cannot read \(path): \(error.localizedDescription)") }
        do { try apply(try TOMLDocument(parsing: text)) }
        catch { throw TOMLError(line: error.line, reason: "\(path): \(error.reason)") }
    }

    /// Checks cross-field rules and builds the runtime configuration.
    public func configuration() throws(TOMLError) -> SignalingServerConfiguration {
        func bad(_ reason: String) -> TOMLError { TOMLError(line: 0, reason: reason) }
        guard (0...65535).contains(port) else { throw bad("port must be 0...65535") }
        guard pingInterval > 0, pingTimeout > 0 else { throw bad("ping interval and timeout must be positive") }
        guard maxPayload >= 1024 else { throw bad("max payload must be at least 1024 bytes") }
        guard !transports.isEmpty, Set(transports).isSubset(of: ["polling", "websocket"]) else {
            throw bad("transports must name polling and/or websocket")
        }
        guard maxMembers >= 2 else { throw bad("rooms need at least 2 members") }
        guard ["sqlite", "memory"].contains(chatStore) else { throw bad("chat store must be sqlite or memory") }
        guard (tlsCertificate == nil) == (tlsKey == nil) else { throw bad("TLS needs both a certificate and a key file") }
        var secret: String?
        if let turnSecretFile {
            do { secret = try String(contentsOfFile: turnSecretFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
            catch { throw bad("cannot read the TURN secret file \(turnSecretFile)") }
            guard secret?.isEmpty == false else { throw bad("the TURN secret file is empty") }
        }
        if !turnURLs.isEmpty && secret == nil { throw bad("TURN URLs need a TURN secret file") }
        var adminToken: String?
        if let adminTokenFile {
            do { adminToken = try String(contentsOfFile: adminTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
            catch { throw bad("cannot read the admin token file \(adminTokenFile)") }
            guard (adminToken?.count ?? 0) >= 16 else { throw bad("the admin token must be at least 16 characters") }
        }

        var config = SignalingServerConfiguration()
        config.host = host
        config.port = port
        config.maxMembers = maxMembers
        config.allowedOrigins = allowedOrigins
        config.engine.pingInterval = .seconds(pingInterval)
        config.engine.pingTimeout = .seconds(pingTimeout)
        config.engine.maxPayload = maxPayload
        config.engine.allowPolling = transports.contains("polling")
        config.engine.allowWebSocket = transports.contains("websocket")
        config.engine.messageRate = messageRate
        config.engine.messageBurst = max(messageBurst, 1)
        config.ice = ICEServerConfig(stunURLs: stunURLs, turnURLs: turnURLs, turnSecret: secret, ttl: turnTTL)
        if let tlsCertificate, let tlsKey { config.tls = (certificate: tlsCertificate, key: tlsKey) }
        config.adminToken = adminToken
        return config
    }

    public var chatRetention: ChatRetention {
        ChatRetention(maxMessagesPerRoom: chatKeep, maxAge: chatMaxAgeDays * 24 * 3600)
    }

    private typealias Setter = @Sendable (inout ServerSettings, TOMLValue, String) throws(TOMLError) -> Void

    private static let setters: [String: Setter] = [
        "server.host": string(\.host), "server.port": int(\.port), "server.allowed_origins": strings(\.allowedOrigins),
        "server.log_level": string(\.logLevel),
        "engineio.ping_interval": int(\.pingInterval), "engineio.ping_timeout": int(\.pingTimeout),
        "engineio.max_payload": int(\.maxPayload), "engineio.transports": strings(\.transports),
        "engineio.message_rate": double(\.messageRate), "engineio.message_burst": double(\.messageBurst),
        "rooms.max_members": int(\.maxMembers),
        "chat.store": string(\.chatStore), "chat.state_dir": string(\.stateDir), "chat.keep": int(\.chatKeep),
        "chat.max_age_days": double(\.chatMaxAgeDays),
        "ice.stun_urls": strings(\.stunURLs), "ice.turn_urls": strings(\.turnURLs),
        "ice.turn_secret_file": optionalString(\.turnSecretFile), "ice.ttl": int(\.turnTTL),
        "tls.certificate": optionalString(\.tlsCertificate), "tls.key": optionalString(\.tlsKey),
        "admin.token_file": optionalString(\.adminTokenFile),
    ]

    private static func mismatch(_ key: String, _ want: String, _ got: TOMLValue) -> TOMLError {
        TOMLError(line: 0, reason: "'\(key)' must be \(want), not \(got)")
    }
    private static func string(_ path: WritableKeyPath<ServerSettings, String> & Sendable) -> Setter {
        { s, v, k throws(TOMLError) in guard case .string(let x) = v else { throw mismatch(k, "a string", v) }; s[keyPath: path] = x }
    }
    private static func optionalString(_ path: WritableKeyPath<ServerSettings, String?> & Sendable) -> Setter {
        { s, v, k throws(TOMLError) in guard case .string(let x) = v else { throw mismatch(k, "a string", v) }; s[keyPath: path] = x }
    }
    private static func int(_ path: WritableKeyPath<ServerSettings, Int> & Sendable) -> Setter {
        { s, v, k throws(TOMLError) in guard case .integer(let x) = v else { throw mismatch(k, "an integer", v) }; s[keyPath: path] = x }
    }
    private static func double(_ path: WritableKeyPath<ServerSettings, Double> & Sendable) -> Setter {
        { s, v, k throws(TOMLError) in
            switch v {
            case .integer(let x): s[keyPath: path] = Double(x)
            case .float(let x): s[keyPath: path] = x
            default: throw mismatch(k, "a number", v)
            }
        }
    }
    private static func strings(_ path: WritableKeyPath<ServerSettings, [String]> & Sendable) -> Setter {
        { s, v, k throws(TOMLError) in
            guard case .array(let items) = v else { throw mismatch(k, "an array of strings", v) }
            var out: [String] = []
            for item in items { guard case .string(let x) = item else { throw mismatch(k, "an array of strings", v) }; out.append(x) }
            s[keyPath: path] = out
        }
    }
}
