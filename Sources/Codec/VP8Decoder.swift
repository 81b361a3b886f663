// VP8 decoder over libvpx (vpx/vp8dx.h, vpx/vpx_decoder.h), with corruption detection via
// VP8D_GET_FRAME_CORRUPTED (libvpx marks frames whose references were lost or damaged), so
// the receiver can ask for a keyframe (RFC 4585 §6.3.1 PLI) instead of showing garbage.
import CVPX
import Media

public enum VP8DecodeError: Error, Equatable, CustomStringConvertible {
    /// A delta frame arrived while the decoder has no valid reference (start, or after an error).
    case needKeyframe
    /// libvpx decoded the frame but reports it (or its references) as corrupted.
    case corrupted
    /// libvpx refused the data.
    case failed(String)

    public var description: String {
        switch self {
        case .needKeyframe: "VP8 delta frame without a valid reference: keyframe needed"
        case .corrupted: "VP8 frame corrupted"
        case let .failed(text): "VP8 decode failed: \(text)"
        }
    }
}

/// libvpx's VP8 frame buffer (vp8_yv12_alloc_frame_buffer: 16-aligned size, 32-pixel borders,
/// rows of 32-aligned strides). Besides the reference frames, vp8_alloc_frame_buffers gives the
/// encoder and the decoder one for post-processing and fills it with 128 (grey), which makes it
/// resident: 1.5 MiB each at 1280x720. Only the decoder's optional post-processing
/// (VPX_CODEC_USE_POSTPROC, never asked for here) and the encoder's preview frame
/// (vpx_codec_get_preview_frame, never called) read it, so its pages go back to the kernel
/// (ZeroFilledBlock) once the codec has filled them.
public enum VP8FrameBuffer {
    static let postprocessingFill: UInt8 = 128

    public static func bytes(width: Int, height: Int) -> Int {
        let border = 32
        let alignedWidth = (width + 15) & ~15, alignedHeight = (height + 15) & ~15
        let strideY = (alignedWidth + 2 * border + 31) & ~31
        let lumaBytes = (alignedHeight + 2 * border) * strideY
        let chromaBytes = (alignedHeight / 2 + border) * (strideY / 2)
        return lumaBytes + 2 * chromaBytes
    }
}

/// A libvpx VP8 decoder. Not thread-safe: use it from one isolation domain (the receiver's).
public final class VP8Decoder {
    private let context: UnsafeMutablePointer<vpx_codec_ctx_t>
    /// True from the start and after any error until a keyframe decodes cleanly.
    public private(set) var needsKeyframe = true
    public private(set) var framesDecoded = 0
    public private(set) var errors = 0
    /// Bytes of libvpx's post-processing frame given back at the last (re)allocation (VP8FrameBuffer).
    public private(set) var releasedBytes = 0
    private var allocatedSize: (width: Int, height: Int)?

    public init(threads: Int = 1) throws(CodecError) {
        context = .allocate(capacity: 1)
        context.initialize(to: vpx_codec_ctx_t())
        var cfg = vpx_codec_dec_cfg_t(threads: UInt32(max(1, threads)), w: 0, h: 0)
        let status = vp_vpx_codec_dec_init(context, vp_vpx_vp8_dx(), &cfg, 0)
        guard status == VPX_CODEC_OK else {
            context.deinitialize(count: 1)
            context.deallocate()
            throw .vpx("vpx_codec_dec_init", String(cString: vpx_codec_err_to_string(status)))
        }
    }

    deinit {
        vpx_codec_destroy(context)
        context.deinitialize(count: 1)
        context.deallocate()
    }

    /// Decodes one complete VP8 frame into an I420 `VideoFrame` (one copy out of libvpx's
    /// buffer). Throws `.needKeyframe` for delta frames while no reference is valid, and
    /// `.corrupted` when libvpx flags the result; both mean "send a PLI".
    public func decode(_ data: [UInt8], timestamp: MediaTime, sequence: UInt64 = 0) throws(VP8DecodeError) -> VideoFrame {
        try decodePicture(data) { (planes) throws(VP8DecodeError) -> VideoFrame in
            Self.copy(planes, timestamp: timestamp, sequence: sequence)
        }
    }

