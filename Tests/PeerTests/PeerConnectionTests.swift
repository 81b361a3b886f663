import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import Peer

/// Two of our endpoints over the in-process `VirtualNetwork`: offer/answer, trickle, ICE + DTLS +
/// SRTP up, RTP both ways; with loss; a wrong fingerprint; a peer that vanishes.
@Suite("PeerConnection over the virtual network")
struct PeerConnectionTests {
    /// Everything one side saw, filled from the callbacks.
    final class Observed: Sendable {
        let states = Mutex<[PeerConnectionState]>([])
        let rtp = Mutex<[UInt32: Int]>([:])
        var last: PeerConnectionState? { states.withLock { $0.last } }
    }

    struct Call {
        let offerer: PeerConnection
        let answerer: PeerConnection
        let seenByOfferer = Observed()
        let seenByAnswerer = Observed()
        let network: VirtualNetwork
    }

    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    static func config(consentTimeout: Double = 30) throws -> PeerConnectionConfiguration {
        var ice = IceConfiguration()
        ice.consentTimeout = consentTimeout
        ice.disconnectedTimeout = min(5, consentTimeout / 2)
        return PeerConnectionConfiguration(ice: ice, certificate: try DTLSCertificate.sharedInMemory())
    }

    static func makeCall(seed: UInt64 = 1, consentTimeout: Double = 30,
                         offererCertificate: DTLSCertificate? = nil) throws -> Call {
        let network = VirtualNetwork(seed: seed)
        var offererConfig = try config(consentTimeout: consentTimeout)
        if let offererCertificate { offererConfig.certificate = offererCertificate }
        let offerer = PeerConnection(configuration: offererConfig, eventLoop: group.next(),
                                     socketFactory: network.host("10.0.0.1"))
        let answerer = PeerConnection(configuration: try config(consentTimeout: consentTimeout),
                                      eventLoop: group.next(), socketFactory: network.host("10.0.0.2"))
        let call = Call(offerer: offerer, answerer: answerer, network: network)
        // Trickle both ways, as the seed's app does over signaling.
        offerer.onLocalCandidate = { [answerer] c in answerer.addRemoteCandidate(c) }
        answerer.onLocalCandidate = { [offerer] c in offerer.addRemoteCandidate(c) }
        for (pc, seen) in [(offerer, call.seenByOfferer), (answerer, call.seenByAnswerer)] {
            pc.onConnectionStateChange = { state in seen.states.withLock { $0.append(state) } }
            pc.onRTP = { packet in
                let ssrc = UInt32(packet[8]) << 24 | UInt32(packet[9]) << 16 | UInt32(packet[10]) << 8 | UInt32(packet[11])
                seen.rtp.withLock { $0[ssrc, default: 0] += 1 }
            }
        }
        return call
    }

    static func negotiate(_ call: Call, tamperAnswer: (String) -> String = { $0 }) async throws {
        let offer = try await call.offerer.createOffer()
        try await call.answerer.setRemoteDescription(type: .offer, sdp: offer)
        let answer = try await call.answerer.createAnswer()
        try await call.offerer.setRemoteDescription(type: .answer, sdp: tamperAnswer(answer))
    }

    static func waitUntil(_ seconds: Double, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }

    /// A minimal RTP packet (RFC 3550 §5.1): V=2, PT, seq, timestamp, SSRC, and a payload.
    static func rtp(ssrc: UInt32, seq: UInt16, payloadType: UInt8 = 111) -> [UInt8] {
        var p: [UInt8] = [0x80, payloadType, UInt8(seq >> 8), UInt8(seq & 0xFF), 0, 0, 0, UInt8(seq & 0xFF)]
        p += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
        p += [0xF8, 0xFF, 0xFE]  // an Opus 20 ms silence frame
        return p
    }

    static func connected(_ call: Call) async -> Bool {
        call.offerer.connectionState == .connected && call.answerer.connectionState == .connected
    }

