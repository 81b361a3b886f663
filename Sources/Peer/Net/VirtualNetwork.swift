// An in-process datagram network for tests: each "host" (an IP) binds virtual ports, and
// datagrams between them are dropped, delayed, reordered (by random delay) and duplicated by a
// seeded generator, so loss behaviour is deterministic in its decisions and needs no netem.
import Synchronization
import NIOCore

public final class VirtualNetwork: Sendable {
    /// What happens to datagrams leaving (and, for `silent`, reaching) a host.
    public typealias Conditions = LinkConditions

    private struct State {
        var sockets: [STUNAddress: VirtualSocket] = [:]
        var conditions: [STUNAddress: Conditions] = [:]  // keyed by host IP (port 0)
        /// Each rate-limited uplink's queue.
        var uplinks: [STUNAddress: LinkConditions.Queue] = [:]
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
            var queue = s.uplinks[from.ipOnly] ?? LinkConditions.Queue()
            let delays = out.fate(bytes: bytes.count, now: .now(), queue: &queue, random: &s.rng)
            s.uplinks[from.ipOnly] = queue
            s.delivered += delays.count
            if delays.isEmpty { s.dropped += 1 }
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
