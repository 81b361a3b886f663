// Extending wrapping RTP counters (RFC 3550 §A.1: 16-bit sequence numbers, 32-bit
// timestamps) to 64 bits: each new value is taken as the one nearest the last unwrapped value
// (forward or backward by less than half the range), so reordering and wraps both work.

public struct Unwrapper<Value: FixedWidthInteger & UnsignedInteger>: Sendable {
    private var last: Int64?

    public init() {}

    /// The last unwrapped value, if any was seen.
    public var current: Int64? { last }

    public mutating func unwrap(_ value: Value) -> Int64 {
        let range = Int64(1) << Int64(Value.bitWidth)
        guard let previous = last else {
            last = Int64(value)
            return Int64(value)
        }
        let previousLow = previous & (range - 1)
        var delta = Int64(value) - previousLow
        if delta > range / 2 { delta -= range } else if delta <= -range / 2 { delta += range }
        let result = previous + delta
        if result > previous { last = result }
        return result
    }

    /// Unwraps without updating the reference (to look at a value before accepting it).
    public func peek(_ value: Value) -> Int64 {
        var copy = self
        return copy.unwrap(value)
    }
}

public typealias SequenceNumberUnwrapper = Unwrapper<UInt16>
public typealias TimestampUnwrapper = Unwrapper<UInt32>

/// Wrap-aware comparison of 16-bit sequence numbers (RFC 1982 serial arithmetic).
@inline(__always) public func sequenceIsNewer(_ a: UInt16, than b: UInt16) -> Bool {
    a != b && (a &- b) < 0x8000
}