    @Test("offer/answer with trickle: ICE, DTLS and SRTP up, RTP decrypted both ways")
    func connectsAndCarriesSRTP() async throws {
        let call = try Self.makeCall()
        try await Self.negotiate(call)
        #expect(await Self.waitUntil(10) { await Self.connected(call) })
        #expect(call.offerer.signalingState == .stable && call.answerer.signalingState == .stable)

        for seq in 0..<50 {
            call.offerer.sendRTP(Self.rtp(ssrc: call.offerer.localAudioSSRC, seq: UInt16(seq)))
            call.answerer.sendRTP(Self.rtp(ssrc: call.answerer.localAudioSSRC, seq: UInt16(seq)))
        }
        #expect(await Self.waitUntil(5) {
            call.seenByAnswerer.rtp.withLock { $0[call.offerer.localAudioSSRC] } == 50
                && call.seenByOfferer.rtp.withLock { $0[call.answerer.localAudioSSRC] } == 50
        })
        let stats = await call.answerer.stats()
        #expect(stats.srtpProfile != nil)
        #expect(stats.srtpErrors == 0)
        #expect(stats.dtlsConnectedAfterMs != nil)
        // The answerer knows which section the offerer's audio SSRC belongs to from the offer.
        let media = await call.answerer.negotiatedMedia()
        #expect(media.first { $0.kind == .audio }?.remoteSSRCs.first == call.offerer.localAudioSSRC)

        call.offerer.close()
        // close_notify reaches the answerer.
        #expect(await Self.waitUntil(5) { call.answerer.connectionState == .closed })
        call.answerer.close()
    }

    @Test("10 % loss each way: ICE and DTLS still complete (retransmissions)")
    func survivesLoss() async throws {
        let call = try Self.makeCall(seed: 7)
        call.network.setConditions(VirtualNetwork.Conditions(loss: 0.1), forHost: "10.0.0.1")
        call.network.setConditions(VirtualNetwork.Conditions(loss: 0.1), forHost: "10.0.0.2")
        try await Self.negotiate(call)
        #expect(await Self.waitUntil(20) { await Self.connected(call) })
        // Media goes on through the loss: about 90 % of 200 packets arrive, the rest are lost.
        for seq in 0..<200 { call.offerer.sendRTP(Self.rtp(ssrc: call.offerer.localAudioSSRC, seq: UInt16(seq))) }
        _ = await Self.waitUntil(2) { (call.seenByAnswerer.rtp.withLock { $0[call.offerer.localAudioSSRC] } ?? 0) >= 190 }
        let arrived = call.seenByAnswerer.rtp.withLock { $0[call.offerer.localAudioSSRC] } ?? 0
        #expect((150..<200).contains(arrived), "\(arrived) of 200 arrived")
        #expect(call.network.counters.dropped > 0)
        call.offerer.close()
        call.answerer.close()
    }

    @Test("a fingerprint that does not match the peer's certificate fails the call with a clear error")
    func wrongFingerprintRefused() async throws {
        // The offerer presents another certificate than the one its SDP fingerprint names: we
        // announce the shared one in SDP by giving the answerer a tampered offer.
        let other = try DTLSCertificate.generate()
        let call = try Self.makeCall()
        let offer = try await call.offerer.createOffer()
        let shared = try DTLSCertificate.sharedInMemory().fingerprint.value
        let tampered = offer.replacingOccurrences(of: shared, with: other.fingerprint.value)
        #expect(tampered != offer)
        try await call.answerer.setRemoteDescription(type: .offer, sdp: tampered)
        let answer = try await call.answerer.createAnswer()
        try await call.offerer.setRemoteDescription(type: .answer, sdp: answer)
        #expect(await Self.waitUntil(10) { call.answerer.connectionState == .failed })
        #expect(call.seenByAnswerer.states.withLock { !$0.contains(.connected) })
        call.offerer.close()
        call.answerer.close()
    }

    @Test("a peer that vanishes is detected by consent freshness (short timeout for the test)")
    func vanishedPeerFails() async throws {
        let call = try Self.makeCall(consentTimeout: 3)
        try await Self.negotiate(call)
        #expect(await Self.waitUntil(10) { await Self.connected(call) })
        call.network.setConditions(VirtualNetwork.Conditions(silent: true), forHost: "10.0.0.2")
        let start = Date()
        #expect(await Self.waitUntil(10) { call.offerer.connectionState == .failed })
        #expect(Date().timeIntervalSince(start) < 8)
        call.offerer.close()
        call.answerer.close()
    }

    @Test("close() lets go of the callbacks: a connection its own callbacks hold strongly is freed")
    func closeReleasesCallbacks() async throws {
        weak var released: PeerConnection?
        do {
            let pc = PeerConnection(configuration: try Self.config(), eventLoop: Self.group.next(),
                                    socketFactory: VirtualNetwork(seed: 7).host("10.0.0.1"))
            pc.onConnectionStateChange = { _ in _ = pc }
            pc.onRTP = { _ in _ = pc }
            pc.onLocalCandidate = { _ in _ = pc }
            released = pc
            pc.close()
            try await pc.eventLoop.submit {}.get()  // close() has run
        }
        // The event loop drops the closure that ran close() (which holds the connection) only
        // after the batch it ran in, so allow it a moment.
        for _ in 0..<200 where released != nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(released == nil)
    }

    @Test("malformed or incomplete remote descriptions are refused with the reason")
    func badDescriptionsRefused() async throws {
        let call = try Self.makeCall()
        await #expect(throws: PeerConnectionError.self) {
            try await call.answerer.setRemoteDescription(type: .offer, sdp: "v=0\r\nbogus\r\n")
        }
        let offer = try await call.offerer.createOffer()
        let noFingerprint = offer.split(separator: "\r\n").filter { !$0.hasPrefix("a=fingerprint") }
            .joined(separator: "\r\n") + "\r\n"
        do {
            try await call.answerer.setRemoteDescription(type: .offer, sdp: noFingerprint)
            Issue.record("accepted an offer without a fingerprint")
        } catch {
            #expect("\(error)".contains("fingerprint"))
        }
        // An answer when we made no offer is refused too.
        await #expect(throws: PeerConnectionError.self) {
            try await call.answerer.setRemoteDescription(type: .answer, sdp: offer)
        }
        // The good offer still works after the bad ones (nothing was half-applied).
        try await call.answerer.setRemoteDescription(type: .offer, sdp: offer)
        #expect(call.answerer.signalingState == .haveRemoteOffer)
        call.offerer.close()
        call.answerer.close()
    }

    @Test("ICE restart through renegotiation: new credentials, media keeps flowing, DTLS kept")
    func iceRestart() async throws {
        let call = try Self.makeCall()
        let firstOffer = try await call.offerer.createOffer()
        try await call.answerer.setRemoteDescription(type: .offer, sdp: firstOffer)
        try await call.offerer.setRemoteDescription(type: .answer, sdp: try await call.answerer.createAnswer())
        #expect(await Self.waitUntil(10) { await Self.connected(call) })

        // A steady 10 ms stream from the offerer across the restart.
        let ssrc = call.offerer.localAudioSSRC
        let sender = Task {
            var seq: UInt16 = 0
            while !Task.isCancelled {
                call.offerer.sendRTP(Self.rtp(ssrc: ssrc, seq: seq))
                seq &+= 1
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        defer { sender.cancel() }
        try await Task.sleep(for: .milliseconds(200))
        let before = call.seenByAnswerer.rtp.withLock { $0[ssrc] } ?? 0
        #expect(before > 5)

        call.offerer.restartIce()
        let secondOffer = try await call.offerer.createOffer()
        let ufrag = { (sdp: String) in sdp.split(separator: "\r\n").first { $0.hasPrefix("a=ice-ufrag:") } }
        #expect(ufrag(secondOffer) != ufrag(firstOffer))
        try await call.answerer.setRemoteDescription(type: .offer, sdp: secondOffer)
        let secondAnswer = try await call.answerer.createAnswer()
        try await call.offerer.setRemoteDescription(type: .answer, sdp: secondAnswer)

        // Media flows throughout and afterwards; nobody failed or closed; the same DTLS association.
        try await Task.sleep(for: .milliseconds(600))
        let after = call.seenByAnswerer.rtp.withLock { $0[ssrc] } ?? 0
        #expect(after > before + 30, "before \(before), after \(after)")
        for seen in [call.seenByOfferer, call.seenByAnswerer] {
            #expect(seen.states.withLock { !$0.contains(.failed) && !$0.contains(.closed) })
            #expect(seen.states.withLock { $0.filter { $0 == .connected }.count } == 1)
        }
        #expect(await Self.connected(call))
        sender.cancel()
        call.offerer.close()
        call.answerer.close()
    }
}
