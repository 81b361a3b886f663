// One open V4L2 capture device (kernel API: Documentation/userspace-api/media/v4l, "Streaming
// I/O (Memory Mapping)": VIDIOC_REQBUFS / QUERYBUF / QBUF / DQBUF / STREAMON). Every call goes
// through libv4l2 (v4l2_open / v4l2_ioctl / v4l2_mmap), which passes native formats through
// untouched and converts others when we ask for its emulated YU12.
import CV4L2
import CYUV
import Media
#if canImport(Glibc)
import Glibc
#endif

public struct V4L2Error: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32
    public var description: String { "\(operation): \(String(cString: strerror(code))) (errno \(code))" }
    /// The device is gone (unplugged): ENODEV, or ENXIO/EIO from some drivers.
    public var isDisconnect: Bool { code == ENODEV || code == ENXIO || code == EIO }
}

/// Not thread-safe: owned by one capture thread (or one CLI call) at a time.
final class V4L2Device {
    let path: String
    private(set) var fd: Int32
    private(set) var format: CameraFormatChoice?
    private(set) var bytesPerLine = 0
    private(set) var framesPerSecond = 0
    private var buffers: [(start: UnsafeMutableRawPointer, length: Int)] = []
    private var streaming = false
    private var sequence: UInt64 = 0

