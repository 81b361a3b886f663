// A token-bucket pacer (draft-ietf-rmcat-gcc-02 §4 "pacing": spread a frame's packets over time
// instead of bursting them into a narrow link): tokens accrue at the pacing rate and at most
// 5 ms worth (but at least one MTU) can be spent at once; audio goes before video.
// A second bucket at the sustained rate (the bandwidth estimate) bounds how far the fast pacing
// rate may run ahead of the link (a peak-rate/committed-rate shaper as in RFC 2698): a frame
// much bigger than usual, such as a keyframe of a busy picture, leaves at the link's rate once
// the allowance is spent, instead of overflowing the bottleneck's queue, which would lose it,
// make the receiver ask for another keyframe, and start a keyframe storm.
import Media

public struct Pacer: Sendable {
    public enum Kind: Sendable { case audio, video, retransmission }

    /// Pacing rate in bits per second (usually 2.5 × the target bitrate, so frames leave fast).
    public var rate: Int
    public var burst: UInt64 = 5_000_000
    /// The link's rate (bits per second); nil: no second bucket.
    public var sustainedRate: Int?
    /// How far ahead of the sustained rate the pacing may run (nanoseconds of it).
    public var queueAllowance: UInt64 = 100_000_000
    private var tokens: Double = 0
    private var sustainedTokens: Double = 0
    private var lastRefill: MediaTime?
    private var audio: [RTPPacket] = []
    private var video: [RTPPacket] = []
    private var videoHead = 0
    public private(set) var queuedBytes = 0

    public init(rate: Int, sustainedRate: Int? = nil) {
        self.rate = max(1, rate)
        self.sustainedRate = sustainedRate.map { max(1, $0) }
    }

    public var isEmpty: Bool { audio.isEmpty && videoHead == video.count }

    public mutating func enqueue(_ packet: RTPPacket, kind: Kind) {
        queuedBytes += packet.serializedSize
        switch kind {
        case .audio: audio.append(packet)
        case .retransmission:  // before new video: the receiver is waiting for it
            video.insert(packet, at: videoHead)
        case .video: video.append(packet)
        }
    }

    private var maxTokens: Double { max(1200, Double(rate) / 8 * Double(burst) / 1e9) }
    private var maxSustainedTokens: Double { max(2400, Double(sustainedRate ?? 0) / 8 * Double(queueAllowance) / 1e9) }

    private mutating func refill(_ now: MediaTime) {
        if let last = lastRefill, now > last {
            let seconds = Double(now.nanoseconds - last.nanoseconds) / 1e9
            tokens = min(maxTokens, tokens + Double(rate) / 8 * seconds)
            if let sustainedRate { sustainedTokens = min(maxSustainedTokens, sustainedTokens + Double(sustainedRate) / 8 * seconds) }
        } else if lastRefill == nil {
            tokens = maxTokens
            sustainedTokens = maxSustainedTokens
        }
        if lastRefill == nil || now > lastRefill! { lastRefill = now }
    }

    /// Packets that may leave now, in order.
    public mutating func dequeue(now: MediaTime) -> [RTPPacket] {
        refill(now)
        var out: [RTPPacket] = []
        // Audio is small and latency-critical: it is never held back (but it spends tokens).
        for packet in audio { spend(packet.serializedSize); out.append(packet) }
        audio.removeAll(keepingCapacity: true)
        while videoHead < video.count, tokens > 0, sustainedRate == nil || sustainedTokens > 0 {
            let packet = video[videoHead]
            videoHead += 1
            spend(packet.serializedSize)
            out.append(packet)
        }
        if videoHead > 256 || videoHead == video.count {
            video.removeFirst(videoHead)
            videoHead = 0
        }
        queuedBytes -= out.reduce(0) { $0 + $1.serializedSize }
        return out
    }

    private mutating func spend(_ bytes: Int) {
        tokens -= Double(bytes)
        if sustainedRate != nil { sustainedTokens -= Double(bytes) }
    }

    /// When the next queued packet may leave (nil when the queue is empty).
    public func nextSendTime(now: MediaTime) -> MediaTime? {
        if !audio.isEmpty { return now }
        guard videoHead < video.count else { return nil }
        var wait = tokens > 0 ? 0 : (-tokens + 1) * 8 / Double(rate)
        if let sustainedRate, sustainedTokens <= 0 { wait = max(wait, (-sustainedTokens + 1) * 8 / Double(sustainedRate)) }
        if wait == 0 { return now }
        return (lastRefill ?? now) + UInt64(wait * 1e9)
    }
}
