// The codecs of a media session. libvpx takes milliseconds a frame, so VP8 never runs on the
// peer's event loop (which carries every packet and timer): each VP8 codec lives on its own serial
// queue, takes work from any thread, and hands results back through a closure; an encoder that falls
// behind drops older raw frames for the newest (never encoded ones: references must stay whole). Opus takes tens of
// microseconds a frame and runs where the frame is (the microphone's thread, the playout tick).
import Codec
import Dispatch
import Logging
import Media
import Synchronization

/// Callbacks set from any thread, read on the decode queues. They live in an immutable class
/// swapped under the lock, so a read is one reference load: storing closures in a generic
/// container would wrap them in reabstraction thunks on every read.
final class MediaCallbacks: Sendable {
    final class Handlers: Sendable {
        let video: (@Sendable (VideoFrame) -> Void)?
        let picture: (@Sendable (I420Planes) -> Void)?
        let audio: (@Sendable (AudioFrame) -> Void)?
        init(video: (@Sendable (VideoFrame) -> Void)?, picture: (@Sendable (I420Planes) -> Void)?,
             audio: (@Sendable (AudioFrame) -> Void)?) {
            self.video = video
            self.picture = picture
            self.audio = audio
        }
    }
    private let box = Mutex<Handlers>(Handlers(video: nil, picture: nil, audio: nil))
    var current: Handlers { box.withLock { $0 } }
    var video: (@Sendable (VideoFrame) -> Void)? {
        get { current.video }
        set { box.withLock { $0 = Handlers(video: newValue, picture: $0.picture, audio: $0.audio) } }
    }
    var picture: (@Sendable (I420Planes) -> Void)? {
        get { current.picture }
        set { box.withLock { $0 = Handlers(video: $0.video, picture: newValue, audio: $0.audio) } }
    }
    var audio: (@Sendable (AudioFrame) -> Void)? {
        get { current.audio }
        set { box.withLock { $0 = Handlers(video: $0.video, picture: $0.picture, audio: newValue) } }
    }
}

/// A value behind a lock, shareable by reference between threads.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

/// Counters the codec threads update (read by `statistics()`).
struct CodecCounters: Sendable {
    var framesEncoded = 0
    var encodedWidth = 0
    var encodedHeight = 0
    var framesDroppedBeforeEncode = 0
    var framesSkippedByRateControl = 0
    var encodeErrors = 0
    var framesDecoded = 0
    var keyframesDecoded = 0
    var decodeErrors = 0
    var audioFramesDecoded = 0
    var audioLevel = 0.0
    var totalAudioEnergy = 0.0
    var firstFrameDecodedAt: MediaTime?
    /// Thread CPU time inside libvpx and libopus calls (the codec floor's share of this endpoint).
    var videoEncodeNanoseconds: UInt64 = 0
    var videoDecodeNanoseconds: UInt64 = 0
    var audioCodecNanoseconds: UInt64 = 0
}

