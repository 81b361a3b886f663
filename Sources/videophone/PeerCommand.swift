import Appliance
import ArgumentParser
import Capture
import Foundation
import Media
import Logging
import NIOCore
import NIOPosix
import Peer
import Signaling
import SignalingCore
import Synchronization

/// `videophone peer`: our WebRTC endpoint in a room, for field checks, interop tests and the media
/// benchmark. Joins, answers every incoming call (or calls the first other member with --call),
/// sends the synthetic camera (moving pattern, frame numbers stamped) and a tone through a
/// MediaSession, decodes what arrives, and prints JSON lines: joined, call, states, timing, stats.
struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Join a room as a WebRTC endpoint; answer or place a call and report what arrives.",
        discussion: """
        stdout: one JSON object per line: {"event":"joined"}, {"event":"call",...},
        {"event":"connectionState","state":...}, {"event":"timing",...} and every --stats-interval
        {"event":"stats","connectionState":...,"srtpPacketsBySSRC":{SSRC:count},"rtcpPackets":N,
        "videoFramesDecoded":N,"fpsIn":F,"fpsOut":F,"stamped":{...},"audioPeak":N,"totalAudioEnergy":F,
        "media":{MediaStatistics},"cpuSeconds":F,"maxRSSKiB":N,...}.
        """
    )

    @Option(help: "Server URL (http, https, ws or wss).") var server: String
    @Option(help: "Room to join.") var room: String
    @Option(help: "Name announced to the room.") var name: String = "videophone"
    @Flag(help: "Call the first other member instead of waiting to be called.") var call = false
    @Flag(help: "Use only TURN relay candidates (servers from the signaling server's ice:servers).")
    var relayOnly = false
    @Flag(help: "Gather loopback addresses only (tests in a network namespace).") var loopbackOnly = false
    @Option(help: "Seconds between stats lines.") var statsInterval: Double = 1
    @Option(name: .customLong("ca-file"), help: "Extra PEM CA file trusted for https/wss.") var caFile: String?
    @Option(help: "Directory holding the DTLS certificate (created once); default: in memory.")
    var stateDir: String?
    @Option(help: "Log level (trace, debug, info, notice, warning, error).") var logLevel: String = "info"
    @Option(help: "Synthetic camera width.") var width: Int = 640
    @Option(help: "Synthetic camera height.") var height: Int = 480
    @Option(help: "Synthetic camera frames per second.") var fps: Int = 30
    @Option(help: "Video start bitrate (bits per second); libwebrtc's start.") var bitrate: Int = 300_000
    @Option(help: "Video bitrate ceiling for bandwidth estimation (bits per second).") var maxBitrate: Int = 1_500_000
    @Option(help: "Synthetic microphone tone (Hz).") var tone: Double = 440
    @Option(help: "Synthetic camera scene: bars (flat, compresses far under any bitrate) or camera (texture and sensor noise: fills the bitrate like a real camera).")
    var scene: SyntheticCamera.Scene = .bars
    @Flag(help: "Send nothing (receive and decode only).") var noMedia = false
    @Flag(help: "Keep the camera's size whatever the bitrate (the benchmark compares with the codec at fixed settings).")
    var fixedResolution = false
    @Option(help: "Diagnostics: conditions for every datagram this endpoint sends, as if its link had them, e.g. 'loss=5%,jitter=30ms' or 'rate=300k,queue=200ms' (keys: loss, duplicate, delay, jitter, rate, queue).")
    var impairSend: String = ""
    @Option(help: "Diagnostics: the same for every datagram it receives.") var impairReceive: String = ""

    func run() async throws {
        guard let url = URL(string: server), url.host != nil else { throw ValidationError("invalid --server URL '\(server)'") }
        signal(SIGPIPE, SIG_IGN)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "videophone.peer")
        if !noMedia {
            // First thing: the encoder's start-up zero-fill then adds to the smallest resident set
            // this process has (MediaSession.reserveVideoEncoder); width, height and fps are final.
            // The code that start-up ran so far goes first (WorkingSet), as it does when idle.
            WorkingSet.trim()
            do {
                try MediaSession.reserveVideoEncoder(for: MediaSessionConfiguration(
                    width: width, height: height, fps: fps, startBitrate: min(bitrate, maxBitrate), maxBitrate: maxBitrate))
            } catch {
                logger.warning("VP8 encoder not made ahead of the call: \(error)")
            }
        }
        let impairment: ImpairedSocketFactory?
        do {
            let send = try LinkConditions(spec: impairSend), receive = try LinkConditions(spec: impairReceive)
            impairment = send.isClear && receive.isClear ? nil : ImpairedSocketFactory(send: send, receive: receive)
        } catch {
            throw ValidationError("--impair-send/--impair-receive: \(error)")
        }
        if let impairment {
            logger.notice("network impairment on (diagnostics): sending \(impairment.send), receiving \(impairment.receive)")
        }
        // The identity exists before any call: set-up never pays for key generation.
        let certificate = try stateDir.map { try DTLSCertificate.loadOrCreate(directory: $0) } ?? DTLSCertificate.generate()
        let output = JSONLineWriter()
        let client = SignalingClient(
            configuration: SocketIOConfiguration(engine: EngineIOConfiguration(url: url, extraCAFile: caFile)),
            logger: logger)
        let media = MediaSessionConfiguration(width: width, height: height, fps: fps, startBitrate: min(bitrate, maxBitrate),
                                              maxBitrate: maxBitrate, adaptResolution: !fixedResolution)
        let bridge = PeerCallBridge(client: client, output: output, logger: logger, certificate: certificate,
                                    relayOnly: relayOnly, loopbackOnly: loopbackOnly, placeCall: call,
                                    media: media,
                                    tone: tone, scene: scene, sendMedia: !noMedia, impairment: impairment)

        let events = Task { await bridge.run() }
        let membership = Task {
            for await id in client.membershipUpdates() where id != nil {
                output.write(["event": .string("joined"), "id": .string(id!)])
            }
        }
        let stats = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(statsInterval))
                await bridge.reportStats()
            }
        }
        try await client.join(room: room, userName: name)
        await client.start()
        // Runs until stdin closes or the process is terminated.
        let stdinClosed = AsyncStream<Void> { continuation in
            Thread.detachNewThread {
                while readLine() != nil {}
                continuation.finish()
            }
        }
        for await _ in stdinClosed {}
        await bridge.hangUp()
        stats.cancel()
        membership.cancel()
        try? await client.leave()
        await client.stop()
        await events.value
    }
}

