import Testing
@testable import Peer

@Suite("JSEP answers and offers")
struct SDPAnswerTests {
    static let fingerprint = SDPFingerprint(
        algorithm: "sha-256",
        value: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99")
    static let transport = SDPLocalTransport(iceUfrag: "loc1", icePwd: "localpasswordlocalpassword", fingerprint: fingerprint)
    static let builder = AnswerBuilder(
        transport: transport, sessionId: "1234567890",
        audioTrack: SDPLocalTrack(streamId: "vp", trackId: "mic", ssrc: 1111, cname: "appliance"),
        videoTrack: SDPLocalTrack(streamId: "vp", trackId: "cam", ssrc: 2222, rtxSsrc: 3333, cname: "appliance"))

    /// (fixture, expected VP8 pt, its RTX pt, opus pt)
    static let cases: [(String, Int, Int, Int)] = [
        (SDPFixtures.chromium, 96, 97, 111), (SDPFixtures.firefox, 120, 124, 109), (SDPFixtures.aiortc, 97, 98, 96),
    ]

    @Test("answer picks VP8+RTX and Opus with the offerer's payload types", arguments: [0, 1, 2])
    func answer(index: Int) throws {
        let (text, vp8, rtx, opus) = Self.cases[index]
        let offer = try SDPSession.parse(text)
        let answer = Self.builder.answer(to: offer)

        #expect(answer.media.map(\.mid) == offer.media.map(\.mid))
        #expect(answer.media.map(\.kind) == offer.media.map(\.kind))
        let audio = answer.media[0], video = answer.media[1]
        #expect(audio.formats == ["\(opus)"])
        #expect(audio.pick(name: "opus")?.channels == 2)
        #expect(video.formats == ["\(vp8)", "\(rtx)"])
        #expect(video.rtx(for: vp8)?.payloadType == rtx)
        #expect(answer.bundleMids == ["0", "1"])
        for m in [audio, video] {
            #expect(m.port == 9 && m.rtcpMux)
            #expect(m.setup == .active)
            #expect(m.iceUfrag == "loc1" && m.icePwd == "localpasswordlocalpassword")
            #expect(m.fingerprints == [Self.fingerprint])
            #expect(m.iceOptions == ["trickle"])
            #expect(m.direction == .sendrecv)
            #expect(m.extmaps.allSatisfy { SDPSupport.headerExtensions.contains($0.uri) })
            // The offerer's extmap ids are kept.
            let offered = try #require(offer.media(mid: m.mid!))
            for e in m.extmaps { #expect(offered.extmaps.contains { $0.id == e.id && $0.uri == e.uri }) }
        }
        // Only feedback that was offered, and only kinds we implement.
        let offeredVP8 = try #require(offer.media[1].pick(name: "VP8"))
        let answeredVP8 = try #require(video.pick(name: "VP8"))
        #expect(Set(answeredVP8.rtcpFeedback.map(\.kind)).isSubset(of: Set(offeredVP8.rtcpFeedback.map(\.kind))))
        #expect(answeredVP8.rtcpFeedback.contains { $0.kind == "nack pli" })
        #expect(video.ssrcGroups == [SDPSsrcGroup(semantics: "FID", ssrcs: [2222, 3333])])
        #expect(audio.ssrcs.contains(SDPSsrcAttribute(ssrc: 1111, attribute: "cname", value: "appliance")))

        // And the answer itself survives our own parser.
        #expect(try SDPSession.parse(answer.serialize()) == answer)
    }

    @Test func chromiumAnswerDetails() throws {
        let offer = try SDPSession.parse(SDPFixtures.chromium)
        let answer = Self.builder.answer(to: offer)
        let video = answer.media[1]
        #expect(video.pick(name: "VP8")?.rtcpFeedback.map(\.kind) == ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"])
        #expect(video.extmaps.map(\.id) == [2, 3, 4])
        #expect(answer.media[0].pick(name: "opus")?.rtcpFeedback.map(\.kind) == ["transport-cc"])
        #expect(answer.media[0].pick(name: "opus")?.fmtp == "minptime=10;useinbandfec=1")
        // The data channel is rejected and leaves the BUNDLE group.
        let data = answer.media[2]
        #expect(data.port == 0 && data.isRejected && data.mid == "2" && data.kind == .application)
        #expect(data.formats == ["webrtc-datachannel"])
        #expect(answer.serialize().contains("m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"))
    }

    @Test func firefoxExtmapDirectionsMirrored() throws {
        var offer = try SDPSession.parse(SDPFixtures.firefox)
        offer.media[1].extmaps[1].direction = .sendonly  // abs-send-time
        let answer = Self.builder.answer(to: offer)
        #expect(answer.media[1].extmaps.first { $0.id == 4 }?.direction == .recvonly)
        #expect(answer.media[1].extmaps.map(\.id) == [3, 4, 7])
    }

    @Test("direction mirrored", arguments: [
        (SDPDirection.sendrecv, SDPDirection.sendrecv), (.sendonly, .recvonly), (.recvonly, .sendonly), (.inactive, .inactive),
    ])
    func direction(offered: SDPDirection, answered: SDPDirection) throws {
        var offer = try SDPSession.parse(SDPFixtures.aiortc)
        offer.media[1].direction = offered
        let video = Self.builder.answer(to: offer).media[1]
        #expect(video.direction == answered)
        // We only announce our track when we send.
        #expect(video.ssrcs.isEmpty == (answered == .recvonly || answered == .inactive))
    }

    @Test func setupRoles() throws {
        var offer = try SDPSession.parse(SDPFixtures.aiortc)
        for i in offer.media.indices { offer.media[i].setup = .active }
        #expect(Self.builder.answer(to: offer).media.allSatisfy { $0.setup == .passive })
        for i in offer.media.indices { offer.media[i].setup = .passive }
        #expect(Self.builder.answer(to: offer).media.allSatisfy { $0.setup == .active })
    }

    @Test func sectionWithoutSupportedCodecIsRejected() throws {
        var offer = try SDPSession.parse(SDPFixtures.aiortc)
        offer.media[1].formats = ["99", "100"]  // H264 + its RTX only
        offer.media[0].formats = ["0", "8"]      // PCMU/PCMA only
        let answer = Self.builder.answer(to: offer)
        #expect(answer.media.allSatisfy { $0.isRejected })
        #expect(answer.bundleMids == nil)
        #expect(answer.media[1].formats == ["99", "100"] && answer.media[1].mid == "1")
    }

    @Test func bundleOnlySectionIsAccepted() throws {
        var offer = try SDPSession.parse(SDPFixtures.chromium)
        offer.media[1].port = 0
        offer.media[1].otherAttributes.append(SDPAttribute(name: "bundle-only"))
        let answer = Self.builder.answer(to: offer)
        #expect(answer.media[1].port == 9 && answer.bundleMids == ["0", "1"])
        offer.media[1].otherAttributes.removeLast()
        #expect(Self.builder.answer(to: offer).media[1].isRejected)
    }

    @Test func offerShape() throws {
        let offer = OfferBuilder(
            transport: Self.transport, sessionId: "42",
            audioTrack: SDPLocalTrack(streamId: "vp", trackId: "mic", ssrc: 1111, cname: "appliance"),
            videoTrack: SDPLocalTrack(streamId: "vp", trackId: "cam", ssrc: 2222, rtxSsrc: 3333, cname: "appliance")
        ).offer()
        #expect(offer.bundleMids == ["0", "1"])
        let audio = offer.media[0], video = offer.media[1]
        #expect(audio.pick(name: "opus") == SDPCodec(
            payloadType: 111, name: "opus", clockRate: 48000, channels: 2, fmtp: "minptime=10;useinbandfec=1",
            rtcpFeedback: [SDPRtcpFeedback(payload: "111", type: "transport-cc")]))
        #expect(video.formats == ["96", "97"])
        #expect(video.rtx(for: 96)?.payloadType == 97)
        #expect(offer.media.allSatisfy { $0.setup == .actpass && $0.iceOptions == ["trickle"] && $0.rtcpMux })
        #expect(video.ssrcGroups == [SDPSsrcGroup(semantics: "FID", ssrcs: [2222, 3333])])
        let text = offer.serialize()
        #expect(text.contains("a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"))
        #expect(text.contains("a=fmtp:97 apt=96\r\n"))
        #expect(try SDPSession.parse(text) == offer)
        // Answering our own offer (as a peer of our kind would) gives back our payload types.
        let answer = Self.builder.answer(to: offer)
        #expect(answer.media[1].formats == ["96", "97"] && answer.media[0].formats == ["111"])
    }
}