/// VP8 encoding on its own thread; bitrate and keyframe requests are applied between frames.
final class VideoEncodeWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "videophone.video-encode")
    /// The frame waiting for the encoder (one: a newer one takes its place), and the requests
    /// applied before the next encode.
    private struct Waiting {
        var frame: VideoFrame?
        var deliver: (@Sendable (EncodedVideoFrame) -> Void)?
        var bitrate: Int?
        var keyframe = false
        /// Frames replaced while waiting since the last one taken (VP8Encoder.encode's clock).
        var skipped = 0
    }
    private let state = Mutex<Waiting>(Waiting())
    /// MediaSession.beforeEncoderCreation.
    let beforeCreation = Mutex<(@Sendable () -> Void)?>(nil)
    private let configuration: MediaSessionConfiguration
    private let counters: Locked<CodecCounters>
    private let logger: Logger
    // Queue-confined.
    private var encoder: VP8Encoder?
    private var scaler: ResolutionScaler?
    private var bitrate: Int
    private var lastTimestamp: UInt64 = 0

    init(configuration: MediaSessionConfiguration, counters: Locked<CodecCounters>, logger: Logger) {
        self.configuration = configuration
        self.counters = counters
        self.logger = logger
        bitrate = configuration.startBitrate
    }

    /// Creates the encoder for the configured picture size now, before the first frame. Its
    /// start-up zero-fills a buffer libvpx sizes for the worst case (21 MB at 1280x720, given
    /// back at once: ZeroFilledBlock); done while the call's other buffers are still empty (just
    /// after the call-start trim, before the first remote keyframe), that instant is not the
    /// call's peak resident set. A camera that delivers another size re-creates it, as before.
    func prepare() {
        queue.async { [self] in
            guard encoder == nil else { return }
            beforeCreation.withLock { $0 }?()
            do {
                encoder = try makeEncoder(width: configuration.width, height: configuration.height)
            } catch {
                logger.warning("VP8 encoder not prepared: \(error)")
            }
        }
    }

    private func makeEncoder(width: Int, height: Int) throws(CodecError) -> VP8Encoder {
        let wanted = Self.encoderConfiguration(configuration, width: width, height: height, bitrate: bitrate)
        if let reserved = ReservedVideoEncoder.take(matching: wanted) {
            try reserved.setTargetBitrate(bitrate)
            return reserved
        }
        return try VP8Encoder(configuration: wanted)
    }

    static func encoderConfiguration(_ session: MediaSessionConfiguration, width: Int, height: Int,
                                     bitrate: Int) -> VP8EncoderConfiguration {
        VP8EncoderConfiguration(width: width, height: height, framesPerSecond: session.fps, bitrate: bitrate,
                                cpuUsed: session.cpuUsed, threads: 1, keyframeInterval: nil, allowFrameDropping: true)
    }

    func setBitrate(_ bitsPerSecond: Int) { state.withLock { $0.bitrate = bitsPerSecond } }
    func requestKeyframe() { state.withLock { $0.keyframe = true } }

    /// Hands a frame to the encoder; false when it replaced one still waiting, which is dropped.
    /// At most one frame waits while one is encoded: a slow encoder sends the newest picture
    /// (lower latency), and no more than three frames of the camera's size are alive at once
    /// (the one being captured, the waiting one, the one being encoded: 4 MiB at 1280x720).
    func submit(_ frame: VideoFrame, deliver: @escaping @Sendable (EncodedVideoFrame) -> Void) -> Bool {
        let (replaced, schedule) = state.withLock { s -> (Bool, Bool) in
            let replaced = s.frame != nil
            if replaced { s.skipped += 1 }
            s.frame = frame
            s.deliver = deliver
            return (replaced, !replaced)
        }
        if schedule {
            queue.async { [self] in
                let (frame, deliver, bitrate, keyframe, skipped) = state.withLock { s in
                    defer { s = Waiting() }
                    return (s.frame, s.deliver, s.bitrate, s.keyframe, s.skipped)
                }
                guard let frame, let deliver else { return }
                let cpu = ThreadCPUClock.nanoseconds()
                let encoded = encode(frame, bitrate: bitrate, keyframe: keyframe, skipped: skipped)
                let spent = ThreadCPUClock.nanoseconds() &- cpu
                counters.withLock { $0.videoEncodeNanoseconds &+= spent }
                if let encoded { deliver(encoded) }
            }
        }
        return !replaced
    }

    /// The encoded frame, or nil when rate control skipped it or the encoder failed. Delivery is
    /// the caller's, outside the codec's CPU time.
    private func encode(_ input: VideoFrame, bitrate: Int?, keyframe: Bool, skipped: Int) -> EncodedVideoFrame? {
        do {
            if let bitrate { self.bitrate = bitrate }
            if encoder == nil {
                encoder = try makeEncoder(width: input.width, height: input.height)
            } else if bitrate != nil {
                try encoder?.setTargetBitrate(self.bitrate)
            }
            guard let encoder else { return nil }
            if configuration.adaptResolution, scaler?.width != input.width || scaler?.height != input.height {
                let fresh = ResolutionScaler(width: input.width, height: input.height, framesPerSecond: configuration.fps,
                                             startBitrate: self.bitrate)
                scaler = fresh
                try rescale(encoder, to: fresh.scale, by: fresh)
            }
            if keyframe { encoder.requestKeyframe() }
            // RTP timestamps come from capture times; a source without them (0, or repeating)
            // gets the time it was encoded so every frame keeps its own timestamp.
            var frame = input
            if frame.timestamp.nanoseconds <= lastTimestamp { frame.timestamp = MediaTime.now() }
            if frame.timestamp.nanoseconds <= lastTimestamp { frame.timestamp = MediaTime(nanoseconds: lastTimestamp + 1_000_000) }
            lastTimestamp = frame.timestamp.nanoseconds
            var encoded = try encoder.encode(frame, skippedBefore: skipped)
            // A keyframe the link cannot carry at this size is encoded again smaller (see
            // ResolutionScaler.keyframeTooLarge); the large one is never sent.
            while let key = encoded, key.isKeyframe, var s = scaler,
                  let smaller = s.keyframeTooLarge(bytes: key.data.count, bitrate: self.bitrate, now: MediaTime.now()) {
                try rescale(encoder, to: smaller, by: s)
                try encoder.restart()
                scaler = s
                encoded = try encoder.encode(frame)
            }
            if var s = scaler {
                if let newScale = s.frameEncoded(quantizer: encoded == nil ? nil : encoder.lastQuantizer,
                                                 bitrate: self.bitrate, now: MediaTime.now()) {
                    try rescale(encoder, to: newScale, by: s)
                }
                scaler = s
            }
            guard let encoded else {
                counters.withLock { $0.framesSkippedByRateControl += 1 }
                return nil
            }
            let coded = encoder.scale.size(width: input.width, height: input.height)
            counters.withLock { c in
                c.framesEncoded += 1
                (c.encodedWidth, c.encodedHeight) = coded
            }
            return encoded
        } catch {
            counters.withLock { $0.encodeErrors += 1 }
            logger.warning("VP8 encode failed: \(error)")
            return nil
        }
    }

    private func rescale(_ encoder: VP8Encoder, to scale: VP8Scale, by scaler: ResolutionScaler) throws(CodecError) {
        guard scale != encoder.scale else { return }
        let was = encoder.scale
        try encoder.setScale(scale)
        let size = scaler.codedSize
        let what = scale > was ? "scaled down" : "scaled up"
        logger.info("video \(what) to \(size.width)x\(size.height) (\(scale) of \(scaler.width)x\(scaler.height)): \(scaler.reason)")
    }
}

