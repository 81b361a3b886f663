import AsyncHTTPClient
import Logging
import SignalingCore

/// What an Engine.IO session delivers upward (to the Socket.IO layer).
public enum EngineIOEvent: Sendable, Equatable {
    case message(String)
    case binary([UInt8])
    /// The session moved to another transport (polling → websocket).
    case upgraded(transport: String)
    /// The session is over; nothing follows. Reconnecting means a new session.
    case closed(SignalingError)
}

/// One Engine.IO v4 session: handshake, heartbeat, the polling → websocket upgrade, and sending
/// within the server's limits. It does not reconnect; `SocketIOClient` makes a new session for that.
final actor EngineIOSession {
    nonisolated let events: AsyncStream<EngineIOEvent>
    private let continuation: AsyncStream<EngineIOEvent>.Continuation
    private let configuration: EngineIOConfiguration
    private let http: HTTPClient
    private let logger: Logger

    private(set) var handshake: EngineIOHandshake?
    private var transport: (any EngineIOTransport)?
    /// Sends made while the transport is being swapped; flushed on the new one (engine.io "upgrade").
    private var heldDuringUpgrade: [EngineIOPacket]?
    private var lastPing = ContinuousClock.now
    private var tasks: [Task<Void, Never>] = []
    private var openWaiter: CheckedContinuation<EngineIOHandshake, any Error>?
    private var probeWaiter: CheckedContinuation<Void, any Error>?
    /// Resumed when the polling reader reaches `.paused`: the last polled packets have been handled.
    private var drainWaiter: CheckedContinuation<Void, Never>?
    private var isClosed = false

    init(configuration: EngineIOConfiguration, http: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.http = http
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: EngineIOEvent.self)
    }

    var transportName: String { transport?.name ?? "none" }

    /// Connects with the configured transports and returns the server's handshake.
    func open() async throws(SignalingError) -> EngineIOHandshake {
        try configuration.validate()
        let hs: EngineIOHandshake
        switch configuration.transports {
        case .websocket:
            let ws = WebSocketTransport(configuration: configuration, sid: nil, logger: logger)
            try await ws.connect()
            transport = ws
            hs = try await awaitOpen(reading: ws)
        case .polling, .pollingThenUpgrade:
            let polling = PollingTransport(http: http, configuration: configuration, logger: logger)
            hs = try await polling.handshake()
            handshake = hs
            transport = polling
            read(polling)
            await polling.startPolling()
        }
        lastPing = .now
        startWatchdog(hs)
        logger.info("engine.io open", metadata: ["sid": "\(hs.sid)", "transport": "\(transportName)",
                                                 "pingInterval": "\(hs.pingInterval)", "pingTimeout": "\(hs.pingTimeout)"])
        if configuration.transports == .pollingThenUpgrade, hs.upgrades.contains("websocket") {
            tasks.append(Task { await self.upgrade(sid: hs.sid) })
        }
        return hs
    }

    /// Websocket-only start: the first packet on the socket must be `open`.
    private func awaitOpen(reading ws: WebSocketTransport) async throws(SignalingError) -> EngineIOHandshake {
        read(ws)
        let timeout = configuration.connectTimeout
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.failOpen(.timeout("no Engine.IO open packet"))
        }
        defer { timer.cancel() }
        do {
            return try await withCheckedThrowingContinuation { openWaiter = $0 }
        } catch {
            throw SignalingError.classify(error)
        }
    }

    private func failOpen(_ error: SignalingError) {
        openWaiter?.resume(throwing: error)
        openWaiter = nil
    }

    /// Sends one packet on the current transport (held while an upgrade swaps transports).
    func send(_ packet: EngineIOPacket) async throws(SignalingError) {
        guard !isClosed, let transport else { throw .notConnected }
        if let limit = handshake?.maxPayload, packet.encoded().utf8.count > limit {
            throw .payloadTooLarge(bytes: packet.encoded().utf8.count, limit: limit)
        }
        if heldDuringUpgrade != nil {
            heldDuringUpgrade?.append(packet)
            return
        }
        try await transport.send([packet])
    }

    func close() async {
        await shutdown(.closedByClient)
    }

    // MARK: Reading

    private func read(_ transport: any EngineIOTransport) {
        tasks.append(Task {
            for await event in transport.events {
                await self.handle(event, from: transport)
            }
        })
    }

    private func handle(_ event: TransportEvent, from source: any EngineIOTransport) async {
        let isCurrent = source === transport
        switch event {
        case .malformed(let error):
            logger.warning("dropped malformed engine.io packet", metadata: ["reason": "\(error)"])
        case .paused:
            drainWaiter?.resume()
            drainWaiter = nil
        case .closed(let error):
            drainWaiter?.resume()
            drainWaiter = nil
            if isCurrent {
                await shutdown(error)
            } else {
                probeWaiter?.resume(throwing: error)
                probeWaiter = nil
            }
        case .packet(let packet):
            if !isCurrent {
                // Only the probe reply is expected on a transport being probed.
                if case .pong("probe") = packet { probeWaiter?.resume(); probeWaiter = nil }
                return
            }
            switch packet {
            case .open(let hs):
                guard handshake == nil else { logger.warning("ignored second open packet"); return }
                handshake = hs
                openWaiter?.resume(returning: hs)
                openWaiter = nil
            case .ping(let data):
                lastPing = .now
                try? await source.send([.pong(data)])
            case .message(let text):
                continuation.yield(.message(text))
            case .binaryMessage(let bytes):
                continuation.yield(.binary(bytes))
            case .close:
                await shutdown(.transportClosed("server closed the session"))
            case .noop, .pong, .upgrade:
                break
            }
        }
    }

    // MARK: Heartbeat (engine.io-protocol v4 "Heartbeat")

    private func startWatchdog(_ hs: EngineIOHandshake) {
        let limit = Duration.milliseconds(hs.pingInterval + hs.pingTimeout)
        tasks.append(Task {
            while !Task.isCancelled {
                let deadline = self.lastPing + limit
                if ContinuousClock.now >= deadline {
                    await self.shutdown(.heartbeatTimeout(milliseconds: hs.pingInterval + hs.pingTimeout))
                    return
                }
                try? await Task.sleep(until: deadline, clock: .continuous)
            }
        })
    }

    // MARK: Upgrade (engine.io-protocol v4 "Upgrade")

    private func upgrade(sid: String) async {
        guard let polling = transport as? PollingTransport else { return }
        let ws = WebSocketTransport(configuration: configuration, sid: sid, logger: logger)
        do {
            try await ws.connect()
            read(ws)
            await polling.holdForProbe()
            let timeout = configuration.upgradeTimeout
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.failProbe(SignalingError.timeout("websocket probe"))
            }
            defer { timer.cancel() }
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                probeWaiter = c
                Task { do { try await ws.send([.ping("probe")]) } catch { self.failProbe(error) } }
            }
        } catch {
            logger.notice("websocket upgrade failed; staying on polling", metadata: ["reason": "\(SignalingError.classify(error))"])
            await polling.probeFailed()
            await ws.close()
            return
        }
        guard !isClosed else { await ws.close(); return }
        // Hold sends, let the polling GET in flight finish (the server answers it with noop), then switch.
        heldDuringUpgrade = []
        // Packets the last GET brought (e.g. a `room:joined`) are still on their way through the
        // polling reader; switching `transport` before they are handled would drop them as strays.
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            drainWaiter = c
            Task { await polling.pause() }
        }
        guard !isClosed else { await ws.close(); return }
        do {
            try await ws.send([.upgrade])
        } catch {
            logger.notice("websocket upgrade failed at the last step", metadata: ["reason": "\(error)"])
            await shutdown(error)
            return
        }
        transport = ws
        let held = heldDuringUpgrade ?? []
        heldDuringUpgrade = nil
        if !held.isEmpty {
            do { try await ws.send(held) } catch { await shutdown(error) ; return }
        }
        await polling.close()
        continuation.yield(.upgraded(transport: ws.name))
        logger.info("engine.io upgraded to websocket", metadata: ["sid": "\(sid)"])
    }

    private func failProbe(_ error: any Error) {
        probeWaiter?.resume(throwing: error)
        probeWaiter = nil
    }

    // MARK: Closing

    private func shutdown(_ reason: SignalingError) async {
        guard !isClosed else { return }
        isClosed = true
        failOpen(reason)
        failProbe(reason)
        drainWaiter?.resume()
        drainWaiter = nil
        for task in tasks { task.cancel() }
        if let transport { await transport.close() }
        if reason != .closedByClient { logger.notice("engine.io session closed", metadata: ["reason": "\(reason)"]) }
        continuation.yield(.closed(reason))
        continuation.finish()
    }
}
