import ArgumentParser
import Foundation
import Logging
import RoomServer
import SignalingServer

/// `videophone-server`: the signaling server the seed's browser app and the appliance both use.
/// Settings come from defaults, then `--config FILE` (TOML), then flags.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videophone-server",
        abstract: "Socket.IO signaling server for videophone appliances and browsers.",
        discussion: "Every flag has a TOML key (e.g. --max-members = rooms.max_members); see README.md."
    )

    @Option(help: "TOML config file; flags override it.") var config: String?
    @Option(help: "Address to listen on (server.host).") var host: String?
    @Option(help: "Port; 0 = any free port, printed at start (server.port).") var port: Int?
    @Option(name: .customLong("allowed-origin"), help: "Origin allowed cross-origin; repeat; * = any (server.allowed_origins).")
    var allowedOrigins: [String] = []
    @Option(help: "trace, debug, info, notice, warning, error (server.log_level).") var logLevel: String?
    @Option(help: "Seconds between pings (engineio.ping_interval).") var pingInterval: Int?
    @Option(help: "Seconds to wait for a pong (engineio.ping_timeout).") var pingTimeout: Int?
    @Option(help: "Largest client message or polling payload in bytes (engineio.max_payload).") var maxPayload: Int?
    @Option(help: "websocket, polling, or polling,websocket (engineio.transports).") var transports: String?
    @Option(help: "Members per room (rooms.max_members).") var maxMembers: Int?
    @Option(help: "sqlite or memory (chat.store).") var store: String?
    @Option(help: "Directory for the databases (chat.state_dir).") var stateDir: String?
    @Option(help: "Chat messages kept per room (chat.keep).") var chatKeep: Int?
    @Option(name: .customLong("stun-url"), help: "STUN URL for clients; repeat (ice.stun_urls).") var stunURLs: [String] = []
    @Option(name: .customLong("turn-url"), help: "TURN URL with short-lived credentials; repeat (ice.turn_urls).")
    var turnURLs: [String] = []
    @Option(help: "File with the TURN REST shared secret, never sent to clients (ice.turn_secret_file).")
    var turnSecretFile: String?
    @Option(help: "PEM certificate chain for direct TLS (tls.certificate).") var tlsCertificate: String?
    @Option(help: "PEM private key for direct TLS (tls.key).") var tlsKey: String?
    @Option(help: "File with the admin API bearer token (admin.token_file).") var adminTokenFile: String?

    func run() async throws {
        // A parent may have started us with SIGINT/SIGTERM blocked (the mask is inherited):
        // unblock them so graceful shutdown works.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)

        var settings = ServerSettings()
        do {
            if let config { try settings.apply(file: config) }
        } catch {
            throw ValidationError("config: \(error)")
        }
        override(&settings)
        let configuration: SignalingServerConfiguration
        do { configuration = try settings.configuration() } catch { throw ValidationError("\(error)") }

        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "videophone.server")
        let chat: any ChatStore = settings.chatStore == "memory"
            ? InMemoryChatStore(retention: settings.chatRetention)
            : try SQLiteChatStore(path: settings.stateDir + "/chat.sqlite", retention: settings.chatRetention, logger: logger)
        let devices: any DeviceStore = settings.chatStore == "memory"
            ? InMemoryDeviceStore()
            : try SQLiteDeviceStore(path: settings.stateDir + "/devices.sqlite", logger: logger)
        let host = configuration.host
        let scheme = configuration.tls == nil ? "http" : "https"
        logger.info("starting", metadata: ["store": "\(settings.chatStore)", "transports": "\(settings.transports)",
                                           "max_members": "\(settings.maxMembers)", "tls": "\(configuration.tls != nil)"])
        try await runSignalingServer(configuration: configuration, chat: chat, devices: devices, logger: logger) { port in
            // One machine-readable line for scripts and tests.
            FileHandle.standardOutput.write(Data("listening on \(host):\(port) (\(scheme))\n".utf8))
        }
    }

    private func override(_ s: inout ServerSettings) {
        if let host { s.host = host }
        if let port { s.port = port }
        if !allowedOrigins.isEmpty { s.allowedOrigins = allowedOrigins }
        if let logLevel { s.logLevel = logLevel }
        if let pingInterval { s.pingInterval = pingInterval }
        if let pingTimeout { s.pingTimeout = pingTimeout }
        if let maxPayload { s.maxPayload = maxPayload }
        if let transports { s.transports = transports.split(separator: ",").map(String.init) }
        if let maxMembers { s.maxMembers = maxMembers }
        if let store { s.chatStore = store }
        if let stateDir { s.stateDir = stateDir }
        if let chatKeep { s.chatKeep = chatKeep }
        if !stunURLs.isEmpty { s.stunURLs = stunURLs }
        if !turnURLs.isEmpty { s.turnURLs = turnURLs }
        if let turnSecretFile { s.turnSecretFile = turnSecretFile }
        if let tlsCertificate { s.tlsCertificate = tlsCertificate }
        if let tlsKey { s.tlsKey = tlsKey }
        if let adminTokenFile { s.adminTokenFile = adminTokenFile }
    }
}
