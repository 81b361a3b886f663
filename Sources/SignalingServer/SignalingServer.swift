import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import RoomServer
import ServiceLifecycle

/// Settings of `videophone-server`.
public struct SignalingServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 3001
    public var engine = EngineIOServerConfiguration()
    public var maxMembers = 2
    /// Origins allowed to poll cross-origin and open websockets (`*` = any).
    public var allowedOrigins = ["*"]
    /// STUN/TURN handed to clients; the TURN secret stays on the server.
    public var ice = ICEServerConfig()
    /// PEM certificate chain and key for direct TLS; `nil` = plain HTTP (behind a reverse proxy).
    public var tls: (certificate: String, key: String)?
    /// Bearer token for the admin API (`/api/devices`); `nil` disables that API.
    public var adminToken: String?
    public init() {}
}

/// Builds the Hummingbird application: `/socket.io/` (Engine.IO + Socket.IO) and `/healthz`.
/// `onListening` receives the bound port (useful with port 0).
public func makeSignalingServer(configuration: SignalingServerConfiguration, chat: any ChatStore,
                                devices: any DeviceStore, logger: Logger,
                                onListening: @escaping @Sendable (Int) async -> Void = { _ in })
    throws -> (some ApplicationProtocol, SignalingHub) {
    let ice = ICEServers(config: configuration.ice)
    let hub = SignalingHub(maxMembers: configuration.maxMembers, chat: chat, devices: devices, ice: ice, logger: logger)
    let endpoint = EngineIOEndpoint(configuration: configuration.engine, allowedOrigins: configuration.allowedOrigins,
                                    hub: hub, logger: logger)
    let router = Router()
    router.get("/healthz") { _, _ -> String in
        let counts = await hub.counts
        return #"{"status":"ok","sessions":\#(counts.sessions),"sockets":\#(counts.sockets)}"#
    }
    let page = WebPage.load(logger: logger)
    router.get("/") { _, _ in page.response() }
    router.get("/api/ice-servers") { request, _ -> Response in
        let name = request.uri.queryParameters["name"].map(String.init) ?? "web"
        return jsonResponse(ice.iceServers(for: name, now: Date()))
    }
    AdminAPI(token: configuration.adminToken, hub: hub, logger: logger).register(on: router)
    router.get("/socket.io") { request, _ in try await endpoint.poll(request) }
    router.post("/socket.io") { request, _ in try await endpoint.post(request) }
    router.on("/socket.io", method: .options) { request, _ in endpoint.preflight(request) }

    let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
    webSocketRouter.ws("/socket.io") { request, _ in
        await endpoint.shouldUpgrade(request)
    } onUpgrade: { inbound, outbound, context in
        await endpoint.serveWebSocket(context.request, inbound: inbound, outbound: outbound)
    }
    // Idle keep-alive connections are closed after a held poll could possibly last, so a browser
    // that went away does not pin a connection (or graceful shutdown) forever.
    let idle = configuration.engine.pingInterval + configuration.engine.pingTimeout + .seconds(10)
    var server = HTTPServerBuilder.http1WebSocketUpgrade(
        webSocketRouter: webSocketRouter,
        configuration: .init(http1: .init(idleTimeout: .nanoseconds(Int64(idle.components.seconds) * 1_000_000_000)),
                             ws: .init(maxFrameSize: configuration.engine.maxPayload)))
    if let tls = configuration.tls {
        var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem)))
        tlsConfiguration.applicationProtocols = ["http/1.1"]
        server = try .tls(server, tlsConfiguration: tlsConfiguration)
    }
    let app = Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "videophone-server"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
        logger: logger
    )
    return (app, hub)
}

/// The call page, read once from the bundle at start-up.
struct WebPage: Sendable {
    let html: String

    static func load(logger: Logger) -> WebPage {
        guard let url = Bundle.module.url(forResource: "index", withExtension: "html", subdirectory: "Web"),
              let html = try? String(contentsOf: url, encoding: .utf8) else {
            logger.error("web page missing from the bundle; / will answer 503")
            return WebPage(html: "")
        }
        return WebPage(html: html)
    }

    func response() -> Response {
        guard !html.isEmpty else { return Response(status: .serviceUnavailable) }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

func jsonResponse(_ value: some Encodable) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// Runs beside the HTTP server; on graceful shutdown (SIGTERM/SIGINT) it tells every client the
/// server is going away (Engine.IO close) and closes the chat store, before the listener stops.
public struct HubShutdownService: Service {
    let hub: SignalingHub
    let chat: any ChatStore
    let devices: any DeviceStore
    let logger: Logger

    public init(hub: SignalingHub, chat: any ChatStore, devices: any DeviceStore, logger: Logger) {
        self.hub = hub
        self.chat = chat
        self.devices = devices
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        let count = await hub.counts.sessions
        await hub.closeAll()
        chat.close()
        devices.close()
        logger.info("shut down", metadata: ["sessions_closed": "\(count)"])
    }
}

/// Runs the server until SIGTERM/SIGINT, then shuts down gracefully (members told, store closed).
public func runSignalingServer(configuration: SignalingServerConfiguration, chat: any ChatStore, devices: any DeviceStore,
                               logger: Logger, onListening: @escaping @Sendable (Int) async -> Void) async throws {
    let (app, hub) = try makeSignalingServer(configuration: configuration, chat: chat, devices: devices, logger: logger,
                                             onListening: onListening)
    var groupConfiguration = ServiceGroupConfiguration(
        services: [.init(service: app), .init(service: HubShutdownService(hub: hub, chat: chat, devices: devices, logger: logger)),
                   .init(service: ChatPruneService(chat: chat, logger: logger))],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
    // Clients are told at once; a browser's idle keep-alive connection must not hold the exit for a minute.
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(3)
    let group = ServiceGroup(configuration: groupConfiguration)
    try await group.run()
}

/// Applies chat retention by age: at start, then hourly (count limits apply on every append).
struct ChatPruneService: Service {
    let chat: any ChatStore
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let removed = try chat.prune(now: Date())
                if removed > 0 { logger.info("pruned old chat messages", metadata: ["removed": "\(removed)"]) }
            } catch {
                logger.warning("chat prune failed", metadata: ["reason": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
        }
    }
}
