// The media API on a PeerConnection (issue 5 §6): one local video and audio source in, decoded
// remote frames and samples out, per-call statistics readable at any time. The engine behind it
// (RTP/RTCP, jitter buffers, retransmission, bandwidth estimation) lives in MediaEngine.swift.
import Codec
import Media

/// What a call sends with.
public struct MediaSessionConfiguration: Sendable {
    public var width: Int
    public var height: Int
    public var fps: Int
    public var startBitrate: Int
    public var minBitrate: Int
    public var maxBitrate: Int
    public var audioChannels: Int
    public var audioBitrate: Int
    /// libvpx speed (negative: fixed); -6 as libwebrtc on small boards.
    public var cpuUsed: Int
    /// Encode smaller than the camera while the bitrate is short for its size (ResolutionScaler);
    /// false keeps the camera's size whatever the link (libwebrtc's "maintain-resolution", and
    /// what a benchmark against the codec at fixed settings needs).
    public var adaptResolution: Bool

    /// `maxBitrate` defaults to what the picture size can use (`defaultMaxBitrate`); the start is
    /// libwebrtc's 300 kbps, from where the estimator slow-starts to what the path carries.
    public init(width: Int = 640, height: Int = 480, fps: Int = 30, startBitrate: Int = 300_000,
                minBitrate: Int = 100_000, maxBitrate: Int? = nil, audioChannels: Int = 1,
                audioBitrate: Int = 32_000, cpuUsed: Int = -6, adaptResolution: Bool = true) {
        self.width = width
        self.height = height
        self.fps = fps
        self.maxBitrate = maxBitrate ?? Self.defaultMaxBitrate(width: width, height: height)
        self.startBitrate = min(startBitrate, self.maxBitrate)
        self.minBitrate = minBitrate
        self.audioChannels = audioChannels
        self.audioBitrate = audioBitrate
        self.cpuUsed = cpuUsed
        self.adaptResolution = adaptResolution
    }

    /// The most a picture of this size is worth sending (libwebrtc's per-resolution defaults):
    /// beyond it VP8 spends bits on no visible gain, and a small board on packets it cannot afford.
    public static func defaultMaxBitrate(width: Int, height: Int) -> Int {
        switch width * height {
        case ...(320 * 240): 600_000
        case ...(640 * 480): 1_500_000
        case ...(960 * 540): 2_000_000
        default: 2_500_000
        }
    }
}

/// Per-call figures (a snapshot).
public struct MediaStatistics: Sendable, Equatable {
    public var framesSent = 0
    /// Remote frames decoded.
    public var framesReceived = 0
    /// Frames per second over the last statistics interval (out: encoded and sent, in: decoded).
    public var fpsIn = 0.0
    public var fpsOut = 0.0
    /// Bits per second over the last statistics interval (RTP payload and headers).
    public var videoBitrateIn = 0.0
    public var videoBitrateOut = 0.0
    public var audioPacketsIn = 0
    public var audioPacketsOut = 0
    /// Seconds, from RTCP report blocks about our streams (nil before the first one).
    public var roundTripTime: Double?
    /// Fraction (0...1) of our video packets the peer reports lost.
    public var lossFraction = 0.0
    /// Inbound video interarrival jitter in seconds.
    public var jitter = 0.0
    public var nacksSent = 0
    public var nacksReceived = 0
    public var plisSent = 0
    public var plisReceived = 0
    /// Remote frames the jitter buffer gave up on or the decoder refused.
    public var framesDropped = 0
    /// The sender's bandwidth estimate (bits per second) steering the encoder.
    public var estimatedBandwidth = 0
    /// The bandwidth estimate last applied to the sender (bits per second): the encoder gets it
    /// less audio and `retransmissionBitrateOut`.
    public var targetBitrate = 0
    /// Retransmissions (RTX) queued over the last second, bits per second, as last taken out of
    /// the encoder's target.
    public var retransmissionBitrateOut = 0
    /// Packets asked for by NACK and not resent because the last second's retransmissions
    /// already reached the bandwidth estimate.
    public var retransmissionsOverLimit = 0
    /// RMS level of the last decoded remote audio, 0...1.
    public var audioLevel = 0.0
    /// Remote audio frames played (decoded, FEC-recovered or concealed) and their energy as
    /// W3C getStats counts it (Σ level² × seconds).
    public var audioFramesReceived = 0
    public var totalAudioEnergy = 0.0
    /// Local frames not encoded because the encoder thread was behind (CPU starvation).
    public var framesEncoderDropped = 0
    /// Local frames libvpx's rate control skipped (a narrow uplink).
    public var framesSkippedByRateControl = 0
    /// Packets recovered by retransmission / retransmitted by us.
    public var packetsRetransmittedIn = 0
    public var packetsRetransmittedOut = 0
    /// Audio frames recovered from FEC or concealed.
    public var audioConcealed = 0
    /// The size video goes out at (smaller than the camera's while the ResolutionScaler holds it
    /// down; 0 before the first frame).
    public var frameWidthOut = 0
    public var frameHeightOut = 0
    /// Keyframes encoded / decoded.
    public var keyframesSent = 0
    public var keyframesReceived = 0
    /// Milliseconds from start() to the first decoded remote frame.
    public var firstFrameAfterMs: Double?
    /// CPU-seconds this endpoint spent inside libvpx (encoding, decoding) and libopus, measured
    /// on the threads that called them: the codec floor's share of the endpoint's cost, from the
    /// same frames at the same moment (what the rest of the process costs is the difference).
    public var videoEncodeCPUSeconds = 0.0
    public var videoDecodeCPUSeconds = 0.0
    public var audioCodecCPUSeconds = 0.0
    /// Remote video − audio capture-time offset at playout (lip sync, from SR NTP/RTP), seconds.
    public var videoLagSeconds: Double?