/// Wires the signaling contract (the seed's events) to one PeerConnection at a time.
actor PeerCallBridge {
    let client: SignalingClient
    let output: JSONLineWriter
    let logger: Logger
    let certificate: DTLSCertificate
    let relayOnly: Bool
    let loopbackOnly: Bool
    let placeCall: Bool
    let group = MultiThreadedEventLoopGroup.singleton
    var peer: PeerConnection?
    var remoteID: String?
    var members: [String] = []
    let mediaConfiguration: MediaSessionConfiguration
    let tone: Double
    let scene: SyntheticCamera.Scene
    let sendMedia: Bool
    let impairment: ImpairedSocketFactory?
    var session: MediaSession?
    var pump: MediaPump?
    var tally: ReceiveTally?

    init(client: SignalingClient, output: JSONLineWriter, logger: Logger, certificate: DTLSCertificate,
         relayOnly: Bool, loopbackOnly: Bool, placeCall: Bool, media: MediaSessionConfiguration, tone: Double,
         scene: SyntheticCamera.Scene, sendMedia: Bool, impairment: ImpairedSocketFactory?) {
        mediaConfiguration = media
        self.impairment = impairment
        self.tone = tone
        self.scene = scene
        self.sendMedia = sendMedia
        self.client = client
        self.output = output
        self.logger = logger
        self.certificate = certificate
        self.relayOnly = relayOnly
        self.loopbackOnly = loopbackOnly
        self.placeCall = placeCall
    }

    func run() async {
        for await event in client.events {
            guard case .server(let e) = event else { continue }
            do { try await handle(e) } catch {
                logger.error("\(e.name): \(error)")
                output.write(["event": .string("error"), "message": .string("\(e.name): \(error)")])
            }
        }
    }

    func handle(_ event: ServerEvent) async throws {
        switch event {
        case .roomJoined(let joined):
            members = joined.users.map(\.id).filter { $0 != joined.id }
            if placeCall, peer == nil, let other = members.first { try await startCall(to: other) }
        case .userJoined(let user):
            members.append(user.id)
            if placeCall, peer == nil { try await startCall(to: user.id) }
        case .userLeft(let user):
            members.removeAll { $0 == user.id }
            if user.id == remoteID { await hangUp(notify: false) }
        case .incomingCall(let from, let offer):
            guard peer == nil else {
                try await client.send(.endCall(to: from))  // busy
                return
            }
            output.write(["event": .string("call"), "direction": .string("incoming"), "from": .string(from)])
            let pc = try await makePeer(remote: from)
            try await pc.setRemoteDescription(type: .offer, sdp: offer.sdp)
            let answer = try await pc.createAnswer()
            try await client.send(.accept(to: from, answer: SessionDescription(type: .answer, sdp: answer)))
        case .callAccepted(let from, let answer):
            guard from == remoteID, let pc = peer else { return }
            try await pc.setRemoteDescription(type: .answer, sdp: answer.sdp)
        case .negotiationNeeded(let from, let offer):
            guard from == remoteID, let pc = peer else { return }
            try await pc.setRemoteDescription(type: .offer, sdp: offer.sdp)
            let answer = try await pc.createAnswer()
            try await client.send(.negotiationDone(to: from, answer: SessionDescription(type: .answer, sdp: answer)))
            session?.start()  // picks up changed payload types, SSRCs or extensions
            output.write(["event": .string("renegotiated"), "role": .string("answerer")])
        case .negotiationFinal(let from, let answer):
            guard from == remoteID, let pc = peer else { return }
            try await pc.setRemoteDescription(type: .answer, sdp: answer.sdp)
            session?.start()
            output.write(["event": .string("renegotiated"), "role": .string("offerer")])
        case .iceCandidate(let from, let candidate):
            guard from == remoteID, let pc = peer else { return }
            if let text = candidate?.candidate, !text.isEmpty {
                pc.addRemoteCandidate(try IceCandidateLine.parse(text))
            } else {
                pc.addRemoteCandidate(nil)
            }
        case .callEnded(let from):
            if from == remoteID { await hangUp(notify: false) }
        case .roomFull, .chat:
            break
        }
    }

    func startCall(to other: String) async throws {
        output.write(["event": .string("call"), "direction": .string("outgoing"), "to": .string(other)])
        let pc = try await makePeer(remote: other)
        let offer = try await pc.createOffer()
        try await client.send(.call(to: other, offer: SessionDescription(type: .offer, sdp: offer)))
    }

    func makePeer(remote: String) async throws -> PeerConnection {
        var ice = IceConfiguration()
        ice.loopbackOnly = loopbackOnly
        ice.relayOnly = relayOnly
        // ICE servers come from the signaling server (TURN credentials are short-lived).
        if let reply = try? await client.request("ice:servers", [], timeout: .seconds(3)),
           case .object(let body)? = reply.first, case .array(let servers)? = body["iceServers"] {
            for case .object(let server) in servers {
                var urls: [String] = []
                switch server["urls"] {
                case .string(let u)?: urls = [u]
                case .array(let list)?: urls = list.compactMap { if case .string(let u) = $0 { u } else { nil } }
                default: break
                }
                let username: String? = if case .string(let u)? = server["username"] { u } else { nil }
                let credential: String? = if case .string(let c)? = server["credential"] { c } else { nil }
                for reason in ice.addServer(urls: urls, username: username, credential: credential) {
                    logger.notice("ICE server skipped: \(reason)")
                }
            }
        }
        if relayOnly, ice.turnServers.isEmpty { throw PeerConnectionError("--relay-only but the server offers no TURN server") }
        let configuration = PeerConnectionConfiguration(ice: ice, certificate: certificate, logger: logger)
        let pc = PeerConnection(configuration: configuration, eventLoop: group.next(),
                                socketFactory: impairment ?? UDPSocketFactory())
        let client = self.client, output = self.output, logger = self.logger
        pc.onLocalCandidate = { candidate in
            let wire = candidate.map { IceCandidate(candidate: $0.serialize(), sdpMid: "0", sdpMLineIndex: 0) }
            Task { try? await client.send(.iceCandidate(to: remote, candidate: wire)) }
        }
        // The media session starts on the loop the moment the call connects, so the first
        // packets (the keyframe) are not missed.
        let session = MediaSession(peer: pc, configuration: mediaConfiguration)
        session.beforeEncoderCreation = { WorkingSet.trim(logger: logger, when: "before the encoder") }
        let tally = ReceiveTally()
        // The tally reads a few pixels and keeps nothing: it borrows the decoder's picture.
        session.onDecodedPicture = { picture in tally.video(picture) }
        session.onAudioFrame = { frame in tally.audio(frame) }
        self.session = session
        self.tally = tally
        let callStart = FirstTime()
        pc.onConnectionStateChange = { [weak self] state in
            output.write(["event": .string("connectionState"), "state": .string(state.rawValue)])
            if state == .connected {
                // Before the media buffers grow: the peak resident set is the call's own pages.
                // Once per call: a reconnection after an ICE restart finds the call's own pages.
                if callStart.claim() {
                    WorkingSet.trim(logger: logger, when: "at call start")
                }
                session.start()
                Task { await self?.connected() }
            }
        }
        pc.onIceConnectionStateChange = { state in
            output.write(["event": .string("iceConnectionState"), "state": .string(state.rawValue)])
        }
        peer = pc
        remoteID = remote
        return pc
    }

    func connected() async {
        guard let pc = peer else { return }
        let stats = await pc.stats()
        var timing: [String: JSONValue] = ["event": .string("timing")]
        if let ms = stats.iceConnectedAfterMs { timing["remote_description_to_ice_connected_ms"] = .number(ms.rounded()) }
        if let ms = stats.dtlsConnectedAfterMs { timing["remote_description_to_dtls_connected_ms"] = .number(ms.rounded()) }
        output.write(timing)
        guard sendMedia, pump == nil, let session else { return }
        let pump = MediaPump(session: session, configuration: mediaConfiguration, tone: tone, scene: scene)
        pump.start()
        self.pump = pump
        output.write(["event": .string("media"), "cameraStartNs": .number(Double(pump.cameraStart.nanoseconds)),
                      "width": .number(Double(mediaConfiguration.width)), "height": .number(Double(mediaConfiguration.height)),
                      "fps": .number(Double(mediaConfiguration.fps))])
    }

    func reportStats() async {
        guard let pc = peer else { return }
        let s = await pc.stats()
        var bySSRC: [String: JSONValue] = [:]
        for (ssrc, count) in s.srtpPacketsBySSRC { bySSRC[String(ssrc)] = .number(Double(count)) }
        var line: [String: JSONValue] = [
            "event": .string("stats"),
            "connectionState": .string(pc.connectionState.rawValue),
            "srtpPacketsBySSRC": .object(bySSRC),
            "rtcpPackets": .number(Double(s.rtcpPacketsReceived)),
            "rtpSent": .number(Double(s.rtpPacketsSent)),
            "srtpErrors": .number(Double(s.srtpErrors)),
        ]
        if let profile = s.srtpProfile { line["srtpProfile"] = .string(profile.rawValue) }
        if let session, let tally {
            let m = await session.statistics()
            let t = tally.snapshot()
            line["videoFramesDecoded"] = .number(Double(m.framesReceived))
            line["framesSent"] = .number(Double(m.framesSent))
            line["fpsIn"] = .number(m.fpsIn)
            line["fpsOut"] = .number(m.fpsOut)
            line["audioPeak"] = .number(Double(t.audioPeak))
            line["audioLevel"] = .number(m.audioLevel)
            line["totalAudioEnergy"] = .number(m.totalAudioEnergy)
            line["audioFramesDecoded"] = .number(Double(m.audioFramesReceived))
            line["videoSize"] = .array([.number(Double(t.width)), .number(Double(t.height))])
            line["stamped"] = .object(["distinct": .number(Double(t.stampedDistinct)),
                                       "first": .number(Double(t.stampedFirst)), "last": .number(Double(t.stampedLast))])
            line["freezes"] = .array(t.freezes.map { .array([.number(Double($0.endedAt)), .number(Double($0.nanoseconds / 1_000_000))]) })
            line["latencySamples"] = .array(t.latencySamples.map { .array([.number(Double($0.number)), .number(Double($0.decodedAt))]) })
            line["media"] = m.json
            if let pump {
                line["cameraStartNs"] = .number(Double(pump.cameraStart.nanoseconds))
                line["synthesisCpuSeconds"] = .number(pump.synthesisCPUSeconds)
            }
        }
        let usage = ProcessUsage.current()
        line["cpuSeconds"] = .number(usage.cpuSeconds)
        line["maxRSSKiB"] = .number(Double(usage.peakResidentKiB))
        line["monotonicNs"] = .number(Double(MediaTime.now().nanoseconds))
        if let pair = s.selectedPair {
            // "relay 127.0.0.1:49200 ↔ host 127.0.0.1:40000": the local candidate type comes first.
            line["selectedPair"] = .object(["description": .string(pair),
                                            "localType": .string(String(pair.split(separator: " ").first ?? ""))])
        }
        output.write(line)
    }

    func hangUp(notify: Bool = true) async {
        pump?.stop()
        pump = nil
        session?.stop()
        session = nil
        if notify, let remoteID { try? await client.send(.endCall(to: remoteID)) }
        peer?.close()
        peer = nil
        remoteID = nil
        output.write(["event": .string("ended")])
    }
}