/// One VP8 encoder made before a call needs it (MediaSession.reserveVideoEncoder), for the first
/// call whose settings match.
enum ReservedVideoEncoder {
    /// Hands the encoder from the thread that made it to the encode queue that takes it: only
    /// one of them holds it at a time, so it is never used from two threads.
    private final class Handover: @unchecked Sendable {
        let encoder: VP8Encoder
        init(_ encoder: VP8Encoder) { self.encoder = encoder }
    }
    private static let slot = Mutex<Handover?>(nil)

    static func reserve(_ encoder: VP8Encoder) {
        let handover = Handover(encoder)
        slot.withLock { $0 = handover }
    }

    /// The reserved encoder when it was made with `wanted` (the bitrate aside: it changes in
    /// place). Either way the slot is emptied: an encoder of other settings would only hold
    /// memory through the call.
    static func take(matching wanted: VP8EncoderConfiguration) -> VP8Encoder? {
        let handover = slot.withLock { reserved in
            defer { reserved = nil }
            return reserved
        }
        guard let encoder = handover?.encoder else { return nil }
        var same = wanted
        same.bitrate = encoder.configuration.bitrate
        return encoder.configuration == same ? encoder : nil
    }
}

/// Opus encoding on the caller's thread (the microphone's): a 20 ms frame costs tens of
/// microseconds, less than handing it to another thread and waking it. The lock only orders
/// callers if the source ever changes thread; it is not contended in a call.
final class AudioEncodeWorker: Sendable {
    private struct State {
        var encoder: OpusEncoder?
        var loss: Int?
    }
    private let state = Mutex<State>(State())
    private let configuration: MediaSessionConfiguration
    private let counters: Locked<CodecCounters>
    private let logger: Logger

    init(configuration: MediaSessionConfiguration, counters: Locked<CodecCounters>, logger: Logger) {
        self.configuration = configuration
        self.counters = counters
        self.logger = logger
    }

    func setExpectedLoss(percent: Int) { state.withLock { $0.loss = percent } }

    /// Encodes `frame` now and hands the packet to `deliver`; false when the frame is refused.
    func submit(_ frame: AudioFrame, deliver: @Sendable ([UInt8]) -> Void) -> Bool {
        guard frame.samplesPerChannel == MediaClock.audioSamplesPerFrame, frame.channels == configuration.audioChannels else {
            logger.warning("audio frame refused: \(frame.samplesPerChannel) samples × \(frame.channels) channels (want 960 × \(configuration.audioChannels))")
            return false
        }
        let cpu = ThreadCPUClock.nanoseconds()
        let encoded = state.withLock { s -> [UInt8]? in
            do {
                if s.encoder == nil {
                    s.encoder = try OpusEncoder(configuration: OpusEncoderConfiguration(
                        channels: configuration.audioChannels, bitrate: configuration.audioBitrate))
                }
                guard let encoder = s.encoder else { return nil }
                if let loss = s.loss {
                    s.loss = nil
                    try encoder.setExpectedPacketLoss(percent: max(5, min(30, loss)))
                }
                return try encoder.encode(frame)
            } catch {
                logger.warning("Opus encode failed: \(error)")
                return nil
            }
        }
        let spent = ThreadCPUClock.nanoseconds() &- cpu
        counters.withLock { $0.audioCodecNanoseconds &+= spent }
        guard let encoded else { return false }
        deliver(encoded)
        return true
    }
}

