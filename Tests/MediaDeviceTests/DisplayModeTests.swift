import Display
import Testing

/// KMS mode choice: configured mode when present, else the preferred one, else the largest.
@Suite struct DisplayModeTests {
    let modes = [
        DisplayMode(width: 1920, height: 1080, refreshMillihertz: 60_000, preferred: true),
        DisplayMode(width: 1920, height: 1080, refreshMillihertz: 50_000),
        DisplayMode(width: 1920, height: 1080, refreshMillihertz: 60_000, interlaced: true),
        DisplayMode(width: 1280, height: 720, refreshMillihertz: 59_940),
        DisplayMode(width: 1280, height: 720, refreshMillihertz: 50_000),
        DisplayMode(width: 720, height: 576, refreshMillihertz: 50_000),
    ]

    @Test func requestsParse() {
        #expect(DisplayModeRequest("1280x720") == DisplayModeRequest(width: 1280, height: 720))
        #expect(DisplayModeRequest("1280X720@50") == DisplayModeRequest(width: 1280, height: 720, refreshHertz: 50))
        for bad in ["", "1280", "x720", "1280x", "0x720", "1280x720@", "1280x720@abc", "99999x1", "-5x5"] {
            #expect(DisplayModeRequest(bad) == nil, "\(bad)")
        }
    }

    @Test func preferredWithoutRequest() {
        #expect(DisplayModeChoice.choose(from: modes) == modes[0])
    }

    @Test func configuredSizeAndClosestRate() {
        #expect(DisplayModeChoice.choose(from: modes, request: DisplayModeRequest("1280x720")) == modes[3])
        #expect(DisplayModeChoice.choose(from: modes, request: DisplayModeRequest("1280x720@50")) == modes[4])
        #expect(DisplayModeChoice.choose(from: modes, request: DisplayModeRequest("1920x1080@60")) == modes[0])  // progressive first
    }

    @Test func missingSizeFallsBackAndNoPreferredTakesLargest() {
        #expect(DisplayModeChoice.choose(from: modes, request: DisplayModeRequest("800x600")) == modes[0])
        let plain = modes.map { var m = $0; m.preferred = false; return m }
        #expect(DisplayModeChoice.choose(from: plain) == plain[0])
        #expect(DisplayModeChoice.choose(from: []) == nil)
    }

    @Test func refreshShownToTwoDecimals() {
        #expect(modes[3].description == "1280x720@59.94")
        #expect(modes[0].description == "1920x1080@60.0 (preferred)")
    }
}
