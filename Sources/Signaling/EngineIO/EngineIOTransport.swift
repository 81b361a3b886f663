import SignalingCore

/// What a transport reports upward to its session.
enum TransportEvent: Sendable {
    case packet(EngineIOPacket)
    /// One undecodable packet: logged and dropped, the transport goes on.
    case malformed(SignalingDecodeError)
    /// The transport is finished; no more events follow.
    case closed(SignalingError)
    /// Polling has stopped for an upgrade: every packet it received was delivered before this.
    case paused
}

/// One Engine.IO transport (engine.io-protocol v4 "Transports").
protocol EngineIOTransport: AnyObject, Sendable {
    var name: String { get }
    var events: AsyncStream<TransportEvent> { get }
    func send(_ packets: [EngineIOPacket]) async throws(SignalingError)
    func close() async
}
