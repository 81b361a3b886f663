import CYUV
import Capture
import Display
import Foundation
import Media
import Testing

/// Per-frame costs of the camera-to-I420 conversions (libyuv) at 1280x720 and of composing a
/// 640x480 call onto a 1920x1080 screen; printed as figures, and each result checked for
/// correctness (timing is never asserted: this machine is shared).
@Suite struct ConversionFigureTests {
    static let width = 1280, height = 720

    /// Colour bars as the source picture of every conversion.
    static let source: VideoFrame = {
        var camera = SyntheticCamera(configuration: .init(width: width, height: height), font: nil)
        return camera.nextFrame()
    }()

    func timed(_ label: String, iterations: Int = 30, _ body: () throws -> Void) rethrows -> Double {
        try body()  // warm caches and lazy tables
        let start = MediaTime.now()
        for _ in 0..<iterations { try body() }
        let milliseconds = Double(MediaTime.now().nanoseconds - start.nanoseconds) / 1e6 / Double(iterations)
        print("figure: \(label): \(String(format: "%.3f", milliseconds)) ms/frame")
        return milliseconds
    }

    func convert(_ bytes: [UInt8], _ format: CameraPixelFormat, bytesPerLine: Int) throws -> VideoFrame {
        let choice = CameraFormatChoice(fourcc: format.fourcc, size: FrameSize(width: Self.width, height: Self.height),
                                        converter: .libyuv(format))
        return try bytes.withUnsafeBytes {
            try CameraConverter.toI420($0, choice: choice, bytesPerLine: bytesPerLine, timestamp: MediaTime(nanoseconds: 0), sequence: 0)
        }
    }

    @Test func yuyvAndNV12To420At720p() throws {
        let (w, h) = (Self.width, Self.height)
        var yuyv = [UInt8](repeating: 0, count: w * h * 2)
        var nv12 = [UInt8](repeating: 0, count: w * h * 3 / 2)
        Self.source.withPlanes { p in
            _ = I420ToYUY2(p.y, Int32(p.strideY), p.u, Int32(p.strideUV), p.v, Int32(p.strideUV), &yuyv, Int32(w * 2), Int32(w), Int32(h))
            nv12.withUnsafeMutableBufferPointer { b in
                _ = I420ToNV12(p.y, Int32(p.strideY), p.u, Int32(p.strideUV), p.v, Int32(p.strideUV),
                               b.baseAddress!, Int32(w), b.baseAddress! + w * h, Int32(w), Int32(w), Int32(h))
            }
        }
        var frame = Self.source
        _ = try timed("YUYV->I420 1280x720 (libyuv)") { frame = try convert(yuyv, .yuyv, bytesPerLine: w * 2) }
        #expect(frame.storage == Self.source.storage)  // 4:2:0 to 4:2:2 and back is lossless
        _ = try timed("NV12->I420 1280x720 (libyuv)") { frame = try convert(nv12, .nv12, bytesPerLine: w) }
        #expect(frame.storage == Self.source.storage)
    }

    /// A real JPEG from an independent encoder (FFmpeg's mjpeg through PyAV, in the interop venv).
    @Test func mjpegToI420At720p() throws {
        let python = ProcessInfo.processInfo.environment["VIDEOPHONE_PYTHON"] ?? FileManager.default.currentDirectoryPath + "/.venv/bin/python"
        let raw = FileManager.default.temporaryDirectory.appendingPathComponent("bars-\(getpid()).yuv").path
        let jpeg = raw + ".jpg"
        defer { unlink(raw); unlink(jpeg) }
        try Data(Self.source.storage).write(to: URL(fileURLWithPath: raw))
        let script = """
        import av, fractions, numpy, sys
        w, h = \(Self.width), \(Self.height)
        data = numpy.fromfile(sys.argv[1], dtype=numpy.uint8)
        frame = av.VideoFrame.from_ndarray(data.reshape((h * 3 // 2, w)), format="yuv420p")
        codec = av.CodecContext.create("mjpeg", "w")
        codec.width, codec.height, codec.pix_fmt = w, h, "yuvj420p"
        codec.time_base = fractions.Fraction(1, 30)
        codec.options = {"qscale": "3"}
        frame = frame.reformat(format="yuvj420p")
        packets = codec.encode(frame) + codec.encode(None)
        open(sys.argv[2], "wb").write(b"".join(bytes(p) for p in packets))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, raw, jpeg]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else {
            print("figure: MJPEG skipped: no interop venv python at \(python) (scripts/setup makes it)")
            return
        }
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "PyAV could not encode the test JPEG")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: jpeg)))
        var frame = Self.source
        _ = try timed("MJPEG->I420 1280x720 (libyuv, \(bytes.count / 1024) KiB JPEG)") { frame = try convert(bytes, .mjpeg, bytesPerLine: 0) }
        // Lossy (and full-range vs limited-range: FFmpeg's yuvj), so compare bar by bar loosely.
        for x in stride(from: 40, to: Self.width, by: 180) {
            #expect(abs(Int(frame.luma(x: x, y: 300)) - Int(Self.source.luma(x: x, y: 300))) < 30, "column \(x)")
        }
    }

    @Test func composeOntoA1080pScreen() {
        var screen = HeadlessScreen(width: 1920, height: 1080)
        var compositor = Compositor(font: TestFonts.terminus16)
        var camera = SyntheticCamera(configuration: .init(width: 640, height: 480), font: nil)
        let remote = camera.nextFrame(), local = camera.nextFrame()
        let overlay = Overlay(status: "In call with kitchen", chat: ["hello", "how are you?"])
        _ = timed("compose 640x480 remote + inset onto 1920x1080 (I420Scale + I420ToARGB + text)") {
            screen.render(with: &compositor, remote: remote, local: local, overlay: overlay)
        }
        let hd = SyntheticCamera(configuration: .init(width: 1280, height: 720), font: nil)
        var hdCamera = hd
        let remoteHD = hdCamera.nextFrame()
        _ = timed("compose 1280x720 remote onto 1920x1080") {
            screen.render(with: &compositor, remote: remoteHD, local: nil, overlay: Overlay())
        }
        // Bars scaled to the full screen: the first bar (white 75 %) at the left, above the moving box.
        #expect(screen.pixel(x: 100, y: 250).isClose(to: RGB(red: 191, green: 191, blue: 191), tolerance: 16))
    }
}
