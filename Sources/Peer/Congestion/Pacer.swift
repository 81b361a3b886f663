// A token-bucket pacer (draft-ietf-rmcat-gcc-02 §4 "pacing": spread a frame's packets over time
// instead of bursting them into a narrow link): tokens accrue at the pacing rate and at most
// `burst` worth (but at least one MTU) can be spent at once; audio goes before video.
//
// Two burst lengths. On a clear path, 40 ms (libwebrtc's PacingController default burst
// interval): at 2.5 × the target rate a typical frame leaves in one burst, while a keyframe is
// still spread out. Against 5 ms bursts, that took about a third off the endpoint's CPU beyond
// its codecs in the benchmark (each burst cost a timer wake-up here and a receive wake-up at the
// peer), and the glass-to-glass latency p50 fell from 10.5 to 4.5-5.3 ms. Where the path shows a
// queue or loss, before the first feedback, and at the head of a keyframe: 5 ms. A 40 ms burst
// there overflowed a narrow link's queue by a further few kilobytes; with 40 ms everywhere, the
// 300 kbit/s noise test sent 6 keyframes instead of 4.
import Media

public struct Pacer: Sendable {
    public enum Kind: Sendable { case audio, video, retransmission }

    /// Pacing rate in bits per second (usually 2.5 × the target bitrate, so frames leave fast).
    public var rate: Int
    public var burst: UInt64 = Pacer.congestedBurst
    public static let clearBurst: UInt64 = 40_000_000
    public static let congestedBurst: UInt64 = 5_000_000
    private var tokens: Double = 0
    private var lastRefill: MediaTime?
    private var audio: [RTPPacket] = []
    private var video: [RTPPacket] = []
    /// Per queued video packet: the rate its frame leaves at, or 0 for the pacing rate.
    private var videoRates: [Double] = []
    private var videoHead = 0
    public private(set) var queuedBytes = 0

    public init(rate: Int) { self.rate = max(1, rate) }

    public var isEmpty: Bool { audio.isEmpty && videoHead == video.count }

    public mutating func enqueue(_ packet: RTPPacket, kind: Kind) {
        queuedBytes += packet.serializedSize
        switch kind {
        case .audio: audio.append(packet)
        case .retransmission:  // before new video: the receiver is waiting for it
            video.insert(packet, at: videoHead)
            videoRates.insert(0, at: videoHead)
        case .video:
            video.append(packet)
            videoRates.append(0)
        }
    }

    private var maxTokens: Double { maxTokens(burst: burst) }
    private func maxTokens(burst: UInt64) -> Double { max(1200, Double(rate) / 8 * Double(burst) / 1e9) }

    /// Queues the packets of one video frame. A keyframe's head never leaves as a long burst,
    /// whatever the path. And where the link's rate is what limits the target (`linkRate`:
    /// feedback shows loss or a growing queue, or the estimate is below the configured maximum),
    /// a frame larger than `frameQueueAllowance` at that rate leaves just fast enough that the
    /// queue it builds there stays within the allowance; the frames after it keep the full rate.
    ///
    /// Why: at 2.5 × the target into a link that carries about the target, a frame of B bytes
    /// leaves a queue of 0.6 B behind it. A keyframe is many times an average frame, and so is
    /// every frame of pictures that do not compress (camera noise in low light, foliage): at
    /// 300 kbit/s a 160x120 frame of noise is 8 KB, about the whole of a 200 ms drop-tail
    /// queue. Its tail is dropped, a retransmission may be dropped too, and the receiver asks
    /// for a keyframe, which is larger still. A frame that builds at most 50 ms of queue leaves
    /// at C / (1 − 50 ms × C / B): 334 kbit/s for that 8 KB frame at C = 265 kbit/s. Smaller
    /// frames, and every frame while the estimate sits at the configured maximum (the link had
    /// room to spare), keep the full rate.
    public mutating func enqueueFrame(_ packets: [RTPPacket], keyframe: Bool, linkRate: Int?, now: MediaTime) {
        if keyframe {
            refill(now)
            tokens = min(tokens, maxTokens(burst: Pacer.congestedBurst))
        }
        let bytes = packets.reduce(0) { $0 + $1.serializedSize }
        var frameRate = 0.0
        if let linkRate, linkRate > 0 {
            let allowance = Double(linkRate) / 8 * Double(Pacer.frameQueueAllowance) / 1e9
            if Double(bytes) > allowance { frameRate = Double(linkRate) / (1 - allowance / Double(bytes)) }
        }
        for packet in packets {
            queuedBytes += packet.serializedSize
            video.append(packet)
            videoRates.append(frameRate)
        }
    }

    /// The queue a large frame may build at the link, in time at the link's rate.
    public static let frameQueueAllowance: UInt64 = 50_000_000
    /// The rate tokens accrue at: the rate of the frame at the head of the queue.
    private var currentRate: Double {
        guard videoHead < video.count, videoRates[videoHead] > 0 else { return Double(rate) }
        return min(Double(rate), videoRates[videoHead])
    }

    private mutating func refill(_ now: MediaTime) {
        if let last = lastRefill, now > last {
            tokens = min(maxTokens, tokens + currentRate / 8 * Double(now.nanoseconds - last.nanoseconds) / 1e9)
        } else if lastRefill == nil {
            tokens = maxTokens
        }
        if lastRefill == nil || now > lastRefill! { lastRefill = now }
    }

    /// Packets that may leave now, in order.
    public mutating func dequeue(now: MediaTime) -> [RTPPacket] {
        refill(now)
        var out: [RTPPacket] = []
        // Audio is small and latency-critical: it is never held back (but it spends tokens).
        for packet in audio { tokens -= Double(packet.serializedSize); out.append(packet) }
        audio.removeAll(keepingCapacity: true)
        while videoHead < video.count, tokens > 0 {
            let packet = video[videoHead]
            videoHead += 1
            tokens -= Double(packet.serializedSize)
            out.append(packet)
        }
        if videoHead > 256 || videoHead == video.count {
            video.removeFirst(videoHead)
            videoRates.removeFirst(videoHead)
            videoHead = 0
        }
        queuedBytes -= out.reduce(0) { $0 + $1.serializedSize }
        return out
    }

    /// When the next queued packet may leave (nil when the queue is empty).
    public func nextSendTime(now: MediaTime) -> MediaTime? {
        if !audio.isEmpty { return now }
        guard videoHead < video.count else { return nil }
        if tokens > 0 { return now }
        let wait = UInt64((-tokens + 1) * 8 / currentRate * 1e9)
        return (lastRefill ?? now) + wait
    }
}
