// codec-bench: CPU cost of the media path without a network (scripts/bench-media).
// Run 1, the codec floor: libvpx VP8 encode + decode of the synthetic camera at W×H@30 and the
// target bitrate, plus libopus encode + decode of a tone, for N seconds of media.
// Run 2, the same frames through our per-packet path too: VP8/Opus packetization → RTP
// serialize → parse → jitter buffers → depacketize → decode.
// Prints CPU-seconds per media second for both and their ratio. Frame synthesis is excluded
// (timed with the thread CPU clock around the measured work only); codecs run single-threaded.
import Capture
import Codec
import Media
import Peer
#if canImport(Glibc)
import Glibc
#endif

func threadCPUSeconds() -> Double { Double(ThreadCPUClock.nanoseconds()) / 1e9 }

struct Options {
    var width = 640
    var height = 480
    var seconds = 10
    var bitrate = 1_000_000
    var scene = SyntheticCamera.Scene.bars
    /// Write this many frames of the scene as raw I420 to `dumpPath` instead of measuring (the
    /// same pictures for another stack, e.g. aiortc in scripts/bench-media).
    var dumpPath: String?
    var dumpFrames = 0
    /// Feed frames at 30 per second of wall time, as a call does, instead of back to back: the
    /// codec then starts each frame with caches other work has cooled, as it does in a call.
    var paced = false
    /// Measure the floor only (no second run through our per-packet path).
    var floorOnly = false
    /// Measure the transport floor instead (TransportFloor.swift): SRTP and loopback UDP alone.
    var transportFloor = false
    /// Report what the codecs gave back to the kernel instead (CodecMemory.swift).
    var memory = false

    /// The pictures every run (and the dump) uses: the same frames for the floor, our path and aiortc.
    func camera() -> SyntheticCamera {
        SyntheticCamera(configuration: .init(width: width, height: height, framesPerSecond: 30, scene: scene),
                        font: nil, start: MediaTime(nanoseconds: 1_000_000_000))
    }

    init(_ arguments: [String]) {
        var i = 0
        while i < arguments.count {
            let value = i + 1 < arguments.count ? Int(arguments[i + 1]) : nil
            switch arguments[i] {
            case "--width": width = value ?? width; i += 1
            case "--height": height = value ?? height; i += 1
            case "--seconds": seconds = value ?? seconds; i += 1
            case "--bitrate": bitrate = value ?? bitrate; i += 1
            case "--720p": width = 1280; height = 720
            case "--paced": paced = true
            case "--floor-only": floorOnly = true
            case "--transport-floor": transportFloor = true
            case "--memory": memory = true
            case "--dump" where i + 2 < arguments.count && Int(arguments[i + 2]) != nil:
                dumpPath = arguments[i + 1]; dumpFrames = Int(arguments[i + 2])!; i += 2
            case "--scene" where i + 1 < arguments.count && SyntheticCamera.Scene(rawValue: arguments[i + 1]) != nil:
                scene = SyntheticCamera.Scene(rawValue: arguments[i + 1])!; i += 1
            default: print("usage: codec-bench [--width W --height H | --720p] [--seconds N] [--bitrate BPS] [--scene bars|camera] [--paced] [--floor-only] [--transport-floor] [--memory] [--dump PATH FRAMES]"); exit(2)
            }
            i += 1
        }
    }
}

func tone(_ index: Int) -> AudioFrame {
    let n = MediaClock.audioSamplesPerFrame
    var samples = [Int16](repeating: 0, count: n)
    for i in 0..<n {
        let phase = Double((index * n + i) % 48_000) * 440 / 48_000
        samples[i] = Int16(8000 * sin(2 * Double.pi * phase))
    }
    return AudioFrame(samples: samples, timestamp: MediaTime(nanoseconds: UInt64(index) * 20_000_000))
}

