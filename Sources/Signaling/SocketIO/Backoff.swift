/// Reconnection delays: exponential with jitter, as socket.io-client's `reconnectionDelay`,
/// `reconnectionDelayMax` and `randomizationFactor` (the seed uses 1 s to 5 s).
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    /// 0...1: the delay is spread uniformly over ±factor of its nominal value.
    public var jitter: Double

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(5), jitter: Double = 0.5) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = min(max(jitter, 0), 1)
    }

    /// Delay before reconnection attempt `attempt` (1-based). `unit` is a random draw in 0..<1.
    public func delay(attempt: Int, unit: Double) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let nominal = min(initial.seconds * Double(1 << exponent), maximum.seconds)
        let spread = nominal * jitter
        let value = nominal - spread + 2 * spread * unit
        return .milliseconds(Int64(min(max(value, 0), maximum.seconds) * 1000))
    }

    public func delay(attempt: Int) -> Duration {
        delay(attempt: attempt, unit: Double.random(in: 0..<1))
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
