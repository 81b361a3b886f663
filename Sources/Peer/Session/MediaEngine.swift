// The media engine behind MediaSession, confined to the PeerConnection's event loop.
// Sender: encoded VP8 → RFC 7741 packets with PictureID → header extensions (RFC 8285: mid,
// abs-send-time, transport-wide sequence numbers) → retransmission history → pacer → SRTP.
// Opus → RFC 7587 packets. Receiver: route by payload type (unique across the BUNDLE, RFC 8843
// §9.2) → video jitter buffer (NACK, PLI) → VP8 decoder; audio jitter buffer → Opus decoder
// with FEC/PLC. RTCP (RFC 3550 §6, RFC 4585) lives in MediaEngine+RTCP.swift.
import Codec
import Dispatch
import Logging
import Media
import NIOCore
import Synchronization

final class MediaEngine: @unchecked Sendable {
    let peer: PeerConnection
    let configuration: MediaSessionConfiguration
    let loop: any EventLoop
    let callbacks = MediaCallbacks()
    let codecCounters = Locked(CodecCounters())
    let logger: Logger
    let videoEncoder: VideoEncodeWorker
    let audioEncoder: AudioEncodeWorker
    let videoDecoder: VideoDecodeWorker
    let audioDecoder: AudioDecodeWorker
    /// Read off the loop by send(video:) / send(audio:): media flows only while started.
    let running = Atomic<Bool>(false)

    // MARK: Loop-confined state
    var started = false
    var startedAt: MediaTime?
    var videoMedia: NegotiatedMedia?
    var audioMedia: NegotiatedMedia?
    // Sender.
    var videoPacketizer: VP8Packetizer?
    var opusPacketizer: OpusPacketizer?
    var history: RetransmissionHistory
    var pacer: Pacer
    var pacerWakeup: Scheduled<Void>?
    var pacerWakeupAt: MediaTime?
    var bandwidth: SendSideBandwidthEstimator
    /// The estimate last applied to the pacer, and the rate last given to the encoder.
    var appliedBitrate: Int
    var encoderBitrate: Int
    /// Retransmissions queued over the last second: bounded by the estimate, and taken out of
    /// the encoder's share.
    var retransmissions = BitrateWindow()
    var transportSequence = UInt16.random(in: 0...UInt16.max)
    var videoSendStats = SendStatistics()
    var audioSendStats = SendStatistics()
    let videoTimestampOffset = UInt32.random(in: 0...UInt32.max)
    var audioTimestamp = UInt32.random(in: 0...UInt32.max)
    var lastKeyframeServed: MediaTime?
    var roundTripNanoseconds: UInt64?
    // Receiver.
    var videoJitter = VideoJitterBuffer()
    var audioJitter = AudioJitterBuffer()
    var remoteVideoSSRC: UInt32?
    var remoteAudioSSRC: UInt32?
    var videoReceive = ReceiveStatistics(clockRate: 90_000)
    var audioReceive = ReceiveStatistics(clockRate: 48_000)
    var transportFeedback: TransportFeedbackGenerator?
    var lipSync = LipSync()
    var lastAudioPlayout: (rtp: UInt32, seconds: Double)?
    var nextAudioPull: MediaTime?
    // Timers and figures.
    var tickTask: Scheduled<Void>?
    var tickDue: MediaTime?
    /// How many times the tick's timer was armed (each costs NIO a timerfd_settime, and an armed
    /// timer that is cancelled still wakes the loop): the test of the stand-in reads it.
    var tickTimersArmed = 0
    var lastTick = MediaTime(nanoseconds: 0)
    var nextRTCP: MediaTime?
    var nextFeedback: MediaTime?
    var nextRate: MediaTime?
    var stats = MediaStatistics()
    var rateMark = RateMark()
    var videoBytesIn = 0
    var videoBytesOut = 0

    struct RateMark {
        var at: MediaTime?
        var framesSent = 0
        var framesDecoded = 0
        var bytesIn = 0
        var bytesOut = 0
    }