    init(path: String) throws {
        self.path = path
        fd = vp_v4l2_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw V4L2Error(operation: "open \(path)", code: errno) }
    }

    deinit { close() }

    func close() {
        guard fd >= 0 else { return }
        if streaming { stopStreaming() }
        unmapBuffers()
        _ = v4l2_close(fd)
        fd = -1
    }

    private func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer, _ name: String) throws {
        while vp_v4l2_ioctl(fd, request, arg) == -1 {
            if errno == EINTR { continue }
            throw V4L2Error(operation: name, code: errno)
        }
    }

    // MARK: Queries

    struct Capabilities {
        var driver: String, card: String, busInfo: String
        var isCapture: Bool
    }

    func capabilities() throws -> Capabilities {
        var caps = v4l2_capability()
        try ioctl(vp_VIDIOC_QUERYCAP, &caps, "VIDIOC_QUERYCAP")
        let effective = (caps.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS)) != 0 ? caps.device_caps : caps.capabilities
        func text<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return Capabilities(driver: text(caps.driver), card: text(caps.card), busInfo: text(caps.bus_info),
                            isCapture: effective & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0
                                && effective & UInt32(V4L2_CAP_STREAMING) != 0)
    }

    /// Every format with its sizes (libv4l2's emulated ones flagged).
    func formats() -> [CameraFormatDescription] {
        var result: [CameraFormatDescription] = []
        for index in 0..<64 {
            var desc = v4l2_fmtdesc()
            desc.index = UInt32(index)
            desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            guard (try? ioctl(vp_VIDIOC_ENUM_FMT, &desc, "VIDIOC_ENUM_FMT")) != nil else { break }
            let name = withUnsafeBytes(of: desc.description) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            result.append(CameraFormatDescription(
                fourcc: desc.pixelformat, name: name,
                emulated: desc.flags & UInt32(V4L2_FMT_FLAG_EMULATED) != 0,
                compressed: desc.flags & UInt32(V4L2_FMT_FLAG_COMPRESSED) != 0,
                sizes: frameSizes(fourcc: desc.pixelformat)))
        }
        return result
    }

    private func frameSizes(fourcc: UInt32) -> CameraFormatDescription.Sizes {
        var discrete: [FrameSize] = []
        for index in 0..<64 {
            var size = v4l2_frmsizeenum()
            size.index = UInt32(index)
            size.pixel_format = fourcc
            guard (try? ioctl(vp_VIDIOC_ENUM_FRAMESIZES, &size, "VIDIOC_ENUM_FRAMESIZES")) != nil else { break }
            if size.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
                discrete.append(FrameSize(width: Int(size.discrete.width), height: Int(size.discrete.height)))
            } else {
                let s = size.stepwise
                return .range(min: FrameSize(width: Int(s.min_width), height: Int(s.min_height)),
                              max: FrameSize(width: Int(s.max_width), height: Int(s.max_height)),
                              stepWidth: Int(s.step_width), stepHeight: Int(s.step_height))
            }
        }
        return .discrete(discrete)
    }

    /// Sets a control (VIDIOC_S_CTRL), e.g. a button control with value 0.
    func setControl(id: UInt32, value: Int32) throws {
        var control = v4l2_control(id: id, value: value)
        try ioctl(vp_VIDIOC_S_CTRL, &control, "VIDIOC_S_CTRL")
    }

    // MARK: Negotiation

    /// Sets the chosen format (the driver may adjust the size: we take what it answers) and
    /// asks for the frame rate with VIDIOC_S_PARM.
    func configure(_ choice: CameraFormatChoice, framesPerSecond wantedRate: Int) throws {
        var format = v4l2_format()
        format.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        format.fmt.pix.width = UInt32(choice.size.width)
        format.fmt.pix.height = UInt32(choice.size.height)
        format.fmt.pix.pixelformat = choice.fourcc
        format.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        try ioctl(vp_VIDIOC_S_FMT, &format, "VIDIOC_S_FMT")
        guard format.fmt.pix.pixelformat == choice.fourcc else {
            throw V4L2Error(operation: "VIDIOC_S_FMT gave \(CaptureLibraries.fourccString(format.fmt.pix.pixelformat))", code: EINVAL)
        }
        var actual = choice
        actual.size = FrameSize(width: Int(format.fmt.pix.width), height: Int(format.fmt.pix.height))
        self.format = actual
        bytesPerLine = Int(format.fmt.pix.bytesperline)

        var parm = v4l2_streamparm()
        parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        parm.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: UInt32(max(1, wantedRate)))
        // Drivers without frame-rate control refuse S_PARM: then the rate is whatever they send.
        if (try? ioctl(vp_VIDIOC_S_PARM, &parm, "VIDIOC_S_PARM")) != nil, parm.parm.capture.timeperframe.numerator > 0 {
            let t = parm.parm.capture.timeperframe
            framesPerSecond = Int((Double(t.denominator) / Double(t.numerator)).rounded())
        } else {
            framesPerSecond = wantedRate
        }
    }

    // MARK: Streaming

    func startStreaming(bufferCount: Int) throws {
        var request = v4l2_requestbuffers()
        request.count = UInt32(bufferCount)
        request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        request.memory = V4L2_MEMORY_MMAP.rawValue
        try ioctl(vp_VIDIOC_REQBUFS, &request, "VIDIOC_REQBUFS")
        guard request.count >= 2 else { throw V4L2Error(operation: "VIDIOC_REQBUFS gave \(request.count) buffers", code: ENOMEM) }
        for index in 0..<request.count {
            var buffer = v4l2_buffer()
            buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            buffer.memory = V4L2_MEMORY_MMAP.rawValue
            buffer.index = index
            try ioctl(vp_VIDIOC_QUERYBUF, &buffer, "VIDIOC_QUERYBUF")
            guard let start = v4l2_mmap(nil, Int(buffer.length), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                                        Int64(buffer.m.offset)), start != MAP_FAILED else {
                throw V4L2Error(operation: "v4l2_mmap", code: errno)
            }
            buffers.append((start, Int(buffer.length)))
            try ioctl(vp_VIDIOC_QBUF, &buffer, "VIDIOC_QBUF")
        }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        try ioctl(vp_VIDIOC_STREAMON, &type, "VIDIOC_STREAMON")
        streaming = true
    }

    private func stopStreaming() {
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        _ = vp_v4l2_ioctl(fd, vp_VIDIOC_STREAMOFF, &type)
        streaming = false
    }

    private func unmapBuffers() {
        for buffer in buffers { _ = v4l2_munmap(buffer.start, buffer.length) }
        buffers.removeAll()
    }

    /// Waits up to `timeoutMilliseconds` for a filled buffer, converts it to I420 and gives the
    /// buffer straight back to the driver. nil on timeout; throws when the device fails or is
    /// gone, and on a frame that cannot be converted (a corrupt JPEG is skipped by the caller).
    func nextFrame(timeoutMilliseconds: Int32) throws -> VideoFrame? {
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pollFD, 1, timeoutMilliseconds)
        if ready < 0 { if errno == EINTR { return nil }; throw V4L2Error(operation: "poll", code: errno) }
        if ready == 0 { return nil }
        if pollFD.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && pollFD.revents & Int16(POLLIN) == 0 {
            throw V4L2Error(operation: "poll", code: ENODEV)
        }
        var buffer = v4l2_buffer()
        buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        buffer.memory = V4L2_MEMORY_MMAP.rawValue
        do {
            try ioctl(vp_VIDIOC_DQBUF, &buffer, "VIDIOC_DQBUF")
        } catch let error as V4L2Error where error.code == EAGAIN {
            return nil
        }
        defer { _ = vp_v4l2_ioctl(fd, vp_VIDIOC_QBUF, &buffer) }
        guard let format, Int(buffer.index) < buffers.count else { return nil }
        let timestamp: MediaTime
        if buffer.flags & UInt32(V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC) != 0, buffer.timestamp.tv_sec > 0 {
            timestamp = MediaTime(nanoseconds: UInt64(buffer.timestamp.tv_sec) * 1_000_000_000
                                  + UInt64(buffer.timestamp.tv_usec) * 1000)
        } else {
            timestamp = .now()
        }
        sequence += 1
        let source = buffers[Int(buffer.index)]
        let used = min(Int(buffer.bytesused), source.length)
        return try CameraConverter.toI420(UnsafeRawBufferPointer(start: source.start, count: used),
                                          choice: format, bytesPerLine: bytesPerLine,
                                          timestamp: timestamp, sequence: sequence)
    }
}

