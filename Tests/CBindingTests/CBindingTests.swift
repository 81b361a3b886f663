// One test per C library: each calls into the real library through its CShims module and
// checks a real result, so a missing or broken library fails the build (link) or the test.
import Testing
import CVPX
import COpus
import CSRTP
import COpenSSL
import CV4L2
import CALSA
import CDRM
import CEvdev
import CYUV
@testable import Peer
@testable import Capture
@testable import Display
@testable import Appliance
#if canImport(Glibc)
import Glibc
#endif

@Suite("C bindings")
struct CBindingTests {

    // MARK: libvpx

    @Test("libvpx: encode one 64x64 VP8 frame and decode it back")
    func vp8RoundTrip() throws {
        #expect(PeerLibraries.vpxVersion().hasPrefix("v1."))
        let width: UInt32 = 64, height: UInt32 = 64
        let (lumaValue, cbValue, crValue): (UInt8, UInt8, UInt8) = (180, 100, 150)

        var cfg = vpx_codec_enc_cfg_t()
        #expect(vpx_codec_enc_config_default(vp_vpx_vp8_cx(), &cfg, 0) == VPX_CODEC_OK)
        cfg.g_w = width
        cfg.g_h = height
        cfg.g_timebase = vpx_rational(num: 1, den: 30)
        cfg.rc_target_bitrate = 300
        var encoder = vpx_codec_ctx_t()
        try #require(vp_vpx_codec_enc_init(&encoder, vp_vpx_vp8_cx(), &cfg, 0) == VPX_CODEC_OK)
        defer { vpx_codec_destroy(&encoder) }
        #expect(vp_vpx_control_int(&encoder, Int32(VP8E_SET_CPUUSED.rawValue), -6) == VPX_CODEC_OK)

        let image = try #require(vpx_img_alloc(nil, VPX_IMG_FMT_I420, width, height, 1))
        defer { vpx_img_free(image) }
        let fills = [lumaValue, cbValue, crValue]
        for (plane, (base, stride)) in planes(of: image).enumerated() {
            let rows = Int(plane == 0 ? height : height / 2), cols = Int(plane == 0 ? width : width / 2)
            for row in 0..<rows { (base + row * stride).update(repeating: fills[plane], count: cols) }
        }

        // Each vpx_codec_encode call resets the packet list: drain it after every call.
        var frames: [[UInt8]] = []
        for input in [image, nil] {  // the frame, then a flush
            #expect(vpx_codec_encode(&encoder, input, 0, 1, 0, UInt(VPX_DL_REALTIME)) == VPX_CODEC_OK)
            var iterator: vpx_codec_iter_t? = nil
            while let packet = vpx_codec_get_cx_data(&encoder, &iterator) {
                guard packet.pointee.kind == VPX_CODEC_CX_FRAME_PKT else { continue }
                let frame = packet.pointee.data.frame
                frames.append(Array(UnsafeRawBufferPointer(start: frame.buf, count: frame.sz)))
            }
        }
        try #require(frames.count == 1)
        #expect(frames[0].count > 10)

        var decoder = vpx_codec_ctx_t()
        try #require(vp_vpx_codec_dec_init(&decoder, vp_vpx_vp8_dx(), nil, 0) == VPX_CODEC_OK)
        defer { vpx_codec_destroy(&decoder) }
        #expect(vpx_codec_decode(&decoder, frames[0], UInt32(frames[0].count), nil, 0) == VPX_CODEC_OK)
        var decodeIterator: vpx_codec_iter_t? = nil
        let decoded = try #require(vpx_codec_get_frame(&decoder, &decodeIterator))
        #expect(decoded.pointee.d_w == width && decoded.pointee.d_h == height)
        // A flat frame survives lossy coding almost exactly: check the centre sample of each plane.
        for (plane, (base, stride)) in planes(of: decoded).enumerated() {
            let centre = plane == 0 ? 32 : 16
            let sample = base[centre * stride + centre]
            #expect(abs(Int(sample) - Int(fills[plane])) <= 3, "plane \(plane): \(sample) vs \(fills[plane])")
        }
    }

    /// The Y, U and V planes of an I420 vpx_image_t with their strides.
    private func planes(of image: UnsafeMutablePointer<vpx_image_t>) -> [(UnsafeMutablePointer<UInt8>, Int)] {
        let p = image.pointee.planes, s = image.pointee.stride
        return [(p.0!, Int(s.0)), (p.1!, Int(s.1)), (p.2!, Int(s.2))]
    }

