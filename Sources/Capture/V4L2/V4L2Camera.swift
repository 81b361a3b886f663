// The appliance camera on a V4L2 capture device: discovery, negotiation, mmap streaming on a
// dedicated thread, and reopen-with-backoff when the device disappears (USB unplug).
import Foundation
import Media

/// What `videophone devices` and device selection know about one capture node.
public struct CameraInfo: Sendable {
    public var path: String
    /// /dev/v4l/by-id names pointing at this node (stable across reboots and ports).
    public var byID: [String]
    public var driver: String
    public var card: String
    public var busInfo: String
    public var formats: [CameraFormatDescription]
}

public struct V4L2CameraConfiguration: Sendable, Equatable {
    /// A device path (/dev/video2), a /dev/v4l/by-id name or path, a substring of the card name,
    /// or nil for the first capture device.
    public var device: String?
    public var width: Int
    public var height: Int
    public var framesPerSecond: Int
    /// Driver buffers in flight: 4 lets the encoder lag a frame without the driver dropping.
    public var bufferCount: Int
    /// Ask libv4l2 for converted I420 instead of converting with libyuv (fallback, benchmarks).
    public var preferLibv4l2: Bool
    /// Only this native format (tests and benchmarks); nil negotiates.
    public var forcedFormat: CameraPixelFormat?

    public init(device: String? = nil, width: Int = 640, height: Int = 480, framesPerSecond: Int = 30,
                bufferCount: Int = 4, preferLibv4l2: Bool = false, forcedFormat: CameraPixelFormat? = nil) {
        self.device = device
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.bufferCount = min(8, max(2, bufferCount))
        self.preferLibv4l2 = preferLibv4l2
        self.forcedFormat = forcedFormat
    }
}

/// What the capture stream reports besides frames.
public enum CameraEvent: Sendable {
    /// Streaming started: device path and the negotiated format, size and rate.
    case opened(path: String, format: String, size: FrameSize, framesPerSecond: Int)
    case frame(VideoFrame)
    /// The device failed or vanished; the stream retries after `retryIn` seconds. The call goes
    /// on without video meanwhile.
    case lost(reason: String, retryIn: Double)
}

public enum V4L2Discovery {
    static let byIDDirectory = "/dev/v4l/by-id"

    /// Capture-capable nodes (/dev/videoN in numeric order); metadata-only nodes are skipped.
    public static func cameras() -> [CameraInfo] {
        let nodes = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? [])
            .filter { $0.hasPrefix("video") && Int($0.dropFirst(5)) != nil }
            .sorted { Int($0.dropFirst(5))! < Int($1.dropFirst(5))! }
        let links = byIDLinks()
        return nodes.compactMap { node in
            let path = "/dev/" + node
            guard let device = try? V4L2Device(path: path), let caps = try? device.capabilities(), caps.isCapture
            else { return nil }
            return CameraInfo(path: path, byID: links[path] ?? [], driver: caps.driver, card: caps.card,
                              busInfo: caps.busInfo, formats: device.formats())
        }
    }

    /// Resolves a configured name to a device path (see `V4L2CameraConfiguration.device`).
    public static func resolve(_ name: String?) -> String? {
        guard let name, !name.isEmpty else { return cameras().first?.path }
        if name.hasPrefix("/") {
            return (try? FileManager.default.destinationOfSymbolicLink(atPath: name)).map {
                $0.hasPrefix("/") ? $0 : URL(fileURLWithPath: name).deletingLastPathComponent().appendingPathComponent($0).standardized.path
            } ?? name
        }
        let byID = byIDDirectory + "/" + name
        if FileManager.default.fileExists(atPath: byID) { return resolve(byID) }
        return cameras().first { $0.card.localizedCaseInsensitiveContains(name) }?.path
    }

    /// Sets a control on a device by path (tools and tests: vivid's Disconnect button).
    public static func setControl(path: String, id: UInt32, value: Int32) throws {
        try V4L2Device(path: path).setControl(id: id, value: value)
    }

    private static func byIDLinks() -> [String: [String]] {
        var result: [String: [String]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: byIDDirectory)) ?? [] {
            guard let target = resolve(byIDDirectory + "/" + name) else { continue }
            result[target, default: []].append(name)
        }
        return result
    }
}

