// Real UDP sockets (RFC 768), IPv4 and IPv6: SwiftNIO's datagram channel receives, sendmmsg(2)
// sends (DatagramSendBatch); and host address enumeration for ICE host candidates (RFC 8445
// §5.1.1.1: no loopback, no link-local IPv6 unless configured to use loopback only).
import Glibc
import NIOCore
import NIOPosix

public struct UDPSocketFactory: DatagramSocketFactory {
    public init() {}

    /// The socket is opened and bound here, so that a duplicate of its descriptor can send
    /// (`DatagramSendBatch`); NIO's channel takes the original and does the receiving. (Reading
    /// with recvmmsg, NIO's vector reads of 8 datagrams, made no difference in the benchmark:
    /// 1.14-1.15x own codec time with it, 1.13-1.15x without, in turns.)
    public func makeSocket(boundTo address: STUNAddress, on loop: any EventLoop,
                           handler: @escaping DatagramHandler) -> EventLoopFuture<any DatagramSocket> {
        let descriptors: (receive: CInt, send: CInt)
        do { descriptors = try Self.openSocket(boundTo: address) } catch { return loop.makeFailedFuture(error) }
        return DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPInboundHandler(handler: handler))
                }
            }
            .withBoundSocket(descriptors.receive)
            .flatMapThrowing { channel -> any DatagramSocket in
                guard let local = channel.localAddress.flatMap(STUNAddress.init(socketAddress:)) else {
                    channel.close(promise: nil)
                    throw IceError.socket("bound socket has no local address")
                }
                return UDPSocket(channel: channel, localAddress: local, sendDescriptor: descriptors.send)
            }
            .flatMapErrorThrowing { error in
                _ = Glibc.close(descriptors.send)  // NIO closes the other one
                throw error
            }
    }

    /// A non-blocking UDP socket bound to `address`, and a duplicate of it for sending.
    static func openSocket(boundTo address: STUNAddress) throws -> (receive: CInt, send: CInt) {
        guard let socketAddress = address.socketAddress else { throw IceError.socket("cannot bind \(address)") }
        let family = address.family == .ipv4 ? AF_INET : AF_INET6
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw IceError.socket("socket: \(String(cString: strerror(errno)))") }
        let bound = socketAddress.withSockAddr { bind(descriptor, $0, socklen_t($1)) } == 0
        let duplicate = bound ? fcntl(descriptor, F_DUPFD_CLOEXEC, 0) : -1
        guard bound, duplicate >= 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(descriptor)
            throw IceError.socket("\(bound ? "dup" : "bind \(address)"): \(reason)")
        }
        return (descriptor, duplicate)
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

/// One UDP port: NIO's datagram channel receives; sends go out through `DatagramSendBatch`.
///
/// Sends made in one turn of the event loop leave together, with one `sendmmsg` at the end of the
/// turn. The pacer releases a video frame's packets as one burst, so a frame costs one system call
/// (and, on the peer's side, one wake-up) instead of one per packet. They used to go through the
/// channel's write and flush, which NIO also turns into one sendmmsg, but on the way each datagram
/// took a ByteBuffer, an envelope and a pending-write entry: in a release profile of the 640x480
/// benchmark call, that pipeline was 7 % of the event loop's time beyond the system call itself.
final class UDPSocket: DatagramSocket {
    let channel: any Channel
    let localAddress: STUNAddress
    private let batch: NIOLoopBoundBox<DatagramSendBatch>

    init(channel: any Channel, localAddress: STUNAddress, sendDescriptor: CInt) {
        self.channel = channel
        self.localAddress = localAddress
        batch = .makeBoxSendingValue(DatagramSendBatch(descriptor: sendDescriptor, channel: channel),
                                     eventLoop: channel.eventLoop)
    }

    func send(_ bytes: [UInt8], to destination: STUNAddress) {
        let loop = channel.eventLoop
        guard loop.inEventLoop else {
            loop.execute { self.send(bytes, to: destination) }
            return
        }
        guard batch.value.append(bytes, to: destination) else { return }
        // The first datagram of this turn: one flush after the task or I/O event that is sending
        // now, in this same turn (no wake-up).
        loop.execute { self.batch.value.flush() }
    }

    /// What is still waiting to go is dropped, and nothing sends after this.
    func close() {
        let loop = channel.eventLoop
        guard loop.inEventLoop else {
            loop.execute { self.close() }
            return
        }
        batch.value.close()
        channel.close(promise: nil)
    }
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
