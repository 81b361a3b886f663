// What a network path does to datagrams: random loss, duplication, delay, jitter (which reorders)
// and a drop-tail bottleneck. One model serves the in-process `VirtualNetwork` and
// `ImpairedSocketFactory` (the same conditions on a real UDP socket, so a real peer such as
// Chromium can be measured under them without netem).
import NIOCore

public struct LinkConditions: Sendable, Equatable, CustomStringConvertible {
    public var loss: Double
    public var duplicate: Double
    public var delay: TimeAmount
    /// Extra random delay 0...jitter per datagram; more than the send spacing reorders.
    public var jitter: TimeAmount
    /// Drops everything in both directions (a peer that went silent).
    public var silent: Bool
    /// A bottleneck, in bits per second (nil: unlimited). Datagrams queue behind each other for
    /// their serialization time; beyond `queueLimit` of queueing delay they are dropped (a
    /// drop-tail router), which is what a congested uplink does.
    public var rateLimit: Int?
    public var queueLimit: TimeAmount

    public init(loss: Double = 0, duplicate: Double = 0, delay: TimeAmount = .zero,
                jitter: TimeAmount = .zero, silent: Bool = false, rateLimit: Int? = nil,
                queueLimit: TimeAmount = .milliseconds(200)) {
        self.loss = loss
        self.duplicate = duplicate
        self.delay = delay
        self.jitter = jitter
        self.silent = silent
        self.rateLimit = rateLimit
        self.queueLimit = queueLimit
    }

    /// True when datagrams pass untouched.
    public var isClear: Bool { self == LinkConditions() }

    /// The bottleneck's state: when it has sent everything queued so far.
    public struct Queue: Sendable {
        var busyUntil: NIODeadline?
        public init() {}
    }

    /// The fate of one datagram of `bytes` bytes offered at `now`: one delay per copy that
    /// arrives (none: lost; two: duplicated).
    public func fate(bytes: Int, now: NIODeadline, queue: inout Queue, random: inout SeededRandom) -> [TimeAmount] {
        if silent { return [] }
        var copies = 1
        if duplicate > 0, Double.random(in: 0..<1, using: &random) < duplicate { copies = 2 }
        var delays: [TimeAmount] = []
        for _ in 0..<copies {
            if loss > 0, Double.random(in: 0..<1, using: &random) < loss { continue }
            var d = delay
            if let rate = rateLimit, rate > 0 {
                let start = max(now, queue.busyUntil ?? now)
                if start - now > queueLimit { continue }
                let done = start + .nanoseconds(Int64(bytes) * 8 * 1_000_000_000 / Int64(rate))
                queue.busyUntil = done
                d = d + (done - now)
            }
            if jitter.nanoseconds > 0 {
                d = d + .nanoseconds(Int64.random(in: 0...jitter.nanoseconds, using: &random))
            }
            delays.append(d)
        }
        return delays
    }

    /// "loss=5%,jitter=30ms,delay=10ms,rate=300k,queue=200ms,duplicate=1%" (any subset, any
    /// order; loss and duplicate as a fraction or a percentage, times in ms or s, rate in bit/s
    /// with an optional k or M). The empty string is a clear link.
    public init(spec: String) throws(LinkConditionsError) {
        self.init()
        for item in spec.split(separator: ",").map({ String($0.filter { $0 != " " }) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw LinkConditionsError(spec: spec, reason: "'\(item)' is not key=value") }
            let (key, value) = (parts[0], parts[1])
            switch key {
            case "loss": loss = try Self.fraction(value, key: key, spec: spec)
            case "duplicate": duplicate = try Self.fraction(value, key: key, spec: spec)
            case "delay": delay = try Self.time(value, key: key, spec: spec)
            case "jitter": jitter = try Self.time(value, key: key, spec: spec)
            case "queue": queueLimit = try Self.time(value, key: key, spec: spec)
            case "rate":
                var digits = Substring(value), scale = 1.0
                if digits.hasSuffix("k") { scale = 1e3; digits = digits.dropLast() }
                if digits.hasSuffix("M") { scale = 1e6; digits = digits.dropLast() }
                guard let number = Double(digits), number * scale >= 1000, number * scale < 1e11 else {
                    throw LinkConditionsError(spec: spec, reason: "rate '\(value)' is not a bitrate of at least 1k")
                }
                rateLimit = Int(number * scale)
            default:
                throw LinkConditionsError(spec: spec, reason: "unknown key '\(key)' (loss, duplicate, delay, jitter, rate, queue)")
            }
        }
    }

    private static func fraction(_ value: String, key: String, spec: String) throws(LinkConditionsError) -> Double {
        let percent = value.hasSuffix("%")
        guard let number = Double(percent ? String(value.dropLast()) : value) else {
            throw LinkConditionsError(spec: spec, reason: "\(key) '\(value)' is not a number")
        }
        let f = percent ? number / 100 : number
        guard (0...1).contains(f) else { throw LinkConditionsError(spec: spec, reason: "\(key) '\(value)' is not between 0 and 1 (0-100 %)") }
        return f
    }

    private static func time(_ value: String, key: String, spec: String) throws(LinkConditionsError) -> TimeAmount {
        let (digits, scale): (Substring, Double) =
            value.hasSuffix("ms") ? (value.dropLast(2), 1e6) : value.hasSuffix("s") ? (value.dropLast(), 1e9) : (Substring(value), 1e6)
        guard let number = Double(digits), number >= 0, number <= 60_000 * 1e6 / scale else {
            throw LinkConditionsError(spec: spec, reason: "\(key) '\(value)' is not a time (e.g. 30ms)")
        }
        return .nanoseconds(Int64(number * scale))
    }

    public var description: String {
        var parts: [String] = []
        if silent { parts.append("silent") }
        if loss > 0 { parts.append("loss \(Self.percent(loss))") }
        if duplicate > 0 { parts.append("duplicate \(Self.percent(duplicate))") }
        if delay.nanoseconds > 0 { parts.append("delay \(delay.nanoseconds / 1_000_000) ms") }
        if jitter.nanoseconds > 0 { parts.append("jitter 0-\(jitter.nanoseconds / 1_000_000) ms") }
        if let rate = rateLimit { parts.append("bottleneck \(rate / 1000) kbit/s, queue \(queueLimit.nanoseconds / 1_000_000) ms") }
        return parts.isEmpty ? "clear" : parts.joined(separator: ", ")
    }

    private static func percent(_ f: Double) -> String {
        let p = (f * 1000).rounded() / 10
        return p == p.rounded() ? "\(Int(p)) %" : "\(p) %"
    }
}

public struct LinkConditionsError: Error, CustomStringConvertible {
    public let spec: String
    public let reason: String
    public var description: String { "link conditions '\(spec)': \(reason)" }
}
