import Foundation
import Logging
import Signaling
import SignalingCore

/// Load benchmark for videophone-server (not a test): N clients in N/2 rooms; in every room the two
/// members relay `ice:candidate` events to each other at a fixed rate, each carrying its send time.
/// Prints connections held, relay latency percentiles and throughput. `scripts/bench-signaling`
/// starts the server, runs this, and adds the server's RSS and CPU time.
@main
struct SignalingLoad {
    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 2, let url = URL(string: args[1]) else {
            print("usage: signaling-load URL [clients=1000] [seconds=20] [rate-per-client=1] [transports=websocket]")
            return
        }
        let clients = args.count > 2 ? Int(args[2]) ?? 1000 : 1000
        let seconds = args.count > 3 ? Double(args[3]) ?? 20 : 20
        let rate = args.count > 4 ? Double(args[4]) ?? 1 : 1
        let transports = EngineIOConfiguration.Transports(rawValue: args.count > 5 ? args[5] : "websocket") ?? .websocket
        var logger = Logger(label: "load")
        logger.logLevel = .critical

        let latencies = LatencyLog()
        let members = (0..<clients).map { i in
            SignalingClient(configuration: SocketIOConfiguration(
                engine: EngineIOConfiguration(url: url, transports: transports, connectTimeout: .seconds(30))),
                logger: logger)
        }
        let connectStart = ContinuousClock.now
        // Join in waves so the accept queue is not the thing being measured.
        for (i, member) in members.enumerated() {
            try await member.join(room: "load-\(i / 2)", userName: "c\(i)")
            await member.start()
            if i % 50 == 49 { try await Task.sleep(for: .milliseconds(20)) }
        }
        var joined = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            joined = members.filter { $0.selfID != nil }.count
            if joined == clients { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        print("joined \(joined)/\(clients) clients in \(connectStart.duration(to: .now))")

        // Each member learns its partner's id from the events, then sends at `rate` per second.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, member) in members.enumerated() {
                let partnerIndex = i ^ 1
                guard partnerIndex < members.count else { continue }
                let partner = members[partnerIndex]
                group.addTask {
                    let receiver = Task {
                        for await event in member.events {
                            if case .server(.iceCandidate(_, let c?)) = event, let sent = UInt64(c.candidate) {
                                latencies.record(nanoseconds: DispatchTime.now().uptimeNanoseconds &- sent)
                            }
                        }
                    }
                    let end = ContinuousClock.now + .seconds(seconds)
                    // Spread senders over the first interval.
                    try await Task.sleep(for: .milliseconds(Int64.random(in: 0..<Int64(1000 / rate))))
                    while ContinuousClock.now < end {
                        if let to = partner.selfID {
                            let stamp = String(DispatchTime.now().uptimeNanoseconds)
                            try? await member.send(.iceCandidate(to: to, candidate: IceCandidate(candidate: stamp, sdpMid: "0", sdpMLineIndex: 0)))
                            latencies.sent()
                        }
                        try await Task.sleep(for: .milliseconds(Int64(1000 / rate)))
                    }
                    try await Task.sleep(for: .seconds(1))
                    receiver.cancel()
                }
            }
            try await group.waitForAll()
        }
        let held = members.filter { $0.state.isConnected }.count
        let report = latencies.report()
        print("held \(held)/\(clients) connections; \(report)")
        for member in members { await member.stop() }
    }
}

/// Relay latencies from every receiver; appended under a lock (one short critical section per event).
final class LatencyLog: Sendable {
    private let state = Mutex<(samples: [UInt64], sent: Int)>(([], 0))

    func record(nanoseconds: UInt64) { state.withLock { $0.samples.append(nanoseconds) } }
    func sent() { state.withLock { $0.sent += 1 } }

    func report() -> String {
        let (samples, sent) = state.withLock { ($0.samples.sorted(), $0.sent) }
        guard !samples.isEmpty else { return "no relays received (sent \(sent))" }
        func pct(_ p: Double) -> String {
            String(format: "%.2f ms", Double(samples[min(samples.count - 1, Int(Double(samples.count) * p))]) / 1e6)
        }
        return "relays sent \(sent), received \(samples.count); latency p50 \(pct(0.5)), p99 \(pct(0.99)), max \(pct(1.0))"
    }
}

import Synchronization
