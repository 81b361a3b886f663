/// A Linux console bitmap font (PSF1 or PSF2, as shipped in Debian's console-setup fonts).
///
/// Console fonts are real, hinted bitmap fonts that every Debian system already has, and they
/// need no rasteriser: a glyph is rows of bits. This type only parses bytes; reading the
/// usually gzipped file is left to the modules that link zlib (Media has no dependencies).
public struct PSFFont: Sendable {
    public enum ParseError: Error, Equatable {
        case notPSF
        case truncated
    }

    /// Glyph cell size in pixels.
    public let width: Int
    public let height: Int
    public let glyphCount: Int
    /// Bytes per glyph row (rows are padded to whole bytes, most significant bit leftmost).
    private let rowBytes: Int
    private let glyphBytes: Int
    private let bitmaps: [UInt8]
    /// Unicode scalar to glyph index, from the font's table; empty means "index = code point".
    private let unicodeMap: [UInt32: Int]

    /// Parses an uncompressed PSF1 or PSF2 file.
    public init(data: [UInt8]) throws {
        if data.count >= 4, data[0] == 0x36, data[1] == 0x04 {
            try self.init(psf1: data)
        } else if data.count >= 32, data[0] == 0x72, data[1] == 0xB5, data[2] == 0x4A, data[3] == 0x86 {
            try self.init(psf2: data)
        } else {
            throw ParseError.notPSF
        }
    }

    private init(psf1 data: [UInt8]) throws {
        let mode = data[2]
        let count = (mode & 0x01) != 0 ? 512 : 256
        let charSize = Int(data[3])
        let glyphsEnd = 4 + count * charSize
        guard charSize > 0, data.count >= glyphsEnd else { throw ParseError.truncated }
        var map: [UInt32: Int] = [:]
        if (mode & 0x06) != 0 {
            // Per glyph: UInt16 LE code points, 0xFFFE starts multi-scalar sequences (skipped),
            // 0xFFFF ends the glyph's entry.
            var offset = glyphsEnd
            for glyph in 0..<count {
                var inSequence = false
                while offset + 1 < data.count {
                    let value = UInt16(data[offset]) | UInt16(data[offset + 1]) << 8
                    offset += 2
                    if value == 0xFFFF { break }
                    if value == 0xFFFE { inSequence = true; continue }
                    if !inSequence, map[UInt32(value)] == nil { map[UInt32(value)] = glyph }
                }
            }
        }
        self.init(width: 8, height: charSize, count: count, rowBytes: 1,
                  bitmaps: Array(data[4..<glyphsEnd]), unicodeMap: map)
    }

    private init(psf2 data: [UInt8]) throws {
        func word(_ index: Int) -> Int {
            let at = index * 4
            return Int(UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24)
        }
        let headerSize = word(2), flags = word(3), count = word(4), charSize = word(5)
        let height = word(6), width = word(7)
        let rowBytes = (width + 7) / 8
        let glyphsEnd = headerSize + count * charSize
        guard width > 0, height > 0, charSize >= rowBytes * height, data.count >= glyphsEnd
        else { throw ParseError.truncated }
        var map: [UInt32: Int] = [:]
        if (flags & 0x01) != 0 {
            // Per glyph: UTF-8 scalars, 0xFE starts multi-scalar sequences (skipped), 0xFF ends.
            var offset = glyphsEnd
            for glyph in 0..<count {
                var entry: [UInt8] = []
                while offset < data.count, data[offset] != 0xFF { entry.append(data[offset]); offset += 1 }
                offset += 1
                let singles = entry.split(separator: 0xFE, omittingEmptySubsequences: false).first ?? []
                for scalar in String(decoding: singles, as: UTF8.self).unicodeScalars where map[scalar.value] == nil {
                    map[scalar.value] = glyph
                }
            }
        }
        var bitmaps = [UInt8]()
        bitmaps.reserveCapacity(count * rowBytes * height)
        for glyph in 0..<count {  // drop any per-glyph padding beyond the rows
            let start = headerSize + glyph * charSize
            bitmaps += data[start..<(start + rowBytes * height)]
        }
        self.init(width: width, height: height, count: count, rowBytes: rowBytes, bitmaps: bitmaps, unicodeMap: map)
    }

    private init(width: Int, height: Int, count: Int, rowBytes: Int, bitmaps: [UInt8], unicodeMap: [UInt32: Int]) {
        self.width = width
        self.height = height
        self.glyphCount = count
        self.rowBytes = rowBytes
        self.glyphBytes = rowBytes * height
        self.bitmaps = bitmaps
        self.unicodeMap = unicodeMap
    }

    /// The glyph for a scalar, falling back to '?' (then glyph 0) for characters the font lacks.
    public func glyphIndex(for scalar: Unicode.Scalar) -> Int {
        if unicodeMap.isEmpty {
            return Int(scalar.value) < glyphCount ? Int(scalar.value) : min(63, glyphCount - 1)
        }
        return unicodeMap[scalar.value] ?? unicodeMap[0x3F] ?? 0
    }

    /// Whether the glyph's pixel at column `x`, row `y` is ink.
    public func isSet(glyph: Int, x: Int, y: Int) -> Bool {
        let byte = bitmaps[glyph * glyphBytes + y * rowBytes + x / 8]
        return byte & (0x80 >> UInt8(x % 8)) != 0
    }

    /// Width in pixels of `text` on one line (one cell per scalar: console fonts are monospaced).
    public func textWidth(_ text: String) -> Int { text.unicodeScalars.count * width }

    /// Draws `text` with its top-left cell corner at (x, y), clipped to the surface; only ink
    /// pixels are written, so the background shows through. `value` is a luma byte for 1-byte
    /// surfaces or 0xAARRGGBB for XRGB ones. Returns the width advanced.
    ///
    /// This is the one per-pixel loop we keep: it expands 1-bit glyph rows, which libyuv has no
    /// function for.
    @discardableResult
    public func draw(_ text: String, into surface: PixelSurface, x: Int, y: Int, value: UInt32) -> Int {
        var penX = x
        let rows = max(0, y)..<max(max(0, y), min(surface.height, y + height))
        for scalar in text.unicodeScalars {
            defer { penX += width }
            let columns = max(0, penX)..<max(max(0, penX), min(surface.width, penX + width))
            guard !columns.isEmpty, !rows.isEmpty else { continue }
            let glyph = glyphIndex(for: scalar)
            for row in rows {
                for column in columns where isSet(glyph: glyph, x: column - penX, y: row - y) {
                    surface.store(value, x: column, y: row)
                }
            }
        }
        return penX - x
    }

    /// Number of ink pixels in a glyph (tests; a blank glyph has none).
    public func inkCount(of scalar: Unicode.Scalar) -> Int {
        let glyph = glyphIndex(for: scalar)
        var count = 0
        for row in 0..<height { for column in 0..<width where isSet(glyph: glyph, x: column, y: row) { count += 1 } }
        return count
    }
}
