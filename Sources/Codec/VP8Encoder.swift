// VP8 realtime encoder over libvpx (vpx/vp8cx.h, vpx/vpx_encoder.h).
// Settings follow what a WebRTC sender needs (RFC 7741 §1 for the payload it feeds; the
// libvpx "realtime" profile): one pass CBR, no lag, error-resilient partitions, a fixed
// negative cpu-used (speed without per-frame adaptation), keyframes only on request or at
// start, and the target bitrate changed in place with vpx_codec_enc_config_set.
import CVPX
import Media

/// One compressed VP8 frame as libvpx produced it.
public struct EncodedVideoFrame: Sendable, Equatable {
    public var data: [UInt8]
    public var isKeyframe: Bool
    /// The capture time of the source frame.
    public var timestamp: MediaTime
    public var width: Int
    public var height: Int

    public init(data: [UInt8], isKeyframe: Bool, timestamp: MediaTime, width: Int, height: Int) {
        self.data = data
        self.isKeyframe = isKeyframe
        self.timestamp = timestamp
        self.width = width
        self.height = height
    }
}

public enum CodecError: Error, Equatable, CustomStringConvertible {
    /// A libvpx call failed: the function and libvpx's error text.
    case vpx(String, String)
    /// A libopus call failed: the function and the opus error code text.
    case opus(String, String)
    /// Input the codec cannot take (wrong size, empty packet, ...).
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .vpx(call, text): "libvpx \(call): \(text)"
        case let .opus(call, text): "libopus \(call): \(text)"
        case let .invalidInput(text): "invalid codec input: \(text)"
        }
    }
}

public struct VP8EncoderConfiguration: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var framesPerSecond: Int
    /// Target bitrate in bits per second (libvpx takes kbps; rounded down, at least 1).
    public var bitrate: Int
    /// libvpx VP8 speed: negative values fix the speed (no adaptive search); -6 is libwebrtc's
    /// choice for small ARM boards.
    public var cpuUsed: Int
    public var threads: Int
    /// Keyframe interval in frames; nil: keyframes only at start and on request.
    public var keyframeInterval: Int?
    /// Let the rate control skip frames when the buffer runs dry (helps under a narrow uplink).
    public var allowFrameDropping: Bool
    /// Let a keyframe come out smaller than the picture when the buffer runs dry: a keyframe of a
    /// busy picture at full size may not fit the link at all, and every lost one is asked for again.
    public var allowResize: Bool

    public init(width: Int = 640, height: Int = 480, framesPerSecond: Int = 30, bitrate: Int = 1_000_000,
                cpuUsed: Int = -6, threads: Int = 1, keyframeInterval: Int? = nil, allowFrameDropping: Bool = false,
                allowResize: Bool = false) {
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.bitrate = bitrate
        self.cpuUsed = cpuUsed
        self.threads = threads
        self.keyframeInterval = keyframeInterval
        self.allowFrameDropping = allowFrameDropping
        self.allowResize = allowResize
    }
}

/// A libvpx VP8 encoder. Not thread-safe: use it from one isolation domain (the sender's).
public final class VP8Encoder {
    public private(set) var configuration: VP8EncoderConfiguration
    private let context: UnsafeMutablePointer<vpx_codec_ctx_t>
    private var config = vpx_codec_enc_cfg_t()
    private var image = vpx_image_t()
    private var initialized = false
    private var keyframeRequested = false
    /// The last frame's capture time, and its presentation time on libvpx's clock (µs).
    private var lastTimestamp: MediaTime?
    private var lastPTS: Int64 = -1

    public init(configuration: VP8EncoderConfiguration) throws(CodecError) {
        guard configuration.width > 0, configuration.height > 0, configuration.width <= 16383,
              configuration.height <= 16383, configuration.framesPerSecond > 0
        else { throw .invalidInput("VP8 encoder size \(configuration.width)x\(configuration.height)") }
        self.configuration = configuration
        context = .allocate(capacity: 1)
        context.initialize(to: vpx_codec_ctx_t())
        try open()
    }

