// ZeroFilledBlock: the zero pages of a block allocated and zero-filled inside the call go back to
// the kernel, its bytes read the same afterwards, and nothing else is touched: not a page with
// data, not a block that was resident before. The VP8 encoder's token buffer is released at
// creation and when a scale change brings it back to full size, and the encoder still codes
// pictures a decoder shows.
#if canImport(Glibc)
import CGlibc
import Glibc
import Media
import TestSupport
import Testing
import Foundation
@testable import Codec

@Suite("Zero-filled block release")
struct ZeroFilledBlockTests {
    static let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Above glibc's largest dynamic mmap threshold (32 MiB): malloc always maps it on its own.
    static let bytes = 40 << 20

    /// Resident pages among those the block covers (mincore wants a page-aligned start).
    static func residentPages(_ block: UnsafeMutableRawPointer, _ bytes: Int) -> Int {
        let start = Int(bitPattern: block) / page * page
        let length = Int(bitPattern: block) + bytes - start
        var vector = [UInt8](repeating: 0, count: (length + page - 1) / page)
        #expect(mincore(UnsafeMutableRawPointer(bitPattern: start), length, &vector) == 0)
        return vector.reduce(0) { $0 + Int($1 & 1) }
    }

    static func allocateZeroed(_ bytes: Int, marker: Int? = nil) -> UnsafeMutableRawPointer {
        let block = malloc(bytes)!
        memset(block, 0, bytes)
        if let marker { block.storeBytes(of: 0x5A, toByteOffset: marker, as: UInt8.self) }
        return block
    }

    @Test("a block zero-filled inside the call goes back to the kernel and still reads as zeros")
    func releasesFreshZeroBlock() throws {
        var block: UnsafeMutableRawPointer?
        let (_, released) = try ZeroFilledBlock.releasing(blockOf: Self.bytes) { () throws(CodecError) in
            block = Self.allocateZeroed(Self.bytes)
        }
        let memory = try #require(block)
        defer { free(memory) }
        #expect(released >= Self.bytes - 2 * Self.page)
        #expect(Self.residentPages(memory, Self.bytes) <= 2)
        let words = memory.assumingMemoryBound(to: UInt64.self)
        #expect((0..<(Self.bytes / 8)).allSatisfy { words[$0] == 0 })
        // Writable as before: a released page comes back on the first write.
        memory.storeBytes(of: 0xA5, toByteOffset: Self.bytes / 2, as: UInt8.self)
        #expect(memory.load(fromByteOffset: Self.bytes / 2, as: UInt8.self) == 0xA5)
    }