/// Feeds the synthetic camera and microphone into a session in real time, each on its own thread
/// (frame drawing must not sit on the event loop or the concurrency pool), as a camera and a
/// microphone are separate devices: on one thread, a slow drawing (a debug build on a loaded
/// machine took 45 ms a frame) held the microphone to one 20 ms frame per picture, and the far end
/// heard mostly concealment.
final class MediaPump: @unchecked Sendable {
    let session: MediaSession
    let configuration: MediaSessionConfiguration
    let tone: Double
    let scene: SyntheticCamera.Scene
    let cameraStart = MediaTime.now() + 10_000_000
    private let stopped = Atomic<Bool>(false)
    /// Thread CPU time spent drawing frames and tone (a real camera's cost is elsewhere: the
    /// benchmark reports our endpoint with and without it).
    private let synthesisNanoseconds = Atomic<UInt64>(0)
    var synthesisCPUSeconds: Double { Double(synthesisNanoseconds.load(ordering: .relaxed)) / 1e9 }

    init(session: MediaSession, configuration: MediaSessionConfiguration, tone: Double, scene: SyntheticCamera.Scene) {
        self.session = session
        self.configuration = configuration
        self.tone = tone
        self.scene = scene
    }

    func start() {
        Thread.detachNewThread { [self] in runCamera() }
        Thread.detachNewThread { [self] in runMicrophone() }
    }
    func stop() { stopped.store(true, ordering: .relaxed) }