    deinit {
        if initialized { vpx_codec_destroy(context) }
        context.deinitialize(count: 1)
        context.deallocate()
    }

    private static func errorText(_ context: UnsafeMutablePointer<vpx_codec_ctx_t>, _ code: vpx_codec_err_t) -> String {
        if let detail = vpx_codec_error_detail(context) { return String(cString: vpx_codec_err_to_string(code)) + ": " + String(cString: detail) }
        return String(cString: vpx_codec_err_to_string(code))
    }

    private func open() throws(CodecError) {
        var cfg = vpx_codec_enc_cfg_t()
        var status = vpx_codec_enc_config_default(vp_vpx_vp8_cx(), &cfg, 0)
        guard status == VPX_CODEC_OK else { throw .vpx("vpx_codec_enc_config_default", String(cString: vpx_codec_err_to_string(status))) }
        cfg.g_w = UInt32(configuration.width)
        cfg.g_h = UInt32(configuration.height)
        cfg.g_threads = UInt32(max(1, configuration.threads))
        // Microsecond timebase: capture timestamps map to pts without rounding drift.
        cfg.g_timebase = vpx_rational(num: 1, den: 1_000_000)
        cfg.g_lag_in_frames = 0
        cfg.g_pass = VPX_RC_ONE_PASS
        cfg.g_error_resilient = vpx_codec_er_flags_t(VPX_ERROR_RESILIENT_DEFAULT)
        cfg.rc_end_usage = VPX_CBR
        cfg.rc_target_bitrate = UInt32(min(100_000, max(1, configuration.bitrate / 1000)))
        cfg.rc_min_quantizer = 2
        cfg.rc_max_quantizer = 56
        cfg.rc_undershoot_pct = 100
        cfg.rc_overshoot_pct = 15
        cfg.rc_buf_initial_sz = 500
        cfg.rc_buf_optimal_sz = 600
        cfg.rc_buf_sz = Self.bufferMs
        cfg.rc_dropframe_thresh = configuration.allowFrameDropping ? 30 : 0
        // VP8's spatial resampling decides only at keyframes: one asked for while the buffer is
        // below 40 % of optimal comes out a step smaller (4/5, 3/5, 1/2), one above 60 % a step
        // back up. 40 is above the frame dropper's 30, where a starved encoder's buffer hovers.
        cfg.rc_resize_allowed = configuration.allowResize ? 1 : 0
        cfg.rc_resize_up_thresh = 60
        cfg.rc_resize_down_thresh = 40
        if let interval = configuration.keyframeInterval {
            cfg.kf_mode = VPX_KF_AUTO
            cfg.kf_min_dist = 0
            cfg.kf_max_dist = UInt32(min(100_000, max(1, interval)))
        } else {
            cfg.kf_mode = VPX_KF_DISABLED
        }
        config = cfg
        status = try sizingTokenBuffer(for: .full) { vp_vpx_codec_enc_init($0, vp_vpx_vp8_cx(), $1, 0) }
        guard status == VPX_CODEC_OK else { throw .vpx("vpx_codec_enc_init", Self.errorText(context, status)) }
        initialized = true
        try control(Int32(VP8E_SET_CPUUSED.rawValue), configuration.cpuUsed)
        try control(Int32(VP8E_SET_NOISE_SENSITIVITY.rawValue), 0)
        try control(Int32(VP8E_SET_STATIC_THRESHOLD.rawValue), 1)
        try control(Int32(VP8E_SET_TOKEN_PARTITIONS.rawValue), Int(VP8_ONE_TOKENPARTITION.rawValue))
        // Cap keyframe size (percent of the per-frame budget), as libwebrtc does: 0.5 × optimal
        // buffer × fps / 10, so a requested keyframe does not stall the pipe for seconds.
        let intraPct = max(300, 600 / 2 * configuration.framesPerSecond / 10)
        let status2 = vp_vpx_control_uint(context, Int32(VP8E_SET_MAX_INTRA_BITRATE_PCT.rawValue), UInt32(intraPct))
        guard status2 == VPX_CODEC_OK else { throw .vpx("VP8E_SET_MAX_INTRA_BITRATE_PCT", Self.errorText(context, status2)) }
        if scale != .full { try applyScale() }
        lastTimestamp = nil
        lastPTS = -1
    }