    init(peer: PeerConnection, configuration: MediaSessionConfiguration) {
        self.peer = peer
        self.configuration = configuration
        loop = peer.eventLoop
        var logger = peer.configuration.logger
        logger[metadataKey: "media"] = "session"
        self.logger = logger
        videoEncoder = VideoEncodeWorker(configuration: configuration, counters: codecCounters, logger: logger)
        audioEncoder = AudioEncodeWorker(configuration: configuration, counters: codecCounters, logger: logger)
        videoDecoder = VideoDecodeWorker(counters: codecCounters, callbacks: callbacks, logger: logger)
        audioDecoder = AudioDecodeWorker(counters: codecCounters, callbacks: callbacks, logger: logger)
        history = RetransmissionHistory(rtxSSRC: peer.localVideoRTXSSRC, rtxPayloadType: nil)
        pacer = Pacer(rate: configuration.startBitrate * 5 / 2)
        bandwidth = SendSideBandwidthEstimator(configuration: BandwidthEstimatorConfiguration(
            minimumBitrate: configuration.minBitrate, maximumBitrate: configuration.maxBitrate,
            startBitrate: configuration.startBitrate))
        appliedBitrate = configuration.startBitrate
        encoderBitrate = configuration.startBitrate
    }

    // MARK: Life cycle

    func start() {
        execute {
            self.refreshNegotiation()
            guard !self.started else { return }
            self.started = true
            let now = MediaTime.now()
            self.startedAt = now
            self.peer.onRTP = { [weak self] bytes in self?.receivedRTP(bytes) }
            self.peer.onRTCP = { [weak self] bytes in self?.receivedRTCP(bytes) }
            self.lastTick = now
            self.scheduleTick(after: now, audioDriven: false)
            self.running.store(true, ordering: .releasing)
            if self.videoMedia?.localSends == true { self.videoEncoder.prepare() }
            self.videoEncoder.requestKeyframe()
            self.logger.info("media session started (video pt \(self.videoMedia?.payloadType.map(String.init) ?? "-"), audio pt \(self.audioMedia?.payloadType.map(String.init) ?? "-"))")
        }
    }

    func stop() {
        running.store(false, ordering: .releasing)
        execute {
            guard self.started else { return }
            self.started = false
            self.tickTask?.cancel()
            self.tickTask = nil
            self.tickDue = nil
            self.pacerWakeup?.cancel()
            self.pacerWakeup = nil
            self.peer.onRTP = nil
            self.peer.onRTCP = nil
        }
    }

    /// Payload types, SSRCs and extension ids from the current descriptions (again after a
    /// renegotiation). Sequence numbers and PictureIDs continue across a change.
    func refreshNegotiation() {
        let media = peer.negotiatedMediaOnLoop
        let video = media.first { $0.kind == .video && ($0.localSends || $0.remoteSends) && $0.payloadType != nil }
        let audio = media.first { $0.kind == .audio && ($0.localSends || $0.remoteSends) && $0.payloadType != nil }
        if video != videoMedia {
            videoMedia = video
            if let pt = video?.payloadType, videoPacketizer?.payloadType != UInt8(truncatingIfNeeded: pt) {
                videoPacketizer = VP8Packetizer(ssrc: peer.localVideoSSRC, payloadType: UInt8(truncatingIfNeeded: pt),
                                                firstSequenceNumber: videoPacketizer?.sequenceNumber ?? .random(in: 0...0x7FFF),
                                                firstPictureID: videoPacketizer?.pictureID ?? .random(in: 0...0x7FFF))
            }
            let rtx = video?.rtxPayloadType.map { UInt8(truncatingIfNeeded: $0) }
            if history.rtxPayloadType != rtx {
                history = RetransmissionHistory(rtxSSRC: rtx == nil ? nil : peer.localVideoRTXSSRC, rtxPayloadType: rtx,
                                                firstRTXSequenceNumber: .random(in: 0...0x7FFF))
            }
        }
        if audio != audioMedia {
            audioMedia = audio
            if let pt = audio?.payloadType, opusPacketizer?.payloadType != UInt8(truncatingIfNeeded: pt) {
                opusPacketizer = OpusPacketizer(ssrc: peer.localAudioSSRC, payloadType: UInt8(truncatingIfNeeded: pt),
                                                firstSequenceNumber: opusPacketizer?.sequenceNumber ?? .random(in: 0...0x7FFF))
            }
        }
    }

