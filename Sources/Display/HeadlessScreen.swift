import Media

/// A screen in memory: the compositor draws into it exactly as into a KMS buffer, and it can
/// be saved as a PNG so a person can see what the appliance shows on a machine without a display.
public struct HeadlessScreen: Sendable {
    public let width: Int
    public let height: Int
    /// XRGB8888 rows, tightly packed (bytes B, G, R, X per pixel).
    public private(set) var pixels: [UInt8]

    public var stride: Int { width * 4 }

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "empty screen")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 4)
    }

    /// Runs `body` with the canvas as a drawable surface.
    public mutating func withSurface<R>(_ body: (PixelSurface) throws -> R) rethrows -> R {
        let (width, height, stride) = (width, height, stride)
        return try pixels.withUnsafeMutableBytes { raw in
            try body(PixelSurface(base: raw.baseAddress!, width: width, height: height, stride: stride, bytesPerPixel: 4))
        }
    }

    /// Composes one screen into the canvas.
    public mutating func render(with compositor: inout Compositor, remote: VideoFrame?, local: VideoFrame?,
                                overlay: Overlay) {
        withSurface { compositor.render(remote: remote, local: local, overlay: overlay, into: $0) }
    }

    /// The colour at a pixel.
    public func pixel(x: Int, y: Int) -> RGB {
        let at = y * stride + x * 4
        return RGB(red: pixels[at + 2], green: pixels[at + 1], blue: pixels[at])
    }

    /// Writes the canvas as a PNG file.
    public func snapshot(to path: String) throws {
        try withReadOnlySurface { try PNGWriter.write($0, to: path) }
    }

    /// The canvas as PNG bytes (e.g. for an HTTP snapshot endpoint).
    public func pngData() throws -> [UInt8] {
        try withReadOnlySurface { try PNGWriter.encode($0) }
    }

    /// `PixelSurface` is a mutable view, but PNG encoding only reads it; borrowing the bytes
    /// read-only avoids the full canvas copy a mutable borrow of a shared array would force.
    private func withReadOnlySurface<R>(_ body: (PixelSurface) throws -> R) rethrows -> R {
        try pixels.withUnsafeBytes { raw in
            try body(PixelSurface(base: UnsafeMutableRawPointer(mutating: raw.baseAddress!), width: width,
                                  height: height, stride: stride, bytesPerPixel: 4))
        }
    }
}

/// An 8-bit colour, as read back from a screen.
public struct RGB: Sendable, Equatable, CustomStringConvertible {
    public var red: UInt8, green: UInt8, blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red; self.green = green; self.blue = blue
    }

    public var description: String { "rgb(\(red),\(green),\(blue))" }

    /// Whether each channel is within `tolerance` of `other` (YUV round trips are not exact).
    public func isClose(to other: RGB, tolerance: Int = 12) -> Bool {
        abs(Int(red) - Int(other.red)) <= tolerance && abs(Int(green) - Int(other.green)) <= tolerance
            && abs(Int(blue) - Int(other.blue)) <= tolerance
    }
}
