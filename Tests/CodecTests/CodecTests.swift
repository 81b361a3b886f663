// Codec tests: VP8 (libvpx) encode → decode of a moving pattern with a PSNR floor, keyframes on
// request, bitrate changes taking effect in place, corrupt input; Opus (libopus) sine round
// trip with energy, FEC and packet loss concealment.
import Foundation
import Media
import Testing
@testable import Codec

/// A Capture-style moving pattern made here (CodecTests does not depend on Capture): vertical
/// bars, a horizontal luma ramp and a white box moving 4 px per frame, plus mild texture.
/// `noise` adds per-frame grain so the content always needs more bits than the budget.
func patternFrame(_ number: Int, width: Int = 320, height: Int = 240, noise: Bool = false) -> VideoFrame {
    var frame = VideoFrame(width: width, height: height,
                           timestamp: MediaTime(nanoseconds: UInt64(number) * 33_333_333), sequence: UInt64(number))
    frame.withMutablePlanes { p in
        let box = height / 4
        let boxX = (number * 4) % (width - box)
        let boxY = (height - box) / 2
        for y in 0..<height {
            for x in 0..<width {
                var value = 16 + (x * 200 / width) + ((x / 40) % 2) * 20 + ((x ^ y) & 3)
                if x >= boxX && x < boxX + box && y >= boxY && y < boxY + box { value = 235 }
                if noise { value += Int(UInt32(truncatingIfNeeded: (x &* 73_856_093) ^ (y &* 19_349_663) ^ (number &* 83_492_791)) % 24) }
                p.y[y * p.strideY + x] = UInt8(min(235, value))
            }
        }
        for y in 0..<(height + 1) / 2 {
            for x in 0..<p.strideUV {
                p.u[y * p.strideUV + x] = UInt8(64 + (x * 128 / p.strideUV))
                p.v[y * p.strideUV + x] = UInt8(192 - (y * 128 / ((height + 1) / 2)))
            }
        }
    }
    return frame
}

func lumaPSNR(_ a: VideoFrame, _ b: VideoFrame) -> Double {
    precondition(a.width == b.width && a.height == b.height)
    var sum = 0.0
    for y in 0..<a.height {
        for x in 0..<a.width {
            let d = Double(a.luma(x: x, y: y)) - Double(b.luma(x: x, y: y))
            sum += d * d
        }
    }
    let mse = sum / Double(a.width * a.height)
    return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
}

@Suite("VP8 codec")
struct VP8CodecTests {
    static let config = VP8EncoderConfiguration(width: 320, height: 240, framesPerSecond: 30, bitrate: 600_000)

    @Test("moving pattern encodes and decodes above a PSNR floor; first frame is a keyframe")
    func roundTrip() throws {
        let encoder = try VP8Encoder(configuration: Self.config)
        let decoder = try VP8Decoder()
        var minimum = 99.0
        for n in 0..<30 {
            let source = patternFrame(n)
            let encoded = try #require(try encoder.encode(source))
            #expect(encoded.isKeyframe == (n == 0), "frame \(n)")
            #expect(VP8FrameHeader.isKeyframe(encoded.data) == encoded.isKeyframe)
            if n == 0 {
                let size = try #require(VP8FrameHeader.keyframeSize(encoded.data))
                #expect(size.width == 320 && size.height == 240)
            }
            let decoded = try decoder.decode(encoded.data, timestamp: source.timestamp, sequence: source.sequence)
            #expect(decoded.width == 320 && decoded.height == 240)
            #expect(decoded.sequence == UInt64(n))
            if n >= 5 { minimum = min(minimum, lumaPSNR(source, decoded)) }
        }
        #expect(minimum > 30, "luma PSNR \(minimum) dB")
        #expect(decoder.framesDecoded == 30)
    }

    @Test("requestKeyframe makes exactly the next frame a keyframe")
    func keyframeOnRequest() throws {
        let encoder = try VP8Encoder(configuration: Self.config)
        var keys: [Int] = []
        for n in 0..<20 {
            if n == 12 { encoder.requestKeyframe() }
            if let out = try encoder.encode(patternFrame(n)), out.isKeyframe { keys.append(n) }
        }
        #expect(keys == [0, 12])
    }

