// Which size to encode at for the bitrate the link allows, as libwebrtc's initial frame dropper
// and quality scaler decide it for VP8: start smaller when the start bitrate is short for the
// camera's size; step down when the quantizer stays high (or frames are dropped) for a second or
// the bitrate falls far short of the size; step back up once the bitrate can carry the larger size
// and the quantizer has room. Each change costs a keyframe, and a keyframe at a size the link
// cannot carry overflows the bottleneck's queue (a freeze and a PLI, measured against Chromium
// behind 300 kbit/s), so changes are rate-limited and asymmetric.
import Codec
import Media

public struct ResolutionScaler: Sendable {
    public struct Thresholds: Sendable {
        /// Bits per coded pixel per frame a size needs to start at or to step up to (about
        /// libwebrtc's start limits: 480x270@30 from 300 kbit/s, 640x360 from 500).
        public var startBitsPerPixel = 0.07
        /// Below this the current size is given up unless the picture is easy (quantizer under
        /// `upQuantizer`: the encoder does not need the bits).
        public var floorBitsPerPixel = 0.025
        /// libwebrtc's VP8 "high QP" threshold (q index 0-127): above it on average, step down.
        public var highQuantizer = 95
        /// Step up only below this average (the larger size will need more bits per pixel).
        public var upQuantizer = 70
        /// libwebrtc's VP8 "low QP" threshold: below it the picture is easy (the encoder spends
        /// less than its target), and the larger size is tried whatever the bitrate.
        public var lowQuantizer = 29
        /// Quiet time after a step down before any step up, and between steps up.
        public var upAfterDown: UInt64 = 10_000_000_000
        public var upAfterUp: UInt64 = 3_000_000_000
        public init() {}
    }

    public let width: Int
    public let height: Int
    public let framesPerSecond: Int
    public let thresholds: Thresholds
    public private(set) var scale: VP8Scale
    /// Why the last change was made (for the log).
    public private(set) var reason = ""
    private var window: (start: MediaTime?, sum: Int, count: Int) = (nil, 0, 0)
    private var lastChange: (at: MediaTime, down: Bool)?
    /// Steps up whose first keyframe came out over budget in a row: each doubles the wait before
    /// the next try (up to 8 ×), so a size the keyframes do not fit is not retried every 10 s.
    private var failedUps = 0

    public init(width: Int, height: Int, framesPerSecond: Int, startBitrate: Int, thresholds: Thresholds = Thresholds()) {
        self.width = width
        self.height = height
        self.framesPerSecond = max(1, framesPerSecond)
        self.thresholds = thresholds
        scale = .half
        for candidate in VP8Scale.allCases where Self.bitsPerPixel(candidate, width, height, self.framesPerSecond, startBitrate)
            >= thresholds.startBitsPerPixel {
            scale = candidate
            break
        }
        if scale != .full {
            let bpp = Self.bitsPerPixel(.full, width, height, self.framesPerSecond, startBitrate)
            reason = "start bitrate \(startBitrate / 1000) kbit/s is \(Self.rounded(bpp)) bits per pixel at full size"
        }
    }

    public var codedSize: (width: Int, height: Int) { scale.size(width: width, height: height) }

    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    static func bitsPerPixel(_ scale: VP8Scale, _ width: Int, _ height: Int, _ fps: Int, _ bitrate: Int) -> Double {
        let size = scale.size(width: width, height: height)
        return Double(bitrate) / Double(max(1, size.width * size.height * fps))
    }

    /// After each frame given to the encoder: its quantizer (nil when the rate control dropped the
    /// frame: counted as the highest) and the current video bitrate. Decides once a second;
    /// returns the new scale when it changes.
    public mutating func frameEncoded(quantizer: Int?, bitrate: Int, now: MediaTime) -> VP8Scale? {
        // Starting smaller counts as a change: the first step up waits like any other.
        if lastChange == nil, scale != .full { lastChange = (now, false) }
        let start = window.start ?? now
        window = (start, window.sum + (quantizer ?? 127), window.count + 1)
        guard now.nanoseconds >= start.nanoseconds + 1_000_000_000 else { return nil }
        let average = window.sum / window.count
        window = (now, 0, 0)
        let bpp = Self.bitsPerPixel(scale, width, height, framesPerSecond, bitrate)
        let quiet = lastChange.map { now.nanoseconds - $0.at.nanoseconds } ?? .max
        if lastChange?.down == false, quiet >= 10_000_000_000 { failedUps = 0 }  // the last step up held
        if let smaller = scale.smaller, quiet >= 1_000_000_000,
           average > thresholds.highQuantizer || (bpp < thresholds.floorBitsPerPixel && average >= thresholds.upQuantizer) {
            reason = average > thresholds.highQuantizer
                ? "quantizer \(average) over \(thresholds.highQuantizer) at \(bitrate / 1000) kbit/s"
                : "\(bitrate / 1000) kbit/s is \(Self.rounded(bpp)) bits per pixel"
            return change(to: smaller, down: true, now: now)
        }
        if let larger = scale.larger, average < thresholds.upQuantizer,
           quiet >= (lastChange?.down == true ? thresholds.upAfterDown << min(failedUps, 3) : thresholds.upAfterUp) {
            let next = Self.bitsPerPixel(larger, width, height, framesPerSecond, bitrate)
            if next >= thresholds.startBitsPerPixel {
                reason = "\(bitrate / 1000) kbit/s carries \(Self.rounded(next)) bits per pixel there, quantizer \(average)"
                return change(to: larger, down: false, now: now)
            }
            if average < thresholds.lowQuantizer {
                reason = "quantizer \(average) under \(thresholds.lowQuantizer): an easy picture"
                return change(to: larger, down: false, now: now)
            }
        }
        return nil
    }

    /// The most a keyframe may take at `bitrate`: libvpx's own intra target (nine frames' worth,
    /// VP8Encoder's max-intra setting). What is larger leaves the pacer at 2.5 × the rate and
    /// fills a 200 ms bottleneck queue before it drains.
    public func keyframeBudget(bitrate: Int) -> Int { 9 * bitrate / framesPerSecond / 8 }

    /// A keyframe came out of `bytes` bytes, over `keyframeBudget`: the picture is too busy for
    /// this size at this bitrate (sensor noise in low light does this), and a smaller one is
    /// cheaper than losing it to the queue and answering the PLI. Returns the smaller scale.
    public mutating func keyframeTooLarge(bytes: Int, bitrate: Int, now: MediaTime) -> VP8Scale? {
        guard let smaller = scale.smaller, bytes > keyframeBudget(bitrate: bitrate) else { return nil }
        if let last = lastChange, !last.down, now.nanoseconds < last.at.nanoseconds + 2_000_000_000 { failedUps += 1 }
        reason = "a keyframe of \(bytes) bytes is over the \(keyframeBudget(bitrate: bitrate)) one may take at \(bitrate / 1000) kbit/s"
        window = (now, 0, 0)
        return change(to: smaller, down: true, now: now)
    }

    private mutating func change(to newScale: VP8Scale, down: Bool, now: MediaTime) -> VP8Scale {
        scale = newScale
        lastChange = (now, down)
        return newScale
    }
}
