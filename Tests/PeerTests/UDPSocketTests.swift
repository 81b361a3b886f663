// UDPSocket on real loopback sockets: a burst written in one turn of the event loop leaves with
// one flush (sendmmsg), the destination's address is kept between sends, and the last sender's
// address between receives. These check that nothing is stranded or misaddressed on the way.
import NIOCore
import Synchronization
import Testing
@testable import Peer

@Suite("UDP sockets on loopback")
struct UDPSocketTests {
    final class Inbox: Sendable {
        let datagrams = Mutex<[(bytes: [UInt8], from: STUNAddress)]>([])
    }

    @Test("a burst in one loop turn, alternating between two destinations, arrives whole and in order; so do sends from another thread")
    func burstsAndDestinations() async throws {
        let loop = IceTestLoop.loop
        let any = STUNAddress(host: "127.0.0.1", port: 0)!
        let factory = UDPSocketFactory()
        let (inboxA, inboxB) = (Inbox(), Inbox())
        let a = try await factory.makeSocket(boundTo: any, on: loop) { bytes, from in
            inboxA.datagrams.withLock { $0.append((bytes, from)) }
        }.get()
        let b = try await factory.makeSocket(boundTo: any, on: loop) { bytes, from in
            inboxB.datagrams.withLock { $0.append((bytes, from)) }
        }.get()
        let sender = try await factory.makeSocket(boundTo: any, on: loop) { _, _ in }.get()
        defer { a.close(); b.close(); sender.close() }

        // 64 datagrams in one turn, to A and B in turn: each switch of destination must take effect.
        try await loop.submit {
            for i in 0..<64 {
                sender.send([UInt8(i), UInt8(i % 2)] + [UInt8](repeating: 0xAB, count: 1000), to: i % 2 == 0 ? a.localAddress : b.localAddress)
            }
        }.get()
        // And 10 more to A from this thread (they hop onto the loop).
        for i in 64..<74 { sender.send([UInt8(i), 0], to: a.localAddress) }

        let arrived = await waitFor(5) {
            inboxA.datagrams.withLock { $0.count } == 42 && inboxB.datagrams.withLock { $0.count } == 32
        }
        #expect(arrived, "A got \(inboxA.datagrams.withLock { $0.count }) of 42, B \(inboxB.datagrams.withLock { $0.count }) of 32")
        let gotA = inboxA.datagrams.withLock { $0 }, gotB = inboxB.datagrams.withLock { $0 }
        #expect(gotA.map { Int($0.bytes[0]) } == Array(stride(from: 0, to: 64, by: 2)) + Array(64..<74))
        #expect(gotB.map { Int($0.bytes[0]) } == Array(stride(from: 1, to: 64, by: 2)))
        #expect(gotA.prefix(32).allSatisfy { $0.bytes.count == 1002 && $0.bytes[1] == 0 && $0.bytes.last == 0xAB })
        #expect(gotB.allSatisfy { $0.bytes.count == 1002 && $0.bytes[1] == 1 })
        // The sender's address, as each receiver saw it (converted once, then kept).
        #expect((gotA + gotB).allSatisfy { $0.from == sender.localAddress })
    }
}