/// Native camera buffer to I420 through libyuv (the one copy a frame gets).
public enum CameraConverter {
    public struct ConversionError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func toI420(_ source: UnsafeRawBufferPointer, choice: CameraFormatChoice, bytesPerLine: Int,
                              timestamp: MediaTime, sequence: UInt64) throws -> VideoFrame {
        let width = choice.size.width, height = choice.size.height
        var frame = VideoFrame(width: width, height: height, timestamp: timestamp, sequence: sequence)
        guard let base = source.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw ConversionError(description: "empty buffer")
        }
        let pixel: CameraPixelFormat
        switch choice.converter {
        case .libyuv(let native): pixel = native
        case .libv4l2: pixel = .i420  // libv4l2 already converted it
        }
        let stride = bytesPerLine
        let needed: Int
        switch pixel {
        case .yuyv: needed = max(stride, width * 2) * height
        case .nv12: needed = max(stride, width) * height + max(stride, width) * ((height + 1) / 2)
        case .i420: needed = VideoFrame.byteCount(width: width, height: height)
        case .mjpeg: needed = 4
        }
        guard source.count >= needed else {
            throw ConversionError(description: "\(pixel) buffer of \(source.count) bytes, \(needed) needed")
        }
        let status: Int32 = frame.withMutablePlanes { p in
            let (y, u, v) = (p.y, p.u, p.v)
            let (sy, suv) = (Int32(p.strideY), Int32(p.strideUV))
            switch pixel {
            case .yuyv:
                return YUY2ToI420(base, Int32(max(stride, width * 2)), y, sy, u, suv, v, suv, Int32(width), Int32(height))
            case .nv12:
                let lineStride = max(stride, width)
                return NV12ToI420(base, Int32(lineStride), base + lineStride * height, Int32(lineStride),
                                  y, sy, u, suv, v, suv, Int32(width), Int32(height))
            case .mjpeg:
                var jpegWidth: Int32 = 0, jpegHeight: Int32 = 0
                guard MJPGSize(base, source.count, &jpegWidth, &jpegHeight) == 0,
                      Int(jpegWidth) == width, Int(jpegHeight) == height else { return -1 }
                return MJPGToI420(base, source.count, y, sy, u, suv, v, suv,
                                  Int32(width), Int32(height), Int32(width), Int32(height))
            case .i420:
                let lineStride = max(stride, width), chromaStride = lineStride / 2
                let u0 = base + lineStride * height, v0 = u0 + chromaStride * ((height + 1) / 2)
                return I420Copy(base, Int32(lineStride), u0, Int32(chromaStride), v0, Int32(chromaStride),
                                y, sy, u, suv, v, suv, Int32(width), Int32(height))
            }
        }
        guard status == 0 else { throw ConversionError(description: "libyuv could not convert a \(pixel) frame") }
        return frame
    }
}
