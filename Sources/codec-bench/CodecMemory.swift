// codec-bench --memory: what libvpx's encoder and decoder give back to the kernel (Codec's
// ZeroFilledBlock: the encoder's token buffer, both codecs' grey post-processing frames), in a
// process of its own with glibc's mmap threshold fixed as the videophone programs fix it
// (MallocArenas): a test process that ran other codecs first may hand these blocks out of its
// heap, where they are not looked for. Prints one JSON line; the tests read it.
import Capture
import Codec
import Media
#if canImport(Glibc)
import Glibc
#endif

enum CodecMemory {
    static func report(_ options: Options) throws {
        FrameBufferMemory.fixMmapThreshold(at: 4 << 20)
        var camera = options.camera()
        let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: options.width, height: options.height,
                                                                            bitrate: options.bitrate))
        let decoder = try VP8Decoder()
        var decoded = 0, lastPSNR = 0.0
        for _ in 0..<max(1, options.seconds * 30) {
            let frame = camera.nextFrame()
            guard let encoded = try encoder.encode(frame) else { continue }
            let picture = try decoder.decode(encoded.data, timestamp: frame.timestamp)
            decoded += 1
            lastPSNR = lumaPSNR(frame, picture)
        }
        print("{\"width\":\(options.width),\"height\":\(options.height),"
              + "\"tokenBytes\":\(VP8Encoder.tokenBufferBytes(width: options.width, height: options.height)),"
              + "\"frameBufferBytes\":\(VP8FrameBuffer.bytes(width: options.width, height: options.height)),"
              + "\"encoderReleased\":\(encoder.releasedTokenBytes),\"decoderReleased\":\(decoder.releasedBytes),"
              + "\"framesDecoded\":\(decoded),\"lastPSNR\":\(lastPSNR)}")
    }

    /// Luma PSNR of a decoded picture against its source (same size), in dB.
    static func lumaPSNR(_ a: VideoFrame, _ b: VideoFrame) -> Double {
        guard a.width == b.width, a.height == b.height else { return 0 }
        var squared = 0.0
        for i in 0..<a.lumaSize {
            let d = Double(a.storage[i]) - Double(b.storage[i])
            squared += d * d
        }
        let mse = max(squared / Double(a.lumaSize), 1e-10)
        return 10 * log10(255 * 255 / mse)
    }
}
