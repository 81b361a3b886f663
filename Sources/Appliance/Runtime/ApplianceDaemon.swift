// The appliance at run time: signaling (the seed's Socket.IO room flow) in, the call machine in the
// middle, and its effects carried out on the real parts: the peer connection and media session of a
// call, camera and microphone (opened only for calls), the screen, the speaker, the device channel of
// remote configuration, systemd notifications and the control socket.
import Foundation
import Logging
import Media
import Peer
import Signaling
import SignalingCore

public actor ApplianceDaemon {
    public private(set) var config: ApplianceConfig
    private let remote: RemoteConfigManager
    private let certificate: DTLSCertificate
    private let logger: Logger
    private let notifier: SystemdNotifier
    public let signaling: SignalingClient
    public let controller: CallController
    public let screen: ScreenOutput
    public let devices: LocalDevices
    public let audio: AudioOutput
    private var control: ControlSocketServer?
    private var link: CallMediaLink?
    private var nextLinkID = 0
    private var callT0: ContinuousClock.Instant?
    private let mediaEvents: AsyncStream<(Int, MediaLinkEvent)>
    private let mediaContinuation: AsyncStream<(Int, MediaLinkEvent)>.Continuation
    /// Decoded remote pictures: only the newest waits (460 KB each at 640x480). Behind the events
    /// stream, a busy daemon let them pile up unbounded, 12 MiB at a time, still held after the call.
    private let remotePictures: AsyncStream<(Int, VideoFrame)>
    private let remotePictureContinuation: AsyncStream<(Int, VideoFrame)>.Continuation
    private var tasks: [Task<Void, Never>] = []
    private var idleTrim: Task<Void, Never>?
    private var snapshotCounter = 0
    /// STATUS= goes to systemd only after READY=1 (which carries the status of that moment).
    private var readySent = false
    /// Figures of the last call (kept after it ends, for `status` and the demo's summary).
    private var lastCall: [String: JSONValue] = [:]
    private var remoteResults: [String: JSONValue] = [:]

    public init(config: ApplianceConfig, remote: RemoteConfigManager,
                notifier: SystemdNotifier = SystemdNotifier(), logger: Logger) throws {
        self.config = config
        self.remote = remote
        certificate = try Self.loadCertificate(stateDir: config.state.dir, logger: logger)
        self.notifier = notifier
        self.logger = logger
        let url = URL(string: config.signaling.url)!   // checked by the configuration decoder
        signaling = SignalingClient(
            configuration: SocketIOConfiguration(engine: EngineIOConfiguration(
                url: url, extraCAFile: config.signaling.caFile.isEmpty ? nil : config.signaling.caFile)),
            logger: Logger(label: "videophone.signaling"))
        controller = CallController(settings: CallSettings(config), logger: Logger(label: "videophone.call"))
        let kind: ScreenOutput.Kind = config.screen.device == "headless"
            ? .headless(width: config.screen.width, height: config.screen.height) : .kms(card: config.screen.device)
        screen = try ScreenOutput(kind: kind, logger: Logger(label: "videophone.screen"))
        devices = LocalDevices(camera: config.camera, microphone: config.microphone, screen: screen,
                               logger: Logger(label: "videophone.devices"))
        audio = AudioOutput(device: config.speaker.device, logger: Logger(label: "videophone.speaker"))
        (mediaEvents, mediaContinuation) = AsyncStream.makeStream(of: (Int, MediaLinkEvent).self)
        (remotePictures, remotePictureContinuation) = AsyncStream.makeStream(of: (Int, VideoFrame).self,
                                                                             bufferingPolicy: .bufferingNewest(1))
    }

    /// The DTLS identity lives in state.dir and is made once: a call never waits for key generation.
    static func loadCertificate(stateDir: String, logger: Logger) throws -> DTLSCertificate {
        do {
            try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
            return try DTLSCertificate.loadOrCreate(directory: stateDir)
        } catch {
            logger.error("cannot keep the DTLS certificate in state.dir; using one for this run only",
                         metadata: ["dir": "\(stateDir)", "reason": "\(error)"])
            // Generation at start-up, never at call time.
            return try DTLSCertificate.generate()
        }
    }

    // MARK: Life cycle

    /// Starts everything; returns once the daemon is running (READY has been sent).
    public func start() async throws {
        let controller = self.controller
        tasks.append(Task { for await effect in controller.effects { await self.perform(effect) } })
        tasks.append(Task { for await event in self.signaling.events { await self.route(event) } })
        tasks.append(Task { for await (id, event) in self.mediaEvents { await self.fromMedia(id, event) } })
        tasks.append(Task { for await (id, frame) in self.remotePictures { await self.showRemote(id, frame) } })
        if !config.control.socket.isEmpty {
            let server = ControlSocketServer(path: config.control.socket, group: config.control.group,
                                             logger: Logger(label: "videophone.control")) { [weak self] line in
                guard let self else { return ControlReply.error(ControlError("shutting down")) }
                return await self.handleControl(line)
            }
            try server.start()
            control = server
        }
        await screen.setStatus("Starting…")
        await screen.startPacing()
        await controller.start()
        await signaling.start()
        let current = await screen.currentStatus
        notifier.notify(.ready, .status(current.isEmpty ? "Connecting to \(config.signaling.url)" : current))
        readySent = true
        let notifier = self.notifier
        tasks.append(Task { await notifier.runWatchdog() })
    }

    /// Hangs up a call in progress, leaves the room and releases every device.
    public func stop() async {
        notifier.notify(.stopping)
        let phase = await controller.phase
        if link != nil || (phase != .idle && phase != .connecting) {
            await controller.press(.end)
            for _ in 0..<20 where link != nil { try? await Task.sleep(for: .milliseconds(50)) }
        }
        control?.stop()
        link?.close()
        link = nil
        await devices.close()
        audio.stop()
        await screen.stop()
        try? await signaling.leave()
        await signaling.stop()
        await controller.stop()
        mediaContinuation.finish()
        remotePictureContinuation.finish()
        for t in tasks { t.cancel() }
        idleTrim?.cancel()
        logger.info("stopped")
    }

    // MARK: Signaling in

    private func route(_ event: SignalingEvent) async {
        switch ApplianceInput.route(event) {
        case .call(let e):
            await controller.send(e)
            if e == .signalingConnected { sayHello() }
            if case .memberLeft = e { await checkPeerGone() }
        case .deviceConfig(let payload):
            await receiveConfig(payload)
        case .none:
            break
        }
    }

    private func sayHello() {
        Task {
            guard let hello = await remote.hello else { return }
            do {
                _ = try await signaling.request(DeviceEventName.hello, [hello.json], timeout: .seconds(5))
                logger.info("device channel: hello sent", metadata: ["device": "\(hello.deviceId)", "configVersion": "\(hello.configVersion)"])
            } catch {
                logger.warning("device channel: hello not acknowledged", metadata: ["reason": "\(error)"])
            }
        }
    }

    private func receiveConfig(_ payload: JSONValue) async {
        let outcome = await remote.receive(payload)
        remoteResults = ["version": .number(Double(outcome.result.version)), "ok": .bool(outcome.result.ok),
                         "errors": .array(outcome.result.errors.map(JSONValue.string))]
        do { try await signaling.socket.emit(DeviceEventName.configResult, [outcome.result.json]) } catch {
            logger.warning("device channel: result not sent", metadata: ["reason": "\(error)"])
        }
        guard let new = outcome.config else { return }
        await apply(new, changed: outcome.changedKeys)
    }

    /// Applies an accepted remote configuration live where that is possible (issue #7 item 8).
    private func apply(_ new: ApplianceConfig, changed: [String]) async {
        let old = config
        config = new
        let impacts = ConfigImpact.of(changed)
        await controller.update(settings: CallSettings(new))
        if impacts.contains(.rejoinRoom), new.signaling.name != old.signaling.name, let room = await controller.snapshot.room {
            try? await signaling.join(room: room, userName: new.signaling.name)
        }
        let later = impacts.subtracting([.callSettings, .rejoinRoom, .iceServers, .none])
        if !later.isEmpty {
            logger.notice("some changes take effect after a restart", metadata: ["impacts": "\(later.map(\.rawValue).sorted())"])
        }
    }

    // MARK: Effects out

    private func perform(_ effect: CallEffect) async {
        switch effect {
        case .emit(let event):
            do { try await signaling.send(event) } catch {
                logger.warning("could not send", metadata: ["event": "\(event.name)", "reason": "\(error)"])
            }
        case .joinRoom(let room):
            do {
                try await signaling.join(room: room, userName: config.signaling.name)
                trimWhenSettled("start-up done")
            } catch {
                logger.warning("could not join", metadata: ["room": "\(room)", "reason": "\(error)"])
            }
        case .openDevices:
            if link == nil { callT0 = .now }
            await devices.open()
        case .closeDevices:
            await devices.close()
        case .media(let command):
            await media(command)
        case .setMicrophoneMuted(let on):
            await devices.setMuted(on)
        case .setCameraEnabled(let on):
            await devices.setCameraEnabled(on)
        case .ringTone(let on):
            audio.ring(on)
        case .beep:
            audio.beep()
        case .status(let text):
            logger.info("status", metadata: ["text": "\(text)"])
            await screen.setStatus(text)
            if readySent { notifier.notify(.status(text)) }
        case .showChat(let messages):
            await screen.addChat(messages.map { "\($0.userName): \($0.text)" })
        case .startTimer, .cancelTimer:
            break   // run by CallController
        }
    }

    private func media(_ command: MediaCommand) async {
        do {
            switch command {
            case .start(let role):
                link?.close()
                let ice = await iceConfiguration()
                nextLinkID += 1
                let t0 = callT0 ?? .now
                callT0 = t0
                let l = CallMediaLink(id: nextLinkID, startedAt: t0, ice: ice, certificate: certificate, camera: config.camera,
                                      logger: Logger(label: "videophone.peer"), audio: audio, events: mediaContinuation,
                                      pictures: remotePictureContinuation)
                link = l
                switch role {
                case .offerer:
                    let sdp = try await l.peer.createOffer()
                    await controller.send(.localDescription(SessionDescription(type: .offer, sdp: sdp)))
                case .answerer(let offer):
                    try await l.peer.setRemoteDescription(type: .offer, sdp: offer.sdp)
                    let sdp = try await l.peer.createAnswer()
                    await controller.send(.localDescription(SessionDescription(type: .answer, sdp: sdp)))
                }
            case .setRemoteAnswer(let answer):
                try await link?.peer.setRemoteDescription(type: .answer, sdp: answer.sdp)
            case .applyRemoteOffer(let offer):
                guard let l = link else { return }
                try await l.peer.setRemoteDescription(type: .offer, sdp: offer.sdp)
                let sdp = try await l.peer.createAnswer()
                await controller.send(.localDescription(SessionDescription(type: .answer, sdp: sdp)))
            case .addRemoteCandidate(let candidate):
                guard let l = link else { return }
                if let text = candidate?.candidate, !text.isEmpty {
                    do { l.peer.addRemoteCandidate(try IceCandidateLine.parse(text)) } catch {
                        logger.notice("ignored a malformed remote candidate", metadata: ["reason": "\(error)"])
                    }
                } else {
                    l.peer.addRemoteCandidate(nil)
                }
            case .restartIce:
                guard let l = link else { return }
                l.peer.restartIce()
                let sdp = try await l.peer.createOffer()
                await controller.send(.localDescription(SessionDescription(type: .offer, sdp: sdp)))
            case .stop:
                if let l = link {
                    recordCall(l)
                    await devices.attach(nil)
                    l.close()
                }
                link = nil
                callT0 = nil
                await screen.clearRemote()
                await controller.send(.mediaClosed)
                trimWhenSettled("call over")
            }
        } catch {
            logger.error("media failed", metadata: ["reason": "\(error)"])
            await controller.send(.mediaFailed("\(error)"))
        }
    }

    /// Idle is where an appliance spends its life: once start-up or a call's teardown has settled
    /// (codec threads gone, buffers freed), give back what it touched (WorkingSet). Not in a call:
    /// the call start does its own trim.
    private func trimWhenSettled(_ reason: String) {
        idleTrim?.cancel()
        idleTrim = Task {
            guard (try? await Task.sleep(for: .seconds(2))) != nil, link == nil else { return }
            WorkingSet.trim(logger: logger, when: "when idle", metadata: ["after": "\(reason)"])
            // The next call's encoder, made now while the resident set is at its smallest: its
            // start-up zero-fill (21 MB at 1280x720) then never adds to a call's pages.
            do { try MediaSession.reserveVideoEncoder(for: CallMediaLink.mediaConfiguration(config.camera)) } catch {
                logger.warning("VP8 encoder not made ahead of the next call", metadata: ["reason": "\(error)"])
            }
        }
    }

    private func recordCall(_ l: CallMediaLink) {
        var figures: [String: JSONValue] = [:]
        if let ms = l.connectedAfterMs { figures["setupMs"] = .number(ms.rounded()) }
        if let ms = l.firstRemoteFrameAfterMs { figures["firstRemoteFrameMs"] = .number(ms.rounded()) }
        lastCall = figures
    }

    /// ICE servers: the static ones from the configuration plus, unless turned off, the server's
    /// (`ice:servers`: STUN and short-lived TURN credentials, fetched per call so they never expire).
    private func iceConfiguration() async -> IceConfiguration {
        var ice = IceConfiguration()
        ice.loopbackOnly = config.ice.loopbackOnly
        ice.addServer(urls: config.ice.stunURLs, username: nil, credential: nil)
        if !config.ice.turnURLs.isEmpty {
            ice.addServer(urls: config.ice.turnURLs, username: config.ice.turnUsername, credential: config.ice.turnPassword)
        }
        guard config.ice.fromServer else { return ice }
        do {
            let reply = try await signaling.request("ice:servers", [], timeout: .seconds(3))
            if case .object(let body)? = reply.first, case .array(let servers)? = body["iceServers"] {
                for case .object(let server) in servers {
                    var urls: [String] = []
                    switch server["urls"] {
                    case .string(let u)?: urls = [u]
                    case .array(let list)?: urls = list.compactMap(\.stringValue)
                    default: break
                    }
                    for reason in ice.addServer(urls: urls, username: server["username"]?.stringValue,
                                                credential: server["credential"]?.stringValue) {
                        logger.notice("ICE server skipped", metadata: ["reason": "\(reason)"])   // URL only, never the credential
                    }
                }
            }
        } catch {
            logger.notice("no ICE servers from the signaling server; using the configured ones", metadata: ["reason": "\(error)"])
        }
        return ice
    }

    // MARK: Media in

    private func fromMedia(_ id: Int, _ event: MediaLinkEvent) async {
        guard let l = link, l.id == id else { return }   // a call that has ended meanwhile
        switch event {
        case .localCandidate(let c):
            await controller.send(.localCandidate(c))
        case .connected:
            await devices.attach(l.session)
            l.session.requestKeyframe()
            await controller.send(.iceConnected)
            // The peer's first keyframe can arrive before our SRTP keys (DTLS finishes on the two
            // sides at different moments); ask again until a picture has been decoded.
            Task {
                for delay in [300, 600, 1000, 1500] {
                    try? await Task.sleep(for: .milliseconds(delay))
                    guard l.firstRemoteFrameAfterMs == nil, l.peer.connectionState == .connected else { return }
                    l.session.requestKeyframe()
                }
            }
        case .disconnected:
            await checkPeerGone()
        case .failed:
            // Restarting ICE with someone who has left the room cannot succeed: that is a peer gone
            // (killed, unplugged), not a network change.
            let snap = await controller.snapshot
            if let peer = snap.peerName, !snap.members.contains(peer) {
                await controller.send(.peerGone)
            } else {
                await controller.send(.iceFailed)
            }
        }
    }

    private func showRemote(_ id: Int, _ frame: VideoFrame) async {
        guard let l = link, l.id == id else { return }   // a call that has ended meanwhile
        await screen.show(remote: frame)
    }

    /// A peer that has left the room and whose media has stopped is gone (SIGKILL, power cut): end
    /// now rather than after the 30 s of consent freshness (RFC 7675). A peer whose signaling
    /// dropped but whose media still flows is kept (the server may be restarting).
    private func checkPeerGone() async {
        guard let l = link, l.peer.connectionState == .disconnected || l.peer.connectionState == .failed else { return }
        let snap = await controller.snapshot
        if snap.phase == .inCall, let peer = snap.peerName, !snap.members.contains(peer) {
            logger.notice("peer left the room and its media stopped: ending the call", metadata: ["peer": "\(peer)"])
            await controller.send(.peerGone)
        }
    }

    // MARK: Control socket

    public func handleControl(_ line: String) async -> String {
        switch ControlRequest.parse(line) {
        case .failure(let e):
            return ControlReply.error(e)
        case .success(let request):
            switch request {
            case .press(let action):
                let d = await controller.press(action)
                return ControlReply.pressed(d, await controller.snapshot)
            case .hangup:
                let d = await controller.press(.end)
                return ControlReply.pressed(d, await controller.snapshot)
            case .status:
                return await statusReply()
            case .chat(let text):
                do {
                    try await signaling.send(.chat(ChatSend(text: text)))
                    return ControlReply.ok()
                } catch {
                    return ControlReply.error(ControlError("chat not sent: \(error)"))
                }
            case .snapshot(let path):
                let target: String
                if let path { target = path } else {
                    guard !config.screen.snapshotDir.isEmpty else {
                        return ControlReply.error(ControlError("no path given and screen.snapshot_dir is empty"))
                    }
                    snapshotCounter += 1
                    target = "\(config.screen.snapshotDir)/\(config.signaling.name)-\(snapshotCounter).png"
                }
                do {
                    try await screen.snapshot(to: target)
                    var reply: [String: JSONValue] = ["path": .string(target)]
                    if let a = await screen.analyse() {
                        reply["remoteRegionColours"] = .number(Double(a.remoteRegionColours))
                        reply["statusInk"] = .number(Double(a.statusInk))
                    }
                    return ControlReply.ok(reply)
                } catch {
                    return ControlReply.error(ControlError("snapshot failed: \(error)"))
                }
            }
        }
    }

    /// `status`: the call machine's view plus the media figures and the devices' own accounting.
    public func statusReply() async -> String {
        let snapshot = await controller.snapshot
        var call: [String: JSONValue] = [:]
        if let l = link {
            let s = await l.session.statistics()
            call = ["framesSent": .number(Double(s.framesSent)), "framesReceived": .number(Double(s.framesReceived)),
                    "fpsIn": .number(s.fpsIn), "fpsOut": .number(s.fpsOut),
                    "bitrateIn": .number(s.videoBitrateIn.rounded()), "bitrateOut": .number(s.videoBitrateOut.rounded()),
                    "audioPacketsIn": .number(Double(s.audioPacketsIn)), "audioPacketsOut": .number(Double(s.audioPacketsOut)),
                    "loss": .number(s.lossFraction), "connection": .string(l.peer.connectionState.rawValue)]
            call["jitterMs"] = .number((s.jitter * 1000).rounded())
            if let rtt = s.roundTripTime {
                call["rttMs"] = .number((rtt * 1000).rounded())
                // One way: half the round trip plus the inbound jitter the jitter buffer absorbs.
                call["latencyMs"] = .number(((rtt / 2 + s.jitter) * 1000).rounded())
            }
            // Lip sync: how far the remote video plays behind (+) or ahead of (−) its audio.
            if let lag = s.videoLagSeconds { call["avSyncMs"] = .number((lag * 1000).rounded()) }
            if let ms = l.connectedAfterMs { call["setupMs"] = .number(ms.rounded()) }
            if let ms = l.firstRemoteFrameAfterMs { call["firstRemoteFrameMs"] = .number(ms.rounded()) }
        }
        let d = await devices.state
        var deviceInfo: [String: JSONValue] = ["open": .bool(d.open), "opens": .number(Double(d.opens)),
                                               "closes": .number(Double(d.closes)),
                                               "videoFramesCaptured": .number(Double(d.videoFramesCaptured)),
                                               "audioFramesCaptured": .number(Double(d.audioFramesCaptured))]
        if let ms = d.lastOpenToFirstFrameMs { deviceInfo["openToFirstFrameMs"] = .number(ms.rounded()) }
        let extra: [String: JSONValue] = [
            "name": .string(config.signaling.name),
            "devices": .object(deviceInfo),
            "speaker": .object(["beeps": .number(Double(audio.beeps)), "ringing": .bool(audio.ringing),
                                "remoteAudioFrames": .number(Double(audio.remoteFramesPlayed))]),
            "screen": .object(["status": .string(await screen.currentStatus), "chat": .array(await screen.chatLines.map(JSONValue.string)),
                               "remotePicture": .bool(await screen.hasRemotePicture),
                               "remoteFramesShown": .number(Double(await screen.remoteFramesShown))]),
            "lastCall": .object(lastCall),
            "autoAnswer": .string(config.call.autoAnswer.rawValue),
            "remoteConfig": .object(remoteResults.merging(["appliedVersion": .number(Double(await remote.appliedVersion))]) { $1 }),
        ]
        return ControlReply.status(snapshot, stats: call, extra: extra)
    }
}
