// An in-process datagram network for tests: each "host" (an IP) binds virtual ports, and
// datagrams between them are dropped, delayed, reordered (by random delay) and duplicated by a
// seeded generator, so loss behaviour is deterministic in its decisions and needs no netem.
import Synchronization
import NIOCore

public final class VirtualNetwork: Sendable {
    /// What happens to datagrams leaving a host.
    public struct Conditions: Sendable {
        public var loss: Double
        public var duplicate: Double
        public var delay: TimeAmount
        /// Extra random delay 0...jitter per datagram; more than the send spacing reorders.
        public var jitter: TimeAmount
        /// Drops everything in both directions (a peer that went silent).
        public var silent: Bool
        /// A bottleneck on the host's uplink, in bits per second (nil: unlimited). Datagrams queue
        /// behind each other for their serialization time; beyond `queueLimit` of queueing delay
        /// they are dropped (a drop-tail router), which is what a congested uplink does.
        public var rateLimit: Int?
        public var queueLimit: TimeAmount
        public init(loss: Double = 0, duplicate: Double = 0, delay: TimeAmount = .zero,
                    jitter: TimeAmount = .zero, silent: Bool = false, rateLimit: Int? = nil,
                    queueLimit: TimeAmount = .milliseconds(200)) {
            self.loss = loss
            self.duplicate = duplicate
            self.delay = delay
            self.jitter = jitter
            self.silent = silent
            self.rateLimit = rateLimit
            self.queueLimit = queueLimit
        }
    }

    private struct State {
        var sockets: [STUNAddress: VirtualSocket] = [:]
        var conditions: [STUNAddress: Conditions] = [:]  // keyed by host IP (port 0)
        /// When each rate-limited uplink has sent everything queued so far.
        var uplinkBusyUntil: [STUNAddress: NIODeadline] = [:]
        var rng: SeededRandom
        var nextPort: UInt16 = 40000
        var delivered = 0
        var dropped = 0
    }
    private let state: Mutex<State>

    public init(seed: UInt64 = 1) {
        state = Mutex(State(rng: SeededRandom(seed: seed)))
    }

    /// A factory whose sockets live on host `ip` (e.g. "10.0.0.1").
    public func host(_ ip: String) -> Host {
        Host(network: self, ip: STUNAddress(host: ip, port: 0)!)
    }

    public func setConditions(_ conditions: Conditions, forHost ip: String) {
        let key = STUNAddress(host: ip, port: 0)!
        state.withLock { $0.conditions[key] = conditions }
    }

    /// (delivered, dropped) datagram counts so far.
    public var counters: (delivered: Int, dropped: Int) {
        state.withLock { ($0.delivered, $0.dropped) }
    }

    public struct Host: DatagramSocketFactory {
        let network: VirtualNetwork
        public let ip: STUNAddress

        public func makeSocket(boundTo address: STUNAddress, on loop: any EventLoop,
                               handler: @escaping DatagramHandler) -> EventLoopFuture<any DatagramSocket> {
            loop.makeCompletedFuture { try network.bind(ip: ip, port: address.port, loop: loop, handler: handler) }
        }

        public func hostAddresses(includeIPv6: Bool, loopbackOnly: Bool) -> [STUNAddress] { [ip] }
    }

    fileprivate func bind(ip: STUNAddress, port: UInt16, loop: any EventLoop,
                          handler: @escaping DatagramHandler) throws -> any DatagramSocket {
        try state.withLock { s -> any DatagramSocket in
            var address = ip
            if port == 0 {
                repeat {
                    address.port = s.nextPort
                    s.nextPort = s.nextPort == 65000 ? 40000 : s.nextPort + 1
                } while s.sockets[address] != nil
            } else {
                address.port = port
                guard s.sockets[address] == nil else { throw IceError.socket("\(address) already bound") }
            }
            let socket = VirtualSocket(network: self, localAddress: address, loop: loop, handler: handler)
            s.sockets[address] = socket
            return socket
        }
    }

    fileprivate func unbind(_ address: STUNAddress) {
        _ = state.withLock { $0.sockets.removeValue(forKey: address) }
    }

    fileprivate func route(_ bytes: [UInt8], from: STUNAddress, to: STUNAddress) {
        let plan: (VirtualSocket, [TimeAmount])? = state.withLock { s in
            guard let target = s.sockets[to] else { s.dropped += 1; return nil }
            let out = s.conditions[from.ipOnly] ?? Conditions()
            let inbound = s.conditions[to.ipOnly] ?? Conditions()
            if out.silent || inbound.silent { s.dropped += 1; return nil }
            var copies = 1
            if out.duplicate > 0, Double.random(in: 0..<1, using: &s.rng) < out.duplicate { copies = 2 }
            var delays: [TimeAmount] = []
            for _ in 0..<copies {
                if out.loss > 0, Double.random(in: 0..<1, using: &s.rng) < out.loss { s.dropped += 1; continue }
                var d = out.delay
                if let rate = out.rateLimit, rate > 0 {
                    let now = NIODeadline.now()
                    let start = max(now, s.uplinkBusyUntil[from.ipOnly] ?? now)
                    if start - now > out.queueLimit { s.dropped += 1; continue }
                    let done = start + .nanoseconds(Int64(bytes.count) * 8 * 1_000_000_000 / Int64(rate))
                    s.uplinkBusyUntil[from.ipOnly] = done
                    d = d + (done - now)
                }
                if out.jitter.nanoseconds > 0 {
                    d = d + .nanoseconds(Int64.random(in: 0...out.jitter.nanoseconds, using: &s.rng))
                }
                delays.append(d)
                s.delivered += 1
            }
            return (target, delays)
        }
        guard let (target, delays) = plan else { return }
        for d in delays {
            if d.nanoseconds == 0 {
                target.loop.execute { target.deliver(bytes, from: from) }
            } else {
                target.loop.scheduleTask(in: d) { target.deliver(bytes, from: from) }
            }
        }
    }
}

final class VirtualSocket: DatagramSocket {
    let network: VirtualNetwork
    let localAddress: STUNAddress
    let loop: any EventLoop
    let handler: DatagramHandler
    private let closed = Mutex(false)

    init(network: VirtualNetwork, localAddress: STUNAddress, loop: any EventLoop, handler: @escaping DatagramHandler) {
        self.network = network
        self.localAddress = localAddress
        self.loop = loop
        self.handler = handler
    }

    func send(_ bytes: [UInt8], to destination: STUNAddress) {
        guard !closed.withLock({ $0 }) else { return }
        network.route(bytes, from: localAddress, to: destination)
    }

    func deliver(_ bytes: [UInt8], from: STUNAddress) {
        guard !closed.withLock({ $0 }) else { return }
        handler(bytes, from)
    }

    func close() {
        closed.withLock { $0 = true }
        network.unbind(localAddress)
    }
}
