// The endpoint the rest of the code uses, shaped like W3C RTCPeerConnection (JSEP, RFC 8829):
// offers and answers, remote candidates, and the three states the seed's app watches. Underneath,
// one BUNDLE transport (RFC 8843): the ICE agent's selected pair carries DTLS (RFC 6347), then
// SRTP/SRTCP keyed from it (RFC 5764), demultiplexed by first byte (RFC 7983).
//
// Threading: everything mutable is confined to `eventLoop` (the ICE transport's loop too); public
// methods hop onto it. Callbacks run on it, so the per-packet path never takes a lock.
import Logging
import NIOCore

/// What the endpoint is built with.
public struct PeerConnectionConfiguration: Sendable {
    public var ice: IceConfiguration
    /// The DTLS identity, generated once and kept (never at call time).
    public var certificate: DTLSCertificate
    /// Send audio / video (a=sendrecv), or only receive them (a=recvonly).
    public var sendAudio: Bool
    public var sendVideo: Bool
    /// RTCP CNAME (RFC 7022: random per endpoint is fine).
    public var cname: String
    /// Seconds to wait for gathering before an offer or answer is returned with the candidates
    /// found so far (trickle carries the rest; peers that do not trickle need them in the SDP).
    public var gatheringWait: Double
    public var logger: Logger

    public init(ice: IceConfiguration = IceConfiguration(), certificate: DTLSCertificate,
                sendAudio: Bool = true, sendVideo: Bool = true, cname: String = "videophone",
                gatheringWait: Double = 0, logger: Logger = Logger(label: "peer")) {
        self.ice = ice
        self.certificate = certificate
        self.sendAudio = sendAudio
        self.sendVideo = sendVideo
        self.cname = cname
        self.gatheringWait = gatheringWait
        self.logger = logger
    }
}

/// Counters anyone may read at any time (a snapshot taken on the loop).
public struct PeerConnectionStats: Sendable, Equatable {
    public var srtpPacketsBySSRC: [UInt32: Int] = [:]
    public var srtpBytesReceived = 0
    public var rtcpPacketsReceived = 0
    public var srtpErrors = 0
    public var rtpPacketsSent = 0
    public var rtcpPacketsSent = 0
    public var srtpProfile: SRTPProfile?
    public var selectedPair: String?
    /// Milliseconds from setting the remote description to ICE connected / DTLS connected.
    public var iceConnectedAfterMs: Double?
    public var dtlsConnectedAfterMs: Double?
}

public final class PeerConnection: @unchecked Sendable {
    public let eventLoop: any EventLoop
    public let configuration: PeerConnectionConfiguration
    private let socketFactory: any DatagramSocketFactory
    private var logger: Logger { configuration.logger }

    /// Callbacks, all on `eventLoop`; set them before negotiating.
    /// A local candidate to signal for BUNDLE section `mid` (index 0); nil = end of candidates.
    public var onLocalCandidate: (@Sendable (IceCandidateLine?) -> Void)?
    public var onSignalingStateChange: (@Sendable (SignalingState) -> Void)?
    public var onIceConnectionStateChange: (@Sendable (IceConnectionState) -> Void)?
    public var onConnectionStateChange: (@Sendable (PeerConnectionState) -> Void)?
    /// A decrypted RTP packet. Which section it belongs to is the receiver's to find out (by SSRC,
    /// mid or payload type): looking it up here cost every packet a search and its retains for an
    /// argument no receiver read.
    public var onRTP: (@Sendable ([UInt8]) -> Void)?
    /// A decrypted RTCP compound packet.
    public var onRTCP: (@Sendable ([UInt8]) -> Void)?

