// The in-process network's conditions (LinkConditions) applied to real sockets: every datagram
// sent and received through a socket of this factory meets the chosen loss, jitter and bottleneck,
// as if the host's link had them (netem on its interface). This is how a peer nobody here wrote
// (Chromium, aiortc) is measured on the same conditions as the in-process tests; machines without
// the netem qdisc (these have none) need nothing else. Diagnostic only: nothing sets it by default.
import NIOCore
import Synchronization

public struct ImpairedSocketFactory: DatagramSocketFactory {
    public let base: any DatagramSocketFactory
    /// What happens to datagrams this host sends (its uplink) and receives (its downlink).
    public let send: LinkConditions
    public let receive: LinkConditions
    public let seed: UInt64

    public init(base: any DatagramSocketFactory = UDPSocketFactory(), send: LinkConditions, receive: LinkConditions,
                seed: UInt64 = 1) {
        self.base = base
        self.send = send
        self.receive = receive
        self.seed = seed
    }

    public func makeSocket(boundTo address: STUNAddress, on loop: any EventLoop,
                           handler: @escaping DatagramHandler) -> EventLoopFuture<any DatagramSocket> {
        let link = ImpairedLink(send: send, receive: receive, seed: seed &+ UInt64(address.port))
        let inbound: DatagramHandler = { bytes, from in
            ImpairedLink.run(after: link.fate(receiving: bytes.count), on: loop) { handler(bytes, from) }
        }
        return base.makeSocket(boundTo: address, on: loop, handler: inbound).map { socket -> any DatagramSocket in
            ImpairedSocket(inner: socket, link: link, loop: loop)
        }
    }

    public func hostAddresses(includeIPv6: Bool, loopbackOnly: Bool) -> [STUNAddress] {
        base.hostAddresses(includeIPv6: includeIPv6, loopbackOnly: loopbackOnly)
    }
}

/// Both directions' queues and one seeded generator, shared by a socket's send and receive paths.
final class ImpairedLink: Sendable {
    private struct State {
        var random: SeededRandom
        var sendQueue = LinkConditions.Queue()
        var receiveQueue = LinkConditions.Queue()
    }
    let send: LinkConditions
    let receive: LinkConditions
    private let state: Mutex<State>

    init(send: LinkConditions, receive: LinkConditions, seed: UInt64) {
        self.send = send
        self.receive = receive
        state = Mutex(State(random: SeededRandom(seed: seed)))
    }

    func fate(sending bytes: Int) -> [TimeAmount] {
        if send.isClear { return [.zero] }
        return state.withLock { s in send.fate(bytes: bytes, now: .now(), queue: &s.sendQueue, random: &s.random) }
    }

    func fate(receiving bytes: Int) -> [TimeAmount] {
        if receive.isClear { return [.zero] }
        return state.withLock { s in receive.fate(bytes: bytes, now: .now(), queue: &s.receiveQueue, random: &s.random) }
    }

    /// Runs `body` once per copy that survived: at once for no delay, else later on `loop`.
    static func run(after delays: [TimeAmount], on loop: any EventLoop, _ body: @escaping @Sendable () -> Void) {
        for delay in delays {
            if delay.nanoseconds == 0 { body() } else { loop.scheduleTask(in: delay, body) }
        }
    }
}

final class ImpairedSocket: DatagramSocket {
    let inner: any DatagramSocket
    let link: ImpairedLink
    let loop: any EventLoop

    init(inner: any DatagramSocket, link: ImpairedLink, loop: any EventLoop) {
        self.inner = inner
        self.link = link
        self.loop = loop
    }

    var localAddress: STUNAddress { inner.localAddress }

    func send(_ bytes: [UInt8], to destination: STUNAddress) {
        let inner = self.inner
        ImpairedLink.run(after: link.fate(sending: bytes.count), on: loop) { inner.send(bytes, to: destination) }
    }

    func close() { inner.close() }
}
