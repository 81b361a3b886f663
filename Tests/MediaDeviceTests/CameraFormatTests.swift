import CYUV
import Capture
import Media
import Testing

/// Format negotiation (V4L2 ENUM_FMT / ENUM_FRAMESIZES answers as values) and the libyuv
/// conversion of native camera buffers to I420.
@Suite struct CameraFormatTests {
    static let yuyv = CameraPixelFormat.yuyv.fourcc
    static let nv12 = CameraPixelFormat.nv12.fourcc
    static let mjpeg = CameraPixelFormat.mjpeg.fourcc
    static let i420 = CameraPixelFormat.i420.fourcc

    func format(_ fourcc: UInt32, _ sizes: [(Int, Int)], emulated: Bool = false) -> CameraFormatDescription {
        CameraFormatDescription(fourcc: fourcc, name: CaptureLibraries.fourccString(fourcc), emulated: emulated,
                                sizes: .discrete(sizes.map { FrameSize(width: $0.0, height: $0.1) }))
    }

    @Test func fourccsRoundTrip() {
        #expect(CaptureLibraries.fourccString(Self.yuyv) == "YUYV")
        #expect(Self.yuyv == CaptureLibraries.yuyvFourcc)
        #expect(CameraPixelFormat(fourcc: Self.mjpeg) == .mjpeg)
        #expect(CameraPixelFormat(fourcc: 0x4745_504A) == .mjpeg)  // 'JPEG'
        #expect(CameraPixelFormat(fourcc: 0x3132_4742) == nil)     // 'BG12' Bayer: not ours
    }

    @Test func rawFormatPreferredAtTheSameSize() {
        let formats = [format(Self.mjpeg, [(1280, 720), (640, 480)]), format(Self.yuyv, [(1280, 720), (640, 480)])]
        let choice = CameraFormatNegotiation.choose(from: formats, wanted: FrameSize(width: 640, height: 480))
        #expect(choice == CameraFormatChoice(fourcc: Self.yuyv, size: FrameSize(width: 640, height: 480), converter: .libyuv(.yuyv)))
    }

    @Test func mjpegWinsWhenOnlyItOffersTheSize() {
        // A typical UVC camera: YUYV only up to 640x480, MJPEG up to 1920x1080.
        let formats = [format(Self.yuyv, [(640, 480), (320, 240)]), format(Self.mjpeg, [(1920, 1080), (1280, 720), (640, 480)])]
        let choice = CameraFormatNegotiation.choose(from: formats, wanted: FrameSize(width: 1280, height: 720))
        #expect(choice?.converter == .libyuv(.mjpeg))
        #expect(choice?.size == FrameSize(width: 1280, height: 720))
    }

    @Test func nv12BeatsYUYVAndLargerBeatsSmaller() {
        let formats = [format(Self.yuyv, [(800, 600)]), format(Self.nv12, [(800, 600), (320, 240)])]
        let choice = CameraFormatNegotiation.choose(from: formats, wanted: FrameSize(width: 640, height: 480))
        #expect(choice?.converter == .libyuv(.nv12))
        #expect(choice?.size == FrameSize(width: 800, height: 600))  // above the request beats below it
    }

    @Test func stepwiseSizesSnapToTheStep() {
        let formats = [CameraFormatDescription(fourcc: Self.yuyv, name: "YUYV",
                                               sizes: .range(min: FrameSize(width: 16, height: 16),
                                                             max: FrameSize(width: 1920, height: 1080), stepWidth: 16, stepHeight: 8))]
        let choice = CameraFormatNegotiation.choose(from: formats, wanted: FrameSize(width: 1000, height: 700))
        #expect(choice?.size == FrameSize(width: 992, height: 696))
    }

    @Test func libv4l2IsTheFallbackForUnknownFormats() {
        let bayer: UInt32 = 0x3132_4742
        let formats = [format(bayer, [(640, 480)]), format(Self.i420, [(640, 480)], emulated: true)]
        let choice = CameraFormatNegotiation.choose(from: formats, wanted: FrameSize(width: 640, height: 480))
        #expect(choice?.converter == .libv4l2)
        #expect(choice?.fourcc == Self.i420)
        #expect(CameraFormatNegotiation.choose(from: [format(bayer, [(640, 480)])], wanted: FrameSize(width: 640, height: 480)) == nil)
        // Asked for, libv4l2 is used even when libyuv could convert.
        let both = [format(Self.yuyv, [(640, 480)]), format(Self.i420, [(640, 480)], emulated: true)]
        #expect(CameraFormatNegotiation.choose(from: both, wanted: FrameSize(width: 640, height: 480), preferLibv4l2: true)?.converter == .libv4l2)
    }

    /// A YUYV buffer of one colour converts to I420 of that colour; a short buffer is refused.
    @Test func yuyvConvertsToI420() throws {
        let width = 64, height = 32
        var yuyv = [UInt8](repeating: 0, count: width * height * 2)
        for index in stride(from: 0, to: yuyv.count, by: 4) {
            yuyv[index] = 81; yuyv[index + 1] = 90; yuyv[index + 2] = 81; yuyv[index + 3] = 240  // Y U Y V
        }
        let choice = CameraFormatChoice(fourcc: Self.yuyv, size: FrameSize(width: width, height: height), converter: .libyuv(.yuyv))
        let frame = try yuyv.withUnsafeBytes {
            try CameraConverter.toI420($0, choice: choice, bytesPerLine: width * 2, timestamp: MediaTime(nanoseconds: 5), sequence: 7)
        }
        #expect(frame.luma(x: 10, y: 10) == 81)
        #expect(frame.chroma(x: 10, y: 10) == (u: 90, v: 240))
        #expect(frame.sequence == 7 && frame.timestamp == MediaTime(nanoseconds: 5))
        #expect(throws: CameraConverter.ConversionError.self) {
            try yuyv.prefix(100).withUnsafeBytes {
                try CameraConverter.toI420($0, choice: choice, bytesPerLine: width * 2, timestamp: MediaTime(nanoseconds: 0), sequence: 0)
            }
        }
    }

    @Test func nv12ConvertsAndGarbageMJPEGIsRefused() throws {
        let width = 32, height = 16
        let nv12 = [UInt8](repeating: 145, count: width * height) + (0..<(width * height / 4)).flatMap { _ in [UInt8(54), UInt8(34)] }
        let choice = CameraFormatChoice(fourcc: Self.nv12, size: FrameSize(width: width, height: height), converter: .libyuv(.nv12))
        let frame = try nv12.withUnsafeBytes {
            try CameraConverter.toI420($0, choice: choice, bytesPerLine: width, timestamp: MediaTime(nanoseconds: 0), sequence: 0)
        }
        #expect(frame.luma(x: 3, y: 3) == 145 && frame.chroma(x: 3, y: 3) == (u: 54, v: 34))
        let jpeg = CameraFormatChoice(fourcc: Self.mjpeg, size: FrameSize(width: width, height: height), converter: .libyuv(.mjpeg))
        let garbage = [UInt8](repeating: 0x55, count: 2000)
        #expect(throws: CameraConverter.ConversionError.self) {
            try garbage.withUnsafeBytes {
                try CameraConverter.toI420($0, choice: jpeg, bytesPerLine: 0, timestamp: MediaTime(nanoseconds: 0), sequence: 0)
            }
        }
    }
}
