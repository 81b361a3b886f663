import CPNG
import CYUV
import Media

/// PNG encoding of XRGB8888 surfaces through libpng's simplified API (no setjmp error handling).
public enum PNGWriter {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes the surface to `path` as an 8-bit RGB PNG.
    public static func write(_ surface: PixelSurface, to path: String) throws {
        try withRGB(surface) { image, rgb, stride in
            png_image_write_to_file(&image, path, 0, rgb, stride, nil)
        }
    }

    /// Encodes the surface as PNG bytes.
    public static func encode(_ surface: PixelSurface) throws -> [UInt8] {
        var size = 0
        // First pass with no buffer asks libpng for the encoded size.
        try withRGB(surface) { image, rgb, stride in png_image_write_to_memory(&image, nil, &size, 0, rgb, stride, nil) }
        var bytes = [UInt8](repeating: 0, count: size)
        try withRGB(surface) { image, rgb, stride in
            bytes.withUnsafeMutableBytes { png_image_write_to_memory(&image, $0.baseAddress, &size, 0, rgb, stride, nil) }
        }
        return Array(bytes.prefix(size))
    }

    /// The size of a PNG file as libpng reads it (nil if it is not a readable PNG).
    public static func imageSize(path: String) -> (width: Int, height: Int)? {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else { return nil }
        defer { png_image_free(&image) }
        return (Int(image.width), Int(image.height))
    }

    /// XRGB's fourth byte is undefined on a KMS buffer, so rather than trusting it as alpha we
    /// drop it with libyuv's ARGBToRGB24 (bytes B,G,R) and write PNG_FORMAT_BGR.
    private static func withRGB(_ surface: PixelSurface,
                                _ body: (inout png_image, UnsafeRawPointer, png_int_32) -> Int32) throws {
        let rowBytes = surface.width * 3
        var rgb = [UInt8](repeating: 0, count: rowBytes * surface.height)
        _ = ARGBToRGB24(surface.base.assumingMemoryBound(to: UInt8.self), Int32(surface.stride),
                        &rgb, Int32(rowBytes), Int32(surface.width), Int32(surface.height))
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(surface.width)
        image.height = png_uint_32(surface.height)
        image.format = png_uint_32(PNG_FORMAT_BGR)
        let ok = rgb.withUnsafeBytes { body(&image, $0.baseAddress!, png_int_32(rowBytes)) }
        defer { png_image_free(&image) }
        guard ok != 0 else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw Failure(description: "libpng: \(message)")
        }
    }
}