    // MARK: Sender

    func send(video frame: VideoFrame) {
        guard running.load(ordering: .acquiring) else { return }
        let accepted = videoEncoder.submit(frame) { [weak self] encoded in
            guard let self else { return }
            self.loop.execute { self.sendEncoded(encoded) }
        }
        if !accepted { codecCounters.withLock { $0.framesDroppedBeforeEncode += 1 } }
    }

    func send(audio frame: AudioFrame) {
        guard running.load(ordering: .acquiring) else { return }
        _ = audioEncoder.submit(frame) { [weak self] opus in
            guard let self else { return }
            self.loop.execute { self.sendOpus(opus) }
        }
    }

    private func sendEncoded(_ encoded: EncodedVideoFrame) {
        guard started, let media = videoMedia, media.localSends, var packetizer = videoPacketizer else { return }
        let now = MediaTime.now()
        let timestamp = videoTimestampOffset &+ encoded.timestamp.ticks(rate: MediaClock.videoRTPClockRate)
        var packets = packetizer.packetize(encoded.data, timestamp: timestamp)
        videoPacketizer = packetizer
        let mid = media.extensionIDs.mid
        for index in packets.indices {
            if let mid { packets[index].setExtension(id: mid, value: SDESMid.encode(media.mid)) }
            history.store(packets[index], sentAt: now)
        }
        // Large frames leave slowly only once feedback shows the link limits the target: before
        // it, nothing is known, and the first keyframe at the full pacing rate reached the screen
        // in 164-173 ms in the 1 Mbit/s benchmark against 334-340 ms at the slow rate.
        let target = bandwidth.targetBitrate
        let linkLimited = bandwidth.hasFeedback && (!bandwidth.pathIsClear || target < bandwidth.configuration.maximumBitrate)
        pacer.enqueueFrame(packets, keyframe: encoded.isKeyframe, linkRate: linkLimited ? target : nil, now: now)
        stats.framesSent += 1
        if encoded.isKeyframe { stats.keyframesSent += 1 }
        drainPacer(now: now)
    }

    private func sendOpus(_ opus: [UInt8]) {
        guard started, let media = audioMedia, media.localSends, var packetizer = opusPacketizer else { return }
        var packet = packetizer.packetize(opus, timestamp: audioTimestamp)
        opusPacketizer = packetizer
        audioTimestamp &+= UInt32(MediaClock.audioSamplesPerFrame)
        if let mid = media.extensionIDs.mid { packet.setExtension(id: mid, value: SDESMid.encode(media.mid)) }
        pacer.enqueue(packet, kind: .audio)
        stats.audioPacketsOut += 1
        let now = MediaTime.now()
        drainPacer(now: now)
        // The microphone's 20 ms cadence drives the tick while it flows (see scheduleTick).
        if now.nanoseconds >= lastTick.nanoseconds + 15_000_000 { tick(now: now, audioDriven: true) }
    }

    /// Sends what the pacer allows now and wakes up when it allows more.
    func drainPacer(now: MediaTime) {
        for packet in pacer.dequeue(now: now) { transmit(packet, now: now) }
        guard let next = pacer.nextSendTime(now: now) else { return }
        if let pending = pacerWakeupAt, pending <= next { return }
        pacerWakeup?.cancel()
        pacerWakeupAt = next
        let delay = next.nanoseconds > now.nanoseconds ? Int64(next.nanoseconds - now.nanoseconds) : 0
        pacerWakeup = loop.scheduleTask(in: .nanoseconds(max(1_000_000, delay))) { [weak self] in
            guard let self else { return }
            self.pacerWakeupAt = nil
            self.pacerWakeup = nil
            self.drainPacer(now: MediaTime.now())
        }
    }

