// The ICE driver: runs one `IceAgent` (sans-I/O) on one NIO EventLoop with real UDP sockets or
// the `VirtualNetwork`, resolving STUN/TURN server names, binding host sockets, timing the agent
// and turning its events into callbacks. Everything mutable is confined to `eventLoop`; public
// methods may be called from any thread and hop onto it.
import NIOCore
import NIOPosix
import Synchronization

public final class IceTransport: @unchecked Sendable {
    public let eventLoop: any EventLoop
    public let configuration: IceConfiguration
    private let factory: any DatagramSocketFactory
    private let credentials: Mutex<IceCredentials>

    // Loop-confined state (the class is @unchecked Sendable because of these).
    private var agent: IceAgent?
    private let initialRole: IceRole
    private var sockets: [any DatagramSocket] = []
    private var timer: Scheduled<Void>?
    private var timerDeadline: Double?
    private var pendingBeforeStart: [(IceAgent, Double) -> Void] = []
    private var started = false

    /// Callbacks, all on `eventLoop`. Set them before `startGathering()`.
    /// A local candidate to signal; nil = end of candidates (RFC 8838 §4.1).
    public var onLocalCandidate: (@Sendable (IceCandidateLine?) -> Void)?
    public var onStateChange: (@Sendable (IceConnectionState) -> Void)?
    /// DTLS, SRTP and SRTCP from the selected remote (a plain call per datagram, no Task).
    public var onData: (@Sendable ([UInt8]) -> Void)?
    /// "host 127.0.0.1:40000 ↔ host 127.0.0.1:40001", for logs.
    public var onSelectedPair: (@Sendable (String) -> Void)?
    public var onLog: (@Sendable (String) -> Void)?

    public init(configuration: IceConfiguration, role: IceRole, eventLoop: any EventLoop,
                socketFactory: any DatagramSocketFactory = UDPSocketFactory()) {
        self.configuration = configuration
        self.initialRole = role
        self.eventLoop = eventLoop
        self.factory = socketFactory
        credentials = Mutex(.random())
    }

    public var localCredentials: IceCredentials { credentials.withLock { $0 } }

    static func now() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    /// Runs `body` on the agent (now or once gathering created it), then flushes its output.
    private func withAgent(_ body: @escaping (IceAgent, Double) -> Void) {
        let box = UnsafeTransfer(body)
        onLoop {
            if let agent = self.agent {
                box.value(agent, Self.now())
                self.pump()
            } else {
                self.pendingBeforeStart.append(box.value)
            }
        }
    }

    // MARK: Public API

    public func setRemoteCredentials(_ remote: IceCredentials) {
        withAgent { agent, now in agent.setRemoteCredentials(remote, now: now) }
    }

    public func addRemoteCandidate(_ candidate: IceCandidateLine) {
        withAgent { agent, now in agent.addRemoteCandidate(candidate, now: now) }
    }

    public func remoteEndOfCandidates() {
        withAgent { agent, now in agent.remoteEndOfCandidates(now: now) }
    }

    /// Binds sockets on the host addresses and gathers host, server-reflexive and relayed candidates.
    public func startGathering() {
        onLoop { self.gather() }
    }

    /// Sends on the selected pair (dropped when there is none yet).
    public func send(_ bytes: [UInt8]) {
        if eventLoop.inEventLoop {
            sendOnLoop(bytes)
        } else {
            eventLoop.execute { self.sendOnLoop(bytes) }
        }
    }

    private func sendOnLoop(_ bytes: [UInt8]) {
        guard let agent, let t = agent.send(bytes), t.socket < sockets.count else { return }
        sockets[t.socket].send(t.bytes, to: t.destination)
    }

    /// ICE restart (RFC 8445 §9): returns the new local credentials to signal.
    @discardableResult
    public func restart() -> IceCredentials {
        let fresh = IceCredentials.random()
        credentials.withLock { $0 = fresh }
        withAgent { agent, now in
            _ = agent.restart(now: now)
            agent.localCredentials = fresh
        }
        return fresh
    }

    public func close() {
        onLoop {
            self.agent?.close(now: Self.now())
            self.pump()
            self.timer?.cancel()
            for s in self.sockets { s.close() }
            self.sockets.removeAll()
        }
    }

