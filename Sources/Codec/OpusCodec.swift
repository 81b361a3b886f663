// Opus over libopus (RFC 6716), as WebRTC uses it (RFC 7587 §3 for the RTP side): 48 kHz,
// 20 ms frames, in-band FEC (LBRR, RFC 6716 §2.1.7) with the expected loss rate, and packet
// loss concealment; FEC recovery decodes frame N from packet N+1 (opus_decode decode_fec=1).
import COpus
import Media

private func opusErrorText(_ code: Int32) -> String { String(cString: opus_strerror(code)) }

public struct OpusEncoderConfiguration: Sendable, Equatable {
    public var channels: Int
    public var bitrate: Int
    /// Percent of packets expected lost: libopus spends that much on in-band FEC.
    public var expectedPacketLossPercent: Int
    public var inbandFEC: Bool
    /// 0...10; nil keeps libopus's default.
    public var complexity: Int?

    public init(channels: Int = 1, bitrate: Int = 32_000, expectedPacketLossPercent: Int = 10,
                inbandFEC: Bool = true, complexity: Int? = nil) {
        self.channels = channels
        self.bitrate = bitrate
        self.expectedPacketLossPercent = expectedPacketLossPercent
        self.inbandFEC = inbandFEC
        self.complexity = complexity
    }
}

/// A libopus encoder for 20 ms frames at 48 kHz. Not thread-safe: use it from one isolation domain.
public final class OpusEncoder {
    public private(set) var configuration: OpusEncoderConfiguration
    private let encoder: OpaquePointer
    private var output = [UInt8](repeating: 0, count: 1500)

    public init(configuration: OpusEncoderConfiguration = OpusEncoderConfiguration()) throws(CodecError) {
        guard configuration.channels == 1 || configuration.channels == 2 else {
            throw .invalidInput("Opus channels \(configuration.channels)")
        }
        self.configuration = configuration
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(Int32(MediaClock.audioSampleRate), Int32(configuration.channels),
                                                OPUS_APPLICATION_VOIP, &error), error == OPUS_OK
        else { throw .opus("opus_encoder_create", opusErrorText(error)) }
        self.encoder = encoder
        try set(OPUS_SET_BITRATE_REQUEST, Int32(min(510_000, max(6_000, configuration.bitrate))), "OPUS_SET_BITRATE")
        try set(OPUS_SET_INBAND_FEC_REQUEST, configuration.inbandFEC ? 1 : 0, "OPUS_SET_INBAND_FEC")
        try set(OPUS_SET_PACKET_LOSS_PERC_REQUEST, Int32(min(100, max(0, configuration.expectedPacketLossPercent))),
                "OPUS_SET_PACKET_LOSS_PERC")
        if let complexity = configuration.complexity {
            try set(OPUS_SET_COMPLEXITY_REQUEST, Int32(min(10, max(0, complexity))), "OPUS_SET_COMPLEXITY")
        }
    }

    deinit { opus_encoder_destroy(encoder) }

    private func set(_ request: Int32, _ value: Int32, _ name: String) throws(CodecError) {
        let status = vp_opus_encoder_set_int(encoder, request, value)
        guard status == OPUS_OK else { throw .opus(name, opusErrorText(status)) }
    }

    public func setBitrate(_ bitsPerSecond: Int) throws(CodecError) {
        try set(OPUS_SET_BITRATE_REQUEST, Int32(min(510_000, max(6_000, bitsPerSecond))), "OPUS_SET_BITRATE")
        configuration.bitrate = bitsPerSecond
    }

    /// Tells the encoder the loss the receiver reports (RTCP fraction lost), to size the FEC.
    public func setExpectedPacketLoss(percent: Int) throws(CodecError) {
        let value = min(100, max(0, percent))
        try set(OPUS_SET_PACKET_LOSS_PERC_REQUEST, Int32(value), "OPUS_SET_PACKET_LOSS_PERC")
        configuration.expectedPacketLossPercent = value
    }