    public init() {}
}

/// Sends local media over a negotiated PeerConnection and decodes what the peer sends.
public final class MediaSession: @unchecked Sendable {
    public let peer: PeerConnection
    public let configuration: MediaSessionConfiguration
    let engine: MediaEngine

    /// Decoded remote video (on the session's decode thread; do not block it).
    public var onVideoFrame: (@Sendable (VideoFrame) -> Void)? {
        get { engine.callbacks.video }
        set { engine.callbacks.video = newValue }
    }
    /// Decoded remote video lent without a copy (on the session's decode thread; do not block
    /// it): the planes are libvpx's own and valid only until the callback returns. For a
    /// consumer done with the picture by then; with `onVideoFrame` also set, both are called.
    public var onDecodedPicture: (@Sendable (I420Planes) -> Void)? {
        get { engine.callbacks.picture }
        set { engine.callbacks.picture = newValue }
    }
    /// Decoded remote audio, 20 ms at 48 kHz.
    public var onAudioFrame: (@Sendable (AudioFrame) -> Void)? {
        get { engine.callbacks.audio }
        set { engine.callbacks.audio = newValue }
    }

    /// Runs on the video encoder's thread just before the call's encoder is created, when the
    /// call starts: libvpx zero-fills 21 MB there at 1280x720 (given back at once), so the
    /// resident set at that instant is the call's peak, and the programs trim their working set
    /// here (WorkingSet) to make it small. Set it before `start()`.
    public var beforeEncoderCreation: (@Sendable () -> Void)? {
        get { engine.videoEncoder.beforeCreation.withLock { $0 } }
        set { engine.videoEncoder.beforeCreation.withLock { $0 = newValue } }
    }

    /// Makes the video encoder of the next call with this configuration now. libvpx zero-fills
    /// 21 MB when it creates a 1280x720 encoder (the token buffer, given back at once,
    /// ZeroFilledBlock): made at process start, before the runtime and the signaling client grow,
    /// that instant adds to 3-4 MB instead of to a call's 14, and stays below the call's own
    /// working set. Holds about 3.4 MiB at 1280x720 until a call takes it.
    public static func reserveVideoEncoder(for configuration: MediaSessionConfiguration) throws(CodecError) {
        ReservedVideoEncoder.reserve(try VP8Encoder(configuration: VideoEncodeWorker.encoderConfiguration(
            configuration, width: configuration.width, height: configuration.height, bitrate: configuration.startBitrate)))
    }

    public init(peer: PeerConnection, configuration: MediaSessionConfiguration = .init()) {
        self.peer = peer
        self.configuration = configuration
        engine = MediaEngine(peer: peer, configuration: configuration)
    }

    /// Starts sending and receiving; call once negotiation completed (connected). Idempotent;
    /// after a renegotiation call it again to pick up new payload types, SSRCs or extensions.
    public func start() { engine.start() }

    /// Encodes and sends one frame (any thread; encoding runs on the video codec thread).
    public func send(video: VideoFrame) { engine.send(video: video) }

    /// Encodes and sends 20 ms of 48 kHz audio (any thread).
    public func send(audio: AudioFrame) { engine.send(audio: audio) }

    /// Asks the peer for a keyframe (PLI).
    public func requestKeyframe() { engine.requestKeyframe() }

    public func statistics() async -> MediaStatistics { await engine.statistics() }

    /// Stops timers and codecs; the PeerConnection stays as it is.
    public func stop() { engine.stop() }
}
