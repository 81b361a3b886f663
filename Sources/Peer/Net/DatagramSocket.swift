// The datagram abstraction the ICE driver runs on: one bound UDP port (RFC 768) seen as
// "send bytes to an address" plus a receive callback. Two implementations share every code path
// above this: `UDPSocketFactory` (SwiftNIO, real sockets) and `VirtualNetwork` (in-process, lossy
// on command), so loss behaviour is testable without netem.
import NIOCore

/// Called on the socket's event loop for every datagram received.
public typealias DatagramHandler = @Sendable (_ bytes: [UInt8], _ from: STUNAddress) -> Void

/// One bound datagram port.
public protocol DatagramSocket: AnyObject, Sendable {
    var localAddress: STUNAddress { get }
    /// Fire and forget, like UDP: errors are dropped (ICE retransmits).
    func send(_ bytes: [UInt8], to destination: STUNAddress)
    func close()
}

/// Makes sockets and says which local addresses to gather host candidates on.
public protocol DatagramSocketFactory: Sendable {
    /// Binds `address` (port 0 = any); `handler` runs on `loop`.
    func makeSocket(boundTo address: STUNAddress, on loop: any EventLoop,
                    handler: @escaping DatagramHandler) -> EventLoopFuture<any DatagramSocket>
    /// Addresses for host candidates (RFC 8445 §5.1.1.1). With `loopbackOnly` only 127.0.0.1, so
    /// nothing a test does can reach the machine's real interfaces.
    func hostAddresses(includeIPv6: Bool, loopbackOnly: Bool) -> [STUNAddress]
}

/// A small deterministic generator (SplitMix64) for the virtual network and consent jitter, so a
/// failing run can be replayed from its seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
