// ResolutionScaler: the size the encoder codes at follows the bitrate and the quantizer, one step
// at a time, never back and forth (each change costs a keyframe).
import Codec
import Media
import Testing
@testable import Peer

@Suite("Resolution scaler")
struct ResolutionScalerTests {
    static let second: UInt64 = 1_000_000_000

    /// Feeds `seconds` of frames at `fps` with one quantizer and bitrate; returns the changes.
    static func run(_ scaler: inout ResolutionScaler, from start: UInt64, seconds: Int, quantizer: Int?, bitrate: Int,
                    fps: Int = 30) -> [(at: Double, scale: VP8Scale)] {
        var changes: [(Double, VP8Scale)] = []
        for frame in 0..<(seconds * fps) {
            let t = start + UInt64(frame) * second / UInt64(fps)
            if let s = scaler.frameEncoded(quantizer: quantizer, bitrate: bitrate, now: MediaTime(nanoseconds: t)) {
                changes.append((Double(t) / 1e9, s))
            }
        }
        return changes
    }

    @Test("the start size is the largest the start bitrate carries at 0.07 bits per pixel; never below half")
    func start() {
        #expect(ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 1_000_000).scale == .full)
        let short = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 300_000)
        #expect(short.scale == .threeFifths)
        #expect(short.codedSize == (384, 288))
        #expect(short.reason.contains("0.033 bits per pixel"))
        #expect(ResolutionScaler(width: 1280, height: 720, framesPerSecond: 30, startBitrate: 100_000).scale == .half)
        #expect(ResolutionScaler(width: 320, height: 240, framesPerSecond: 30, startBitrate: 300_000).scale == .full)
        #expect(VP8Scale.fourFifths.size(width: 641, height: 481) == (513, 385))
    }

    @Test("a high quantizer or dropped frames step down once a second, to half at most; an easy picture stays")
    func down() {
        var scaler = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 1_000_000)
        #expect(Self.run(&scaler, from: 0, seconds: 5, quantizer: 40, bitrate: 1_000_000).isEmpty)
        let changes = Self.run(&scaler, from: 5 * Self.second, seconds: 6, quantizer: 110, bitrate: 1_000_000)
        #expect(changes.map(\.scale) == [.fourFifths, .threeFifths, .half])
        #expect(zip(changes, changes.dropFirst()).allSatisfy { $1.at - $0.at >= 0.99 })
        var dropping = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 1_000_000)
        #expect(Self.run(&dropping, from: 0, seconds: 2, quantizer: nil, bitrate: 1_000_000).first?.scale == .fourFifths)
        #expect(dropping.reason.contains("quantizer 127"))
    }

    @Test("a bitrate far short of the size steps down before the quantizer hits its ceiling; not for an easy picture")
    func starved() {
        var scaler = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 1_000_000)
        let changes = Self.run(&scaler, from: 0, seconds: 2, quantizer: 75, bitrate: 150_000)
        #expect(changes.first?.scale == .fourFifths)
        #expect(scaler.reason.contains("150 kbit/s"))
        // An easy picture at the same bitrate keeps its size (it went up for being easy: no cycle).
        var easy = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 1_000_000)
        #expect(Self.run(&easy, from: 0, seconds: 20, quantizer: 12, bitrate: 150_000).isEmpty)
    }

    @Test("steps up only when the bitrate carries the larger size and the quantizer has room, 10 s after a step down")
    func up() {
        var scaler = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 300_000)
        #expect(scaler.scale == .threeFifths)
        // 300 kbit/s does not carry 4/5 (512x384 needs 413): no change for an ordinary picture.
        #expect(Self.run(&scaler, from: 0, seconds: 15, quantizer: 40, bitrate: 300_000).isEmpty)
        // 1.2 Mbit/s carries full size: one step at a time, 3 s apart.
        let changes = Self.run(&scaler, from: 15 * Self.second, seconds: 10, quantizer: 20, bitrate: 1_200_000)
        #expect(changes.map(\.scale) == [.fourFifths, .full])
        #expect(changes.count == 2 && changes[1].at - changes[0].at >= 2.99)
        // A hard picture for 3 s: down a step a second (decisions fall on whole seconds, so the
        // third comes with the next frame); then 10 s before going up again, a step at a time.
        let down = Self.run(&scaler, from: 25 * Self.second, seconds: 3, quantizer: 110, bitrate: 1_200_000)
            + Self.run(&scaler, from: 28 * Self.second, seconds: 1, quantizer: 80, bitrate: 1_200_000)
        #expect(down.map(\.scale) == [.fourFifths, .threeFifths, .half])
        let back = Self.run(&scaler, from: 29 * Self.second, seconds: 20, quantizer: 20, bitrate: 1_200_000)
        #expect(back.map(\.scale) == [.threeFifths, .fourFifths, .full])
        #expect((back.first?.at ?? 0) - (down.last?.at ?? 0) >= 9.99)
        // A quantizer between the thresholds holds the size.
        var middle = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 300_000)
        #expect(Self.run(&middle, from: 0, seconds: 20, quantizer: 80, bitrate: 1_200_000).isEmpty)
    }

    @Test("a very easy picture (quantizer under 29) steps up whatever the bitrate, 3 s after starting small")
    func easyPicture() {
        var scaler = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 300_000)
        let changes = Self.run(&scaler, from: 0, seconds: 8, quantizer: 12, bitrate: 300_000)
        #expect(changes.map(\.scale) == [.fourFifths, .full])
        #expect((changes.first?.at ?? 0) >= 2.99)
        #expect(scaler.reason.contains("quantizer 12 under 29"))
    }

    @Test("a step up whose keyframe is over budget goes back down, and the next try waits twice as long each time")
    func failedStepUpBacksOff() {
        var scaler = ResolutionScaler(width: 640, height: 480, framesPerSecond: 30, startBitrate: 300_000)
        var ups: [Double] = []
        var t: UInt64 = 0
        while t < 100 * Self.second {
            let now = MediaTime(nanoseconds: t)
            if let s = scaler.frameEncoded(quantizer: 40, bitrate: 600_000, now: now), s == .fourFifths {
                ups.append(Double(t) / 1e9)
                // The keyframe of the new size: 30 KB, over the 22.5 KB budget at 600 kbit/s.
                #expect(scaler.keyframeTooLarge(bytes: 30_000, bitrate: 600_000, now: now) == .threeFifths)
            }
            t += Self.second / 30
        }
        // 600 kbit/s carries 4/5 (0.1 bits per pixel): first try 3 s after the start, then 20 and 40 s
        // later (10 s after an ordinary step down).
        #expect(ups.count == 3, "\(ups)")
        let gaps = zip(ups, ups.dropFirst()).map { $1 - $0 }
        #expect(gaps.count == 2 && zip(gaps, [20.0, 40]).allSatisfy { abs($0 - $1) < 1.1 }, "\(gaps)")
        #expect(scaler.keyframeTooLarge(bytes: 20_000, bitrate: 600_000, now: MediaTime(nanoseconds: t)) == nil)
    }

    @Test("libvpx codes at the scaled size: the keyframe after a change decodes at 3/5, then full again")
    func encoderFollows() throws {
        let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: 320, height: 240, framesPerSecond: 30,
                                                                             bitrate: 500_000, cpuUsed: -6, threads: 1))
        let decoder = try VP8Decoder()
        var sizes: [(Int, Int, Bool)] = []
        for i in 0..<6 {
            if i == 2 { try encoder.setScale(.threeFifths) }
            if i == 4 { try encoder.setScale(.full) }
            var frame = VideoFrame(width: 320, height: 240)
            frame.timestamp = MediaTime(nanoseconds: UInt64(i) * 33_333_333)
            guard let encoded = try encoder.encode(frame) else { continue }
            #expect(encoder.lastQuantizer.map { (0...127).contains($0) } == true)
            let decoded = try decoder.decode(encoded.data, timestamp: frame.timestamp)
            sizes.append((decoded.width, decoded.height, encoded.isKeyframe))
        }
        #expect(sizes.map(\.0) == [320, 320, 192, 192, 320, 320])
        #expect(sizes.map(\.2) == [true, false, true, false, true, false])
    }
}
