// LinkConditions (the in-process network's model of a path) parsed from the command line and
// applied to real loopback UDP sockets by ImpairedSocketFactory: loss, delay and a drop-tail
// bottleneck do to real datagrams what they do in the VirtualNetwork.
import NIOCore
import Synchronization
import Testing
@testable import Peer

@Suite("Link conditions on real sockets")
struct ImpairedSocketTests {
    @Test("a spec string gives the conditions; every bad item is named in the error")
    func parse() throws {
        let c = try LinkConditions(spec: "loss=5%, jitter=30ms,delay=0.02s,rate=300k,queue=150ms,duplicate=0.01")
        #expect(c.loss == 0.05 && c.duplicate == 0.01)
        #expect(c.jitter == .milliseconds(30) && c.delay == .milliseconds(20) && c.queueLimit == .milliseconds(150))
        #expect(c.rateLimit == 300_000)
        #expect(c.description == "loss 5 %, duplicate 1 %, delay 20 ms, jitter 0-30 ms, bottleneck 300 kbit/s, queue 150 ms")
        #expect(try LinkConditions(spec: "").isClear)
        #expect(try LinkConditions(spec: "rate=1.5M").rateLimit == 1_500_000)
        for (bad, says) in [("loss=5", "between 0 and 1"), ("lost=0.1", "unknown key 'lost'"), ("jitter", "not key=value"),
                            ("rate=10", "at least 1k"), ("delay=soon", "not a time"), ("loss=-1%", "between 0 and 1")] {
            #expect { try LinkConditions(spec: bad) } throws: { "\($0)".contains(says) }
        }
    }

    /// Sends `count` datagrams of `size` bytes from an impaired socket to a plain one on loopback
    /// and returns how many arrived and the first one's delay.
    static func deliver(_ conditions: LinkConditions, count: Int, size: Int) async throws -> (arrived: Int, firstAfterMs: Double?) {
        let loop = IceTestLoop.loop
        let arrivals = Mutex<[MediaClockTestTime]>([])
        let any = STUNAddress(host: "127.0.0.1", port: 0)!
        let receiver = try await UDPSocketFactory().makeSocket(boundTo: any, on: loop) { _, _ in
            arrivals.withLock { $0.append(.now()) }
        }.get()
        let factory = ImpairedSocketFactory(send: conditions, receive: LinkConditions(), seed: 7)
        let sender = try await factory.makeSocket(boundTo: any, on: loop) { _, _ in }.get()
        defer { sender.close(); receiver.close() }
        let start = MediaClockTestTime.now()
        for i in 0..<count { sender.send([UInt8](repeating: UInt8(truncatingIfNeeded: i), count: size), to: receiver.localAddress) }
        _ = await waitFor(0.6) { false }
        let got = arrivals.withLock { $0 }
        return (got.count, got.first.map { Double($0.nanoseconds - start.nanoseconds) / 1e6 })
    }

    @Test("half the datagrams lost with loss=50%; a delay holds them back; a bottleneck drops what overflows its queue")
    func realSockets() async throws {
        let clear = try await Self.deliver(LinkConditions(), count: 200, size: 100)
        #expect(clear.arrived == 200)
        let lossy = try await Self.deliver(LinkConditions(loss: 0.5), count: 400, size: 100)
        #expect((150...250).contains(lossy.arrived), "\(lossy.arrived) of 400 arrived")
        let delayed = try await Self.deliver(LinkConditions(delay: .milliseconds(150)), count: 5, size: 100)
        #expect(delayed.arrived == 5)
        #expect((delayed.firstAfterMs ?? 0) >= 145, "first arrived after \(delayed.firstAfterMs ?? -1) ms")
        // 100 kbit/s with a 100 ms queue holds 1250 bytes: of 50 datagrams of 1000 bytes sent at
        // once, the first leaves, the next one queues, the rest find the queue full.
        let narrow = try await Self.deliver(LinkConditions(rateLimit: 100_000, queueLimit: .milliseconds(100)), count: 50, size: 1000)
        #expect((1...3).contains(narrow.arrived), "\(narrow.arrived) of 50 arrived")
    }
}

/// CLOCK_MONOTONIC nanoseconds (NIODeadline without the NIO types in the closures).
struct MediaClockTestTime: Sendable {
    let nanoseconds: UInt64
    static func now() -> MediaClockTestTime { MediaClockTestTime(nanoseconds: NIODeadline.now().uptimeNanoseconds) }
}