    @Test("allowResize: a keyframe asked for while the buffer is dry comes out smaller and decodes; without it, full size")
    func starvedKeyframeScalesDown() throws {
        for allow in [true, false] {
            let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: 320, height: 240, bitrate: 300_000,
                                                                                allowFrameDropping: true, allowResize: allow))
            let decoder = try VP8Decoder()
            var sizes: [String] = []
            for n in 0..<60 {
                if n == 10 { try encoder.setTargetBitrate(100_000) }  // the link narrows, as in a call
                if n == 30 { encoder.requestKeyframe() }  // noise at 100 kbit/s: the buffer is dry by now
                // Incompressible pictures: every luma sample random (a keyframe of 15-20 KB at 320x240).
                var picture = patternFrame(n)
                var seed = UInt32(n + 1) &* 2_654_435_761
                picture.withMutablePlanes { p in
                    for i in 0..<(p.strideY * p.height) { seed = seed &* 1_664_525 &+ 1_013_904_223; p.y[i] = UInt8(truncatingIfNeeded: seed >> 24) }
                }
                guard let out = try encoder.encode(picture) else { continue }
                if let size = VP8FrameHeader.keyframeSize(out.data) {
                    sizes.append("\(size.width)x\(size.height)")
                    let picture = try decoder.decode(out.data, timestamp: MediaTime(nanoseconds: 0))
                    #expect("\(picture.width)x\(picture.height)" == sizes.last)
                }
            }
            #expect(sizes.first == "320x240" && sizes.count == 2, "\(sizes)")
            if allow {
                #expect(sizes.last != "320x240", "the starved keyframe: \(sizes)")
            } else {
                #expect(sizes.last == "320x240", "\(sizes)")
            }
        }
    }

    @Test("setTargetBitrate takes effect in place: output shrinks, no keyframe")
    func bitrateChange() throws {
        let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: 320, height: 240, bitrate: 1_500_000))
        var high = 0, low = 0
        var keyframes = 0
        for n in 0..<120 {
            if n == 60 { try encoder.setTargetBitrate(150_000) }
            guard let out = try encoder.encode(patternFrame(n, noise: true)) else { continue }
            if out.isKeyframe { keyframes += 1 }
            if (30..<60).contains(n) { high += out.data.count }
            if (90..<120).contains(n) { low += out.data.count }
        }
        #expect(keyframes == 1)
        #expect(encoder.configuration.bitrate == 150_000)
        #expect(low * 3 < high, "bytes at 1.5 Mbps \(high), at 150 kbps \(low)")
    }

    @Test("a frame of a new size re-creates the encoder with a keyframe")
    func resolutionChange() throws {
        let encoder = try VP8Encoder(configuration: Self.config)
        let decoder = try VP8Decoder()
        _ = try decoder.decode(try #require(try encoder.encode(patternFrame(0))).data, timestamp: MediaTime(nanoseconds: 0))
        let small = try #require(try encoder.encode(patternFrame(1, width: 160, height: 120)))
        #expect(small.isKeyframe && small.width == 160)
        let decoded = try decoder.decode(small.data, timestamp: MediaTime(nanoseconds: 1))
        #expect(decoded.width == 160 && decoded.height == 120)
    }

    @Test("decoder wants a keyframe first, rejects garbage and recovers on the next keyframe")
    func decoderErrors() throws {
        let encoder = try VP8Encoder(configuration: Self.config)
        let decoder = try VP8Decoder()
        let key = try #require(try encoder.encode(patternFrame(0)))
        let delta = try #require(try encoder.encode(patternFrame(1)))
        #expect(throws: VP8DecodeError.needKeyframe) { try decoder.decode(delta.data, timestamp: MediaTime(nanoseconds: 0)) }
        _ = try decoder.decode(key.data, timestamp: MediaTime(nanoseconds: 0))
        #expect(!decoder.needsKeyframe)
        // A truncated, damaged keyframe must not crash and must demand a keyframe.
        var garbage = Array(key.data.prefix(key.data.count / 2))
        garbage[12] ^= 0xFF
        #expect(throws: VP8DecodeError.self) { try decoder.decode(garbage, timestamp: MediaTime(nanoseconds: 0)) }
        #expect(decoder.needsKeyframe)
        #expect(throws: VP8DecodeError.needKeyframe) { try decoder.decode(delta.data, timestamp: MediaTime(nanoseconds: 0)) }
        encoder.requestKeyframe()
        let again = try #require(try encoder.encode(patternFrame(2)))
        _ = try decoder.decode(again.data, timestamp: MediaTime(nanoseconds: 0))
        #expect(!decoder.needsKeyframe)
    }

    @Test("decodePicture lends libvpx's picture: the same pixels as decode's copy; on errors the body never runs")
    func borrowedPicture() throws {
        let encoder = try VP8Encoder(configuration: Self.config)
        let copying = try VP8Decoder(), lending = try VP8Decoder()
        let frames = try (0..<8).map { try #require(try encoder.encode(patternFrame($0))) }
        var calls = 0
        #expect(throws: VP8DecodeError.needKeyframe) {
            try lending.decodePicture(frames[1].data) { _ in calls += 1 }
        }
        #expect(calls == 0)
        for encoded in frames {
            let copy = try copying.decode(encoded.data, timestamp: MediaTime(nanoseconds: 0))
            let same = try lending.decodePicture(encoded.data) { planes -> Bool in
                calls += 1
                // libvpx's planes are padded (32-pixel borders): compare row by row.
                guard planes.width == copy.width, planes.height == copy.height, planes.strideY > copy.width else { return false }
                return copy.withPlanes { tight in
                    (0..<copy.height).allSatisfy { y in
                        memcmp(planes.y + y * planes.strideY, tight.y + y * tight.strideY, copy.width) == 0
                    } && (0..<(copy.height + 1) / 2).allSatisfy { y in
                        memcmp(planes.u + y * planes.strideUV, tight.u + y * tight.strideUV, tight.strideUV) == 0
                            && memcmp(planes.v + y * planes.strideUV, tight.v + y * tight.strideUV, tight.strideUV) == 0
                    }
                }
            }
            #expect(same)
        }
        #expect(calls == frames.count && lending.framesDecoded == frames.count)
    }

    @Test("frames the caller skipped move libvpx's clock by one camera period: no credit banked for the gaps")
    func skippedFramesBankNoCredit() throws {
        // A camera at 30 frames a second whose encoder kept one frame in three (a loaded machine):
        // capture times 100 ms apart. Told about the two frames skipped each time, the rate
        // control budgets each frame as one of 30 a second; told nothing, as one of 10, and the
        // frames come out about three times as large (libvpx banks the gaps' bits).
        func sizes(skipped: Int) throws -> [Int] {
            let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: 320, height: 240, framesPerSecond: 30,
                                                                                bitrate: 300_000))
            var out: [Int] = []
            for n in 0..<45 {
                var frame = patternFrame(3 * n, noise: true)
                frame.timestamp = MediaTime(nanoseconds: UInt64(n) * 100_000_000)
                if let encoded = try encoder.encode(frame, skippedBefore: n == 0 ? 0 : skipped) { out.append(encoded.data.count) }
            }
            return Array(out.dropFirst(15))
        }
        let told = try sizes(skipped: 2), untold = try sizes(skipped: 0)
        let budget = 300_000 / 8 / 30  // 1250 bytes a frame
        let toldMean = told.reduce(0, +) / max(1, told.count), untoldMean = untold.reduce(0, +) / max(1, untold.count)
        #expect(toldMean < 2 * budget, "mean \(toldMean) B with the skipped frames counted, budget \(budget) B: \(told)")
        #expect(untoldMean > 2 * toldMean, "mean \(untoldMean) B without, \(toldMean) B with")
    }

    @Test("scrambled delta frames never trap the decoder")
    func scrambledDelta() throws {
        let encoder = try VP8Encoder(configuration: Self.config)
        let decoder = try VP8Decoder()
        let frames = try (0..<6).map { try #require(try encoder.encode(patternFrame($0))) }
        _ = try decoder.decode(frames[0].data, timestamp: MediaTime(nanoseconds: 0))
        var broken = frames[2].data
        for i in stride(from: 3, to: broken.count, by: 7) { broken[i] = UInt8(truncatingIfNeeded: i &* 31) }
        do { _ = try decoder.decode(broken, timestamp: MediaTime(nanoseconds: 0)) } catch {}
    }
}