    // MARK: libopus

    @Test("libopus: encode and decode 20 ms frames of a 440 Hz tone")
    func opusRoundTrip() throws {
        #expect(PeerLibraries.opusVersion().hasPrefix("libopus 1."))
        let rate: Int32 = 48_000, frameSize = 960  // 20 ms at 48 kHz, mono
        var error: Int32 = 0
        let encoder = try #require(opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, &error))
        defer { opus_encoder_destroy(encoder) }
        #expect(error == OPUS_OK)
        #expect(vp_opus_encoder_set_int(encoder, OPUS_SET_BITRATE_REQUEST, 32_000) == OPUS_OK)
        #expect(vp_opus_encoder_set_int(encoder, OPUS_SET_INBAND_FEC_REQUEST, 1) == OPUS_OK)
        #expect(vp_opus_encoder_set_int(encoder, OPUS_SET_PACKET_LOSS_PERC_REQUEST, 10) == OPUS_OK)
        #expect(vp_opus_encoder_set_int(encoder, OPUS_SET_COMPLEXITY_REQUEST, 5) == OPUS_OK)
        #expect(vp_opus_encoder_set_int(encoder, OPUS_SET_DTX_REQUEST, 0) == OPUS_OK)
        var bitrate: Int32 = 0
        #expect(vp_opus_encoder_get_int(encoder, OPUS_GET_BITRATE_REQUEST, &bitrate) == OPUS_OK)
        #expect(bitrate == 32_000)
        #expect(vp_opus_encoder_reset(encoder) == OPUS_OK)

        let decoder = try #require(opus_decoder_create(rate, 1, &error))
        defer { opus_decoder_destroy(decoder) }
        var sampleRate: Int32 = 0
        #expect(vp_opus_decoder_get_int(decoder, OPUS_GET_SAMPLE_RATE_REQUEST, &sampleRate) == OPUS_OK)
        #expect(sampleRate == rate)

        func rms(_ samples: ArraySlice<Int16>) -> Double {
            (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
        }
        var lastIn: [Int16] = [], lastOut: [Int16] = []
        for frameIndex in 0..<5 {  // several frames so the codec's look-ahead has filled
            let pcm: [Int16] = (0..<frameSize).map { i in
                let t = Double(frameIndex * frameSize + i) / Double(rate)
                return Int16(8_000 * sin(2 * Double.pi * 440 * t))
            }
            var packet = [UInt8](repeating: 0, count: 4_000)
            let bytes = opus_encode(encoder, pcm, Int32(frameSize), &packet, Int32(packet.count))
            try #require(bytes > 0)
            var out = [Int16](repeating: 0, count: frameSize)
            #expect(opus_decode(decoder, packet, bytes, &out, Int32(frameSize), 0) == Int32(frameSize))
            lastIn = pcm
            lastOut = out
        }
        let inLevel = rms(lastIn[...]), outLevel = rms(lastOut[...])
        #expect(outLevel > inLevel * 0.5 && outLevel < inLevel * 1.5, "rms in \(inLevel) out \(outLevel)")
    }

    // MARK: libsrtp2

    @Test("libsrtp2: protect and unprotect one RTP packet with a fixed key")
    func srtpRoundTrip() throws {
        #expect(PeerLibraries.srtpVersion().hasPrefix("libsrtp2"))
        // Through Peer's once-per-process initialisation: a second srtp_init racing with the Peer tests'
        // sessions corrupts libsrtp's crypto kernel (seen as srtp_err_status_bad_param under load).
        try SRTPSession.initializeLibrary()
        // 16-byte AES key + 14-byte salt for AES_CM_128_HMAC_SHA1_80 (the default policy).
        var key = (0..<30).map { UInt8($0 &* 7 &+ 1) }

        func makeSession(_ direction: srtp_ssrc_type_t) throws -> srtp_t {
            var session: srtp_t? = nil
            let status = key.withUnsafeMutableBufferPointer { keyBytes -> srtp_err_status_t in
                var policy = srtp_policy_t()
                srtp_crypto_policy_set_rtp_default(&policy.rtp)
                srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
                policy.ssrc.type = direction
                policy.key = keyBytes.baseAddress
                policy.window_size = 128
                return srtp_create(&session, &policy)  // copies the key
            }
            try #require(status == srtp_err_status_ok)
            return try #require(session)
        }
        let sender = try makeSession(ssrc_any_outbound)
        defer { srtp_dealloc(sender) }
        let receiver = try makeSession(ssrc_any_inbound)
        defer { srtp_dealloc(receiver) }

        // RTP header: V=2, PT=111, seq=1, timestamp=960, SSRC=0x11223344; then 20 payload bytes.
        let header: [UInt8] = [0x80, 111, 0x00, 0x01, 0x00, 0x00, 0x03, 0xC0, 0x11, 0x22, 0x33, 0x44]
        let rtp = header + (0..<20).map { UInt8($0) }
        var buffer = rtp + [UInt8](repeating: 0, count: 64)  // room for the auth tag
        var length = Int32(rtp.count)
        #expect(srtp_protect(sender, &buffer, &length) == srtp_err_status_ok)
        #expect(length == Int32(rtp.count + 10))  // HMAC-SHA1-80 tag
        #expect(Array(buffer[12..<rtp.count]) != Array(rtp[12...]))  // payload encrypted
        #expect(srtp_unprotect(receiver, &buffer, &length) == srtp_err_status_ok)
        #expect(length == Int32(rtp.count))
        #expect(Array(buffer[0..<rtp.count]) == rtp)
    }

    // MARK: OpenSSL

    @Test("OpenSSL: EC P-256 key, HMAC-SHA1 RFC 2202 case 1, DTLS ctrl wrappers")
    func openSSL() throws {
        #expect(PeerLibraries.openSSLVersion().hasPrefix("OpenSSL 3."))

        let key = try #require(vp_EVP_EC_gen("P-256"))
        defer { EVP_PKEY_free(key) }
        #expect(EVP_PKEY_get_bits(key) == 256)
        #expect(EVP_PKEY_get_base_id(key) == EVP_PKEY_EC)

        // RFC 2202, test case 1: key = 0x0b * 20, data = "Hi There".
        let hmacKey = [UInt8](repeating: 0x0b, count: 20)
        let data = Array("Hi There".utf8)
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var digestLength: UInt32 = 0
        try #require(HMAC(EVP_sha1(), hmacKey, Int32(hmacKey.count), data, data.count, &digest, &digestLength) != nil)
        let hex = digest[0..<Int(digestLength)].map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
        #expect(hex == "b617318655057264e28bc0b6fb378c8ef146be00")

        var random = [UInt8](repeating: 0, count: 16)
        #expect(RAND_bytes(&random, Int32(random.count)) == 1)

        // The SSL_ctrl / BIO_ctrl macro wrappers on a real DTLS object and memory BIO.
        let context = try #require(SSL_CTX_new(DTLS_method()))
        defer { SSL_CTX_free(context) }
        #expect(vp_SSL_CTX_set_read_ahead(context, 1) == 0)  // returns the previous value
        let mode = vp_SSL_CTX_set_mode(context, Int(SSL_MODE_AUTO_RETRY))
        #expect(mode & Int(SSL_MODE_AUTO_RETRY) != 0)
        let ssl = try #require(SSL_new(context))
        defer { SSL_free(ssl) }
        #expect(vp_DTLS_set_link_mtu(ssl, 1200) == 1)
        var timeout = timeval()
        #expect(vp_DTLSv1_get_timeout(ssl, &timeout) == 0)  // no handshake, so no timer
        #expect(vp_DTLSv1_handle_timeout(ssl) == 0)

        let bio = try #require(BIO_new(BIO_s_mem()))
        defer { BIO_free(bio) }
        #expect(BIO_write(bio, "dtls", 4) == 4)
        #expect(vp_BIO_ctrl_pending(bio) == 4)
        var pending: UnsafeMutablePointer<CChar>? = nil
        #expect(vp_BIO_get_mem_data(bio, &pending) == 4)
        let bytes = try #require(pending)
        #expect(String(decoding: UnsafeRawBufferPointer(start: bytes, count: 4), as: UTF8.self) == "dtls")
    }

    // MARK: libyuv

    @Test("libyuv: I420ToARGB of BT.601 red, then ARGBScale keeps the colour")
    func yuvConvertAndScale() throws {
        // BT.601 limited range red: Y=81, U=90, V=240. libyuv's ARGB is B,G,R,A in memory.
        let argb = try #require(CaptureLibraries.i420ToARGB(
            y: [UInt8](repeating: 81, count: 4), u: [90], v: [240], width: 2, height: 2))
        #expect(argb.count == 16)
        for pixel in 0..<4 {
            let (b, g, r, a) = (argb[pixel * 4], argb[pixel * 4 + 1], argb[pixel * 4 + 2], argb[pixel * 4 + 3])
            #expect(b <= 4 && g <= 4 && r >= 250 && a == 255, "pixel \(pixel): \(b),\(g),\(r),\(a)")
        }
        let scaled = try #require(DisplayLibraries.scaleARGB(argb, width: 2, height: 2, toWidth: 4, toHeight: 4))
        #expect(scaled.count == 64)
        // Bilinear filtering of a flat image may round by a step or two (255 -> 253), no more.
        for index in scaled.indices {
            #expect(abs(Int(scaled[index]) - Int(argb[index % 4])) <= 3, "\(argb) -> \(scaled)")
        }
    }

    // MARK: libevdev

    @Test("libevdev: name roundtrip and an enabled key")
    func evdev() throws {
        #expect(ApplianceLibraries.evdevNameRoundTrip("videophone keypad") == "videophone keypad")
        let device = try #require(libevdev_new())
        defer { libevdev_free(device) }
        #expect(libevdev_enable_event_code(device, UInt32(EV_KEY), UInt32(KEY_ENTER), nil) == 0)
        #expect(libevdev_has_event_code(device, UInt32(EV_KEY), UInt32(KEY_ENTER)) == 1)
        #expect(libevdev_has_event_code(device, UInt32(EV_KEY), UInt32(KEY_ESC)) == 0)
    }

    // MARK: ALSA

    @Test("ALSA: library version and hw-params allocation")
    func alsa() throws {
        let version = CaptureLibraries.alsaVersion()
        #expect(!version.isEmpty && version.hasPrefix("1."), "\(version)")
        var params: OpaquePointer? = nil
        #expect(snd_pcm_hw_params_malloc(&params) == 0)
        let allocated = try #require(params)
        snd_pcm_hw_params_free(allocated)
        #expect(String(cString: snd_pcm_format_name(SND_PCM_FORMAT_S16_LE)) == "S16_LE")
    }

    // MARK: libdrm

    @Test("libdrm: format and modifier names, dumb-buffer ioctl numbers")
    func drm() {
        _ = DisplayLibraries.drmDriverAvailable()  // false here without /dev/dri; must not crash
        #expect(DisplayLibraries.xrgb8888Fourcc == 0x3432_5258)
        #expect(CaptureLibraries.fourccString(vp_DRM_FORMAT_XRGB8888) == "XR24")
        #expect(DisplayLibraries.drmFormatName(vp_DRM_FORMAT_XRGB8888) == "XR24")
        #expect(DisplayLibraries.drmModifierName() == "LINEAR")
        #expect(vp_DRM_MODE_PAGE_FLIP_EVENT == 1)
        #expect(vp_DRM_IOCTL_MODE_CREATE_DUMB == 0xC020_64B2)
        #expect(vp_DRM_IOCTL_MODE_MAP_DUMB == 0xC010_64B3)
        #expect(vp_DRM_IOCTL_MODE_DESTROY_DUMB == 0xC004_64B4)
    }

    // MARK: libv4l2

    @Test("libv4l2: fourccs, ioctl numbers and the ioctl wrapper")
    func v4l2() {
        #expect(CaptureLibraries.yuyvFourcc == 0x5659_5559)
        #expect(CaptureLibraries.fourccString(vp_V4L2_PIX_FMT_YUYV) == "YUYV")
        #expect(CaptureLibraries.fourccString(vp_V4L2_PIX_FMT_NV12) == "NV12")
        #expect(CaptureLibraries.fourccString(vp_V4L2_PIX_FMT_MJPEG) == "MJPG")
        #expect(CaptureLibraries.fourccString(vp_V4L2_PIX_FMT_YUV420) == "YU12")
        #expect(vp_VIDIOC_QUERYCAP == 0x8068_5600)
        #expect(vp_VIDIOC_DQBUF == 0xC058_5611)
        #expect(CaptureLibraries.v4l2QueryCapErrno() == EBADF)
    }
}