/// A V4L2 camera delivering I420 `VideoFrame`s.
///
/// Capture runs on its own thread, blocked in poll(2) on the device: frames arrive at the
/// driver's pace without occupying the Swift concurrency pool. Only the newest frames are
/// buffered, so a slow consumer loses frames instead of adding latency.
public final class V4L2Camera: Sendable {
    public let configuration: V4L2CameraConfiguration
    /// Backoff between reopen attempts: doubles from the first to the last value.
    public let retryDelays: ClosedRange<Double>

    public init(configuration: V4L2CameraConfiguration = V4L2CameraConfiguration(),
                retryDelays: ClosedRange<Double> = 0.5...5) {
        self.configuration = configuration
        self.retryDelays = retryDelays
    }

    /// Opens the device once and returns the negotiated choice, without streaming (for probes).
    public func negotiate() throws -> (path: String, choice: CameraFormatChoice) {
        let (device, choice) = try open()
        device.close()
        return (device.path, choice)
    }

    /// Frames and state changes until the consumer stops iterating.
    public func events() -> AsyncStream<CameraEvent> {
        DeviceThread.stream(named: "v4l2-capture", bufferingNewest: 3) { [self] continuation, stop in
            self.run(continuation: continuation, stop: stop)
        }
    }

    /// Just the frames (events other than frames are dropped).
    public func frames() -> AsyncStream<VideoFrame> {
        DeviceThread.only(events(), bufferingNewest: 2) { event in
            if case .frame(let frame) = event { frame } else { nil }
        }
    }

    private func open() throws -> (V4L2Device, CameraFormatChoice) {
        guard let path = V4L2Discovery.resolve(configuration.device) else {
            throw V4L2Error(operation: "no capture device matches \(configuration.device ?? "(first)")", code: ENODEV)
        }
        let device = try V4L2Device(path: path)
        var formats = device.formats()
        if let forced = configuration.forcedFormat {
            formats = formats.filter { $0.fourcc == forced.fourcc && !$0.emulated }
        }
        guard let choice = CameraFormatNegotiation.choose(
            from: formats, wanted: FrameSize(width: configuration.width, height: configuration.height),
            preferLibv4l2: configuration.preferLibv4l2)
        else {
            throw V4L2Error(operation: "\(path) offers no format we can convert", code: EINVAL)
        }
        try device.configure(choice, framesPerSecond: configuration.framesPerSecond)
        return (device, device.format ?? choice)
    }

    private func run(continuation: AsyncStream<CameraEvent>.Continuation, stop: DeviceStopFlag) {
        var delay = retryDelays.lowerBound
        while !stop.isSet {
            do {
                let (device, choice) = try open()
                defer { device.close() }
                try device.startStreaming(bufferCount: configuration.bufferCount)
                continuation.yield(.opened(path: device.path, format: CaptureLibraries.fourccString(choice.fourcc),
                                           size: choice.size, framesPerSecond: device.framesPerSecond))
                delay = retryDelays.lowerBound
                var badFrames = 0
                while !stop.isSet {
                    do {
                        if let frame = try device.nextFrame(timeoutMilliseconds: 200) {
                            continuation.yield(.frame(frame))
                            badFrames = 0
                        }
                    } catch is CameraConverter.ConversionError {
                        // A corrupt MJPEG frame happens on real cameras: skip it, but not forever.
                        badFrames += 1
                        if badFrames > 30 { throw V4L2Error(operation: "30 frames in a row unconvertible", code: EIO) }
                    }
                }
            } catch {
                if stop.isSet { break }
                continuation.yield(.lost(reason: "\(error)", retryIn: delay))
                stop.wait(seconds: delay)
                delay = min(retryDelays.upperBound, delay * 2)
            }
        }
        continuation.finish()
    }
}
