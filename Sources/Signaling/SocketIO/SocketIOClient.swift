import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import SignalingCore

/// Settings of a Socket.IO client; the defaults suit an appliance that must never give up.
public struct SocketIOConfiguration: Sendable {
    public var engine: EngineIOConfiguration
    /// Sent with CONNECT (socket.io-protocol v5 "auth" payload), e.g. a device token.
    public var auth: JSONValue?
    /// `nil` = reconnect forever (the appliance default).
    public var reconnectionAttempts: Int?
    public var backoff: Backoff
    public var ackTimeout: Duration

    public init(engine: EngineIOConfiguration, auth: JSONValue? = nil, reconnectionAttempts: Int? = nil,
                backoff: Backoff = Backoff(), ackTimeout: Duration = .seconds(10)) {
        self.engine = engine
        self.auth = auth
        self.reconnectionAttempts = reconnectionAttempts
        self.backoff = backoff
        self.ackTimeout = ackTimeout
    }
}

/// What a Socket.IO client delivers to its one consumer, in order.
public enum SocketIOIncoming: Sendable, Equatable {
    /// Connected (first time or after a reconnection) to namespace `/`.
    case connected(sid: String)
    case disconnected(SignalingError)
    /// An EVENT; when `ackID` is set the server waits for `SocketIOClient.ack(_:_:)`.
    case event(name: String, args: [JSONValue], ackID: UInt64?)
}