    private func runCamera() {
        var camera = SyntheticCamera(configuration: .init(width: configuration.width, height: configuration.height,
                                                          framesPerSecond: configuration.fps, scene: scene),
                                     font: nil, start: cameraStart)
        let period = MediaClock.framePeriodNanoseconds(framesPerSecond: configuration.fps)
        var next = cameraStart
        while !stopped.load(ordering: .relaxed) {
            MediaTime.sleep(until: next)
            let frame = synthesized { camera.nextFrame() }
            session.send(video: frame)
            next = frame.timestamp + period
        }
    }

    private func runMicrophone() {
        var microphone = SyntheticMicrophone(frequency: tone, amplitude: 0.5, channels: configuration.audioChannels,
                                             start: cameraStart)
        var next = cameraStart
        while !stopped.load(ordering: .relaxed) {
            MediaTime.sleep(until: next)
            let frame = synthesized { microphone.nextFrame() }
            session.send(audio: frame)  // Opus encodes here, on this thread: the endpoint's cost
            next = frame.timestamp + MediaClock.audioFrameNanoseconds
        }
    }

    /// Runs `draw`, counting its thread CPU time as synthesis.
    private func synthesized<Frame>(_ draw: () -> Frame) -> Frame {
        let cpu = ThreadCPUClock.nanoseconds()
        let frame = draw()
        synthesisNanoseconds.add(ThreadCPUClock.nanoseconds() &- cpu, ordering: .relaxed)
        return frame
    }
}

