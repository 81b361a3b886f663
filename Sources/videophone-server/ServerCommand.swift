import ArgumentParser
import Foundation
import Hummingbird
import Logging
import RoomServer
import SignalingServer

/// `videophone-server`: the signaling server the seed's browser app and the appliance both use.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videophone-server",
        abstract: "Socket.IO signaling server for videophone appliances and browsers."
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 = any free port, printed at start).") var port = 3001
    @Option(help: "Members per room.") var maxMembers = 2
    @Option(help: "Seconds between server pings.") var pingInterval = 25
    @Option(help: "Seconds to wait for a pong.") var pingTimeout = 20
    @Option(help: "Largest message or polling payload accepted, in bytes.") var maxPayload = 1_000_000
    @Option(help: "websocket, polling, or polling,websocket.") var transports = "polling,websocket"
    @Option(name: .customLong("allowed-origin"), help: "Origin allowed cross-origin (repeat; * = any).")
    var allowedOrigins: [String] = ["*"]
    @Option(help: "Directory for the chat database.") var stateDir = "./state"
    @Option(help: "Chat store: sqlite or memory.") var store = "sqlite"
    @Option(help: "Chat messages kept per room.") var chatKeep = 200
    @Option(name: .customLong("stun-url"), help: "STUN URL handed to clients (repeat).") var stunURLs: [String] = []
    @Option(name: .customLong("turn-url"), help: "TURN URL handed to clients with short-lived credentials (repeat).")
    var turnURLs: [String] = []
    @Option(help: "File holding the TURN REST shared secret (coturn use-auth-secret). Never sent to clients.")
    var turnSecretFile: String?
    @Option(help: "Lifetime of TURN credentials, seconds.") var turnTTL = 86400
    @Option(help: "Log level.") var logLevel = "info"

    func run() async throws {
        // A parent may have started us with SIGINT/SIGTERM blocked (the mask is inherited):
        // unblock them so graceful shutdown works.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "videophone.server")
        var config = SignalingServerConfiguration()
        config.host = host
        config.port = port
        config.maxMembers = maxMembers
        config.allowedOrigins = allowedOrigins
        config.engine.pingInterval = .seconds(pingInterval)
        config.engine.pingTimeout = .seconds(pingTimeout)
        config.engine.maxPayload = maxPayload
        let modes = Set(transports.split(separator: ","))
        guard !modes.isEmpty, modes.isSubset(of: ["polling", "websocket"]) else {
            throw ValidationError("--transports must name polling and/or websocket")
        }
        config.engine.allowPolling = modes.contains("polling")
        config.engine.allowWebSocket = modes.contains("websocket")

        var secret: String?
        if let turnSecretFile {
            do {
                secret = try String(contentsOfFile: turnSecretFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw ValidationError("cannot read --turn-secret-file: \(error.localizedDescription)")
            }
        }
        if !turnURLs.isEmpty && secret == nil { throw ValidationError("--turn-url needs --turn-secret-file") }
        config.ice = ICEServerConfig(stunURLs: stunURLs, turnURLs: turnURLs, turnSecret: secret, ttl: turnTTL)

        let retention = ChatRetention(maxMessagesPerRoom: chatKeep)
        let chat: any ChatStore
        switch store {
        case "memory": chat = InMemoryChatStore(retention: retention)
        case "sqlite": chat = try SQLiteChatStore(path: stateDir + "/chat.sqlite", retention: retention)
        default: throw ValidationError("--store must be sqlite or memory")
        }
        let host = config.host
        try await runSignalingServer(configuration: config, chat: chat, logger: logger) { port in
            // One machine-readable line for scripts and tests.
            FileHandle.standardOutput.write(Data("listening on \(host):\(port)\n".utf8))
        }
    }
}