/// A Socket.IO v5 client for namespace `/` with reconnection (socket.io-protocol v5; the behaviour of
/// the official JS client's Manager: backoff with jitter, unlimited attempts by default).
public final actor SocketIOClient {
    public nonisolated let incoming: AsyncStream<SocketIOIncoming>
    private let incomingContinuation: AsyncStream<SocketIOIncoming>.Continuation
    private let stateBroadcast = Broadcast<ConnectionState>(.connecting)
    private let configuration: SocketIOConfiguration
    private let logger: Logger
    private let http: HTTPClient

    private var session: EngineIOSession?
    private var namespaceSID: String?
    private var runTask: Task<Void, Never>?
    private var stopped = false
    private var nextAckID: UInt64 = 0
    private var pendingAcks: [UInt64: CheckedContinuation<[JSONValue], any Error>] = [:]
    /// Acks we expect but whose caller is still suspended in `send`: a fast server (loopback) can
    /// answer before `emitWithAck` resumes on this actor, so the answer is kept here until it does.
    private var awaitedAcks: Set<UInt64> = []
    private var earlyAcks: [UInt64: Result<[JSONValue], SignalingError>] = [:]
    /// Binary attachments still to skip after a refused binary packet.
    private var attachmentsToSkip = 0

    public init(configuration: SocketIOConfiguration, logger: Logger = Logger(label: "videophone.signaling")) {
        self.configuration = configuration
        self.logger = logger
        var httpConfig = HTTPClient.Configuration(
            tlsConfiguration: configuration.engine.tlsConfiguration(),
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(configuration.engine.connectTimeout.nanoseconds)),
            decompression: .disabled
        )
        httpConfig.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: httpConfig)
        (incoming, incomingContinuation) = AsyncStream.makeStream(of: SocketIOIncoming.self)
    }

    /// A client dropped without `stop()` (e.g. its owner failed to start) must not bring the process
    /// down: AsyncHTTPClient traps when a client is released before it was shut down.
    deinit {
        if !stopped { http.shutdown { _ in } }
    }

    /// The connection state now.
    public nonisolated var state: ConnectionState { stateBroadcast.current }

    /// Every state change, starting with the current state.
    public nonisolated func stateUpdates() -> AsyncStream<ConnectionState> { stateBroadcast.updates() }

    /// Starts connecting (and reconnecting whenever the connection is lost) until `stop()`.
    public func start() {
        guard runTask == nil, !stopped else { return }
        runTask = Task { await self.connectLoop() }
    }

    /// Disconnects for good, fails pending acknowledgements, and finishes the streams.
    public func stop() async {
        guard !stopped else { return }
        stopped = true
        if let session, namespaceSID != nil {
            try? await session.send(.message(SocketIOPacket(kind: .disconnect).encoded()))
        }
        await session?.close()
        runTask?.cancel()
        await runTask?.value
        failAcks(.closedByClient)
        stateBroadcast.set(.closed(.closedByClient))
        stateBroadcast.finish()
        incomingContinuation.finish()
        try? await http.shutdown()
    }

    /// Emits an event to the server. Fails with `.notConnected` while disconnected (nothing is queued:
    /// stale call signaling after a reconnection would do more harm than good).
    public func emit(_ name: String, _ args: [JSONValue]) async throws(SignalingError) {
        try await sendPacket(.event(name, args))
    }

    /// Emits an event and waits for the server's acknowledgement.
    public func emitWithAck(_ name: String, _ args: [JSONValue], timeout: Duration? = nil) async throws(SignalingError) -> [JSONValue] {
        nextAckID += 1
        let id = nextAckID
        awaitedAcks.insert(id)
        defer { awaitedAcks.remove(id) }
        do {
            try await sendPacket(.event(name, args, ackID: id))
        } catch {
            earlyAcks.removeValue(forKey: id)
            throw error
        }
        // Actor reentrancy: the ack may have arrived while we were suspended in send.
        if let early = earlyAcks.removeValue(forKey: id) { return try early.get() }
        let limit = timeout ?? configuration.ackTimeout
        let timer = Task { [weak self] in
            try? await Task.sleep(for: limit)
            await self?.resolveAck(id, .failure(.ackTimeout(event: name)))
        }
        defer { timer.cancel() }
        do {
            return try await withCheckedThrowingContinuation { pendingAcks[id] = $0 }
        } catch {
            throw SignalingError.classify(error)
        }
    }

    /// Answers a server event that asked for an acknowledgement.
    public func ack(_ id: UInt64, _ args: [JSONValue]) async throws(SignalingError) {
        try await sendPacket(SocketIOPacket(kind: .ack, ackID: id, data: .array(args)))
    }

    private func sendPacket(_ packet: SocketIOPacket) async throws(SignalingError) {
        guard let session, namespaceSID != nil else { throw .notConnected }
        try await session.send(.message(packet.encoded()))
    }

    // MARK: Connection loop

    private func connectLoop() async {
        var attempt = 0
        var lastError = SignalingError.notConnected
        while !stopped && !Task.isCancelled {
            stateBroadcast.set(attempt == 0 ? .connecting : .reconnecting(attempt: attempt, lastError: lastError))
            let reason = await runSession()
            if stopped { break }
            lastError = reason
            if namespaceSID != nil {
                // We had been connected: tell the consumer, then count attempts afresh.
                attempt = 0
                namespaceSID = nil
                incomingContinuation.yield(.disconnected(reason))
            }
            failAcks(reason)
            attempt += 1
            if let max = configuration.reconnectionAttempts, attempt > max {
                stateBroadcast.set(.closed(reason))
                logger.error("giving up reconnecting", metadata: ["attempts": "\(max)", "reason": "\(reason)"])
                return
            }
            let delay = configuration.backoff.delay(attempt: attempt)
            stateBroadcast.set(.reconnecting(attempt: attempt, lastError: reason))
            logger.notice("signaling reconnect scheduled",
                          metadata: ["attempt": "\(attempt)", "delay_ms": "\(delay.nanoseconds / 1_000_000)", "reason": "\(reason)"])
            try? await Task.sleep(for: delay)
        }
    }

    /// Runs one Engine.IO session to its end; returns why it ended.
    private func runSession() async -> SignalingError {
        let session = EngineIOSession(configuration: configuration.engine, http: http, logger: logger)
        self.session = session
        defer { self.session = nil }
        do {
            _ = try await session.open()
            try await session.send(.message(SocketIOPacket(kind: .connect, data: configuration.auth).encoded()))
        } catch {
            await session.close()
            return error
        }
        let connectTimer = Task { [weak self] in
            try? await Task.sleep(for: self?.configuration.engine.connectTimeout ?? .seconds(10))
            await self?.abandonIfUnconnected(session)
        }
        defer { connectTimer.cancel() }
        for await event in session.events {
            switch event {
            case .message(let text):
                await handleMessage(text, session: session)
            case .upgraded(let transport):
                if let sid = namespaceSID { stateBroadcast.set(.connected(sid: sid, transport: transport)) }
            case .binary:
                if attachmentsToSkip > 0 { attachmentsToSkip -= 1 } else { logger.warning("dropped unexpected binary engine.io message") }
            case .closed(let reason):
                defer { closeReason = nil }
                return closeReason ?? reason
            }
        }
        return .transportClosed("session ended")
    }

    private func abandonIfUnconnected(_ session: EngineIOSession) async {
        guard namespaceSID == nil, self.session === session else { return }
        logger.warning("no Socket.IO CONNECT reply in time; closing session")
        await session.close()
    }

    private func handleMessage(_ text: String, session: EngineIOSession) async {
        let packet: SocketIOPacket
        do {
            packet = try SocketIOPacket.decode(text)
        } catch {
            if case .binaryAttachmentsUnsupported(let n) = error { attachmentsToSkip = n }
            logger.warning("dropped malformed socket.io packet", metadata: ["reason": "\(error)", "bytes": "\(text.utf8.count)"])
            return
        }
        guard packet.namespace == "/" else {
            logger.notice("ignored packet for namespace", metadata: ["namespace": "\(packet.namespace)"])
            return
        }
        switch packet.kind {
        case .connect:
            let sid = packet.data?["sid"]?.stringValue ?? ""
            namespaceSID = sid
            let transport = await session.transportName
            stateBroadcast.set(.connected(sid: sid, transport: transport))
            logger.info("socket.io connected", metadata: ["sid": "\(sid)", "transport": "\(transport)"])
            incomingContinuation.yield(.connected(sid: sid))
        case .connectError:
            let message = packet.data?["message"]?.stringValue ?? packet.data?.serialized() ?? "no reason given"
            logger.error("socket.io CONNECT refused", metadata: ["reason": "\(message)"])
            closeReason = .connectRefused(message)
            await session.close()
        case .event:
            guard let (name, args) = try? packet.eventNameAndArgs() else { return }
            incomingContinuation.yield(.event(name: name, args: args, ackID: packet.ackID))
        case .ack:
            guard let id = packet.ackID, case .array(let args)? = packet.data else { return }
            resolveAck(id, .success(args))
        case .disconnect:
            logger.notice("server disconnected this client from namespace /")
            closeReason = .transportClosed("server disconnected this client")
            await session.close()
        case .binaryEvent, .binaryAck:
            break // refused in decode
        }
    }

    /// Why we closed a session ourselves on the server's word (reported instead of "closed").
    private var closeReason: SignalingError?

    private func resolveAck(_ id: UInt64, _ result: Result<[JSONValue], SignalingError>) {
        guard let c = pendingAcks.removeValue(forKey: id) else {
            if awaitedAcks.contains(id) {
                earlyAcks[id] = result
            } else if case .success = result {
                logger.notice("ack for unknown id", metadata: ["id": "\(id)"])
            }
            return
        }
        c.resume(with: result.mapError { $0 as any Error })
    }

    private func failAcks(_ reason: SignalingError) {
        let waiting = pendingAcks
        pendingAcks.removeAll()
        for id in awaitedAcks { earlyAcks[id] = .failure(reason) }
        for c in waiting.values { c.resume(throwing: reason) }
    }
}
