import Logging
import SignalingCore

/// What the appliance sees of signaling: typed events only, never raw JSON.
public enum SignalingEvent: Sendable, Equatable {
    /// Connected (or reconnected) to the server; a `room:join` for the current room has been sent.
    case connected
    case disconnected(SignalingError)
    case server(ServerEvent)
    /// A known event whose payload did not decode: logged, and reported so tests and tools can see it.
    case malformed(SignalingDecodeError)
    /// An event name outside the wire contract.
    case unknown(name: String, args: [JSONValue])
}

/// The room-level client: joins a room on the seed's signaling server, rejoins and re-announces
/// itself after every reconnection, and exchanges the contract's typed events.
public final actor SignalingClient {
    public nonisolated let events: AsyncStream<SignalingEvent>
    private let continuation: AsyncStream<SignalingEvent>.Continuation
    public nonisolated let socket: SocketIOClient
    private let logger: Logger
    private var room: RoomJoin?
    private var pump: Task<Void, Never>?
    private let membership = Broadcast<String?>(nil)

    /// Our socket id in the current room (from `room:joined`); `nil` while not in a room.
    public nonisolated var selfID: String? { membership.current }

    /// Every change of room membership (our id, or `nil`), starting with the current one.
    public nonisolated func membershipUpdates() -> AsyncStream<String?> { membership.updates() }

    public init(configuration: SocketIOConfiguration, logger: Logger = Logger(label: "videophone.signaling")) {
        socket = SocketIOClient(configuration: configuration, logger: logger)
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: SignalingEvent.self)
    }

    public nonisolated var state: ConnectionState { socket.state }
    public nonisolated func stateUpdates() -> AsyncStream<ConnectionState> { socket.stateUpdates() }

    public func start() async {
        guard pump == nil else { return }
        pump = Task { await self.pumpEvents() }
        await socket.start()
    }

    public func stop() async {
        await socket.stop()
        await pump?.value
        membership.finish()
        continuation.finish()
    }

    /// Sets the room to be in, joins it now if connected, and again after every reconnection.
    public func join(room: String, userName: String) async throws(SignalingError) {
        let join = RoomJoin(room: room, userName: userName)
        self.room = join
        if socket.state.isConnected { try await send(.roomJoin(join)) }
    }

    /// Leaves the room (and stops rejoining it).
    public func leave() async throws(SignalingError) {
        room = nil
        membership.set(nil)
        try await send(.leaveRoom)
    }

    public func send(_ event: ClientEvent) async throws(SignalingError) {
        try await socket.emit(event.name, event.arguments())
    }

    /// Request/response over an acknowledged event (e.g. `ice:servers`).
    public func request(_ name: String, _ args: [JSONValue], timeout: Duration? = nil) async throws(SignalingError) -> [JSONValue] {
        try await socket.emitWithAck(name, args, timeout: timeout)
    }

    private func pumpEvents() async {
        for await item in socket.incoming {
            switch item {
            case .connected:
                if let room {
                    do { try await send(.roomJoin(room)) }
                    catch { logger.warning("could not rejoin room", metadata: ["room": "\(room.room)", "reason": "\(error)"]) }
                }
                continuation.yield(.connected)
            case .disconnected(let reason):
                membership.set(nil)
                continuation.yield(.disconnected(reason))
            case .event(let name, let args, _):
                do {
                    if let event = try ServerEvent.decode(name: name, args: args) {
                        if case .roomJoined(let joined) = event { membership.set(joined.id) }
                        continuation.yield(.server(event))
                    } else {
                        logger.notice("ignored unknown signaling event", metadata: ["event": "\(name)"])
                        continuation.yield(.unknown(name: name, args: args))
                    }
                } catch {
                    logger.warning("rejected malformed signaling event", metadata: ["event": "\(name)", "reason": "\(error)"])
                    continuation.yield(.malformed(error))
                }
            }
        }
        continuation.finish()
    }
}
