import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import SignalingCore

/// The `/socket.io/` endpoint: Engine.IO v4 over HTTP long-polling and websocket
/// (engine.io-protocol v4 "Transports", "Upgrade"), with CORS for cross-origin polling.
struct EngineIOEndpoint: Sendable {
    let configuration: EngineIOServerConfiguration
    let allowedOrigins: [String]
    let hub: SignalingHub
    let logger: Logger

    // MARK: Polling

    func poll(_ request: Request) async throws -> Response {
        if let refusal = check(request) { return refusal }
        guard configuration.allowPolling, request.uri.queryParameters["transport"] == "polling" else {
            return error(0, "Transport unknown", request)
        }
        guard let sid = request.uri.queryParameters["sid"].map(String.init) else {
            let session = await newSession(transport: "polling")
            return text(EngineIOPacket.open(await session.handshake).encoded(), request)
        }
        guard let session = await hub.session(sid) else { return error(1, "Session ID unknown", request) }
        do {
            return text(try await session.poll(), request)
        } catch {
            return self.error(3, "Bad request", request)
        }
    }

    func post(_ request: Request) async throws -> Response {
        if let refusal = check(request) { return refusal }
        guard let sid = request.uri.queryParameters["sid"].map(String.init), let session = await hub.session(sid) else {
            return error(1, "Session ID unknown", request)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxPayload)
        } catch {
            logger.warning("closed session after an oversized POST", metadata: ["sid": "\(sid)", "limit": "\(configuration.maxPayload)"])
            await session.close(.protocolError)
            return Response(status: .contentTooLarge, headers: cors(request))
        }
        do {
            try await session.receivePayload(String(buffer: body))
        } catch {
            return self.error(3, "Bad request", request)
        }
        return text("ok", request)
    }

    func preflight(_ request: Request) -> Response {
        if let refusal = check(request) { return refusal }
        var headers = cors(request)
        headers[.accessControlAllowMethods] = "GET, POST"
        headers[.accessControlAllowHeaders] = "content-type"
        return Response(status: .noContent, headers: headers)
    }

    // MARK: WebSocket

    func shouldUpgrade(_ request: Request) async -> RouterShouldUpgrade {
        guard configuration.allowWebSocket, request.uri.queryParameters["transport"] == "websocket",
              request.uri.queryParameters["EIO"] == "4", originAllowed(request) else { return .dontUpgrade }
        if let sid = request.uri.queryParameters["sid"].map(String.init) {
            guard let session = await hub.session(sid), await session.transport == "polling" else { return .dontUpgrade }
        }
        return .upgrade([:])
    }

    func serveWebSocket(_ request: Request, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let session: ServerSession
        if let sid = request.uri.queryParameters["sid"].map(String.init) {
            guard let existing = await hub.session(sid) else { return }
            session = existing
            await session.attachWebSocket(outbound, upgrade: true)
        } else {
            session = await newSession(transport: "websocket")
            await session.attachWebSocket(outbound, upgrade: false)
            await session.send([.open(await session.handshake)])
        }
        do {
            for try await message in inbound.messages(maxSize: configuration.maxPayload) {
                if case .text(let text) = message { await session.receiveWebSocketText(text) }
            }
        } catch {
            logger.notice("websocket closed with an error", metadata: ["sid": "\(session.sid)", "reason": "\(error)"])
        }
        await session.webSocketClosed()
    }

    // MARK: Helpers

    private func newSession(transport: String) async -> ServerSession {
        let sid = SignalingHub.makeID()
        let hub = self.hub
        let session = ServerSession(sid: sid, transport: transport, configuration: configuration, logger: logger,
                                    onMessage: { text in await hub.receive(text, from: sid) },
                                    onClose: { reason in await hub.sessionClosed(sid, reason: reason) })
        await hub.register(session)
        await session.startHeartbeat()
        return session
    }

    private func originAllowed(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true } // not a browser, or same-origin
        return allowedOrigins.contains("*") || allowedOrigins.contains(origin)
    }

    /// Refuses a wrong protocol version or a cross-origin request from an origin not allowed.
    private func check(_ request: Request) -> Response? {
        guard request.uri.queryParameters["EIO"] == "4" else { return error(5, "Unsupported protocol version", request) }
        guard originAllowed(request) else {
            logger.notice("refused request from origin not allowed", metadata: ["origin": "\(request.headers[.origin] ?? "")"])
            return Response(status: .forbidden, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"code":4,"message":"Forbidden"}"#)))
        }
        return nil
    }

    private func cors(_ request: Request) -> HTTPFields {
        var headers = HTTPFields()
        if let origin = request.headers[.origin], originAllowed(request) {
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowCredentials] = "true"
        }
        return headers
    }

    private func text(_ body: String, _ request: Request) -> Response {
        var headers = cors(request)
        headers[.contentType] = "text/plain; charset=UTF-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private func error(_ code: Int, _ message: String, _ request: Request) -> Response {
        var headers = cors(request)
        headers[.contentType] = "application/json"
        return Response(status: .badRequest, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: #"{"code":\#(code),"message":"\#(message)"}"#)))
    }
}
