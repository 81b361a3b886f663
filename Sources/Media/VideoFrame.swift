/// One I420 (YUV 4:2:0 planar, BT.601 limited range) picture.
///
/// The three planes live back to back in one copy-on-write `[UInt8]`, so a frame is a plain
/// `Sendable` value: the capture side fills it once and every consumer (compositor, encoder)
/// reads it without locks or copies. Strides are tight (`width` and `(width + 1) / 2`), which
/// is what libvpx and libyuv accept directly.
public struct VideoFrame: Sendable {
    public let width: Int
    public let height: Int
    /// Capture time on the monotonic clock.
    public var timestamp: MediaTime
    /// The source's running frame count (a synthetic camera stamps it into the picture).
    public var sequence: UInt64
    /// Y, then U, then V.
    public private(set) var storage: [UInt8]

    public var strideY: Int { width }
    public var strideUV: Int { (width + 1) / 2 }
    public var chromaHeight: Int { (height + 1) / 2 }
    public var lumaSize: Int { strideY * height }
    public var chromaSize: Int { strideUV * chromaHeight }

    /// Bytes needed for an I420 picture of this size.
    public static func byteCount(width: Int, height: Int) -> Int {
        width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2)
    }

    /// A black picture (Y 16, U/V 128: black in limited range, not green).
    public init(width: Int, height: Int, timestamp: MediaTime = MediaTime(nanoseconds: 0), sequence: UInt64 = 0) {
        precondition(width > 0 && height > 0, "empty frame")
        self.width = width
        self.height = height
        self.timestamp = timestamp
        self.sequence = sequence
        // One allocation filled in place (per frame on the capture path: no temporaries, no copy).
        let luma = width * height, total = Self.byteCount(width: width, height: height)
        storage = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            buffer.baseAddress!.initialize(repeating: 16, count: luma)
            (buffer.baseAddress! + luma).initialize(repeating: 128, count: total - luma)
            count = total
        }
    }

    /// Wraps planes that are already packed as Y, U, V with tight strides.
    public init(width: Int, height: Int, storage: [UInt8], timestamp: MediaTime, sequence: UInt64 = 0) {
        precondition(width > 0 && height > 0, "empty frame")
        precondition(storage.count >= Self.byteCount(width: width, height: height), "I420 storage too small")
        self.width = width
        self.height = height
        self.storage = storage
        self.timestamp = timestamp
        self.sequence = sequence
    }

    /// Read access to the planes, e.g. for libyuv or libvpx.
    public func withPlanes<R>(_ body: (I420Planes) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { raw in
            let base = raw.bindMemory(to: UInt8.self).baseAddress!
            return try body(I420Planes(y: base, u: base + lumaSize, v: base + lumaSize + chromaSize,
                                       strideY: strideY, strideUV: strideUV, width: width, height: height))
        }
    }

    /// Write access to the planes, for whoever fills the frame.
    public mutating func withMutablePlanes<R>(_ body: (MutableI420Planes) throws -> R) rethrows -> R {
        let (lumaSize, chromaSize, strideY, strideUV) = (lumaSize, chromaSize, strideY, strideUV)
        let (width, height) = (width, height)
        return try storage.withUnsafeMutableBytes { raw in
            let base = raw.bindMemory(to: UInt8.self).baseAddress!
            return try body(MutableI420Planes(y: base, u: base + lumaSize, v: base + lumaSize + chromaSize,
                                              strideY: strideY, strideUV: strideUV, width: width, height: height))
        }
    }

    /// The luma value at a pixel (tests and frame-number read-back).
    public func luma(x: Int, y: Int) -> UInt8 { storage[y * strideY + x] }

    /// The (U, V) chroma values covering a pixel.
    public func chroma(x: Int, y: Int) -> (u: UInt8, v: UInt8) {
        let index = (y / 2) * strideUV + x / 2
        return (storage[lumaSize + index], storage[lumaSize + chromaSize + index])
    }
}

/// Borrowed pointers to a frame's planes; valid only inside `withPlanes` (or `VP8Decoder.decodePicture`).
public struct I420Planes {
    public let y: UnsafePointer<UInt8>
    public let u: UnsafePointer<UInt8>
    public let v: UnsafePointer<UInt8>
    public let strideY: Int
    public let strideUV: Int
    public let width: Int
    public let height: Int

    public init(y: UnsafePointer<UInt8>, u: UnsafePointer<UInt8>, v: UnsafePointer<UInt8>, strideY: Int, strideUV: Int,
                width: Int, height: Int) {
        (self.y, self.u, self.v, self.strideY, self.strideUV, self.width, self.height) = (y, u, v, strideY, strideUV, width, height)
    }
}

/// Borrowed mutable pointers to a frame's planes; valid only inside `withMutablePlanes`.
public struct MutableI420Planes {
    public let y: UnsafeMutablePointer<UInt8>
    public let u: UnsafeMutablePointer<UInt8>
    public let v: UnsafeMutablePointer<UInt8>
    public let strideY: Int
    public let strideUV: Int
    public let width: Int
    public let height: Int

    /// The luma plane as a 1-byte-per-pixel surface, e.g. to draw text into it.
    public var lumaSurface: PixelSurface {
        PixelSurface(base: UnsafeMutableRawPointer(y), width: width, height: height,
                     stride: strideY, bytesPerPixel: 1)
    }
}