/// What arrived: decoded frames (with the stamped frame numbers of a synthetic camera), audio peak.
final class ReceiveTally: Sendable {
    struct Snapshot: Sendable {
        var audioPeak: Int16 = 0
        var width = 0
        var height = 0
        var stampedDistinct = 0
        var stampedFirst: UInt32 = 0
        var stampedLast: UInt32 = 0
        var latencySamples: [(number: UInt32, decodedAt: UInt64)] = []
        /// Gaps of more than 200 ms between decoded frames after the first: (ended at, length) in
        /// monotonic nanoseconds, the latest 100.
        var freezes: [(endedAt: UInt64, nanoseconds: UInt64)] = []
    }
    private struct State: Sendable {
        var snapshot = Snapshot()
        var lastStamp: UInt32?
        var lastFrameAt: UInt64?
    }
    private let state = Mutex(State())

    func video(_ frame: I420Planes) {
        let now = MediaTime.now().nanoseconds
        let number = SyntheticCamera.stampedFrameNumber(in: frame)
        state.withLock { s in
            if let last = s.lastFrameAt, now &- last > 200_000_000 {
                if s.snapshot.freezes.count == 100 { s.snapshot.freezes.removeFirst() }
                s.snapshot.freezes.append((now, now &- last))
            }
            s.lastFrameAt = now
            s.snapshot.width = frame.width
            s.snapshot.height = frame.height
            // Numbers only count when they move forward (a browser's camera stamps nothing).
            if s.lastStamp.map({ number > $0 && number - $0 < 1000 }) ?? true {
                if s.lastStamp == nil { s.snapshot.stampedFirst = number }
                s.snapshot.stampedDistinct += 1
                s.snapshot.stampedLast = number
                s.lastStamp = number
                if s.snapshot.latencySamples.count < 200 { s.snapshot.latencySamples.append((number, now)) }
            }
        }
    }