    @Test("a page holding data stays, with its data")
    func keepsPagesWithData() throws {
        let marker = Self.bytes / 3 + 17
        var block: UnsafeMutableRawPointer?
        let (_, released) = try ZeroFilledBlock.releasing(blockOf: Self.bytes) { () throws(CodecError) in
            block = Self.allocateZeroed(Self.bytes, marker: marker)
        }
        let memory = try #require(block)
        defer { free(memory) }
        #expect(released >= Self.bytes - 3 * Self.page)
        #expect(released <= Self.bytes - Self.page)
        #expect(memory.load(fromByteOffset: marker, as: UInt8.self) == 0x5A)
        var vector = [UInt8](repeating: 0, count: 1)
        let markerPage = UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: memory) + marker) / Self.page * Self.page)!
        #expect(mincore(markerPage, Self.page, &vector) == 0 && vector[0] & 1 == 1)
    }

    @Test("a block resident before the call, or of another size, is left alone")
    func leavesOtherBlocks() throws {
        let earlier = Self.allocateZeroed(Self.bytes)
        defer { free(earlier) }
        let residentBefore = Self.residentPages(earlier, Self.bytes)
        var later: UnsafeMutableRawPointer?
        let (_, released) = try ZeroFilledBlock.releasing(blockOf: Self.bytes) { () throws(CodecError) in
            later = Self.allocateZeroed(Self.bytes / 2)
        }
        let other = try #require(later)
        defer { free(other) }
        #expect(released == 0)
        #expect(Self.residentPages(earlier, Self.bytes) == residentBefore)
        #expect(Self.residentPages(other, Self.bytes / 2) >= Self.bytes / 2 / Self.page - 1)
    }

    /// A picture made with row fills (a debug build draws 2 million pixels one by one slowly): a
    /// luma ramp down the picture and a bright box moving 16 px a frame.
    static func quickFrame(_ number: Int, width: Int, height: Int) -> VideoFrame {
        var frame = VideoFrame(width: width, height: height,
                               timestamp: MediaTime(nanoseconds: UInt64(number) * 33_333_333), sequence: UInt64(number))
        frame.withMutablePlanes { p in
            let box = height / 4, boxX = (number * 16) % (width - box), boxY = (height - box) / 2
            for y in 0..<height {
                (p.y + y * p.strideY).update(repeating: UInt8(16 + y * 200 / height), count: width)
                if y >= boxY && y < boxY + box { (p.y + y * p.strideY + boxX).update(repeating: 235, count: box) }
            }
            for y in 0..<(height + 1) / 2 {
                (p.u + y * p.strideUV).update(repeating: 96, count: p.strideUV)
                (p.v + y * p.strideUV).update(repeating: 160, count: p.strideUV)
            }
        }
        return frame
    }

    /// 1920x1088: a 48 MiB token buffer, above glibc's largest dynamic mmap threshold, so it is
    /// mapped whatever other tests in this process freed before (a 640x480 one may come from the
    /// heap here; the videophone processes fix the threshold, MallocArenas).
    @Test("the VP8 encoder gives its token buffer back at creation and after a scale change, and still codes")
    func encoderTokenBuffer() throws {
        let width = 1920, height = 1088
        let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: width, height: height, bitrate: 2_000_000))
        let full = VP8Encoder.tokenBufferBytes(width: width, height: height)
        #expect(full == 120 * 68 * 384 * 2 * MemoryLayout<UnsafeRawPointer>.size)
        #expect(encoder.releasedTokenBytes >= full - 2 * Self.page)
        let decoder = try VP8Decoder()
        func codeAndCheck(_ numbers: Range<Int>) throws {
            for n in numbers {
                let source = Self.quickFrame(n, width: width, height: height)
                guard let encoded = try encoder.encode(source) else { continue }
                let picture = try decoder.decode(encoded.data, timestamp: source.timestamp)
                if n == numbers.upperBound - 1, picture.width == width { #expect(lumaPSNR(source, picture) > 30) }
            }
        }
        try codeAndCheck(0..<4)
        // A smaller buffer may come from the heap and is then not looked for; the full size is
        // mapped again and released.
        try encoder.setScale(.half)
        try codeAndCheck(4..<6)
        try encoder.setScale(.full)
        #expect(encoder.releasedTokenBytes >= full - 2 * Self.page)
        try codeAndCheck(6..<10)
        #expect(decoder.framesDecoded >= 9)
    }

    /// The videophone processes fix glibc's mmap threshold (MallocArenas) and tell Codec, which
    /// lowers it while libvpx allocates frame buffers; this test process does the same.
    /// glibc maps a block only when the heap cannot serve it, so the heap's free top that other
    /// tests in this process left goes first, as WorkingSet's malloc_trim does when a call starts.
    static func fixThresholdAsThePrograms() {
        FrameBufferMemory.fixMmapThreshold(at: 4 << 20)
        _ = malloc_trim(0)
    }

    /// In a process of its own (codec-bench --memory, glibc's threshold fixed as the programs fix
    /// it): in this one, blocks freed by other tests may serve libvpx from the heap.
    @Test("the encoder's and the decoder's grey post-processing frames go back, and both still code", arguments: [(1280, 720), (640, 480)])
    func postprocessingFrames(width: Int, height: Int) throws {
        let run = try Repo.run("codec-bench", ["--memory", "--width", "\(width)", "--height", "\(height)", "--seconds", "1"])
        try #require(run.status == 0, "codec-bench --memory: \(run.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        let frameBytes = try #require(report["frameBufferBytes"] as? Int), token = try #require(report["tokenBytes"] as? Int)
        if width == 1280 { #expect(frameBytes == 1_580_544) }  // (720 + 64) × 1344 + 2 × (360 + 32) × 672
        #expect(try #require(report["encoderReleased"] as? Int) >= token + frameBytes - 4 * Self.page, "\(report)")
        #expect(try #require(report["decoderReleased"] as? Int) >= frameBytes - 2 * Self.page, "\(report)")
        #expect(try #require(report["framesDecoded"] as? Int) >= 29)
        #expect(try #require(report["lastPSNR"] as? Double) > 35, "\(report)")  // the bars: a wrong reference would show
    }

    /// A keyframe of flat mid-grey fills the decoder's new reference frame with 128 too, like the
    /// post-processing frame: the block holding the picture must stay, or the delta frames after
    /// it are predicted from zeros.
    @Test("a flat grey first picture keeps its reference frame")
    func greyKeyframeKeepsReference() throws {
        Self.fixThresholdAsThePrograms()
        let width = 640, height = 480
        let encoder = try VP8Encoder(configuration: VP8EncoderConfiguration(width: width, height: height, bitrate: 800_000))
        let decoder = try VP8Decoder()
        var grey = VideoFrame(width: width, height: height, timestamp: MediaTime(nanoseconds: 0))
        grey.withMutablePlanes { p in
            p.y.update(repeating: 128, count: p.strideY * height)
            p.u.update(repeating: 128, count: p.strideUV * ((height + 1) / 2))
            p.v.update(repeating: 128, count: p.strideUV * ((height + 1) / 2))
        }
        let key = try #require(try encoder.encode(grey))
        #expect(key.isKeyframe)
        let first = try decoder.decode(key.data, timestamp: grey.timestamp)
        #expect(first.luma(x: 100, y: 100) == 128)
        // Delta frames of the same grey with a small box: predicted from the grey reference.
        var last: (VideoFrame, VideoFrame)?
        for n in 1..<6 {
            var source = grey
            source.timestamp = MediaTime(nanoseconds: UInt64(n) * 33_333_333)
            source.withMutablePlanes { p in
                for y in 200..<232 { (p.y + y * p.strideY + 20 * n).update(repeating: 200, count: 32) }
            }
            guard let encoded = try encoder.encode(source) else { continue }
            #expect(!encoded.isKeyframe)
            last = (source, try decoder.decode(encoded.data, timestamp: source.timestamp))
        }
        let (source, picture) = try #require(last)
        #expect(lumaPSNR(source, picture) > 35)
        #expect(picture.luma(x: 600, y: 40) == 128, "background predicted from the grey reference, not from zeros")
    }
}
#endif
