import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import RoomServer

/// Settings of `videophone-server`.
public struct SignalingServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 3001
    public var engine = EngineIOServerConfiguration()
    public var maxMembers = 2
    /// Origins allowed to poll cross-origin and open websockets (`*` = any).
    public var allowedOrigins = ["*"]
    public init() {}
}

/// Builds the Hummingbird application: `/socket.io/` (Engine.IO + Socket.IO) and `/healthz`.
/// `onListening` receives the bound port (useful with port 0).
public func makeSignalingServer(configuration: SignalingServerConfiguration, chat: any ChatStore, logger: Logger,
                                onListening: @escaping @Sendable (Int) async -> Void = { _ in })
    -> (some ApplicationProtocol, SignalingHub) {
    let hub = SignalingHub(maxMembers: configuration.maxMembers, chat: chat, logger: logger)
    let endpoint = EngineIOEndpoint(configuration: configuration.engine, allowedOrigins: configuration.allowedOrigins,
                                    hub: hub, logger: logger)
    let router = Router()
    router.get("/healthz") { _, _ -> String in
        let counts = await hub.counts
        return #"{"status":"ok","sessions":\#(counts.sessions),"sockets":\#(counts.sockets)}"#
    }
    router.get("/socket.io") { request, _ in try await endpoint.poll(request) }
    router.post("/socket.io") { request, _ in try await endpoint.post(request) }
    router.on("/socket.io", method: .options) { request, _ in endpoint.preflight(request) }

    let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
    webSocketRouter.ws("/socket.io") { request, _ in
        await endpoint.shouldUpgrade(request)
    } onUpgrade: { inbound, outbound, context in
        await endpoint.serveWebSocket(context.request, inbound: inbound, outbound: outbound)
    }
    let app = Application(
        router: router,
        server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter,
                                       configuration: .init(maxFrameSize: configuration.engine.maxPayload)),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "videophone-server"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
        logger: logger
    )
    return (app, hub)
}
