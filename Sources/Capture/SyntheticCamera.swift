import CYUV
import Media

/// A camera for machines without one: SMPTE-style colour bars, a box that moves one step per
/// frame (so motion and frame drops are visible), the frame number as text, and the same
/// number as a row of black/white blocks that a receiver can read back after decoding
/// (for glass-to-glass latency: text is for people, blocks are for `stampedFrameNumber`).
public struct SyntheticCamera: Sendable {
    /// What the picture behind the box, the code and the label looks like.
    public enum Scene: String, Sendable, Equatable, CaseIterable {
        /// Flat colour bars: compresses to a fraction of any sensible bitrate.
        case bars
        /// The bars with fine texture that pans slowly and a little sensor noise that changes every
        /// frame, like a real camera: the encoder needs its whole budget (benchmarks at a bitrate).
        case camera
    }

    public struct Configuration: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var framesPerSecond: Int
        public var scene: Scene

        public init(width: Int = 640, height: Int = 480, framesPerSecond: Int = 30, scene: Scene = .bars) {
            precondition(width >= 64 && height >= 64 && framesPerSecond > 0, "unusable camera configuration")
            self.width = width
            self.height = height
            self.framesPerSecond = framesPerSecond
            self.scene = scene
        }
    }

    public let configuration: Configuration
    /// Font for the frame-number text; without one only the block code is stamped.
    public let font: PSFFont?
    private let start: MediaTime
    private var frameNumber: UInt64 = 0
    /// `.camera`: the textured bars' luma, `panRange` pixels wider than the picture and at most
    /// `textureRows` high, repeated down the picture (VP8's realtime motion search looks a few
    /// dozen pixels away, never 256 rows: the repeat saves no bits, and 1 MB at 1280x720).
    private let texture: [UInt8]
    /// `.camera`: sensor noise (−3…3, stored as 0…6 over a texture lowered by 3 so that libyuv's
    /// unsigned saturating add draws it), each row of each frame read from its own offset.
    private let noise: [UInt8]
    static let panRange = 64
    static let textureRows = 256
    static let noiseSpan = 65_536

    /// BT.601 limited-range (Y, U, V) of 75 % bars: white, yellow, cyan, green, magenta, red, blue.
    static let bars: [(Int32, Int32, Int32)] = [
        (180, 128, 128), (162, 44, 142), (131, 156, 44), (112, 72, 58), (84, 184, 198), (65, 100, 212), (35, 212, 114),
    ]
    /// Bits of the frame number in the block code (2^24 frames: wraps after 6.5 days at 30 fps).
    static let codeBits = 24

    public init(configuration: Configuration = Configuration(), font: PSFFont?, start: MediaTime = .now()) {
        self.configuration = configuration
        self.font = font
        self.start = start
        if configuration.scene == .camera {
            (texture, noise) = Self.cameraScene(width: configuration.width, height: configuration.height)
        } else {
            (texture, noise) = ([], [])
        }
    }

    /// A fixed-seed xorshift: the same scene on every run and in every process of a benchmark.
    /// Luma stays within 11…204 with the texture and 8…207 with the noise, so no sum saturates:
    /// storing both shifted by 3 changes no pixel.
    private static func cameraScene(width: Int, height: Int) -> ([UInt8], [UInt8]) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        let wide = width + panRange
        var texture = [UInt8](repeating: 0, count: wide * min(height, textureRows))
        for y in 0..<min(height, textureRows) {
            for x in 0..<wide {
                let bar = Int(bars[min(bars.count - 1, (x % width) * bars.count / width)].0)
                let detail = Int(next() % 49) - 24  // fine texture: ±24 levels
                texture[y * wide + x] = UInt8(clamping: bar + detail - 3)
            }
        }
        let noise = (0..<(noiseSpan + width)).map { _ in UInt8(next() % 7) }
        return (texture, noise)
    }

    /// `.camera`: luma from the texture, panned one pixel per frame back and forth, plus noise.
    /// libyuv's ARGB add (a saturating add of every byte, four to a pixel) does a row in one SIMD
    /// pass; the per-pixel Swift loop it replaced cost 24 ms a frame at 640x480 in a debug build,
    /// which held a loaded CI machine's interop endpoint to 19 frames a second.
    private func drawTexture(_ planes: MutableI420Planes, number: UInt64) {
        let wide = configuration.width + Self.panRange
        let step = Int(number % UInt64(2 * Self.panRange))
        let pan = step < Self.panRange ? step : 2 * Self.panRange - step
        let noiseOffset = Int((number &* 7919) % UInt64(Self.noiseSpan))
        let whole = planes.width & ~3
        texture.withUnsafeBufferPointer { texture in
            noise.withUnsafeBufferPointer { noise in
                for y in 0..<planes.height {
                    let row = planes.y + y * planes.strideY
                    let source = texture.baseAddress! + (y % Self.textureRows) * wide + pan
                    // A multiplicative hash of the row: neighbouring rows and frames read far apart.
                    let grain = noise.baseAddress! + (noiseOffset &+ (y &* 40_503)) % Self.noiseSpan
                    _ = ARGBAdd(source, 0, grain, 0, row, 0, Int32(whole / 4), 1)
                    for x in whole..<planes.width { row[x] = source[x] &+ grain[x] }
                }
            }
        }
    }

    /// The next frame, timestamped `start + n × frame period` so timestamps are exact even
    /// when the caller pulls late.
    public mutating func nextFrame() -> VideoFrame {
        let number = frameNumber
        frameNumber += 1
        let period = MediaClock.framePeriodNanoseconds(framesPerSecond: configuration.framesPerSecond)
        var frame = VideoFrame(width: configuration.width, height: configuration.height,
                               timestamp: start + number * period, sequence: number)
        frame.withMutablePlanes { planes in
            if configuration.scene == .camera {
                drawBarsChroma(planes)  // the texture covers all of the luma
                drawTexture(planes, number: number)
            } else {
                drawBars(planes)
            }
            drawMovingBox(planes, number: number)
            drawCode(planes, number: number)
            drawLabel(planes, number: number)
        }
        return frame
    }

    /// Frames paced in real time at the configured rate. Only the newest two are buffered: like a
    /// real camera, a slow consumer loses frames rather than falling behind.
    public func frames() -> AsyncStream<VideoFrame> {
        let camera = self
        return AsyncStream(bufferingPolicy: .bufferingNewest(2)) { continuation in
            let task = Task {
                var camera = camera
                let clock = ContinuousClock()
                let period = Duration.nanoseconds(Int64(MediaClock.framePeriodNanoseconds(
                    framesPerSecond: camera.configuration.framesPerSecond)))
                var deadline = clock.now
                while !Task.isCancelled {
                    continuation.yield(camera.nextFrame())
                    deadline += period
                    do { try await clock.sleep(until: deadline) } catch { break }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Reads the block-coded frame number back from a (possibly decoded and lossy) frame of
    /// this camera's layout: each block's centre luma is thresholded at mid-grey.
    public static func stampedFrameNumber(in frame: VideoFrame) -> UInt32 {
        frame.withPlanes { stampedFrameNumber(in: $0) }
    }

    /// The same from borrowed planes (a decoder's own picture, any stride).
    public static func stampedFrameNumber(in planes: I420Planes) -> UInt32 {
        let block = codeBlockSize(width: planes.width)
        let centreY = planes.height - block / 2 - 1
        var number: UInt32 = 0
        for bit in 0..<codeBits where planes.y[centreY * planes.strideY + bit * block + block / 2] > 128 {
            number |= 1 << UInt32(bit)
        }
        return number
    }

    // MARK: Drawing (libyuv I420Rect for every fill)

    /// Even sizes so each block covers whole chroma samples.
    static func codeBlockSize(width: Int) -> Int { max(2, (width / (codeBits + 8)) & ~1) }

    private func rect(_ planes: MutableI420Planes, x: Int, y: Int, width: Int, height: Int, _ yuv: (Int32, Int32, Int32)) {
        _ = I420Rect(planes.y, Int32(planes.strideY), planes.u, Int32(planes.strideUV), planes.v, Int32(planes.strideUV),
                     Int32(x), Int32(y), Int32(width), Int32(height), yuv.0, yuv.1, yuv.2)
    }

    /// Each bar's colour and its columns (even edges, so a bar covers whole chroma samples).
    private static func forEachBar(width: Int, _ body: ((Int32, Int32, Int32), _ left: Int, _ right: Int) -> Void) {
        let count = bars.count
        for (index, colour) in bars.enumerated() {
            let left = (width * index / count) & ~1
            let right = index == count - 1 ? width : (width * (index + 1) / count) & ~1
            body(colour, left, right)
        }
    }

    private func drawBars(_ planes: MutableI420Planes) {
        Self.forEachBar(width: planes.width) { colour, left, right in
            rect(planes, x: left, y: 0, width: right - left, height: planes.height, colour)
        }
    }

    /// The bars' colour without their luma: filling a luma plane the texture then overwrote was
    /// a third of the camera scene's drawing.
    private func drawBarsChroma(_ planes: MutableI420Planes) {
        Self.forEachBar(width: planes.width) { colour, left, right in
            let width = Int32((right - left + 1) / 2), height = Int32((planes.height + 1) / 2)
            SetPlane(planes.u + left / 2, Int32(planes.strideUV), width, height, UInt32(colour.1))
            SetPlane(planes.v + left / 2, Int32(planes.strideUV), width, height, UInt32(colour.2))
        }
    }

    /// A white box bouncing left-right across the middle, 4 pixels per frame.
    private func drawMovingBox(_ planes: MutableI420Planes, number: UInt64) {
        let size = (planes.height / 4) & ~1
        let travel = planes.width - size
        let step = Int((number * 4) % UInt64(2 * travel))
        let x = (step < travel ? step : 2 * travel - step) & ~1
        rect(planes, x: x, y: (planes.height - size) / 2 & ~1, width: size, height: size, (235, 128, 128))
    }

    /// Bottom-left row of blocks, least significant bit first: white = 1, black = 0.
    private func drawCode(_ planes: MutableI420Planes, number: UInt64) {
        let block = Self.codeBlockSize(width: planes.width)
        let y = (planes.height - block) & ~1
        for bit in 0..<Self.codeBits {
            let on = (number >> UInt64(bit)) & 1 == 1
            rect(planes, x: bit * block, y: y, width: block, height: planes.height - y, on ? (235, 128, 128) : (16, 128, 128))
        }
    }

    /// "#123" in white on a black box near the top-left; text goes into the luma plane only,
    /// since the box under it is already neutral in chroma. It sits 1/12 of the height down so
    /// the receiving screen's status bar does not cover it.
    private func drawLabel(_ planes: MutableI420Planes, number: UInt64) {
        guard let font else { return }
        let text = "#\(number)"
        let padding = 4
        let top = (planes.height / 12) & ~1
        rect(planes, x: 8, y: top, width: (font.textWidth(text) + 2 * padding + 1) & ~1,
             height: (font.height + 2 * padding + 1) & ~1, (16, 128, 128))
        font.draw(text, into: planes.lumaSurface, x: 8 + padding, y: top + padding, value: 235)
    }
}