    /// The size the encoder codes at, as a step below the input's (VP8 spatial resampling,
    /// RFC 6386 §9.2: the decoder shows the coded size). A change takes effect at the next frame,
    /// which libvpx makes a keyframe. Kept across re-creation at another input size.
    public private(set) var scale: VP8Scale = .full

    public func setScale(_ newScale: VP8Scale) throws(CodecError) {
        guard newScale != scale else { return }
        scale = newScale
        try applyScale()
    }

    private func applyScale() throws(CodecError) {
        let status = vp_vpx_set_scale_mode(context, Int32(scale.rawValue), Int32(scale.rawValue))
        guard status == VPX_CODEC_OK else { throw .vpx("VP8E_SET_SCALEMODE", Self.errorText(context, status)) }
        // libvpx applies the scale when the configuration is next set (vp8_change_config sizes
        // its buffers from it, the token buffer included); until then the control only forces
        // the keyframe.
        let applied = try sizingTokenBuffer(for: scale) { vpx_codec_enc_config_set($0, $1) }
        guard applied == VPX_CODEC_OK else { throw .vpx("vpx_codec_enc_config_set", Self.errorText(context, applied)) }
    }

    /// Runs a libvpx call that (re)allocates the token buffer for the picture coded at `scale`,
    /// then gives the buffer's untouched pages back (ZeroFilledBlock).
    private func sizingTokenBuffer(
        for scale: VP8Scale,
        _ call: (UnsafeMutablePointer<vpx_codec_ctx_t>, UnsafeMutablePointer<vpx_codec_enc_cfg_t>) -> vpx_codec_err_t
    ) throws(CodecError) -> vpx_codec_err_t {
        let coded = scale.size(width: configuration.width, height: configuration.height)
        let status: vpx_codec_err_t
        (status, releasedTokenBytes) = try ZeroFilledBlock.releasing([
            .init(bytes: Self.tokenBufferBytes(width: coded.width, height: coded.height)),
            .init(bytes: VP8FrameBuffer.bytes(width: coded.width, height: coded.height), fill: VP8FrameBuffer.postprocessingFill),
        ]) { () throws(CodecError) in call(context, &config) }
        return status
    }

    /// Bytes of the token buffer libvpx zero-fills when it sizes the encoder for a coded picture
    /// (vp8_alloc_compressor_data: 24 × 16 tokens a macroblock; a token is a pointer, a short and
    /// a byte: 16 bytes on 64-bit machines, 8 on 32-bit). ZeroFilledBlock gives its untouched
    /// pages back.
    public static func tokenBufferBytes(width: Int, height: Int) -> Int {
        ((width + 15) / 16) * ((height + 15) / 16) * 24 * 16 * 2 * MemoryLayout<UnsafeRawPointer>.size
    }

    /// Bytes of the last token buffer (and post-processing frame, VP8FrameBuffer) libvpx allocated
    /// that went back to the kernel untouched (0 where they could not be found: another C library
    /// or libvpx layout).
    public private(set) var releasedTokenBytes = 0

    /// The last frame's quantizer index (0-127, libvpx's internal scale, which libwebrtc's VP8
    /// quality thresholds use); nil before the first frame.
    public var lastQuantizer: Int? {
        var q: Int32 = -1
        guard lastPTS >= 0, vp_vpx_control_int_ptr(context, Int32(VP8E_GET_LAST_QUANTIZER.rawValue), &q) == VPX_CODEC_OK,
              q >= 0 else { return nil }
        return Int(q)
    }

    private func control(_ id: Int32, _ value: Int) throws(CodecError) {
        let status = vp_vpx_control_int(context, id, Int32(value))
        guard status == VPX_CODEC_OK else { throw .vpx("vpx_codec_control(\(id))", Self.errorText(context, status)) }
    }

