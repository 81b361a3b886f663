// One call's media: a PeerConnection (JSEP offer/answer with trickle ICE, RFC 8829 / RFC 8838) and
// the MediaSession that encodes our camera and microphone into it and decodes the peer's picture
// and sound. Created when the call machine asks for `.media(.start)`, closed at `.media(.stop)`.
// PeerConnection callbacks arrive on its event loop; they are turned into ``MediaLinkEvent``s on one
// ordered stream so the daemon sees them in the order they happened.
import Foundation
import Logging
import Media
import NIOCore
import NIOPosix
import Peer
import SignalingCore

/// What a call's media reports to the daemon.
enum MediaLinkEvent: Sendable {
    case localCandidate(IceCandidate?)
    case connected
    case failed
    /// No packets for a few seconds (ICE "disconnected"); may come back.
    case disconnected
}

public final class CallMediaLink: @unchecked Sendable {
    let id: Int
    let peer: PeerConnection
    let session: MediaSession
    let startedAt: ContinuousClock.Instant
    private let lock = NSLock()
    private var _connectedAt: ContinuousClock.Instant?
    private var _firstRemoteFrameAt: ContinuousClock.Instant?
    private var _wasConnected = false
    private var _sessionStarted = false
    private var _qualityLog: Task<Void, Never>?
    private let logger: Logger

    init(id: Int, startedAt: ContinuousClock.Instant, ice: IceConfiguration, certificate: DTLSCertificate,
         camera: ApplianceConfig.Camera, logger: Logger, audio: AudioOutput,
         events: AsyncStream<(Int, MediaLinkEvent)>.Continuation,
         pictures: AsyncStream<(Int, VideoFrame)>.Continuation) {
        self.id = id
        self.startedAt = startedAt
        self.logger = logger
        peer = PeerConnection(configuration: PeerConnectionConfiguration(ice: ice, certificate: certificate, logger: logger),
                              eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        session = MediaSession(peer: peer, configuration: Self.mediaConfiguration(camera))
        session.beforeEncoderCreation = { WorkingSet.trim(logger: logger, when: "before the encoder") }
        peer.onLocalCandidate = { line in
            events.yield((id, .localCandidate(line.map { IceCandidate(candidate: "candidate:" + Self.strip($0.serialize()),
                                                                      sdpMid: "0", sdpMLineIndex: 0) })))
        }
        peer.onConnectionStateChange = { [weak self] state in
            switch state {
            case .connected:
                self?.markConnected()
                events.yield((id, .connected))
            case .failed:
                events.yield((id, .failed))
            case .disconnected:
                events.yield((id, .disconnected))
            default:
                break
            }
        }
        session.onVideoFrame = { [weak self] frame in
            self?.markFrame()
            pictures.yield((id, frame))
        }
        session.onAudioFrame = { frame in audio.play(frame) }
    }

    /// What a call sends with, from the camera's settings.
    static func mediaConfiguration(_ camera: ApplianceConfig.Camera) -> MediaSessionConfiguration {
        MediaSessionConfiguration(width: camera.width, height: camera.height, fps: camera.fps,
                                  maxBitrate: camera.maxBitrate == 0 ? nil : camera.maxBitrate,
                                  adaptResolution: camera.adaptResolution)
    }

    /// `serialize()` may or may not carry the `candidate:` prefix; the wire wants it exactly once.
    static func strip(_ s: String) -> String {
        s.hasPrefix("candidate:") ? String(s.dropFirst(10)) : s
    }

    var connectedAfterMs: Double? { lock.withLock { _connectedAt.map { Self.ms($0 - startedAt) } } }
    var firstRemoteFrameAfterMs: Double? { lock.withLock { _firstRemoteFrameAt.map { Self.ms($0 - startedAt) } } }

    private func markConnected() {
        let firstConnection = lock.withLock { () -> Bool in
            defer { _connectedAt = _connectedAt ?? .now; _wasConnected = true; _sessionStarted = true }
            return _connectedAt == nil
        }
        // Before the media buffers grow (WorkingSet): the peak resident set is the call's own pages.
        if firstConnection { WorkingSet.trim(logger: logger, when: "at call start") }
        // Idempotent; after an ICE restart it picks up whatever the renegotiation changed.
        session.start()
        lock.withLock {
            guard _qualityLog == nil else { return }
            _qualityLog = Task { [session, logger] in
                while (try? await Task.sleep(for: .seconds(Self.qualityLogSeconds))) != nil {
                    Self.logQuality(await session.statistics(), logger: logger)
                }
            }
        }
    }

    static let qualityLogSeconds = 10

    /// One line every few seconds of a call: what a person debugging a bad picture asks first.
    static func logQuality(_ s: MediaStatistics, logger: Logger) {
        logger.info("call quality", metadata: [
            "fps": "\(Int(s.fpsIn.rounded()))/\(Int(s.fpsOut.rounded()))",
            "kbps": "\(Int(s.videoBitrateIn / 1000))/\(Int(s.videoBitrateOut / 1000))",
            "targetKbps": "\(s.targetBitrate / 1000)",
            "sizeOut": "\(s.frameWidthOut)x\(s.frameHeightOut)",
            "rttMs": "\(s.roundTripTime.map { String(Int($0 * 1000)) } ?? "-")",
            "lossPct": "\(Int((s.lossFraction * 100).rounded()))",
            "frames": "\(s.framesReceived)/\(s.framesSent)",
            "nacks": "\(s.nacksSent)/\(s.nacksReceived)",
            "rtxKbps": "\(s.retransmissionBitrateOut / 1000)",
            "plis": "\(s.plisSent)/\(s.plisReceived)",
            "dropped": "\(s.framesDropped)",
        ])
    }

    private func markFrame() {
        lock.withLock { if _firstRemoteFrameAt == nil { _firstRemoteFrameAt = .now } }
    }

    func close() {
        lock.withLock { _qualityLog?.cancel() }
        session.stop()
        peer.close()
    }

    public static func milliseconds(_ d: Duration) -> Double { ms(d) }

    static func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
