/// A borrowed rectangle of pixels: a KMS dumb buffer, a headless canvas, or a frame's Y plane.
///
/// It only carries a pointer and geometry, so it is valid only while its owner keeps the
/// memory alive (inside a `withUnsafe...` closure); it is deliberately not `Sendable`.
public struct PixelSurface {
    public let base: UnsafeMutableRawPointer
    public let width: Int
    public let height: Int
    /// Bytes from one row to the next (KMS buffers may pad rows).
    public let stride: Int
    /// 1 for a luma plane, 4 for XRGB8888.
    public let bytesPerPixel: Int

    public init(base: UnsafeMutableRawPointer, width: Int, height: Int, stride: Int, bytesPerPixel: Int) {
        precondition(bytesPerPixel == 1 || bytesPerPixel == 4, "1 (luma) or 4 (XRGB) bytes per pixel")
        precondition(stride >= width * bytesPerPixel, "stride shorter than a row")
        self.base = base
        self.width = width
        self.height = height
        self.stride = stride
        self.bytesPerPixel = bytesPerPixel
    }

    /// Pointer to the pixel at (x, y); the caller keeps it in bounds.
    public func address(x: Int, y: Int) -> UnsafeMutableRawPointer {
        base + y * stride + x * bytesPerPixel
    }

    /// Stores one pixel value: the low byte for luma, or a 32-bit 0xAARRGGBB that lands in
    /// memory as B, G, R, A (little-endian XRGB8888, libyuv's "ARGB").
    @inline(__always)
    func store(_ value: UInt32, x: Int, y: Int) {
        if bytesPerPixel == 1 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: y * stride + x, as: UInt8.self)
        } else {
            base.storeBytes(of: value.littleEndian, toByteOffset: y * stride + x * 4, as: UInt32.self)
        }
    }
}