    /// The next encoded frame will be a keyframe (a PLI or FIR arrived, or a receiver joined).
    public func requestKeyframe() { keyframeRequested = true }

    /// Changes the rate control target in place (no new encoder, no keyframe).
    public func setTargetBitrate(_ bitsPerSecond: Int) throws(CodecError) {
        let kbps = UInt32(min(100_000, max(1, bitsPerSecond / 1000)))
        guard kbps != config.rc_target_bitrate else { return }
        let cut = kbps < config.rc_target_bitrate * 95 / 100
        config.rc_target_bitrate = kbps
        configuration.bitrate = bitsPerSecond
        if cut {
            // A lower target means the path is congested. While the pictures came out under the
            // old target, libvpx banked the difference, up to rc_buf_sz (1 s) of it, and spends
            // what is above the drop mark (30 % of the 600 ms optimum) before it drops a frame:
            // 20-40 % over the new target for one or two seconds, into the queue the estimator
            // just backed off from (measured: 316 and 365 kbit/s sent after a cut to 263 in the
            // 300 kbit/s noise test). A configuration with a smaller buffer clips what is banked
            // (vp8_change_config clamps the level to the maximum); the normal size comes back at
            // once and libvpx refills towards the optimum by coding below the target.
            config.rc_buf_sz = Self.bufferAfterCutMs
            let clip = vpx_codec_enc_config_set(context, &config)
            config.rc_buf_sz = Self.bufferMs
            guard clip == VPX_CODEC_OK else { throw .vpx("vpx_codec_enc_config_set", Self.errorText(context, clip)) }
        }
        let status = vpx_codec_enc_config_set(context, &config)
        guard status == VPX_CODEC_OK else { throw .vpx("vpx_codec_enc_config_set", Self.errorText(context, status)) }
    }

    /// libvpx's rate-control buffer (libwebrtc's VP8 settings): start at 500 ms, aim for 600,
    /// bank at most 1000; after a cut, at most 300 (120 ms above the drop mark).
    static let bufferMs: UInt32 = 1000
    static let bufferAfterCutMs: UInt32 = 300

    /// Re-creates the encoder at a new size; the next frame is a keyframe.
    public func setResolution(width: Int, height: Int) throws(CodecError) {
        guard width != configuration.width || height != configuration.height else { return }
        guard width > 0, height > 0, width <= 16383, height <= 16383 else { throw .invalidInput("VP8 size \(width)x\(height)") }
        if initialized { vpx_codec_destroy(context); initialized = false }
        configuration.width = width
        configuration.height = height
        try open()
    }

    /// Re-creates the encoder with the same settings and scale: its rate control forgets every
    /// frame so far (for a frame that was encoded and then thrown away, which libvpx's buffer
    /// model would otherwise keep paying for). The next frame is a keyframe.
    public func restart() throws(CodecError) {
        if initialized { vpx_codec_destroy(context); initialized = false }
        try open()
    }