    /// Stamps the send-time extensions (new for every packet, retransmissions included) and sends.
    private func transmit(_ original: RTPPacket, now: MediaTime) {
        var packet = original
        let isAudio = packet.ssrc == peer.localAudioSSRC
        let ids = (isAudio ? audioMedia : videoMedia)?.extensionIDs ?? RTPExtensionIDs()
        if let id = ids.absSendTime { packet.setExtension(id: id, value: AbsSendTime.encode(now)) }
        if let id = ids.transportWideSequence {
            packet.setExtension(id: id, value: TransportSequenceNumber.encode(transportSequence))
            bandwidth.onPacketSent(transportSequenceNumber: transportSequence, bytes: packet.serializedSize, at: now)
            transportSequence &+= 1
        }
        let bytes = packet.serialize()
        if isAudio {
            audioSendStats.record(packet, at: now)
        } else if packet.ssrc == peer.localVideoSSRC {
            videoSendStats.record(packet, at: now)
            videoBytesOut += bytes.count
        } else {
            videoBytesOut += bytes.count
            stats.packetsRetransmittedOut += 1
        }
        peer.sendRTP(bytes)
    }

    /// PLI or FIR from the peer: one keyframe per 300 ms at most (no keyframe storms when a
    /// receiver repeats its request while the last keyframe is still on its way).
    func keyframeRequested(now: MediaTime) {
        if let last = lastKeyframeServed, now.nanoseconds < last.nanoseconds + 300_000_000 { return }
        lastKeyframeServed = now
        videoEncoder.requestKeyframe()
    }

    /// What audio takes out of the estimate before video gets the rest: the Opus rate plus its
    /// packets' RTP header, extensions and SRTP tag (about 40 bytes, 50 packets a second; the
    /// estimate is measured over the same bytes). Without the overhead, video filled the
    /// bottleneck to 97 % and kept a standing queue behind it.
    var audioReserve: Int { audioMedia?.localSends == true ? configuration.audioBitrate + 50 * 40 * 8 : 0 }

    /// Applies the bandwidth estimate to the pacer and, less audio and the last second's
    /// retransmissions, to the encoder (5 % hysteresis on each). Repairs take at most half of
    /// video's share, as libwebrtc bounds its protection overhead, so that a burst of NACKs
    /// cannot starve new frames.
    func applyBandwidthEstimate(now: MediaTime) {
        let target = bandwidth.targetBitrate
        stats.estimatedBandwidth = target
        pacer.burst = bandwidth.pathIsClear ? Pacer.clearBurst : Pacer.congestedBurst
        if abs(target - appliedBitrate) * 20 > appliedBitrate {
            appliedBitrate = target
            pacer.rate = max(100_000, target * 5 / 2)
        }
        let video = target - audioReserve
        let repairs = min(retransmissions.bitsPerSecond(at: now), max(0, video / 2))
        stats.retransmissionBitrateOut = repairs
        let encoder = max(configuration.minBitrate, video - repairs)
        guard abs(encoder - encoderBitrate) * 20 > encoderBitrate else { return }
        encoderBitrate = encoder
        videoEncoder.setBitrate(encoder)
    }

    // MARK: Receiver

    private func receivedRTP(_ bytes: [UInt8]) {
        guard started, let packet = try? RTPPacket.parse(bytes) else { return }
        let now = MediaTime.now()
        let pt = Int(packet.payloadType)
        if let video = videoMedia, pt == video.payloadType || pt == video.rtxPayloadType {
            recordTransportSequence(packet, ids: video.extensionIDs, now: now)
            if pt == video.payloadType {
                if remoteVideoSSRC != packet.ssrc {
                    if remoteVideoSSRC != nil { logger.info("remote video SSRC changed; restarting the jitter buffer") }
                    remoteVideoSSRC = packet.ssrc
                    videoJitter = VideoJitterBuffer()
                    videoReceive = ReceiveStatistics(clockRate: 90_000)
                }
                videoReceive.record(sequenceNumber: packet.sequenceNumber, rtpTimestamp: packet.timestamp, arrival: now,
                                    bytes: bytes.count)
                videoBytesIn += bytes.count
                insertVideo(packet, now: now)
            } else if let ssrc = remoteVideoSSRC, let primary = video.payloadType,
                      let restored = try? RTX.unwrap(packet, originalSSRC: ssrc, originalPayloadType: UInt8(truncatingIfNeeded: primary)) {
                stats.packetsRetransmittedIn += 1
                videoBytesIn += bytes.count
                insertVideo(restored, now: now)
            }
        } else if let audio = audioMedia, pt == audio.payloadType {
            recordTransportSequence(packet, ids: audio.extensionIDs, now: now)
            if remoteAudioSSRC != packet.ssrc {
                remoteAudioSSRC = packet.ssrc
                audioJitter = AudioJitterBuffer()
                audioReceive = ReceiveStatistics(clockRate: 48_000)
                nextAudioPull = nil
            }
            audioReceive.record(sequenceNumber: packet.sequenceNumber, rtpTimestamp: packet.timestamp, arrival: now,
                                bytes: bytes.count)
            audioJitter.insert(packet, now: now)
            stats.audioPacketsIn += 1
            if nextAudioPull == nil { nextAudioPull = now }
        }
    }

