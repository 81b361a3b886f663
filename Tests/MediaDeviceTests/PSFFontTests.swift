import Display
import Media
import Testing

@Suite struct PSFFontTests {
    @Test func loadsGzippedPSF2FromSystemDirectory() throws {
        let font = try FontLoader.consoleFont(named: "Uni2-Terminus16")
        #expect(font.width == 8)
        #expect(font.height == 16)
        #expect(font.glyphCount >= 256)
    }

    @Test func glyphsHaveInkAndSpaceHasNone() {
        let font = TestFonts.terminus16
        #expect(font.inkCount(of: "A") > 10)
        #expect(font.inkCount(of: "é") > 0)
        #expect(font.inkCount(of: " ") == 0)
        #expect(font.glyphIndex(for: "A") != font.glyphIndex(for: "B"))
    }

    @Test func rendersTextIntoALumaPlane() {
        let font = TestFonts.terminus16
        var plane = [UInt8](repeating: 0, count: 64 * 20)
        let advance = plane.withUnsafeMutableBytes { raw in
            font.draw("Hi!", into: PixelSurface(base: raw.baseAddress!, width: 64, height: 20, stride: 64, bytesPerPixel: 1),
                      x: 2, y: 2, value: 200)
        }
        #expect(advance == 24)
        let lit = plane.filter { $0 == 200 }.count
        #expect(lit == font.inkCount(of: "H") + font.inkCount(of: "i") + font.inkCount(of: "!"))
        #expect(plane[0..<64].allSatisfy { $0 == 0 })  // nothing above the text's top edge
    }

    @Test func clipsAtSurfaceEdges() {
        let font = TestFonts.terminus16
        var plane = [UInt8](repeating: 0, count: 10 * 10)
        plane.withUnsafeMutableBytes { raw in
            let surface = PixelSurface(base: raw.baseAddress!, width: 10, height: 10, stride: 10, bytesPerPixel: 1)
            font.draw("WWWW", into: surface, x: -4, y: -4, value: 1)
            font.draw("W", into: surface, x: 100, y: 100, value: 1)
        }
        #expect(plane.contains(1))
    }

    @Test func rejectsNonFontData() {
        #expect(throws: PSFFont.ParseError.notPSF) { try PSFFont(data: [1, 2, 3, 4]) }
        #expect(throws: FontLoader.LoadError.self) { try FontLoader.load(path: "/nonexistent.psf.gz") }
    }
}
