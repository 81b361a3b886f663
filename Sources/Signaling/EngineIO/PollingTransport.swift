import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SignalingCore

/// HTTP long-polling (engine.io-protocol v4 "HTTP long-polling"): a GET that the server holds until
/// it has packets, and POSTs for what the client sends. Payload packets are joined by `\x1e`.
/// At most one GET and one POST are in flight at any time, as the protocol requires.
final actor PollingTransport: EngineIOTransport {
    nonisolated let name = "polling"
    nonisolated let events: AsyncStream<TransportEvent>
    private let continuation: AsyncStream<TransportEvent>.Continuation
    private let http: HTTPClient
    private let configuration: EngineIOConfiguration
    private let logger: Logger

    private var sid: String?
    private var maxPayload = 1_000_000
    private var requestTimeout: TimeAmount = .seconds(60)
    private var pollTask: Task<Void, Never>?
    private var paused = false
    private var probing = false
    private var probeHold: CheckedContinuation<Void, Never>?
    private var closed = false
    private var outbox: [EngineIOPacket] = []
    private var flushTask: Task<Void, Never>?

    init(http: HTTPClient, configuration: EngineIOConfiguration, logger: Logger) {
        self.http = http
        self.configuration = configuration
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: TransportEvent.self)
    }

    /// The opening GET: returns the handshake; any other packets in that payload are delivered as events.
    func handshake() async throws(SignalingError) -> EngineIOHandshake {
        let body = try await request(method: .GET, body: nil, timeout: .nanoseconds(configuration.connectTimeout.nanoseconds))
        var handshake: EngineIOHandshake?
        for result in EngineIOPayload.decode(body) {
            switch result {
            case .success(.open(let hs)) where handshake == nil: handshake = hs
            case .success(let packet): continuation.yield(.packet(packet))
            case .failure(let error): throw .protocolViolation("handshake: \(error)")
            }
        }
        guard let handshake else { throw .protocolViolation("first polling response has no open packet") }
        sid = handshake.sid
        maxPayload = handshake.maxPayload
        // A held GET lasts at most one ping interval; allow the ping timeout and a margin on top.
        requestTimeout = .milliseconds(Int64(handshake.pingInterval + handshake.pingTimeout + 5_000))
        return handshake
    }

    func startPolling() {
        guard pollTask == nil else { return }
        pollTask = Task { await self.pollLoop() }
    }

    private func pollLoop() async {
        while !paused && !closed {
            do {
                let body = try await request(method: .GET, body: nil, timeout: requestTimeout)
                for result in EngineIOPayload.decode(body) {
                    switch result {
                    case .success(let packet): continuation.yield(.packet(packet))
                    case .failure(let error): continuation.yield(.malformed(error))
                    }
                }
            } catch {
                finish(error)
                return
            }
            // The server answers the GET in flight with a noop when it sees the probe. Polling again
            // before the pong is read would send a GET a server may hold for a whole ping interval,
            // and `pause()` (the upgrade) would wait for it.
            if probing && !paused && !closed {
                await withCheckedContinuation { probeHold = $0 }
            }
        }
    }

    /// A websocket probe is on its way: after the GET in flight returns, wait for the outcome.
    func holdForProbe() { probing = true }

    /// The probe failed: polling goes on as before.
    func probeFailed() {
        probing = false
        releaseProbeHold()
    }

    private func releaseProbeHold() {
        probeHold?.resume()
        probeHold = nil
    }

    /// Stops polling once the GET in flight returns (the server answers it with a noop during an upgrade),
    /// then yields `.paused` after whatever that GET carried, so the reader can tell it has seen it all.
    func pause() async {
        paused = true
        releaseProbeHold()
        await pollTask?.value
        await flushTask?.value
        if !closed { continuation.yield(.paused) }
    }

    func send(_ packets: [EngineIOPacket]) async throws(SignalingError) {
        guard !closed else { throw .transportClosed("polling transport closed") }
        // Refuse a single packet the server would reject (HTTP 413) before queueing anything.
        for packet in packets {
            let bytes = packet.encoded().utf8.count
            if bytes > maxPayload { throw .payloadTooLarge(bytes: bytes, limit: maxPayload) }
        }
        outbox.append(contentsOf: packets)
        if flushTask == nil { flushTask = Task { await self.flush() } }
    }

    /// Sends everything queued, one POST at a time, each payload within the server's maxPayload.
    private func flush() async {
        defer { flushTask = nil }
        while !outbox.isEmpty && !closed {
            let batch = outbox
            outbox.removeAll()
            do {
                for payload in try EngineIOPayload.batches(batch, maxPayload: maxPayload) {
                    _ = try await request(method: .POST, body: payload, timeout: requestTimeout)
                }
            } catch {
                finish(SignalingError.classify(error))
                return
            }
        }
    }

    func close() async {
        guard !closed else { return }
        // Best effort: tell the server we are leaving so it frees the session at once.
        if sid != nil, !paused { _ = try? await request(method: .POST, body: EngineIOPacket.close.encoded(), timeout: .seconds(2)) }
        closed = true
        releaseProbeHold()
        pollTask?.cancel()
        continuation.yield(.closed(.closedByClient))
        continuation.finish()
    }

    private func finish(_ error: SignalingError) {
        guard !closed else { return }
        closed = true
        releaseProbeHold()
        continuation.yield(.closed(error))
        continuation.finish()
    }

    private func finish(_ error: any Error) { finish(SignalingError.classify(error)) }

    private func request(method: HTTPMethod, body: String?, timeout: TimeAmount) async throws(SignalingError) -> String {
        var url = configuration.endpoint(transport: "polling", sid: sid)
        // Cache-busting timestamp, as the official client sends.
        url += "&t=\(UInt64(Date().timeIntervalSince1970 * 1000))"
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "text/plain;charset=UTF-8")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw SignalingError.classify(error)
        }
        guard response.status == .ok else {
            // Drain so the connection can be reused; the status is what matters.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if response.status == .badRequest { throw .protocolViolation("session rejected by server (HTTP 400)") }
            throw .httpStatus(Int(response.status.code))
        }
        do {
            let buffer = try await response.body.collect(upTo: configuration.maxInboundPayload)
            return String(buffer: buffer)
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw .payloadTooLarge(bytes: configuration.maxInboundPayload + 1, limit: configuration.maxInboundPayload)
        } catch {
            throw SignalingError.classify(error)
        }
    }
}