func sine(_ frequency: Double, frame: Int, channels: Int = 1, amplitude: Double = 8000) -> AudioFrame {
    let n = MediaClock.audioSamplesPerFrame
    var samples = [Int16](repeating: 0, count: n * channels)
    for i in 0..<n {
        let t = Double(frame * n + i) / Double(MediaClock.audioSampleRate)
        let v = Int16(amplitude * sin(2 * Double.pi * frequency * t))
        for c in 0..<channels { samples[i * channels + c] = v }
    }
    return AudioFrame(samples: samples, channels: channels, timestamp: MediaTime(nanoseconds: UInt64(frame) * 20_000_000))
}

func rms(_ frame: AudioFrame) -> Double {
    let sum = frame.samples.reduce(0.0) { $0 + Double($1) * Double($1) }
    return (sum / Double(max(1, frame.samples.count))).squareRoot()
}

@Suite("Opus codec")
struct OpusCodecTests {
    @Test("440 Hz sine survives encode → decode with its energy", arguments: [1, 2])
    func sineRoundTrip(channels: Int) throws {
        let encoder = try OpusEncoder(configuration: OpusEncoderConfiguration(channels: channels, bitrate: 48_000))
        let decoder = try OpusDecoder(channels: channels)
        var energies: [Double] = []
        for n in 0..<25 {
            let packet = try encoder.encode(sine(440, frame: n, channels: channels))
            #expect(packet.count > 10 && packet.count < 400)
            let out = try decoder.decode(packet, timestamp: MediaTime(nanoseconds: UInt64(n) * 20_000_000))
            #expect(out.samplesPerChannel == 960 && out.channels == channels)
            energies.append(rms(out))
        }
        let settled = energies.suffix(10)
        // Input RMS is 8000/√2 ≈ 5657; the codec keeps it within a few dB.
        #expect(settled.allSatisfy { $0 > 3500 && $0 < 8000 }, "\(settled)")
    }