    /// Encodes one 20 ms frame (960 samples per channel) into one Opus packet.
    public func encode(_ frame: AudioFrame) throws(CodecError) -> [UInt8] {
        guard frame.channels == configuration.channels, frame.sampleRate == MediaClock.audioSampleRate,
              frame.samplesPerChannel == MediaClock.audioSamplesPerFrame
        else { throw .invalidInput("Opus needs 20 ms of \(configuration.channels)-channel 48 kHz audio") }
        let length = frame.samples.withUnsafeBufferPointer { pcm in
            output.withUnsafeMutableBufferPointer { out in
                opus_encode(encoder, pcm.baseAddress!, Int32(MediaClock.audioSamplesPerFrame),
                            out.baseAddress!, Int32(out.count))
            }
        }
        guard length > 0 else { throw .opus("opus_encode", opusErrorText(length)) }
        return Array(output[0..<Int(length)])
    }
}

/// A libopus decoder producing 20 ms frames at 48 kHz. Not thread-safe.
public final class OpusDecoder {
    public let channels: Int
    private let decoder: OpaquePointer
    /// Big enough for the longest Opus packet (120 ms).
    private var pcm: [Int16]

    public init(channels: Int = 1) throws(CodecError) {
        guard channels == 1 || channels == 2 else { throw .invalidInput("Opus channels \(channels)") }
        self.channels = channels
        var error: Int32 = 0
        guard let decoder = opus_decoder_create(Int32(MediaClock.audioSampleRate), Int32(channels), &error),
              error == OPUS_OK
        else { throw .opus("opus_decoder_create", opusErrorText(error)) }
        self.decoder = decoder
        pcm = [Int16](repeating: 0, count: 5760 * channels)
    }

    deinit { opus_decoder_destroy(decoder) }

    private func run(_ packet: [UInt8]?, frameSize: Int, fec: Bool, timestamp: MediaTime) throws(CodecError) -> AudioFrame {
        let count: Int32 = pcm.withUnsafeMutableBufferPointer { out in
            if let packet {
                return packet.withUnsafeBufferPointer { data in
                    opus_decode(decoder, data.baseAddress, Int32(data.count), out.baseAddress!, Int32(frameSize), fec ? 1 : 0)
                }
            }
            return opus_decode(decoder, nil, 0, out.baseAddress!, Int32(frameSize), 0)
        }
        guard count > 0 else { throw .opus(fec ? "opus_decode(fec)" : "opus_decode", opusErrorText(count)) }
        return AudioFrame(samples: Array(pcm[0..<(Int(count) * channels)]), channels: channels, timestamp: timestamp)
    }

    /// Decodes one packet (normally 20 ms of audio).
    public func decode(_ packet: [UInt8], timestamp: MediaTime) throws(CodecError) -> AudioFrame {
        guard !packet.isEmpty else { throw .invalidInput("empty Opus packet") }
        return try run(packet, frameSize: 5760, fec: false, timestamp: timestamp)
    }

    /// Recovers the frame lost just before `nextPacket` from its in-band FEC data; without FEC
    /// in that packet libopus conceals instead, so this always yields 20 ms.
    public func decodeFEC(from nextPacket: [UInt8], timestamp: MediaTime) throws(CodecError) -> AudioFrame {
        guard !nextPacket.isEmpty else { return try conceal(timestamp: timestamp) }
        return try run(nextPacket, frameSize: MediaClock.audioSamplesPerFrame, fec: true, timestamp: timestamp)
    }

    /// Packet loss concealment: 20 ms extrapolated from the decoder state.
    public func conceal(timestamp: MediaTime) throws(CodecError) -> AudioFrame {
        try run(nil, frameSize: MediaClock.audioSamplesPerFrame, fec: false, timestamp: timestamp)
    }

    /// Whether a packet carries in-band FEC for the previous frame (opus_packet_has_lbrr is 1.4+,
    /// so this only says whether decodeFEC is worth trying: any SILK/hybrid packet may).
    public static func mayCarryFEC(_ packet: [UInt8]) -> Bool {
        guard let toc = packet.first else { return false }
        return toc >> 3 < 16  // configs 0-15: SILK-only or hybrid
    }
}
