import Capture
import Display
import Media
import Testing

/// A flat-colour I420 frame.
private func solidFrame(width: Int, height: Int, y: UInt8, u: UInt8, v: UInt8) -> VideoFrame {
    let chroma = ((width + 1) / 2) * ((height + 1) / 2)
    let storage = [UInt8](repeating: y, count: width * height) + [UInt8](repeating: u, count: chroma)
        + [UInt8](repeating: v, count: chroma)
    return VideoFrame(width: width, height: height, storage: storage, timestamp: MediaTime(nanoseconds: 0))
}

@Suite struct CompositorTests {
    let black = RGB(red: 0, green: 0, blue: 0)
    // BT.601 limited range: Y 81, U 90, V 240 is pure red.
    let red = RGB(red: 255, green: 0, blue: 0)
    let remote = solidFrame(width: 640, height: 480, y: 81, u: 90, v: 240)
    // Y 145, U 54, V 34 is pure green.
    let local = solidFrame(width: 640, height: 480, y: 145, u: 54, v: 34)

    @Test func aspectFitPillarboxesFourThreeOnSixteenNine() {
        let rect = ScreenRect.aspectFit(sourceWidth: 640, sourceHeight: 480, in: ScreenRect(x: 0, y: 0, width: 1280, height: 720))
        #expect(rect == ScreenRect(x: 160, y: 0, width: 960, height: 720))
        let wide = ScreenRect.aspectFit(sourceWidth: 1920, sourceHeight: 1080, in: ScreenRect(x: 0, y: 0, width: 800, height: 600))
        #expect(wide == ScreenRect(x: 0, y: 75, width: 800, height: 450))
    }

    @Test func remoteVideoIsLetterboxedWithBlackBars() {
        var screen = HeadlessScreen(width: 1280, height: 720)
        var compositor = Compositor(font: TestFonts.terminus16)
        screen.render(with: &compositor, remote: remote, local: nil, overlay: Overlay())
        for x in [0, 80, 159, 1120, 1279] { #expect(screen.pixel(x: x, y: 360) == black, "column \(x)") }
        for x in [160, 640, 1119] {
            #expect(screen.pixel(x: x, y: 360).isClose(to: red), "column \(x): \(screen.pixel(x: x, y: 360))")
        }
        #expect(screen.pixel(x: 640, y: 0).isClose(to: red))
        #expect(screen.pixel(x: 640, y: 719).isClose(to: red))
    }

    @Test func localPreviewIsAnInsetBottomRight() {
        var screen = HeadlessScreen(width: 1280, height: 720)
        var compositor = Compositor(font: TestFonts.terminus16)
        screen.render(with: &compositor, remote: remote, local: local, overlay: Overlay())
        let inset = compositor.insetRect(for: local, screen: ScreenRect(x: 0, y: 0, width: 1280, height: 720))
        #expect(inset == ScreenRect(x: 1280 - 16 - 320, y: 720 - 16 - 240, width: 320, height: 240))
        let green = RGB(red: 0, green: 255, blue: 0)
        #expect(screen.pixel(x: inset.x + 160, y: inset.y + 120).isClose(to: green))
        #expect(screen.pixel(x: inset.maxX - 1, y: inset.maxY - 1).isClose(to: green))
        #expect(screen.pixel(x: inset.x - 1, y: inset.y + 10) == RGB(red: 0xC0, green: 0xC0, blue: 0xC0))  // border
        #expect(screen.pixel(x: inset.x - 20, y: inset.y + 10).isClose(to: red))  // remote beside it
    }

    @Test func statusTextChangesPixelsOnlyInTheStatusBar() {
        var compositor = Compositor(font: TestFonts.terminus16)
        var plain = HeadlessScreen(width: 640, height: 360)
        plain.render(with: &compositor, remote: remote, local: nil, overlay: Overlay())
        var withStatus = plain
        withStatus.render(with: &compositor, remote: remote, local: nil, overlay: Overlay(status: "Calling kitchen..."))
        var otherStatus = plain
        otherStatus.render(with: &compositor, remote: remote, local: nil, overlay: Overlay(status: "In call 00:42"))

        let bar = compositor.statusBarRect(screenWidth: 640)
        func changed(_ a: HeadlessScreen, _ b: HeadlessScreen, rows: Range<Int>) -> Int {
            rows.reduce(0) { count, y in count + (0..<640).filter { a.pixel(x: $0, y: y) != b.pixel(x: $0, y: y) }.count }
        }
        #expect(changed(plain, withStatus, rows: bar.y..<bar.maxY) > 1000)  // bar shaded + text
        #expect(changed(plain, withStatus, rows: bar.maxY..<360) == 0)
        #expect(changed(withStatus, otherStatus, rows: bar.y..<bar.maxY) > 50)  // different text
        // White glyph pixels inside the darkened bar.
        let white = RGB(red: 255, green: 255, blue: 255)
        #expect((bar.y..<bar.maxY).contains { y in (0..<300).contains { withStatus.pixel(x: $0, y: y) == white } })
    }

    @Test func onlyTheLastChatLinesAreDrawn() {
        var compositor = Compositor(font: TestFonts.terminus16)
        compositor.layout.chatLines = 2
        var two = HeadlessScreen(width: 640, height: 360)
        two.render(with: &compositor, remote: nil, local: nil, overlay: Overlay(chat: ["b: hello", "a: hi there"]))
        var three = HeadlessScreen(width: 640, height: 360)
        three.render(with: &compositor, remote: nil, local: nil,
                     overlay: Overlay(chat: ["c: this line scrolls away", "b: hello", "a: hi there"]))
        #expect(two.pixels == three.pixels)
        #expect(two.pixels.contains(255))
    }

    @Test func snapshotWritesAPNGLibpngReadsBack() throws {
        var screen = HeadlessScreen(width: 1280, height: 720)
        var compositor = Compositor(font: TestFonts.terminus16)
        var camera = SyntheticCamera(configuration: .init(width: 640, height: 480), font: TestFonts.terminus16)
        var preview = SyntheticCamera(configuration: .init(width: 320, height: 240), font: TestFonts.terminus16)
        for _ in 0..<42 { _ = camera.nextFrame() }
        screen.render(with: &compositor, remote: camera.nextFrame(), local: preview.nextFrame(),
                      overlay: Overlay(status: "In call with kitchen · 00:42 · 1.2 Mbps",
                                       chat: ["kitchen: dinner is ready", "me: coming!", "kitchen: bring the salt, please ✓"]))
        let path = "/tmp/videophone-compositor-snapshot.png"
        try screen.snapshot(to: path)
        let size = PNGWriter.imageSize(path: path)
        #expect(size?.width == 1280 && size?.height == 720)
        let bytes = try screen.pngData()
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }
}
