import Foundation
import NIOPosix
import Synchronization
import Testing
import TestSupport
@testable import Peer

/// Our endpoint against aiortc 1.16 (an independent WebRTC stack: aioice, its own DTLS over
/// pyOpenSSL/cryptography, pylibsrtp, PyAV codecs) on 127.0.0.1, as offerer and as answerer:
/// ICE connects, DTLS completes, we decrypt its SRTP audio and video on the SSRCs its SDP
/// announced, and it decodes the Opus we send.
@Suite("Interop: aiortc", .serialized)
struct AiortcInteropTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// The primary SSRC per kind that an SDP announced (first a=ssrc in each m= section).
    static func announcedSSRCs(_ sdp: String) throws -> [SDPMediaKind: UInt32] {
        let session = try SDPSession.parse(sdp)
        var out: [SDPMediaKind: UInt32] = [:]
        for m in session.media { if let s = m.ssrcs.first?.ssrc { out[m.kind] = s } }
        return out
    }

    struct Outcome {
        var ourStats: PeerConnectionStats
        var theirStats: [String: Any]
        var theirSSRCs: [SDPMediaKind: UInt32]
        var media: MediaStatistics
        var framesDecoded: Int
        var audioPeak: Int16
    }

    static func run(aiortcRole: String) async throws -> Outcome {
        let aiortc = try JSONLineProcess(Repo.python, [Repo.path("Tests/Interop/aiortc_peer.py"), "--role", aiortcRole,
                                                       "--stats-interval", "0.5"])
        defer { aiortc.stop() }
        guard await aiortc.waitFor(20, { $0["event"] as? String == "ready" }) != nil else {
            throw TestSupportError("aiortc driver did not start: \(aiortc.stderrTail)")
        }
        var ice = IceConfiguration()
        ice.loopbackOnly = true
        ice.includeIPv6 = false
        let pc = PeerConnection(configuration: PeerConnectionConfiguration(ice: ice, certificate: try DTLSCertificate.sharedInMemory(),
                                                                           gatheringWait: 1),
                                eventLoop: group.next())
        defer { pc.close() }
        pc.onLocalCandidate = { candidate in
            guard let candidate else { return }
            aiortc.send(["type": "candidate", "candidate": candidate.serialize(), "sdpMid": "0", "sdpMLineIndex": 0])
        }

        let theirSDP: String
        if aiortcRole == "offerer" {
            guard let offer = await aiortc.waitFor(20, { $0["type"] as? String == "offer" }), let sdp = offer["sdp"] as? String else {
                throw TestSupportError("no offer from aiortc: \(aiortc.stderrTail)")
            }
            theirSDP = sdp
            try await pc.setRemoteDescription(type: .offer, sdp: sdp)
            aiortc.send(["type": "answer", "sdp": try await pc.createAnswer()])
        } else {
            aiortc.send(["type": "offer", "sdp": try await pc.createOffer()])
            guard let answer = await aiortc.waitFor(20, { $0["type"] as? String == "answer" }), let sdp = answer["sdp"] as? String else {
                throw TestSupportError("no answer from aiortc: \(aiortc.stderrTail)")
            }
            theirSDP = sdp
            try await pc.setRemoteDescription(type: .answer, sdp: sdp)
        }
        let theirSSRCs = try announcedSSRCs(theirSDP)

        let deadline = Date().addingTimeInterval(15)
        while pc.connectionState != .connected, pc.connectionState != .failed, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(pc.connectionState == .connected, "aiortc: \(aiortc.stderrTail)")

        // Our MediaSession: the moving pattern (VP8) and a tone (Opus) for 3 s while aiortc's tone
        // and pattern come in and are decoded here.
        let session = MediaSession(peer: pc, configuration: MediaSessionConfiguration(width: 320, height: 240, startBitrate: 300_000))
        let seen = MediaSessionTests.Received()
        session.onVideoFrame = { _ in seen.frames.withLock { $0 += 1 } }
        session.onAudioFrame = { frame in
            let peak = frame.samples.map { $0 == .min ? .max : abs($0) }.max() ?? 0
            seen.audioFrames.withLock { $0 += 1 }
            seen.peak.withLock { $0 = max($0, peak) }
        }
        session.start()
        await MediaSessionTests.send(to: [session], seconds: 3)
        aiortc.send(["type": "stats"])
        let theirs = await aiortc.next(5) { $0["event"] as? String == "stats" } ?? [:]
        let mediaStats = await session.statistics()
        session.stop()
        return Outcome(ourStats: await pc.stats(), theirStats: theirs, theirSSRCs: theirSSRCs, media: mediaStats,
                       framesDecoded: seen.frames.withLock { $0 }, audioPeak: seen.peak.withLock { $0 })
    }

    @Test("aiortc as offerer and as answerer: ICE, DTLS, SRTP, two-way VP8 video and Opus audio decoded on both sides",
          arguments: ["offerer", "answerer"])
    func call(aiortcRole: String) async throws {
        let outcome = try await Self.run(aiortcRole: aiortcRole)
        let ours = outcome.ourStats
        print("aiortc \(aiortcRole): remote description → ICE \(ours.iceConnectedAfterMs ?? -1) ms, DTLS \(ours.dtlsConnectedAfterMs ?? -1) ms; profile \(ours.srtpProfile?.rawValue ?? "-"); received \(ours.srtpPacketsBySSRC), RTCP \(ours.rtcpPacketsReceived)")
        #expect(ours.srtpProfile != nil)
        // We decrypt its audio and video on the SSRCs its SDP announced.
        for kind in [SDPMediaKind.audio, .video] {
            let ssrc = try #require(outcome.theirSSRCs[kind])
            #expect((ours.srtpPacketsBySSRC[ssrc] ?? 0) > 20, "\(kind) SSRC \(ssrc): \(ours.srtpPacketsBySSRC)")
        }
        #expect(ours.srtpErrors == 0)
        // And it decodes the Opus we sent.
        let rtp = outcome.theirStats["rtp"] as? [String: Any]
        let audioIn = rtp?["audio"] as? [String: Any]
        #expect((audioIn?["packetsReceived"] as? Int ?? 0) > 50, "aiortc stats: \(outcome.theirStats)")
        let decoded = outcome.theirStats["decoded"] as? [String: Any]
        #expect((decoded?["audio"] as? Int ?? 0) > 20, "aiortc stats: \(outcome.theirStats)")
        #expect((outcome.theirStats["audio_peak"] as? Int ?? 0) > 2000, "aiortc hears our tone: \(outcome.theirStats)")
        // It decodes our video (3 s at 30 fps) ...
        #expect((decoded?["video"] as? Int ?? 0) > 45, "aiortc stats: \(outcome.theirStats)")
        #expect((outcome.theirStats["video_size"] as? [Int]) == [320, 240])
        // ... and we decode its video (15 fps) and hear its tone.
        print("aiortc \(aiortcRole): we decoded \(outcome.framesDecoded) frames, audio peak \(outcome.audioPeak); sent \(outcome.media.framesSent); it decoded \(decoded ?? [:]); first frame after \(outcome.media.firstFrameAfterMs ?? -1) ms")
        #expect(outcome.framesDecoded > 20)
        #expect(outcome.audioPeak > 2000)
    }

    @Test("aiortc killed mid-call: our side reports failed within 30 s (consent freshness, default timings)")
    func peerKilled() async throws {
        let aiortc = try JSONLineProcess(Repo.python, [Repo.path("Tests/Interop/aiortc_peer.py"), "--role", "offerer"])
        defer { aiortc.stop() }
        var ice = IceConfiguration()
        ice.loopbackOnly = true
        ice.includeIPv6 = false
        let pc = PeerConnection(configuration: PeerConnectionConfiguration(ice: ice, certificate: try DTLSCertificate.sharedInMemory()),
                                eventLoop: Self.group.next())
        defer { pc.close() }
        pc.onLocalCandidate = { candidate in
            guard let candidate else { return }
            aiortc.send(["type": "candidate", "candidate": candidate.serialize(), "sdpMid": "0", "sdpMLineIndex": 0])
        }
        let offer = try #require(await aiortc.waitFor(20) { $0["type"] as? String == "offer" })
        try await pc.setRemoteDescription(type: .offer, sdp: try #require(offer["sdp"] as? String))
        aiortc.send(["type": "answer", "sdp": try await pc.createAnswer()])
        let up = Date().addingTimeInterval(15)
        while pc.connectionState != .connected, Date() < up { try await Task.sleep(for: .milliseconds(20)) }
        try #require(pc.connectionState == .connected)

        kill(aiortc.process.processIdentifier, SIGKILL)
        let killed = Date()
        while pc.connectionState != .failed, pc.connectionState != .closed, Date().timeIntervalSince(killed) < 40 {
            try await Task.sleep(for: .milliseconds(100))
        }
        let seconds = Date().timeIntervalSince(killed)
        print("aiortc killed: our connection state \(pc.connectionState.rawValue) after \(String(format: "%.1f", seconds)) s")
        #expect(pc.connectionState == .failed || pc.connectionState == .closed)
        #expect(seconds <= 31)
    }
}
