import Capture
import Media
import Testing

@Suite struct SyntheticCameraTests {
    @Test func framesHaveConfiguredSizeAndAdvance() {
        var camera = SyntheticCamera(configuration: .init(width: 320, height: 240, framesPerSecond: 25),
                                     font: TestFonts.terminus16, start: MediaTime(nanoseconds: 1_000))
        let first = camera.nextFrame()
        let second = camera.nextFrame()
        #expect(first.width == 320 && first.height == 240)
        #expect(first.storage.count == VideoFrame.byteCount(width: 320, height: 240))
        #expect(first.sequence == 0 && second.sequence == 1)
        #expect(second.timestamp.nanoseconds - first.timestamp.nanoseconds == 40_000_000)
        #expect(first.storage != second.storage)
    }

    @Test func frameNumberReadsBackFromTheBlockCode() {
        var camera = SyntheticCamera(font: nil)
        for expected in 0..<70 {
            let frame = camera.nextFrame()
            #expect(SyntheticCamera.stampedFrameNumber(in: frame) == UInt32(expected))
        }
    }

    @Test("camera scene: textured like a sensor, changes in every pixel from frame to frame, same on every run, number readable")
    func cameraSceneIsBusyAndDeterministic() {
        var camera = SyntheticCamera(configuration: .init(width: 320, height: 240, scene: .camera), font: nil)
        var again = SyntheticCamera(configuration: .init(width: 320, height: 240, scene: .camera), font: nil)
        var bars = SyntheticCamera(configuration: .init(width: 320, height: 240), font: nil)
        var previous: VideoFrame?
        for expected in 0..<40 {
            let frame = camera.nextFrame(), plain = bars.nextFrame()
            #expect(frame.storage == again.nextFrame().storage)
            #expect(SyntheticCamera.stampedFrameNumber(in: frame) == UInt32(expected))
            // Texture: neighbouring pixels inside a bar differ (flat bars: none do).
            let row = (0..<40).map { frame.luma(x: 10 + $0, y: 30) }
            #expect(Set(row).count > 20, "texture in \(row)")
            #expect(Set((0..<36).map { plain.luma(x: 4 + $0, y: 30) }).count == 1)
            if let previous {  // the background moved or changed almost everywhere
                let changed = (0..<100).filter { frame.luma(x: 3 * $0, y: 20) != previous.luma(x: 3 * $0, y: 20) }.count
                #expect(changed > 70, "\(changed) of 100 background pixels changed")
            }
            previous = frame
        }
    }

    /// The benchmarks' and interop tests' figures are comparable across versions only if the
    /// picture is: these FNV-1a fingerprints of whole frames were taken from the per-pixel Swift
    /// loop that drew the texture before libyuv's saturating add did (a width that is not a
    /// multiple of 4 takes the Swift path for its last pixels).
    @Test("camera scene: the same pictures as the per-pixel drawing it replaced", arguments: [
        (320, 240, [UInt64(6_574_066_377_393_668_114), 5_913_739_953_683_994_651, 3_774_407_874_714_534_682]),
        (66, 64, [UInt64(17_697_146_121_652_122_345), 7_538_661_955_742_375_714, 14_574_341_389_980_731_571]),
    ])
    func cameraScenePicturesAreUnchanged(width: Int, height: Int, fingerprints: [UInt64]) {
        var camera = SyntheticCamera(configuration: .init(width: width, height: height, scene: .camera), font: nil,
                                     start: MediaTime(nanoseconds: 0))
        var frames: [VideoFrame] = []
        for _ in 0..<200 { frames.append(camera.nextFrame()) }
        let seen = [0, 1, 199].map { index in
            frames[index].storage.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        }
        #expect(seen == fingerprints)
    }

    @Test("camera scene: the texture repeats every 256 rows, the sensor noise does not")
    func cameraSceneNoiseDoesNotRepeat() {
        var camera = SyntheticCamera(configuration: .init(width: 320, height: 600, scene: .camera), font: nil)
        let frame = camera.nextFrame()
        // Rows 300 and 556 read the same texture row; the noise on them differs in most pixels.
        let differing = (0..<300).filter { frame.luma(x: $0, y: 300) != frame.luma(x: $0, y: 556) }.count
        #expect(differing > 200, "\(differing) of 300 pixels differ")
    }

    @Test func labelTextChangesWithTheNumber() {
        var camera = SyntheticCamera(font: TestFonts.terminus16)
        let first = camera.nextFrame()
        let second = camera.nextFrame()
        // Label box at (8, height / 12): black background with white glyph pixels; "#0" and "#1" differ.
        let labelPixels = { (frame: VideoFrame) in (40..<64).flatMap { y in (8..<40).map { frame.luma(x: $0, y: y) } } }
        #expect(labelPixels(first).contains(235))
        #expect(labelPixels(first).contains(16))
        #expect(labelPixels(first) != labelPixels(second))
    }

    @Test func barsAreFirstWhiteThenYellow() {
        var camera = SyntheticCamera(font: nil)
        let frame = camera.nextFrame()
        #expect(frame.luma(x: 60, y: 100) == 180)
        #expect(frame.chroma(x: 60, y: 100) == (128, 128))
        #expect(frame.luma(x: 140, y: 100) == 162)
    }

    @Test func streamDeliversPacedFrames() async {
        let camera = SyntheticCamera(configuration: .init(width: 64, height: 64, framesPerSecond: 50), font: nil)
        let clock = ContinuousClock()
        let start = clock.now
        var numbers: [UInt64] = []
        for await frame in camera.frames() {
            numbers.append(frame.sequence)
            if numbers.count == 5 { break }
        }
        #expect(numbers == [0, 1, 2, 3, 4])
        #expect(clock.now - start >= .milliseconds(70))
    }
}

@Suite struct SyntheticMicrophoneTests {
    @Test func toneHasTheConfiguredFrequencyAndAmplitude() {
        var microphone = SyntheticMicrophone(frequency: 440, amplitude: 0.5)
        var samples: [Int16] = []
        for _ in 0..<50 {  // 50 × 20 ms = 1 s
            let frame = microphone.nextFrame()
            #expect(frame.samplesPerChannel == 960 && frame.sampleRate == 48_000 && frame.channels == 1)
            samples += frame.samples
        }
        #expect(samples.count == 48_000)
        let crossings = zip(samples, samples.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        #expect(abs(crossings - 880) <= 2)
        let peak = samples.map { abs(Int($0)) }.max()!
        #expect(abs(peak - 16_384) <= 2)
    }

    @Test func stereoFramesAreInterleavedAndTimestamped() {
        var microphone = SyntheticMicrophone(frequency: 1000, channels: 2, start: MediaTime(nanoseconds: 0))
        let first = microphone.nextFrame()
        let second = microphone.nextFrame()
        #expect(first.samples.count == 1920)
        #expect(first.samples[10] == first.samples[11])
        #expect(second.timestamp.nanoseconds == 20_000_000)
        #expect(first.durationNanoseconds == 20_000_000)
    }
}

@Suite struct MediaTimeTests {
    @Test func ticksConvertAtRTPRates() {
        #expect(MediaTime(nanoseconds: 1_000_000_000).ticks(rate: 90_000) == 90_000)
        #expect(MediaTime(nanoseconds: 20_000_000).ticks(rate: 48_000) == 960)
        #expect(MediaTime.now() > MediaTime(nanoseconds: 0))
    }
}
