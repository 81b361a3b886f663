import Logging
import NIOCore
import SignalingCore
import WSCore

/// Server-side limits and timing (engine.io-protocol v4 "Handshake"), as the seed's Node server uses.
public struct EngineIOServerConfiguration: Sendable {
    public var pingInterval: Duration = .seconds(25)
    public var pingTimeout: Duration = .seconds(20)
    /// Largest polling payload / websocket message accepted from a client.
    public var maxPayload: Int = 1_000_000
    public var allowPolling = true
    public var allowWebSocket = true
    /// Socket.IO messages per second a client may send on average, and in one burst.
    public var messageRate = 20.0
    public var messageBurst = 60.0
    /// Messages dropped for flooding before the session is closed.
    public var floodDropLimit = 200
    public init() {}
}

/// A token bucket: `rate` tokens a second up to `burst`; one message costs one token.
struct TokenBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(rate: Double, burst: Double, now: ContinuousClock.Instant = .now) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        last = now
    }

    mutating func take(now: ContinuousClock.Instant = .now) -> Bool {
        let elapsed = last.duration(to: now)
        tokens = min(burst, tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// Why a session ended.
public enum SessionCloseReason: String, Sendable {
    case clientClosed = "client closed"
    case pingTimeout = "ping timeout"
    case transportError = "transport error"
    case protocolError = "protocol error"
    case serverShutdown = "server shutdown"
}

/// One Engine.IO session on the server: polling (held GET + POSTs), websocket, and the upgrade
/// between them; server-driven heartbeat. Packets for the Socket.IO layer go to `onMessage`.
final actor ServerSession {
    nonisolated let sid: String
    private let configuration: EngineIOServerConfiguration
    private let logger: Logger
    private let onMessage: @Sendable (String) async -> Void
    private let onClose: @Sendable (SessionCloseReason) async -> Void

    private(set) var transport: String
    private var outbox: [EngineIOPacket] = []
    private var pollWaiter: CheckedContinuation<Void, Never>?
    private var pollInFlight = false
    private var postInFlight = false
    private var webSocket: WebSocketOutboundWriter?
    private var probing = false
    private var pongSeen = true
    private var heartbeat: Task<Void, Never>?
    private var upgradeNudger: Task<Void, Never>?
    private(set) var isClosed = false
    private var bucket: TokenBucket
    private var dropped = 0

    init(sid: String, transport: String, configuration: EngineIOServerConfiguration, logger: Logger,
         onMessage: @escaping @Sendable (String) async -> Void,
         onClose: @escaping @Sendable (SessionCloseReason) async -> Void) {
        self.sid = sid
        self.transport = transport
        self.configuration = configuration
        self.logger = logger
        self.onMessage = onMessage
        self.onClose = onClose
        bucket = TokenBucket(rate: configuration.messageRate, burst: configuration.messageBurst)
    }

    var handshake: EngineIOHandshake {
        EngineIOHandshake(sid: sid, upgrades: transport == "polling" && configuration.allowWebSocket ? ["websocket"] : [],
                          pingInterval: Int(configuration.pingInterval.components.seconds * 1000),
                          pingTimeout: Int(configuration.pingTimeout.components.seconds * 1000),
                          maxPayload: configuration.maxPayload)
    }

    /// How often a pending ping looks for its pong: pongs come within milliseconds.
    static let pongCheck = Duration.milliseconds(50)

    func startHeartbeat() {
        let interval = configuration.pingInterval, timeout = configuration.pingTimeout
        heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, !self.isClosed else { return }
                self.pongSeen = false
                await self.send([.ping("")])
                // The next ping follows the pong by one interval, as the reference server does (it
                // restarts its interval timer on pong). Waiting out the whole timeout first put our
                // pings interval + timeout apart: exactly the silence after which a client gives up
                // (engine.io-protocol v4 "Heartbeat"), so every session dropped about 70 s in.
                let deadline = ContinuousClock.now + timeout
                while !self.pongSeen, ContinuousClock.now < deadline, !Task.isCancelled {
                    try? await Task.sleep(for: min(Self.pongCheck, timeout))
                }
                guard !Task.isCancelled, !self.isClosed else { return }
                if !self.pongSeen {
                    await self.close(.pingTimeout)
                    return
                }
            }
        }
    }

    /// Queues packets for the client: written at once on a websocket, or handed to the held GET.
    func send(_ packets: [EngineIOPacket]) async {
        guard !isClosed else { return }
        if let webSocket, transport == "websocket" {
            for packet in packets {
                do { try await webSocket.write(.text(packet.encoded())) }
                catch { await close(.transportError); return }
            }
        } else {
            outbox.append(contentsOf: packets)
            pollWaiter?.resume()
            pollWaiter = nil
        }
    }

    // MARK: Polling

    enum PollError: Error { case concurrentRequest, wrongTransport, closed }

    /// A held GET: returns queued packets as one payload, waiting until there are some.
    func poll() async throws(PollError) -> String {
        guard transport == "polling" else { throw .wrongTransport }
        guard !pollInFlight else { await close(.protocolError); throw .concurrentRequest }
        pollInFlight = true
        defer { pollInFlight = false }
        if outbox.isEmpty && !isClosed {
            await withCheckedContinuation { pollWaiter = $0 }
        }
        if isClosed && outbox.isEmpty { return EngineIOPacket.close.encoded() }
        let payload = EngineIOPayload.encode(outbox)
        outbox.removeAll()
        return payload
    }

    /// A POST body: one or more packets joined by the record separator.
    func receivePayload(_ body: String) async throws(PollError) {
        guard !postInFlight else { await close(.protocolError); throw .concurrentRequest }
        postInFlight = true
        defer { postInFlight = false }
        for result in EngineIOPayload.decode(body) {
            switch result {
            case .success(let packet): await handle(packet, via: "polling")
            case .failure(let error):
                logger.warning("dropped malformed engine.io packet", metadata: ["sid": "\(sid)", "reason": "\(error)"])
            }
        }
    }

    // MARK: WebSocket

    /// Serves a websocket for this session until it closes: a fresh websocket session, or an upgrade probe.
    func attachWebSocket(_ writer: WebSocketOutboundWriter, upgrade: Bool) {
        if upgrade {
            probing = true
        } else {
            transport = "websocket"
        }
        webSocket = writer
    }

    func receiveWebSocketText(_ text: String) async {
        switch Result(catching: { () throws(SignalingDecodeError) in try EngineIOPacket.decode(Substring(text)) }) {
        case .success(let packet): await handle(packet, via: "websocket")
        case .failure(let error):
            logger.warning("dropped malformed engine.io packet", metadata: ["sid": "\(sid)", "reason": "\(error)"])
        }
    }

    func webSocketClosed() async {
        if transport == "websocket" { await close(.transportError) }
        else { probing = false; webSocket = nil; upgradeNudger?.cancel(); upgradeNudger = nil }
    }

    /// Answers a held GET with a noop (during an upgrade, so the client can pause polling).
    private func releasePolls() {
        guard probing, transport == "polling" else { return }
        if outbox.isEmpty { outbox.append(.noop) }
        pollWaiter?.resume()
        pollWaiter = nil
    }

    // MARK: Packets

    private func handle(_ packet: EngineIOPacket, via source: String) async {
        guard !isClosed else { return }
        switch packet {
        case .ping("probe") where source == "websocket" && probing:
            try? await webSocket?.write(.text(EngineIOPacket.pong("probe").encoded()))
            // Release the held GET so the client can pause polling (engine.io "upgrade"). A client
            // may already have sent its next GET before it read the pong; keep answering GETs with
            // noop until the upgrade packet arrives, as the reference server does, or that GET
            // would be held for a whole ping interval and the upgrade with it.
            releasePolls()
            upgradeNudger?.cancel()
            upgradeNudger = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    guard !Task.isCancelled else { return }
                    self.releasePolls()
                }
            }
        case .upgrade where source == "websocket" && probing:
            probing = false
            upgradeNudger?.cancel()
            upgradeNudger = nil
            transport = "websocket"
            let pending = outbox.filter { $0 != .noop }
            outbox.removeAll()
            pollWaiter?.resume()
            pollWaiter = nil
            await send(pending)
            logger.debug("session upgraded to websocket", metadata: ["sid": "\(sid)"])
        case .pong:
            pongSeen = true
        case .message(let text):
            guard source == transport else { return }
            guard bucket.take() else {
                dropped += 1
                if dropped == 1 || dropped % 50 == 0 {
                    logger.warning("dropping messages over the rate limit", metadata: ["sid": "\(sid)", "dropped": "\(dropped)"])
                }
                if dropped >= configuration.floodDropLimit {
                    logger.warning("closing flooding session", metadata: ["sid": "\(sid)"])
                    await close(.protocolError)
                }
                return
            }
            await onMessage(text)
        case .close:
            await close(.clientClosed)
        case .ping, .upgrade, .noop, .open, .binaryMessage:
            logger.debug("ignored engine.io packet", metadata: ["sid": "\(sid)", "packet": "\(packet.encoded().prefix(20))"])
        }
    }

    func close(_ reason: SessionCloseReason) async {
        guard !isClosed else { return }
        isClosed = true
        heartbeat?.cancel()
        upgradeNudger?.cancel()
        if let webSocket, transport == "websocket" {
            try? await webSocket.write(.text(EngineIOPacket.close.encoded()))
            try? await webSocket.close(.normalClosure, reason: nil)
        }
        pollWaiter?.resume()
        pollWaiter = nil
        await onClose(reason)
    }
}
