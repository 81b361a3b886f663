// The rate of one kind of traffic over the last second, in ten 100 ms buckets (no allocation
// per packet). The sender measures its retransmissions with it: libwebrtc's send side takes
// its NACK (and FEC) "protection" rate out of the encoder's target (RtpVideoSender's protection
// bitrate), so that what the link carries, new frames plus repairs, stays within the estimate.
// Without it, retransmissions of a lost keyframe left at the pacing rate on top of new frames:
// 503 and 435 kbit/s in 1 s windows behind a 300 kbit/s bottleneck. It also bounds them, as
// libwebrtc's retransmission rate limiter does: no more than the estimate in any second.
import Media

public struct BitrateWindow: Sendable {
    private static let bucketNanoseconds: UInt64 = 100_000_000
    private static let bucketCount = 10
    /// Allocated once; changed in place.
    private var buckets = [Int](repeating: 0, count: BitrateWindow.bucketCount)
    /// Index of the newest bucket in `buckets` and the 100 ms slot (since the clock's zero) it holds.
    private var newest = 0
    private var newestSlot: UInt64?

    public init() {}

    public mutating func record(bytes: Int, at now: MediaTime) {
        advance(to: now)
        buckets[newest] += bytes
    }

    /// Records `bytes` if the last second's total with them stays within `limit` bits per
    /// second, and says whether it did.
    public mutating func admit(bytes: Int, limit: Int, at now: MediaTime) -> Bool {
        guard bitsPerSecond(at: now) + bytes * 8 <= limit else { return false }
        record(bytes: bytes, at: now)
        return true
    }

    /// Bits per second over the last second (the current, partly elapsed bucket included).
    public mutating func bitsPerSecond(at now: MediaTime) -> Int {
        advance(to: now)
        return buckets.reduce(0, +) * 8
    }

    private mutating func advance(to now: MediaTime) {
        let slot = now.nanoseconds / Self.bucketNanoseconds
        guard let last = newestSlot else {
            newestSlot = slot
            return
        }
        guard slot > last else { return }
        let steps = Int(min(slot - last, UInt64(Self.bucketCount)))
        for _ in 0..<steps {
            newest = (newest + 1) % Self.bucketCount
            buckets[newest] = 0
        }
        newestSlot = slot
    }
}
