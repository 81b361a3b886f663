import Foundation
import Testing
import Signaling

/// Reconnection delays (Sources/Signaling/SocketIO/Backoff.swift). Lives here rather than in
/// SignalingCoreTests because `Backoff` is in the Signaling module.
@Suite("Reconnection backoff")
struct BackoffTests {
    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) / 1e18
    }

    /// Delays are whole milliseconds (truncated), so a lower bound may be missed by less than 1 ms.
    static let msSlack = 0.001 + 1e-9

    static let configs: [Backoff] = [
        Backoff(),
        Backoff(initial: .milliseconds(100), maximum: .seconds(30), jitter: 0.25),
        Backoff(initial: .seconds(1), maximum: .seconds(5), jitter: 0),
        Backoff(initial: .seconds(1), maximum: .seconds(5), jitter: 1),
        Backoff(initial: .milliseconds(333), maximum: .seconds(60), jitter: 0.9),
        Backoff(initial: .seconds(10), maximum: .seconds(3), jitter: 0.5),  // initial above maximum
    ]

    static func nominal(_ b: Backoff, attempt: Int) -> Double {
        min(seconds(b.initial) * pow(2, Double(min(max(attempt - 1, 0), 30))), seconds(b.maximum))
    }

    @Test("delays stay within nominal ± jitter and never exceed the maximum", arguments: configs)
    func bounds(backoff: Backoff) {
        for attempt in [0, 1, 2, 3, 4, 5, 6, 10, 31, 32, 64, 1_000, Int.max] {
            let nominal = Self.nominal(backoff, attempt: attempt)
            let low = nominal * (1 - backoff.jitter) - Self.msSlack
            let high = nominal * (1 + backoff.jitter)
            for unit in [0, 0.25, 0.5, 0.75, 0.999, 0.999_999_999] {
                let d = Self.seconds(backoff.delay(attempt: attempt, unit: unit))
                #expect(d >= low && d <= high, "attempt \(attempt) unit \(unit): \(d) s outside [\(low), \(high)]")
                #expect(d <= Self.seconds(backoff.maximum), "attempt \(attempt) unit \(unit): \(d) s over the maximum")
                #expect(d >= 0)
            }
        }
    }

    @Test("random draws stay within bounds", arguments: configs)
    func randomDraws(backoff: Backoff) {
        for attempt in 1...8 {
            let nominal = Self.nominal(backoff, attempt: attempt)
            for _ in 0..<200 {
                let d = Self.seconds(backoff.delay(attempt: attempt))
                #expect(d >= nominal * (1 - backoff.jitter) - Self.msSlack && d <= min(nominal * (1 + backoff.jitter), Self.seconds(backoff.maximum)))
            }
        }
    }

    @Test("default (1 s, 5 s, 0.5): 1, 2, 4 s then capped at 5 s")
    func defaultGrowth() {
        let b = Backoff()
        #expect(b.initial == .seconds(1))
        #expect(b.maximum == .seconds(5))
        #expect(b.jitter == 0.5)
        let middle = (1...7).map { b.delay(attempt: $0, unit: 0.5) }
        #expect(middle == [.seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5), .seconds(5), .seconds(5)])
        let lowest = (1...5).map { b.delay(attempt: $0, unit: 0) }
        #expect(lowest == [.milliseconds(500), .seconds(1), .seconds(2), .milliseconds(2_500), .milliseconds(2_500)])
        let highest = (1...5).map { b.delay(attempt: $0, unit: 0.999) }
        #expect(highest == [.milliseconds(1_499), .milliseconds(2_998), .milliseconds(5_000), .seconds(5), .seconds(5)])
    }

    @Test("attempt 0 and negative attempts behave as the first")
    func earlyAttempts() {
        let b = Backoff()
        #expect(b.delay(attempt: 0, unit: 0.5) == .seconds(1))
        #expect(b.delay(attempt: -3, unit: 0.5) == .seconds(1))
    }

    @Test("jitter is clamped to 0...1")
    func jitterClamped() {
        #expect(Backoff(jitter: 2).jitter == 1)
        #expect(Backoff(jitter: -0.5).jitter == 0)
        #expect(Backoff(jitter: 0).delay(attempt: 2, unit: 0.999) == .seconds(2))
    }
}

/// A client whose owner fails before starting it is simply dropped: that must not trap the process
/// (AsyncHTTPClient's "Client not shut down before the deinit"), or a daemon that cannot open a
/// device dies with a crash instead of its error message.
@Suite("Client lifetime")
struct ClientLifetimeTests {
    @Test func droppedWithoutStopDoesNotTrap() async throws {
        for _ in 0..<3 {
            let engine = EngineIOConfiguration(url: URL(string: "http://127.0.0.1:9")!)
            _ = SignalingClient(configuration: SocketIOConfiguration(engine: engine))
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}