/// VP8 decoding on its own thread; decoded frames go to the session's callback from here.
final class VideoDecodeWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "videophone.video-decode")
    private let counters: Locked<CodecCounters>
    private let callbacks: MediaCallbacks
    private let logger: Logger
    private var decoder: VP8Decoder?
    private var sequence: UInt64 = 0

    init(counters: Locked<CodecCounters>, callbacks: MediaCallbacks, logger: Logger) {
        self.counters = counters
        self.callbacks = callbacks
        self.logger = logger
    }

    /// Decodes one assembled frame; `failed` runs (on this queue) when the decoder refuses it.
    func submit(_ frame: AssembledVideoFrame, failed: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            if decoder == nil {
                do { decoder = try VP8Decoder(threads: 1) } catch {
                    logger.error("VP8 decoder: \(error)")
                    return
                }
            }
            guard let decoder else { return }
            sequence += 1
            let handlers = callbacks.current
            let cpu = ThreadCPUClock.nanoseconds()
            // The codec's CPU time ends where the picture is handed on (a copy for `video`
            // counts: it is the decoder's way out; what the callbacks do does not).
            func decoded() {
                let now = MediaTime.now()
                let spent = ThreadCPUClock.nanoseconds() &- cpu
                counters.withLock {
                    $0.videoDecodeNanoseconds &+= spent
                    $0.framesDecoded += 1
                    if frame.isKeyframe { $0.keyframesDecoded += 1 }
                    if $0.firstFrameDecodedAt == nil { $0.firstFrameDecodedAt = now }
                }
            }
            do {
                if handlers.video == nil {
                    // Only borrowers (or nobody): libvpx's picture is lent, never copied.
                    try decoder.decodePicture(frame.data) { planes in
                        decoded()
                        handlers.picture?(planes)
                    }
                } else {
                    let picture = try decoder.decode(frame.data, timestamp: MediaTime.now(), sequence: sequence)
                    decoded()
                    if let borrow = handlers.picture { picture.withPlanes(borrow) }
                    handlers.video?(picture)
                }
            } catch {
                let spent = ThreadCPUClock.nanoseconds() &- cpu
                counters.withLock { $0.decodeErrors += 1; $0.videoDecodeNanoseconds &+= spent }
                logger.debug("VP8 decode: \(error)")
                failed()
            }
        }
    }
}

/// Opus decoding (with FEC and concealment) where the playout clock pulls it (the peer's event
/// loop): a 20 ms frame decodes in tens of microseconds, less than waking another thread for it.
/// The frame then goes to the session's callback, which must not block (speakers queue it).
final class AudioDecodeWorker: Sendable {
    private let decoder = Mutex<OpusDecoder?>(nil)
    private let counters: Locked<CodecCounters>
    private let callbacks: MediaCallbacks
    private let logger: Logger

    init(counters: Locked<CodecCounters>, callbacks: MediaCallbacks, logger: Logger) {
        self.counters = counters
        self.callbacks = callbacks
        self.logger = logger
    }

    func submit(_ playout: AudioPlayout) {
        let now = MediaTime.now()
        let cpu = ThreadCPUClock.nanoseconds()
        let decoded = decoder.withLock { decoder -> AudioFrame? in
            if decoder == nil {
                do { decoder = try OpusDecoder(channels: 1) } catch {
                    logger.error("Opus decoder: \(error)")
                    return nil
                }
            }
            guard let opus = decoder else { return nil }
            do {
                switch playout {
                case .decode(let packet): return try opus.decode(packet, timestamp: now)
                case .decodeFEC(let next): return try opus.decodeFEC(from: next, timestamp: now)
                case .conceal: return try opus.conceal(timestamp: now)
                }
            } catch {
                logger.debug("Opus decode: \(error)")
                return (try? opus.conceal(timestamp: now)) ?? AudioFrame.silence(timestamp: now)
            }
        }
        let spent = ThreadCPUClock.nanoseconds() &- cpu
        guard let frame = decoded else { return }
        var sum = 0.0
        for s in frame.samples { let v = Double(s) / 32768; sum += v * v }
        let rms = frame.samples.isEmpty ? 0 : (sum / Double(frame.samples.count)).squareRoot()
        counters.withLock {
            $0.audioCodecNanoseconds &+= spent
            $0.audioFramesDecoded += 1
            $0.audioLevel = rms
            // As W3C getStats totalAudioEnergy: level² × seconds.
            $0.totalAudioEnergy += rms * rms * Double(frame.durationNanoseconds) / 1e9
        }
        callbacks.current.audio?(frame)
    }
}