    @Test("wrong frame size is refused")
    func wrongSize() throws {
        let encoder = try OpusEncoder()
        let short = AudioFrame(samples: [Int16](repeating: 0, count: 480), timestamp: MediaTime(nanoseconds: 0))
        #expect(throws: CodecError.self) { try encoder.encode(short) }
    }

    @Test("loss: PLC produces a 20 ms frame, FEC from the next packet recovers energy")
    func concealmentAndFEC() throws {
        let encoder = try OpusEncoder(configuration: OpusEncoderConfiguration(bitrate: 32_000, expectedPacketLossPercent: 20))
        let decoder = try OpusDecoder()
        let packets = try (0..<30).map { try encoder.encode(sine(300, frame: $0)) }
        for n in 0..<20 { _ = try decoder.decode(packets[n], timestamp: MediaTime(nanoseconds: 0)) }
        let concealed = try decoder.conceal(timestamp: MediaTime(nanoseconds: 1))
        #expect(concealed.samplesPerChannel == 960)
        #expect(rms(concealed) > 500, "PLC continues the tone")
        // Frame 21 lost: recover it from packet 22's in-band FEC, then decode 22 normally.
        _ = try decoder.decode(packets[20], timestamp: MediaTime(nanoseconds: 0))
        #expect(OpusDecoder.mayCarryFEC(packets[22]))
        let recovered = try decoder.decodeFEC(from: packets[22], timestamp: MediaTime(nanoseconds: 2))
        #expect(recovered.samplesPerChannel == 960)
        #expect(rms(recovered) > 1000, "FEC frame has the tone's energy: \(rms(recovered))")
        let next = try decoder.decode(packets[22], timestamp: MediaTime(nanoseconds: 3))
        #expect(rms(next) > 2000)
        #expect(throws: CodecError.self) { try decoder.decode([], timestamp: MediaTime(nanoseconds: 0)) }
        do { _ = try decoder.decode([0xFF, 0xFF, 0xFF], timestamp: MediaTime(nanoseconds: 0)) } catch {}
    }
}
