// UDPSocket on real loopback sockets: a burst written in one turn of the event loop leaves with
// one flush (sendmmsg), the destination's address is kept between sends, and the last sender's
// address between receives. These check that nothing is stranded or misaddressed on the way, that
// a datagram the kernel refuses is dropped alone, that a closed socket sends nothing, and IPv6.
import Glibc
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

    @Test("a datagram the kernel refuses is dropped alone, the ones around it still go; a closed socket sends nothing")
    func refusedAndClosed() async throws {
        let loop = IceTestLoop.loop
        let (receiver, sender, inbox) = try await Self.receiverAndSender(on: "127.0.0.1")
        defer { receiver.close() }
        // 65,600 and 200,000 bytes are more than a UDP datagram can carry (EMSGSIZE).
        try await loop.submit {
            sender.send([1], to: receiver.localAddress)
            sender.send([UInt8](repeating: 2, count: 65_600), to: receiver.localAddress)
            sender.send([3], to: receiver.localAddress)
            sender.send([UInt8](repeating: 4, count: 200_000), to: receiver.localAddress)
            sender.send([5], to: receiver.localAddress)
        }.get()
        let arrived = await waitFor(5) { inbox.datagrams.withLock { $0.count } == 3 }
        #expect(arrived)
        #expect(inbox.datagrams.withLock { $0.map(\.bytes) } == [[1], [3], [5]])

        // Sends queued in the turn that closes the socket, and any after, are dropped.
        try await loop.submit {
            sender.send([6], to: receiver.localAddress)
            sender.close()
            sender.send([7], to: receiver.localAddress)
        }.get()
        sender.send([8], to: receiver.localAddress)
        try await Task.sleep(for: .milliseconds(200))
        #expect(inbox.datagrams.withLock { $0.map(\.bytes) } == [[1], [3], [5]])
    }

    @Test("IPv6 loopback sends and receives, with the sender's address", .enabled(if: UDPSocketTests.ipv6Loopback))
    func ipv6() async throws {
        let (receiver, sender, inbox) = try await Self.receiverAndSender(on: "::1")
        defer { receiver.close(); sender.close() }
        for i in 0..<5 { sender.send([UInt8(i)], to: receiver.localAddress) }
        let arrived = await waitFor(5) { inbox.datagrams.withLock { $0.count } == 5 }
        #expect(arrived)
        #expect(inbox.datagrams.withLock { $0.map(\.bytes) } == (0..<5).map { [UInt8($0)] })
        #expect(inbox.datagrams.withLock { $0.allSatisfy { $0.from == sender.localAddress } })
        #expect(sender.localAddress.family == .ipv6)
    }

    @Test("more datagrams, or more bytes, in one turn than a batch holds: it is sent when full and refilled, all in order")
    func overfullBatch() async throws {
        let (receiver, sender, inbox) = try await Self.receiverAndSender(on: "127.0.0.1")
        defer { receiver.close(); sender.close() }
        // 200 small ones (batches of at most 64); in another turn, 7 of 15,000 bytes (6 fit in 96 KiB).
        // The receiver's socket holds about 200 KiB (each turn stays under that) and NIO reads 2048
        // bytes of a datagram at most: the large ones arrive cut to that.
        var sent: [Int] = []
        for sizes in [[Int](repeating: 100, count: 200), [Int](repeating: 15_000, count: 7)] {
            let first = sent.count
            try await IceTestLoop.loop.submit {
                for (offset, size) in sizes.enumerated() {
                    let index = first + offset
                    sender.send([UInt8(index & 0xFF), UInt8(index >> 8)] + [UInt8](repeating: 0x5A, count: size - 2), to: receiver.localAddress)
                }
            }.get()
            sent += sizes
            let arrived = await waitFor(5) { inbox.datagrams.withLock { $0.count } == sent.count }
            #expect(arrived, "\(inbox.datagrams.withLock { $0.count }) of \(sent.count) arrived")
        }
        let got = inbox.datagrams.withLock { $0.map(\.bytes) }
        #expect(got.map { Int($0[0]) | Int($0[1]) << 8 } == Array(0..<got.count))
        #expect(got.map(\.count) == sent.prefix(got.count).map { min($0, 2048) })
    }

    @Test("a port already bound is refused with the reason")
    func portInUse() async throws {
        let (receiver, sender, _) = try await Self.receiverAndSender(on: "127.0.0.1")
        defer { receiver.close(); sender.close() }
        await #expect(throws: IceError.self) {
            _ = try await UDPSocketFactory().makeSocket(boundTo: receiver.localAddress, on: IceTestLoop.loop) { _, _ in }.get()
        }
        do {
            _ = try await UDPSocketFactory().makeSocket(boundTo: receiver.localAddress, on: IceTestLoop.loop) { _, _ in }.get()
        } catch let IceError.socket(reason) {
            #expect(reason.contains("bind 127.0.0.1:\(receiver.localAddress.port)") && reason.contains("in use"), "\(reason)")
        }
    }

    /// A socket that keeps what it receives, and one to send from, both bound on `host`.
    static func receiverAndSender(on host: String) async throws -> (receiver: any DatagramSocket, sender: any DatagramSocket, inbox: Inbox) {
        let any = STUNAddress(host: host, port: 0)!
        let factory = UDPSocketFactory()
        let inbox = Inbox()
        let receiver = try await factory.makeSocket(boundTo: any, on: IceTestLoop.loop) { bytes, from in
            inbox.datagrams.withLock { $0.append((bytes, from)) }
        }.get()
        let sender = try await factory.makeSocket(boundTo: any, on: IceTestLoop.loop) { _, _ in }.get()
        return (receiver, sender, inbox)
    }

    /// Whether this machine has ::1 (some containers have no IPv6 at all).
    static var ipv6Loopback: Bool {
        let descriptor = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr.__in6_u.__u6_addr8.15 = 1
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
    }
}