    /// The selected pair, for logs (read on the loop).
    public func selectedPairDescription() -> EventLoopFuture<String?> {
        eventLoop.submit { self.agent?.selectedPairDescription }
    }

    public func state() -> EventLoopFuture<IceConnectionState> {
        eventLoop.submit { self.agent?.state ?? .new }
    }

    // MARK: Gathering

    private func gather() {
        guard !started else { return }
        started = true
        let stun = configuration.stunServers.compactMap { Self.resolve($0.host, $0.port) }
        let turn = configuration.turnServers.compactMap { s in Self.resolve(s.host, s.port).map { ($0, s) } }
        let agent = IceAgent(configuration: configuration, role: initialRole, stunServers: stun, turnServers: turn,
                             credentials: localCredentials)
        self.agent = agent
        let addresses = factory.hostAddresses(includeIPv6: configuration.includeIPv6,
                                              loopbackOnly: configuration.loopbackOnly)
        let binds = addresses.map { address in
            factory.makeSocket(boundTo: address, on: eventLoop) { [weak self] bytes, from in
                self?.received(bytes, from: from, local: address)
            }
        }
        EventLoopFuture.whenAllComplete(binds, on: eventLoop).whenComplete { [self] result in
            guard case .success(let results) = result, let agent = self.agent, agent.state != .closed else {
                if case .success(let results) = result { for case .success(let s) in results { s.close() } }
                return
            }
            let now = Self.now()
            for r in results {
                switch r {
                case .success(let socket):
                    sockets.append(socket)
                    agent.addSocket(socket.localAddress, now: now)
                case .failure(let error):
                    onLog?("bind failed: \(error)")
                }
            }
            agent.socketsComplete(now: now)
            let queued = pendingBeforeStart
            pendingBeforeStart.removeAll()
            for body in queued { body(agent, now) }
            pump()
        }
    }

    static func resolve(_ host: String, _ port: UInt16) -> STUNAddress? {
        if let numeric = STUNAddress(host: host, port: port) { return numeric }
        // Name resolution (getaddrinfo) blocks briefly; it happens once per gathering.
        guard let a = try? SocketAddress.makeAddressResolvingHost(host, port: Int(port)) else { return nil }
        return STUNAddress(socketAddress: a)
    }

    // MARK: Per-datagram path

    private func received(_ bytes: [UInt8], from: STUNAddress, local: STUNAddress) {
        guard let agent else { return }
        // Socket index by bound address; at most a couple of sockets, so a linear scan.
        guard let index = sockets.firstIndex(where: { $0.localAddress == local || ($0.localAddress.ipOnly == local.ipOnly && local.port == 0) }) else { return }
        if let data = agent.receive(bytes, from: from, socket: index, now: Self.now()) {
            onData?(data)
            if agent.hasPendingOutput { pump() }
            return
        }
        pump()
    }

    /// Flushes transmits and events, and re-arms the timer for the agent's next deadline.
    private func pump() {
        guard let agent else { return }
        while let t = agent.pollTransmit() {
            if t.socket < sockets.count { sockets[t.socket].send(t.bytes, to: t.destination) }
        }
        while let e = agent.pollEvent() {
            switch e {
            case .localCandidate(let c): onLocalCandidate?(c)
            case .endOfCandidates: onLocalCandidate?(nil)
            case .stateChanged(let s): onStateChange?(s)
            case .selectedPair(let d): onSelectedPair?(d)
            case .roleChanged(let r): onLog?("role changed to \(r.rawValue)")
            case .log(let line): onLog?(line)
            }
        }
        let next = agent.nextTimeout()
        guard next != timerDeadline else { return }
        timer?.cancel()
        timerDeadline = next
        guard let next else { timer = nil; return }
        let deadline = NIODeadline.uptimeNanoseconds(UInt64(max(0, next) * 1e9))
        timer = eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self, let agent = self.agent else { return }
            self.timerDeadline = nil
            agent.handleTimeout(now: max(Self.now(), next))
            self.pump()
        }
    }
}

/// Moves a non-Sendable closure onto the event loop that alone will run it (used by every
/// loop-confined type in Peer: IceTransport, PeerConnection).
struct UnsafeTransfer<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