    /// Encodes one I420 frame. Returns nil when the rate control dropped the frame. A frame of
    /// another size than configured re-creates the encoder at that size.
    ///
    /// `skippedBefore` counts the camera's frames the caller dropped since the last one it gave
    /// (an encoder that fell behind): libvpx's clock then moves by one camera period, not by
    /// the gap. libvpx's CBR model credits every microsecond between frames with bits and
    /// spends the credit on the next frames: on a loaded machine, encoding 20 of 30 frames a
    /// second, the capture-time gaps made 50-93 KB delta frames at 1 Mbit/s (12-22 times the
    /// 4.2 KB a frame, each a burst of up to 0.7 s of the link), and their tokens left 9 MB of
    /// libvpx's token buffer resident. libwebrtc likewise advances its encoder's timestamp by
    /// one frame duration per frame given. The camera's own pace (a camera at 15 frames a
    /// second) still sets the clock: the gap is divided among the frames it held.
    public func encode(_ frame: VideoFrame, skippedBefore: Int = 0) throws(CodecError) -> EncodedVideoFrame? {
        if frame.width != configuration.width || frame.height != configuration.height {
            try setResolution(width: frame.width, height: frame.height)
        }
        var pts: Int64 = 0
        if let last = lastTimestamp {
            let gap = Int64(bitPattern: frame.timestamp.nanoseconds &- last.nanoseconds) / 1000
            pts = lastPTS + max(1, gap / Int64(max(0, skippedBefore) + 1))  // libvpx needs increasing pts
        }
        lastTimestamp = frame.timestamp
        lastPTS = pts
        let duration = UInt(1_000_000 / configuration.framesPerSecond)
        var flags: vpx_enc_frame_flags_t = 0
        if keyframeRequested { flags |= vpx_enc_frame_flags_t(VPX_EFLAG_FORCE_KF) }
        let status: vpx_codec_err_t = frame.withPlanes { planes in
            // Wrap the frame's planes: libvpx reads them and never writes to its input.
            vpx_img_wrap(&image, VPX_IMG_FMT_I420, UInt32(planes.width), UInt32(planes.height), 1,
                         UnsafeMutablePointer(mutating: planes.y))
            image.planes.0 = UnsafeMutablePointer(mutating: planes.y)
            image.planes.1 = UnsafeMutablePointer(mutating: planes.u)
            image.planes.2 = UnsafeMutablePointer(mutating: planes.v)
            image.stride.0 = Int32(planes.strideY)
            image.stride.1 = Int32(planes.strideUV)
            image.stride.2 = Int32(planes.strideUV)
            return vpx_codec_encode(context, &image, pts, duration, flags, UInt(VPX_DL_REALTIME))
        }
        guard status == VPX_CODEC_OK else { throw .vpx("vpx_codec_encode", Self.errorText(context, status)) }
        keyframeRequested = false
        var result: EncodedVideoFrame?
        var iterator: vpx_codec_iter_t?
        while let packet = vpx_codec_get_cx_data(context, &iterator) {
            guard packet.pointee.kind == VPX_CODEC_CX_FRAME_PKT else { continue }
            let out = packet.pointee.data.frame
            guard let buffer = out.buf, out.sz > 0 else { continue }
            let bytes = UnsafeRawBufferPointer(start: buffer, count: out.sz)
            let isKey = (out.flags & vpx_codec_frame_flags_t(VPX_FRAME_IS_KEY)) != 0
            if result == nil {
                result = EncodedVideoFrame(data: Array(bytes), isKeyframe: isKey, timestamp: frame.timestamp,
                                           width: configuration.width, height: configuration.height)
            } else {
                result!.data.append(contentsOf: bytes)  // VP8 emits one packet per frame; be safe anyway
                result!.isKeyframe = result!.isKeyframe || isKey
            }
        }
        return result
    }
}

/// VP8's internal resampling steps (libvpx VPX_SCALING_MODE; the keyframe header's scale bits,
/// RFC 6386 §9.2): each dimension coded at 1, 4/5, 3/5 or 1/2 of the input.
public enum VP8Scale: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case full = 0, fourFifths, threeFifths, half

    public static func < (a: VP8Scale, b: VP8Scale) -> Bool { a.rawValue < b.rawValue }

    var ratio: (numerator: Int, denominator: Int) {
        switch self {
        case .full: (1, 1)
        case .fourFifths: (4, 5)
        case .threeFifths: (3, 5)
        case .half: (1, 2)
        }
    }

    /// The coded size of a `width`x`height` input (libvpx rounds up: (w × num + den - 1) / den).
    public func size(width: Int, height: Int) -> (width: Int, height: Int) {
        let (n, d) = ratio
        return ((width * n + d - 1) / d, (height * n + d - 1) / d)
    }

    public var smaller: VP8Scale? { VP8Scale(rawValue: rawValue + 1) }
    public var larger: VP8Scale? { VP8Scale(rawValue: rawValue - 1) }
    public var description: String { self == .full ? "full" : "\(ratio.numerator)/\(ratio.denominator)" }
}