/// One run; returns CPU seconds spent in the measured work, the part of it spent in our
/// per-packet path alone (packetize, serialize, parse, jitter buffers), and frames decoded.
func run(_ options: Options, withTransport: Bool) throws -> (cpu: Double, transport: Double, videoFrames: Int, audioFrames: Int,
                                                             split: (encode: Double, decode: Double, opus: Double)) {
    var camera = options.camera()
    let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: options.width, height: options.height,
                                                                        bitrate: options.bitrate))
    let decoder = try VP8Decoder()
    let opusEncoder = try OpusEncoder()
    let opusDecoder = try OpusDecoder()
    var videoPacketizer = VP8Packetizer(ssrc: 1, payloadType: 96, maxPayloadSize: 1100)
    var opusPacketizer = OpusPacketizer(ssrc: 2, payloadType: 111)
    var videoBuffer = VideoJitterBuffer()
    var audioBuffer = AudioJitterBuffer()
    var cpu = 0.0
    var transport = 0.0
    var encodeCPU = 0.0, decodeCPU = 0.0, opusCPU = 0.0
    var videoFrames = 0, audioFrames = 0
    let tones = (0..<50).map(tone)  // one second of tone, reused (its synthesis is not measured anyway)
    let wallStart = MediaTime.now()
    for frameIndex in 0..<(options.seconds * 30) {
        if options.paced {
            MediaTime.sleep(until: wallStart + UInt64(frameIndex) * MediaClock.framePeriodNanoseconds(framesPerSecond: 30))
        }
        let frame = camera.nextFrame()
        let now = frame.timestamp
        let started = threadCPUSeconds()
        let encodedFrame = try encoder.encode(frame)
        let encodedAt = threadCPUSeconds()
        encodeCPU += encodedAt - started
        if let encoded = encodedFrame {
            if withTransport {
                let pathStart = threadCPUSeconds()
                for packet in videoPacketizer.packetize(encoded.data, timestamp: now.ticks(rate: 90_000)) {
                    videoBuffer.insert(try RTPPacket.parse(packet.serialize()), now: now)
                }
                _ = videoBuffer.feedback(now: now)
                let assembledFrames = videoBuffer.takeFrames()
                transport += threadCPUSeconds() - pathStart
                for assembled in assembledFrames {
                    _ = try decoder.decode(assembled.data, timestamp: now)
                    videoFrames += 1
                }
            } else {
                _ = try decoder.decode(encoded.data, timestamp: now)
                videoFrames += 1
            }
        }
        let decodedAt = threadCPUSeconds()
        decodeCPU += decodedAt - encodedAt
        // Audio: 50 frames per second against 30 video frames: catch up to this video time.
        while audioFrames * 3 < (frameIndex + 1) * 5 {
            let opus = try opusEncoder.encode(tones[audioFrames % 50])
            let audioNow = MediaTime(nanoseconds: 1_000_000_000 + UInt64(audioFrames) * 20_000_000)
            if withTransport {
                let pathStart = threadCPUSeconds()
                let packet = opusPacketizer.packetize(opus, timestamp: UInt32(truncatingIfNeeded: audioFrames * 960))
                audioBuffer.insert(try RTPPacket.parse(packet.serialize()), now: audioNow)
                let pulled = audioBuffer.pull(now: audioNow + 20_000_000)
                transport += threadCPUSeconds() - pathStart
                if let playout = pulled {
                    switch playout.playout {
                    case let .decode(bytes): _ = try opusDecoder.decode(bytes, timestamp: audioNow)
                    case let .decodeFEC(next): _ = try opusDecoder.decodeFEC(from: next, timestamp: audioNow)
                    case .conceal: _ = try opusDecoder.conceal(timestamp: audioNow)
                    }
                }
            } else {
                _ = try opusDecoder.decode(opus, timestamp: audioNow)
            }
            audioFrames += 1
        }
        let ended = threadCPUSeconds()
        cpu += ended - started
        opusCPU += ended - decodedAt
    }
    // With transport, decode and Opus include their share of the per-packet path.
    return (cpu, transport, videoFrames, audioFrames, (encodeCPU, decodeCPU, opusCPU))
}

struct DumpError: Error, CustomStringConvertible { let description: String }

@main
enum CodecBench {
    static func main() throws {
        let options = Options(Array(CommandLine.arguments.dropFirst()))
        if let path = options.dumpPath {
            try dump(options, to: path)
            return
        }
        if options.memory { return try CodecMemory.report(options) }
        if options.transportFloor {
            let result = try TransportFloor(bitrate: options.bitrate, seconds: options.seconds).run()
            print("transport floor (SRTP + loopback UDP only, \(options.bitrate / 1000) kbps video + audio packets, \(options.seconds) s): "
                  + "\(format(result.cpuPerEndpoint)) CPU-s/s per endpoint (\(Int(result.packetsSentPerSecond.rounded())) packets/s out, "
                  + "\(Int(result.packetsReceivedPerSecond.rounded())) in)")
            return
        }
        print("codec-bench: \(options.width)x\(options.height)@30 (\(options.scene.rawValue) scene), \(options.bitrate / 1000) kbps VP8 + Opus 32 kbps, \(options.seconds) s of media")
        let floor = try run(options, withTransport: false)
        let seconds = Double(options.seconds)
        let floorRate = floor.cpu / seconds
        print("codec floor (libvpx + libopus):        \(format(floorRate)) CPU-s/s  (\(floor.videoFrames) video, \(floor.audioFrames) audio frames)")
        print("  of which VP8 encode \(format(floor.split.encode / seconds)), VP8 decode \(format(floor.split.decode / seconds)), Opus \(format(floor.split.opus / seconds)) CPU-s/s")
        if options.floorOnly { return }
        let path = try run(options, withTransport: true)
        let pathRate = path.cpu / seconds
        print("with RTP + jitter buffers (no network): \(format(pathRate)) CPU-s/s  (\(path.videoFrames) video, \(path.audioFrames) audio frames)")
        print("ratio: \(format(pathRate / max(floorRate, 1e-9)))")
        // The two runs differ by scheduling noise of a few percent; the path's own cost, timed
        // directly inside run 2, is the steadier figure.
        let own = path.transport / seconds
        print("our per-packet path alone:              \(format(own)) CPU-s/s  (\(format(100 * own / max(floorRate, 1e-9))) % of the floor)")
    }

    static func dump(_ options: Options, to path: String) throws {
        var camera = options.camera()
        guard let file = fopen(path, "wb") else { throw DumpError(description: "cannot write \(path)") }
        defer { fclose(file) }
        for _ in 0..<options.dumpFrames {
            let frame = camera.nextFrame()
            let written = frame.storage.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            guard written == frame.storage.count else { throw DumpError(description: "short write to \(path)") }
        }
        print("codec-bench: wrote \(options.dumpFrames) frames of \(options.width)x\(options.height) I420 to \(path)")
    }

    static func format(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded() / 10_000
        return String(describing: scaled)
    }
}