    func audio(_ frame: AudioFrame) {
        var peak: Int16 = 0
        for sample in frame.samples { peak = max(peak, sample == .min ? .max : abs(sample)) }
        state.withLock { $0.snapshot.audioPeak = max($0.snapshot.audioPeak, peak) }
    }

    /// The figures so far; latency samples are handed out once.
    func snapshot() -> Snapshot {
        state.withLock { s in
            let out = s.snapshot
            s.snapshot.latencySamples.removeAll(keepingCapacity: true)
            return out
        }
    }
}

extension MediaStatistics {
    var json: JSONValue {
        var o: [String: JSONValue] = [
            "framesSent": .number(Double(framesSent)), "framesReceived": .number(Double(framesReceived)),
            "fpsIn": .number(fpsIn), "fpsOut": .number(fpsOut),
            "videoBitrateIn": .number(videoBitrateIn.rounded()), "videoBitrateOut": .number(videoBitrateOut.rounded()),
            "audioPacketsIn": .number(Double(audioPacketsIn)), "audioPacketsOut": .number(Double(audioPacketsOut)),
            "lossFraction": .number(lossFraction), "jitter": .number(jitter),
            "nacksSent": .number(Double(nacksSent)), "nacksReceived": .number(Double(nacksReceived)),
            "plisSent": .number(Double(plisSent)), "plisReceived": .number(Double(plisReceived)),
            "framesDropped": .number(Double(framesDropped)), "framesEncoderDropped": .number(Double(framesEncoderDropped)),
            "framesSkippedByRateControl": .number(Double(framesSkippedByRateControl)),
            "estimatedBandwidth": .number(Double(estimatedBandwidth)), "targetBitrate": .number(Double(targetBitrate)),
            "audioLevel": .number(audioLevel), "totalAudioEnergy": .number(totalAudioEnergy),
            "audioFramesReceived": .number(Double(audioFramesReceived)), "audioConcealed": .number(Double(audioConcealed)),
            "packetsRetransmittedIn": .number(Double(packetsRetransmittedIn)),
            "packetsRetransmittedOut": .number(Double(packetsRetransmittedOut)),
            "retransmissionBitrateOut": .number(Double(retransmissionBitrateOut)),
            "retransmissionsOverLimit": .number(Double(retransmissionsOverLimit)),
            "keyframesSent": .number(Double(keyframesSent)),
            "videoEncodeCpuSeconds": .number(videoEncodeCPUSeconds), "videoDecodeCpuSeconds": .number(videoDecodeCPUSeconds),
            "audioCodecCpuSeconds": .number(audioCodecCPUSeconds),
            "frameWidthOut": .number(Double(frameWidthOut)), "frameHeightOut": .number(Double(frameHeightOut)), "keyframesReceived": .number(Double(keyframesReceived)),
        ]
        if let rtt = roundTripTime { o["roundTripTime"] = .number(rtt) }
        if let ms = firstFrameAfterMs { o["firstFrameAfterMs"] = .number(ms.rounded()) }
        if let lag = videoLagSeconds { o["videoLagSeconds"] = .number(lag) }
        return .object(o)
    }
}

extension SyntheticCamera.Scene: ExpressibleByArgument {}

/// True for the first caller of `claim()` only (any thread).
private final class FirstTime: Sendable {
    private let claimed = Atomic(false)
    func claim() -> Bool { !claimed.exchange(true, ordering: .relaxed) }
}