    /// Decodes one complete VP8 frame and lends libvpx's own picture to `body`, without copying
    /// it: the planes (padded strides) are valid only during the call, until the next decode
    /// overwrites them. For a consumer that is done with the picture when it returns (reads it,
    /// scales it onto a screen): a 1280x720 frame not copied is 1.3 MiB less resident at the
    /// moments a decoded copy, the camera's frames and the encoder's meet, and 40 MB/s less
    /// memcpy at 30 frames a second. Errors as `decode`; `body` runs only for a good picture.
    public func decodePicture<R>(_ data: [UInt8], _ body: (I420Planes) throws(VP8DecodeError) -> R) throws(VP8DecodeError) -> R {
        guard !data.isEmpty else { throw .failed("empty frame") }
        let isKey = VP8FrameHeader.isKeyframe(data)
        if needsKeyframe && !isKey { throw .needKeyframe }
        let outcome: DecodeOutcome
        if let size = VP8FrameHeader.keyframeSize(data), size.width != allocatedSize?.width || size.height != allocatedSize?.height {
            // This keyframe makes libvpx (re)allocate its frame buffers, the post-processing one
            // among them (VP8FrameBuffer): released here, never the one holding the picture.
            var shown: UnsafeRawPointer?
            do {
                (outcome, releasedBytes) = try ZeroFilledBlock.releasing(
                    [.init(bytes: VP8FrameBuffer.bytes(width: size.width, height: size.height), fill: VP8FrameBuffer.postprocessingFill)],
                    keep: { shown }
                ) { () throws(CodecError) -> DecodeOutcome in
                    let outcome = run(data)
                    shown = outcome.picture?.pointee.planes.0.map { UnsafeRawPointer($0) }
                    return outcome
                }
            } catch {
                outcome = DecodeOutcome(status: VPX_CODEC_ERROR)  // run(data) does not throw
            }
            if outcome.status == VPX_CODEC_OK { allocatedSize = size }
        } else {
            outcome = run(data)
        }
        guard outcome.status == VPX_CODEC_OK else {
            needsKeyframe = true
            errors += 1
            throw .failed(String(cString: vpx_codec_err_to_string(outcome.status)))
        }
        guard !outcome.corrupted else {
            needsKeyframe = true
            errors += 1
            throw .corrupted
        }
        guard let image = outcome.picture else { throw .failed("no picture") }
        guard let planes = Self.planes(image.pointee) else {
            errors += 1
            needsKeyframe = true
            throw .failed("unexpected image format")
        }
        needsKeyframe = false
        framesDecoded += 1
        return try body(planes)
    }

    private struct DecodeOutcome {
        var status: vpx_codec_err_t
        var corrupted = false
        /// libvpx's picture, valid until the next decode.
        var picture: UnsafeMutablePointer<vpx_image_t>?
    }

    /// One vpx_codec_decode, libvpx's corruption flag (VP8D_GET_FRAME_CORRUPTED) and the picture.
    private func run(_ data: [UInt8]) -> DecodeOutcome {
        let status = data.withUnsafeBufferPointer { buffer in
            vpx_codec_decode(context, buffer.baseAddress, UInt32(buffer.count), nil, 0)
        }
        guard status == VPX_CODEC_OK else { return DecodeOutcome(status: status) }
        var corrupted: Int32 = 0
        var iterator: vpx_codec_iter_t?
        if vp_vpx_control_int_ptr(context, Int32(VP8D_GET_FRAME_CORRUPTED.rawValue), &corrupted) == VPX_CODEC_OK,
           corrupted != 0 {
            while vpx_codec_get_frame(context, &iterator) != nil {}
            return DecodeOutcome(status: status, corrupted: true)
        }
        let picture = vpx_codec_get_frame(context, &iterator)
        while vpx_codec_get_frame(context, &iterator) != nil {}
        return DecodeOutcome(status: status, picture: picture)
    }

    /// libvpx's I420 picture as borrowed planes; nil for any other format.
    static func planes(_ image: vpx_image_t) -> I420Planes? {
        guard image.fmt == VPX_IMG_FMT_I420, let y = image.planes.0, let u = image.planes.1, let v = image.planes.2,
              image.d_w > 0, image.d_h > 0, image.stride.1 == image.stride.2 else { return nil }
        return I420Planes(y: UnsafePointer(y), u: UnsafePointer(u), v: UnsafePointer(v), strideY: Int(image.stride.0),
                          strideUV: Int(image.stride.1), width: Int(image.d_w), height: Int(image.d_h))
    }

    /// Copies borrowed planes (any strides) into a tight contiguous `VideoFrame`.
    static func copy(_ planes: I420Planes, timestamp: MediaTime, sequence: UInt64) -> VideoFrame {
        let width = planes.width, height = planes.height
        let cw = (width + 1) / 2, ch = (height + 1) / 2
        let total = VideoFrame.byteCount(width: width, height: height)
        let storage = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            let base = buffer.baseAddress!
            for row in 0..<height { (base + row * width).update(from: planes.y + row * planes.strideY, count: width) }
            let u = base + width * height, v = u + cw * ch
            for row in 0..<ch {
                (u + row * cw).update(from: planes.u + row * planes.strideUV, count: cw)
                (v + row * cw).update(from: planes.v + row * planes.strideUV, count: cw)
            }
            count = total
        }
        return VideoFrame(width: width, height: height, storage: storage, timestamp: timestamp, sequence: sequence)
    }
}

/// The VP8 frame tag (RFC 6386 §9.1, also quoted by RFC 7741 §4.3): 3 bytes, bit 0 of the first
/// is the inverse keyframe flag; keyframes then carry the start code 9d 01 2a and 14-bit sizes.
public enum VP8FrameHeader {
    public static func isKeyframe<C: Collection<UInt8>>(_ data: C) -> Bool {
        guard let first = data.first else { return false }
        return first & 0x01 == 0
    }

    /// Width and height from a keyframe's header (RFC 6386 §9.1), nil for delta frames or short data.
    public static func keyframeSize(_ data: [UInt8]) -> (width: Int, height: Int)? {
        guard data.count >= 10, isKeyframe(data), data[3] == 0x9D, data[4] == 0x01, data[5] == 0x2A else { return nil }
        let w = (Int(data[6]) | Int(data[7]) << 8) & 0x3FFF
        let h = (Int(data[8]) | Int(data[9]) << 8) & 0x3FFF
        return (w, h)
    }
}
