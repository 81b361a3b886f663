// Real UDP sockets (RFC 768) on SwiftNIO's DatagramBootstrap, IPv4 and IPv6, and host address
// enumeration for ICE host candidates (RFC 8445 §5.1.1.1: no loopback, no link-local IPv6 unless
// configured to use loopback only).
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

public struct UDPSocketFactory: DatagramSocketFactory {
    public init() {}

    public func makeSocket(boundTo address: STUNAddress, on loop: any EventLoop,
                           handler: @escaping DatagramHandler) -> EventLoopFuture<any DatagramSocket> {
        DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPInboundHandler(handler: handler))
                }
            }
            .bind(host: address.host, port: Int(address.port))
            .flatMapThrowing { channel -> any DatagramSocket in
                guard let local = channel.localAddress.flatMap(STUNAddress.init(socketAddress:)) else {
                    channel.close(promise: nil)
                    throw IceError.socket("bound socket has no local address")
                }
                return UDPSocket(channel: channel, localAddress: local)
            }
    }

    public func hostAddresses(includeIPv6: Bool, loopbackOnly: Bool) -> [STUNAddress] {
        if loopbackOnly { return [STUNAddress(ipv4: 127, 0, 0, 1, port: 0)] }
        guard let devices = try? System.enumerateDevices() else { return [] }
        var out: [STUNAddress] = []
        for device in devices {
            guard let sa = device.address, var a = STUNAddress(socketAddress: sa) else { continue }
            a.port = 0
            if a.isLoopback || a.isLinkLocal { continue }
            if a.family == .ipv6 && !includeIPv6 { continue }
            if !out.contains(a) { out.append(a) }
        }
        return out
    }
}

/// One NIO datagram channel.
///
/// Sends made in one turn of the event loop leave together: each is written, and one flush at
/// the end of the turn hands them all to the kernel, which NIO does with one `sendmmsg` when
/// there are several. The pacer releases a video frame's packets as one burst, so a frame costs
/// one system call (and, on the peer's side, one wake-up) instead of one per packet.
final class UDPSocket: DatagramSocket {
    let channel: any Channel
    let localAddress: STUNAddress
    private let sendState: NIOLoopBoundBox<SendState>

    /// Loop-confined. The destination is nearly always the same (the selected pair's remote, or
    /// the TURN server): its `SocketAddress` is kept rather than parsed again for every packet.
    private struct SendState {
        var destination: STUNAddress?
        var address: SocketAddress?
        var flushPending = false

        mutating func socketAddress(for destination: STUNAddress) -> SocketAddress? {
            if destination != self.destination {
                self.destination = destination
                address = destination.socketAddress
            }
            return address
        }
    }

    init(channel: any Channel, localAddress: STUNAddress) {
        self.channel = channel
        self.localAddress = localAddress
        sendState = .makeBoxSendingValue(SendState(), eventLoop: channel.eventLoop)
    }

    func send(_ bytes: [UInt8], to destination: STUNAddress) {
        let loop = channel.eventLoop
        guard loop.inEventLoop else {
            loop.execute { self.send(bytes, to: destination) }
            return
        }
        guard let remote = sendState.value.socketAddress(for: destination) else { return }
        channel.write(AddressedEnvelope(remoteAddress: remote, data: channel.allocator.buffer(bytes: bytes)),
                      promise: nil)
        guard !sendState.value.flushPending else { return }
        sendState.value.flushPending = true
        // Runs in this same turn, after the task or I/O event that is sending now (no wake-up).
        loop.execute {
            self.sendState.value.flushPending = false
            self.channel.flush()
        }
    }

    func close() { channel.close(promise: nil) }
}

private final class UDPInboundHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let handler: DatagramHandler
    /// The last sender, converted once: a call's packets all come from one address.
    private var lastRemote: SocketAddress?
    private var lastFrom: STUNAddress?
    init(handler: @escaping DatagramHandler) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let from: STUNAddress
        if let lastFrom, envelope.remoteAddress == lastRemote {
            from = lastFrom
        } else {
            guard let converted = STUNAddress(socketAddress: envelope.remoteAddress) else { return }
            (lastRemote, lastFrom, from) = (envelope.remoteAddress, converted, converted)
        }
        handler(Array(envelope.data.readableBytesView), from)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors (port unreachable) surface here on connected-less UDP; ICE retransmits and
        // consent decide what a dead path means, so they are ignored rather than closing the socket.
    }
}

extension STUNAddress {
    init?(socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let a):
            var sin = a.address
            let bytes = withUnsafeBytes(of: &sin.sin_addr) { Array($0) }
            self.init(bytes: bytes, port: UInt16(bigEndian: sin.sin_port))
        case .v6(let a):
            var sin6 = a.address
            let bytes = withUnsafeBytes(of: &sin6.sin6_addr) { Array($0) }
            self.init(bytes: bytes, port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }

    var socketAddress: SocketAddress? {
        try? SocketAddress(ipAddress: host, port: Int(port))
    }

    var isLoopback: Bool { family == .ipv4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1] }
    var isLinkLocal: Bool {
        family == .ipv4 ? (bytes[0] == 169 && bytes[1] == 254) : (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80)
    }
    /// The address with port 0: TURN permissions are per IP (RFC 8656 §9).
    var ipOnly: STUNAddress { var a = self; a.port = 0; return a }
}