    // Loop-confined state.
    private var ice: IceTransport?
    private var dtls: DTLSTransport?
    private var dtlsTimer: Scheduled<Void>?
    private var pendingDTLS: [[UInt8]] = []
    private var srtpIn: SRTPSession?
    private var srtpOut: SRTPSession?
    private var localCandidates: [IceCandidateLine] = []
    private var gatheringDone = false
    private var gatheringWaiters: [EventLoopPromise<Void>] = []
    private var remote: NegotiatedSession?
    private var remoteOffer: SDPSession?
    private var sessionVersion: UInt64 = 0
    private let sessionId = AnswerBuilder.randomSessionId()
    private var iceState: IceConnectionState = .new
    private var remoteSetAt: NIODeadline?
    private var statsValue = PeerConnectionStats()
    public private(set) var signalingState: SignalingState = .stable
    public private(set) var connectionState: PeerConnectionState = .new
    /// The SSRCs we send with (announced in our descriptions).
    public let localAudioSSRC = UInt32.random(in: 1...UInt32.max)
    public let localVideoSSRC = UInt32.random(in: 1...UInt32.max)
    public let localVideoRTXSSRC = UInt32.random(in: 1...UInt32.max)

    public init(configuration: PeerConnectionConfiguration, eventLoop: any EventLoop,
                socketFactory: any DatagramSocketFactory = UDPSocketFactory()) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.socketFactory = socketFactory
    }

    // MARK: Negotiation (JSEP §4.1.8-4.1.10)

    /// Creates an offer and applies it as the local description (we become ICE controlling).
    public func createOffer() async throws -> String {
        try await onLoop { () throws -> EventLoopFuture<String> in
            guard self.signalingState == .stable else {
                throw PeerConnectionError("cannot offer in signaling state \(self.signalingState.rawValue)")
            }
            let ice = self.iceTransport(role: .controlling)
            return self.waitForGathering(ice).map {
                var builder = OfferBuilder(transport: self.localTransport(ice), sessionId: self.sessionId,
                                           audioTrack: self.audioTrack, videoTrack: self.videoTrack)
                builder.sessionVersion = self.nextSessionVersion()
                self.setSignalingState(.haveLocalOffer)
                return builder.offer().serialize()
            }
        }
    }

    /// Creates the answer to the remote offer and applies it as the local description.
    public func createAnswer() async throws -> String {
        try await onLoop { () throws -> EventLoopFuture<String> in
            guard self.signalingState == .haveRemoteOffer, let offer = self.remoteOffer, let ice = self.ice else {
                throw PeerConnectionError("cannot answer in signaling state \(self.signalingState.rawValue)")
            }
            return self.waitForGathering(ice).map {
                var builder = AnswerBuilder(transport: self.localTransport(ice), sessionId: self.sessionId,
                                            audioTrack: self.audioTrack, videoTrack: self.videoTrack)
                builder.sessionVersion = self.nextSessionVersion()
                let answer = builder.answer(to: offer)
                self.setSignalingState(.stable)
                return answer.serialize()
            }
        }
    }

    /// Applies the peer's offer or answer. A malformed or unusable description is refused with
    /// an error naming the problem, and nothing of it is applied.
    public func setRemoteDescription(type: SessionDescriptionType, sdp: String) async throws {
        let parsed: SDPSession
        do { parsed = try SDPSession.parse(sdp) } catch { throw PeerConnectionError("remote \(type.rawValue): \(error)") }
        let session = try NegotiatedSession(remote: parsed)
        try await onLoop { () throws -> EventLoopFuture<Void> in
            switch (type, self.signalingState) {
            case (.offer, .stable):
                self.remoteOffer = parsed
                self.apply(session, role: .controlled)
                self.setSignalingState(.haveRemoteOffer)
            case (.answer, .haveLocalOffer):
                self.apply(session, role: .controlling)
                self.setSignalingState(.stable)
            default:
                throw PeerConnectionError("unexpected remote \(type.rawValue) in signaling state \(self.signalingState.rawValue)")
            }
            return self.eventLoop.makeSucceededVoidFuture()
        }
    }

    /// A trickled remote candidate (RFC 8838 §11.4); nil = the peer's end of candidates.
    public func addRemoteCandidate(_ candidate: IceCandidateLine?) {
        eventLoop.execute {
            guard let ice = self.ice else { return }
            if let candidate {
                guard candidate.isUDP else { return }  // we do not do ICE-TCP
                ice.addRemoteCandidate(candidate)
            } else {
                ice.remoteEndOfCandidates()
            }
        }
    }

    /// Starts an ICE restart (RFC 8445 §9): new local credentials go into the next offer; media
    /// keeps flowing on the current pair until the new one is nominated.
    public func restartIce() {
        eventLoop.execute {
            guard let ice = self.ice else { return }
            // Cleared first: the agent re-announces its candidates under the new credentials.
            self.localCandidates.removeAll()
            self.gatheringDone = false
            _ = ice.restart()
            self.logger.info("ICE restart: new local credentials")
        }
    }

    /// Sends close_notify, stops ICE, reports `closed`, then lets go of the callbacks: a callback
    /// that holds its connection (or another one) strongly would otherwise keep both alive after the
    /// call, and nothing is delivered after `closed` anyway.
    public func close() {
        eventLoop.execute {
            guard self.connectionState != .closed else { return }
            if let dtls = self.dtls { self.process(dtls.close(now: .now())) }
            self.dtlsTimer?.cancel()
            self.ice?.close()
            self.srtpIn = nil
            self.srtpOut = nil
            self.setSignalingState(.closed)
            self.setConnectionState(.closed)
            self.onLocalCandidate = nil
            self.onSignalingStateChange = nil
            self.onIceConnectionStateChange = nil
            self.onConnectionStateChange = nil
            self.onRTP = nil
            self.onRTCP = nil
        }
    }

    // MARK: Media out

    /// Encrypts and sends one RTP packet (our SSRCs, any payload); dropped until DTLS is up.
    public func sendRTP(_ packet: [UInt8]) {
        onLoopNow {
            guard let srtp = self.srtpOut, let ice = self.ice else { return }
            var bytes = packet
            do { try srtp.protectRTP(&bytes) } catch {
                self.logger.warning("SRTP protect failed: \(error)")
                return
            }
            self.statsValue.rtpPacketsSent += 1
            ice.send(bytes)
        }
    }

    /// Encrypts and sends one RTCP compound packet.
    public func sendRTCP(_ packet: [UInt8]) {
        onLoopNow {
            guard let srtp = self.srtpOut, let ice = self.ice else { return }
            var bytes = packet
            do { try srtp.protectRTCP(&bytes) } catch {
                self.logger.warning("SRTCP protect failed: \(error)")
                return
            }
            self.statsValue.rtcpPacketsSent += 1
            ice.send(bytes)
        }
    }

    /// The negotiated media sections (after the remote description).
    public func negotiatedMedia() async -> [NegotiatedMedia] {
        (try? await eventLoop.submit { self.remote?.media ?? [] }.get()) ?? []
    }

    /// The negotiated sections, read on the loop (the media session's per-call refresh).
    var negotiatedMediaOnLoop: [NegotiatedMedia] {
        eventLoop.preconditionInEventLoop()
        return remote?.media ?? []
    }

    public func stats() async -> PeerConnectionStats {
        (try? await eventLoop.submit { self.statsValue }.get()) ?? PeerConnectionStats()
    }

    // MARK: Transport wiring (on the loop)

    private func iceTransport(role: IceRole) -> IceTransport {
        if let ice { return ice }
        let ice = IceTransport(configuration: configuration.ice, role: role, eventLoop: eventLoop,
                               socketFactory: socketFactory)
        ice.onLocalCandidate = { [weak self] candidate in self?.localCandidate(candidate) }
        ice.onStateChange = { [weak self] state in self?.iceStateChanged(state) }
        ice.onData = { [weak self] bytes in self?.received(bytes) }
        ice.onSelectedPair = { [weak self] pair in
            self?.statsValue.selectedPair = pair
            self?.logger.info("ICE selected pair \(pair)")
        }
        ice.onLog = { [weak self] line in self?.logger.debug("\(line)") }
        self.ice = ice
        ice.startGathering()
        return ice
    }

    private func apply(_ session: NegotiatedSession, role: IceRole) {
        let restart = remote.map { $0.iceCredentials != session.iceCredentials } ?? false
        let ice = iceTransport(role: role)
        if restart, remote != nil, signalingState == .stable {
            // The peer restarted ICE (new ufrag/pwd in its offer): we restart too (RFC 8445 §9).
            localCandidates.removeAll()
            gatheringDone = false
            _ = ice.restart()
            logger.info("remote ICE restart")
        }
        if remote == nil || restart { remoteSetAt = .now() }
        if let old = remote, old.fingerprint != session.fingerprint, dtls != nil {
            logger.warning("remote DTLS fingerprint changed in renegotiation; keeping the established association")
        }
        remote = session
        ice.setRemoteCredentials(session.iceCredentials)
        for candidate in session.candidates { ice.addRemoteCandidate(candidate) }
        if session.endOfCandidates { ice.remoteEndOfCandidates() }
        if dtls == nil { makeDTLS(session) }
    }

    private func makeDTLS(_ session: NegotiatedSession) {
        let role = session.localDTLSRole
        do {
            dtls = try DTLSTransport(role: role, certificate: configuration.certificate,
                                     remoteFingerprint: session.fingerprint)
            logger.debug("DTLS \(role) ready; expecting peer fingerprint \(session.fingerprint.sdp)")
        } catch {
            logger.error("DTLS setup: \(error)")
            setConnectionState(.failed)
        }
    }

    private func localCandidate(_ candidate: IceCandidateLine?) {
        if let candidate { localCandidates.append(candidate) } else {
            gatheringDone = true
            for waiter in gatheringWaiters { waiter.succeed() }
            gatheringWaiters.removeAll()
        }
        onLocalCandidate?(candidate)
    }

    private func waitForGathering(_ ice: IceTransport) -> EventLoopFuture<Void> {
        guard configuration.gatheringWait > 0, !gatheringDone else { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        gatheringWaiters.append(promise)
        eventLoop.scheduleTask(in: .milliseconds(Int64(configuration.gatheringWait * 1000))) { promise.succeed() }
        return promise.futureResult
    }

    private func iceStateChanged(_ state: IceConnectionState) {
        iceState = state
        onIceConnectionStateChange?(state)
        switch state {
        case .connected, .completed:
            if statsValue.iceConnectedAfterMs == nil, let t = remoteSetAt {
                statsValue.iceConnectedAfterMs = Double((NIODeadline.now() - t).nanoseconds) / 1e6
            }
            if let dtls, dtls.state == .new, dtls.role == .client {
                process(dtls.start(now: .now()))
            }
            if let dtls, dtls.state == .new, dtls.role == .server, !pendingDTLS.isEmpty {
                let queued = pendingDTLS
                pendingDTLS.removeAll()
                for datagram in queued { process(dtls.handleDatagram(datagram, now: .now())) }
            }
            if dtls?.state == .connected { setConnectionState(.connected) } else { setConnectionState(.connecting) }
        case .checking:
            setConnectionState(.connecting)
        case .disconnected:
            setConnectionState(.disconnected)
        case .failed:
            setConnectionState(.failed)
        case .closed, .new:
            break
        }
    }

    /// One datagram from the selected remote: DTLS or SRTP/SRTCP (RFC 7983 §7).
    private func received(_ bytes: [UInt8]) {
        switch PacketKind.classify(bytes) {
        case .dtls:
            guard let dtls else { pendingDTLS.append(bytes); return }
            process(dtls.handleDatagram(bytes, now: .now()))
        case .rtpOrRtcp:
            guard let srtpIn, bytes.count >= 12 else { return }
            var packet = bytes
            // RFC 5761 §4: RTCP packet types 192-223 occupy what would be RTP payload types 64-95.
            let isRTCP = (64...95).contains(bytes[1] & 0x7F)
            do {
                if isRTCP {
                    try srtpIn.unprotectRTCP(&packet)
                    statsValue.rtcpPacketsReceived += 1
                    onRTCP?(packet)
                } else {
                    try srtpIn.unprotectRTP(&packet)
                    let ssrc = UInt32(packet[8]) << 24 | UInt32(packet[9]) << 16 | UInt32(packet[10]) << 8 | UInt32(packet[11])
                    statsValue.srtpPacketsBySSRC[ssrc, default: 0] += 1
                    statsValue.srtpBytesReceived += packet.count
                    onRTP?(packet)
                }
            } catch {
                statsValue.srtpErrors += 1
                if statsValue.srtpErrors <= 5 || statsValue.srtpErrors % 100 == 0 {
                    logger.debug("SRTP\(isRTCP ? "C" : "") unprotect: \(error) (\(statsValue.srtpErrors) so far)")
                }
            }
        default:
            break
        }
    }

    private func process(_ output: DTLSOutput) {
        if let ice { for datagram in output.datagrams { ice.send(datagram) } }
        for event in output.events {
            switch event {
            case .connected(let keys):
                let isClient = dtls?.role == .client
                do {
                    srtpOut = try SRTPSession(profile: keys.profile, masterKeyAndSalt: keys.localMasterKeyAndSalt(isClient: isClient),
                                              direction: .outbound)
                    srtpIn = try SRTPSession(profile: keys.profile, masterKeyAndSalt: keys.remoteMasterKeyAndSalt(isClient: isClient),
                                             direction: .inbound)
                } catch {
                    logger.error("SRTP session setup failed: \(error)")
                    setConnectionState(.failed)
                    return
                }
                statsValue.srtpProfile = keys.profile
                if let t = remoteSetAt { statsValue.dtlsConnectedAfterMs = Double((NIODeadline.now() - t).nanoseconds) / 1e6 }
                logger.info("DTLS connected (\(keys.profile)); SRTP keys installed (crypto: \(SRTPSession.cryptoBackend))")
                setConnectionState(.connected)
            case .closed:
                logger.info("peer closed DTLS (close_notify)")
                setConnectionState(.closed)
            case .failed(let error):
                logger.error("\(error)")
                setConnectionState(.failed)
            case .discarded(let error):
                logger.debug("\(error)")
            }
        }
        scheduleDTLSTimer()
    }

    private func scheduleDTLSTimer() {
        dtlsTimer?.cancel()
        dtlsTimer = nil
        guard let dtls, let deadline = dtls.nextTimeout else { return }
        dtlsTimer = eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self, let dtls = self.dtls else { return }
            self.process(dtls.handleTimeout(now: .now()))
        }
    }

    // MARK: Helpers

    private var audioTrack: SDPLocalTrack? {
        configuration.sendAudio ? SDPLocalTrack(streamId: "videophone", trackId: "audio", ssrc: localAudioSSRC,
                                                cname: configuration.cname) : nil
    }

    private var videoTrack: SDPLocalTrack? {
        configuration.sendVideo ? SDPLocalTrack(streamId: "videophone", trackId: "video", ssrc: localVideoSSRC,
                                                rtxSsrc: localVideoRTXSSRC, cname: configuration.cname) : nil
    }

    private func localTransport(_ ice: IceTransport) -> SDPLocalTransport {
        let credentials = ice.localCredentials
        let fingerprint = configuration.certificate.fingerprint
        return SDPLocalTransport(iceUfrag: credentials.ufrag, icePwd: credentials.pwd,
                                 fingerprint: SDPFingerprint(algorithm: fingerprint.algorithm, value: fingerprint.value),
                                 candidates: localCandidates, endOfCandidates: gatheringDone)
    }

    private func nextSessionVersion() -> UInt64 {
        sessionVersion += 1
        return sessionVersion
    }

    private func setSignalingState(_ state: SignalingState) {
        guard signalingState != state else { return }
        signalingState = state
        onSignalingStateChange?(state)
    }

    private func setConnectionState(_ state: PeerConnectionState) {
        guard connectionState != state, connectionState != .closed else { return }
        // DTLS must be up before "connected"; ICE connectivity alone is "connecting".
        if state == .connected, srtpIn == nil { return }
        connectionState = state
        logger.info("connection state \(state.rawValue)")
        onConnectionStateChange?(state)
    }

    private func onLoop<T: Sendable>(_ body: @escaping () throws -> EventLoopFuture<T>) async throws -> T {
        let box = UnsafeTransfer(body)
        return try await eventLoop.flatSubmit {
            do { return try box.value() } catch { return self.eventLoop.makeFailedFuture(error) }
        }.get()
    }

    private func onLoopNow(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }
}