    private func recordTransportSequence(_ packet: RTPPacket, ids: RTPExtensionIDs, now: MediaTime) {
        guard let seq = packet.transportSequenceNumber(ids: ids) else { return }
        if transportFeedback == nil {
            transportFeedback = TransportFeedbackGenerator(senderSSRC: peer.localVideoSSRC, mediaSSRC: packet.ssrc)
        }
        transportFeedback?.record(transportSequenceNumber: seq, arrival: now)
    }

    private func insertVideo(_ packet: RTPPacket, now: MediaTime) {
        videoJitter.insert(packet, now: now)
        let frames = videoJitter.takeFrames()
        guard !frames.isEmpty else { return }
        let nowSeconds = Double(now.nanoseconds) / 1e9
        for frame in frames {
            if let audio = lastAudioPlayout,
               let lag = lipSync.videoLagSeconds(audioRTP: audio.rtp, audioPlayout: audio.seconds,
                                                 videoRTP: frame.rtpTimestamp, videoRender: nowSeconds) {
                stats.videoLagSeconds = lag
            }
            videoDecoder.submit(frame) { [weak self] in
                guard let self else { return }
                self.loop.execute { self.videoJitter.decoderFailed(now: MediaTime.now()) }
            }
        }
    }

    /// Every 20 ms (one audio frame): pull audio playout, NACK/PLI, transport feedback, RTCP
    /// reports, rates. Each tick wakes the event loop; 10 ms ticks cost 2-3.5 % more CPU per
    /// endpoint in the benchmark (three paired runs) for nothing the loss tests could see.
    ///
    /// While local audio flows, the tick runs from its sends (each a wake-up of the loop anyway),
    /// and the timer only stands in when they stop: `audioStandIn` after the last tick. Without
    /// audio the timer runs it every 20 ms.
    ///
    /// A pending timer that fires no later than the new due time is left alone. NIO re-arms its
    /// timerfd only for an earlier deadline, so cancelling the stand-in and scheduling a later
    /// one at every audio tick left the timer armed for the cancelled one: a wake-up for nothing
    /// at every tick (46 a second measured with strace). A stand-in that fires while the sends
    /// still tick moves on to the last tick + `audioStandIn`: one wake-up per 60 ms instead.
    private func scheduleTick(after last: MediaTime, audioDriven: Bool) {
        let due = last + (audioDriven ? Self.audioStandIn : MediaClock.audioFrameNanoseconds)
        if let pending = tickDue, pending <= due { return }
        tickTask?.cancel()
        tickDue = due
        tickTimersArmed += 1
        let now = MediaTime.now()
        let delay = due > now ? Int64(due.nanoseconds - now.nanoseconds) : 0
        tickTask = loop.scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            guard let self else { return }
            self.tickTask = nil
            self.tickDue = nil
            let now = MediaTime.now()
            if now.nanoseconds >= self.lastTick.nanoseconds + 15_000_000 {
                self.tick(now: now)
            } else {
                self.scheduleTick(after: self.lastTick, audioDriven: true)
            }
        }
    }

    /// How long the timer waits for the next audio-driven tick: three microphone frames and a
    /// bit. Only a microphone that stops mid-call (a device error) leaves playout this late once.
    static let audioStandIn: UInt64 = 65_000_000

    private func tick(now: MediaTime, audioDriven: Bool = false) {
        guard started else { return }
        lastTick = now
        scheduleTick(after: now, audioDriven: audioDriven)
        if var due = nextAudioPull {
            if now.nanoseconds > due.nanoseconds + 200_000_000 { due = now }  // the loop stalled: do not burst
            while due <= now {
                if let frame = audioJitter.pull(now: now) {
                    audioDecoder.submit(frame.playout)
                    lastAudioPlayout = (frame.rtpTimestamp, Double(now.nanoseconds) / 1e9)
                }
                due = due + MediaClock.audioFrameNanoseconds
            }
            nextAudioPull = due
        }
        sendVideoFeedback(now: now)
        if nextFeedback.map({ now >= $0 }) ?? true {
            nextFeedback = now + 50_000_000
            sendTransportFeedback()
        }
        if nextRTCP.map({ now >= $0 }) ?? true {
            // RFC 3550 §6.3.5: randomised interval (0.5...1.5 × 500 ms; a two-party call).
            nextRTCP = now + UInt64.random(in: 250_000_000...750_000_000)
            sendReports(now: now)
        }
        if nextRate.map({ now >= $0 }) ?? true {
            nextRate = now + 1_000_000_000
            updateRates(now: now)
            refreshNegotiation()  // a renegotiation may have changed payload types or extensions
        }
    }

    private func updateRates(now: MediaTime) {
        let decoded = codecCounters.value.framesDecoded
        if let at = rateMark.at, now > at {
            let seconds = Double(now.nanoseconds - at.nanoseconds) / 1e9
            stats.fpsOut = Double(stats.framesSent - rateMark.framesSent) / seconds
            stats.fpsIn = Double(decoded - rateMark.framesDecoded) / seconds
            stats.videoBitrateIn = Double(videoBytesIn - rateMark.bytesIn) * 8 / seconds
            stats.videoBitrateOut = Double(videoBytesOut - rateMark.bytesOut) * 8 / seconds
        }
        rateMark = RateMark(at: now, framesSent: stats.framesSent, framesDecoded: decoded,
                            bytesIn: videoBytesIn, bytesOut: videoBytesOut)
    }

    func statistics() async -> MediaStatistics {
        let loopStats = (try? await loop.submit { () -> MediaStatistics in
            var s = self.stats
            s.jitter = self.videoReceive.jitterSeconds
            s.framesDropped += self.videoJitter.statistics.framesDropped
            s.nacksSent = self.videoJitter.statistics.nacksSent
            s.audioConcealed = self.audioJitter.statistics.concealed + self.audioJitter.statistics.fecRecovered
            s.targetBitrate = self.appliedBitrate
            s.estimatedBandwidth = self.bandwidth.targetBitrate
            return s
        }.get()) ?? stats
        var s = loopStats
        let c = codecCounters.value
        s.framesReceived = c.framesDecoded
        s.keyframesReceived = c.keyframesDecoded
        s.framesDropped += c.decodeErrors
        s.audioLevel = c.audioLevel
        s.audioFramesReceived = c.audioFramesDecoded
        s.totalAudioEnergy = c.totalAudioEnergy
        s.framesEncoderDropped = c.framesDroppedBeforeEncode
        s.framesSkippedByRateControl = c.framesSkippedByRateControl
        (s.frameWidthOut, s.frameHeightOut) = (c.encodedWidth, c.encodedHeight)
        s.videoEncodeCPUSeconds = Double(c.videoEncodeNanoseconds) / 1e9
        s.videoDecodeCPUSeconds = Double(c.videoDecodeNanoseconds) / 1e9
        s.audioCodecCPUSeconds = Double(c.audioCodecNanoseconds) / 1e9
        if let first = c.firstFrameDecodedAt, let start = try? await loop.submit({ self.startedAt }).get(), first >= start {
            s.firstFrameAfterMs = Double(first.nanoseconds - start.nanoseconds) / 1e6
        }
        return s
    }

    func requestKeyframe() {
        execute { self.sendPLI(now: MediaTime.now()) }
    }

    func execute(_ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }
}
