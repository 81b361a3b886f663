import Testing
@testable import Peer

@Suite("SDP parse and serialize")
struct SDPParseTests {
    static let fixtures: [(String, String)] = [
        ("chromium", SDPFixtures.chromium), ("firefox", SDPFixtures.firefox), ("aiortc", SDPFixtures.aiortc),
    ]

    @Test("parse → serialize → parse is lossless", arguments: [0, 1, 2])
    func roundTrip(index: Int) throws {
        let first = try SDPSession.parse(Self.fixtures[index].1)
        let text = first.serialize()
        #expect(text.hasSuffix("\r\n"))
        #expect(!text.replacingCRLF().contains("\r"), "only CRLF line endings")
        let second = try SDPSession.parse(text)
        #expect(first == second)
        #expect(second.serialize() == text, "serializing is idempotent")
    }

    @Test func chromiumFields() throws {
        let s = try SDPSession.parse(SDPFixtures.chromium)
        #expect(s.origin.sessionId == "4611731400430051336")
        #expect(s.bundleMids == ["0", "1", "2"])
        #expect(s.msidSemantic == " WMS 7b1f9c4e-stream")
        #expect(s.otherAttributes == [SDPAttribute(name: "extmap-allow-mixed")])
        #expect(s.media.map(\.kind) == [.audio, .video, .application])
        let video = try #require(s.media(mid: "1"))
        #expect(video.setup == .actpass)
        #expect(video.iceOptions == ["trickle"])
        #expect(video.fingerprints.first?.algorithm == "sha-256")
        #expect(video.direction == .sendrecv && video.rtcpMux && video.rtcpRsize)
        #expect(video.payloadTypes.count == 14)
        #expect(video.ssrcGroups == [SDPSsrcGroup(semantics: "FID", ssrcs: [2944812341, 1095872210])])
        #expect(video.ssrcs.first == SDPSsrcAttribute(ssrc: 2944812341, attribute: "cname", value: "Hd5Qx0wXy3bKpT1e"))
        #expect(video.msids == [SDPMsid(streamId: "7b1f9c4e-stream", trackId: "5e8a91d2-video")])
        #expect(video.candidates.isEmpty && !video.endOfCandidates)
        #expect(video.attribute("rtcp") == "9 IN IP4 0.0.0.0")
        let data = s.media[2]
        #expect(data.formats == ["webrtc-datachannel"] && data.proto == "UDP/DTLS/SCTP")
        #expect(data.attribute("sctp-port") == "5000")
        let vp8 = try #require(video.pick(name: "vp8"))
        #expect(vp8.payloadType == 96 && vp8.clockRate == 90000)
        #expect(vp8.rtcpFeedback.map(\.kind) == ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"])
        #expect(video.rtx(for: 96)?.payloadType == 97)
        #expect(video.rtx(for: 102)?.payloadType == 103)
        let audio = s.media[0]
        #expect(audio.pick(name: "opus")?.fmtp == "minptime=10;useinbandfec=1")
        #expect(audio.pick(name: "PCMU")?.payloadType == 0)
    }

    @Test func firefoxFields() throws {
        let s = try SDPSession.parse(SDPFixtures.firefox)
        #expect(s.origin.username == "mozilla...THIS_IS_SDPARTA-120.0")
        #expect(s.fingerprints.count == 1 && s.iceOptions == ["trickle"])
        let audio = s.media[0]
        #expect(audio.port == 54321)
        #expect(audio.connection?.address == "192.168.1.20")
        #expect(audio.candidates.count == 4 && audio.endOfCandidates)
        #expect(audio.candidates[2].tcpType == "active")
        #expect(audio.candidates[1].address == "fd00:1234:5678:9abc::20")
        #expect(audio.extmaps[1] == SDPExtmap(id: 2, direction: .recvonly,
                                              uri: "urn:ietf:params:rtp-hdrext:csrc-audio-level"))
        #expect(s.fingerprints(for: audio) == s.fingerprints)
        #expect(audio.pick(name: "opus")?.payloadType == 109)
        #expect(audio.pick(name: "G722")?.channels == 1)
        let video = s.media[1]
        // Firefox lists rtpmaps after fmtps; codec view joins them by payload type anyway.
        #expect(video.codecs.map(\.payloadType) == [120, 124, 121, 125, 126, 127, 97, 98])
        #expect(video.rtx(for: 120)?.payloadType == 124)
        #expect(video.ssrcGroups.first?.ssrcs == [2206438547, 1403923985])
    }

    @Test func aiortcFields() throws {
        let s = try SDPSession.parse(SDPFixtures.aiortc)
        let audio = s.media[0]
        #expect(audio.fingerprints.map(\.algorithm) == ["sha-256", "sha-384", "sha-512"])
        #expect(audio.candidates.count == 3 && audio.endOfCandidates)
        #expect(audio.candidates[2].relatedAddress == "192.168.1.30" && audio.candidates[2].relatedPort == 50871)
        #expect(audio.codecs.map(\.name) == ["opus", "PCMU", "PCMA"])
        #expect(s.media[1].pick(name: "VP8")?.payloadType == 97)
        #expect(s.media[1].rtx(for: 97)?.payloadType == 98)
    }

    @Test func unknownAttributesAndLinesKeptInOrder() throws {
        let text = """
        v=0
        o=- 1 1 IN IP4 0.0.0.0
        s=-
        i=a session
        b=AS:2000
        t=0 0
        a=x-custom:one
        a=ice-lite
        a=x-flag
        m=video 9 UDP/TLS/RTP/SAVPF 96
        b=TIAS:1000000
        a=mid:v
        a=x-google-flag:conference
        a=framerate:30
        a=rtpmap:96 VP8/90000
        a=simulcast:send 1;2
        a=rid:1 send

        """
        let s = try SDPSession.parse(text)
        #expect(s.otherAttributes == [SDPAttribute(name: "x-custom", value: "one"), SDPAttribute(name: "x-flag")])
        #expect(s.iceLite)
        #expect(s.otherLines.map(\.type) == ["i", "b"])
        let m = s.media[0]
        #expect(m.otherAttributes.map(\.name) == ["x-google-flag", "framerate", "simulcast", "rid"])
        #expect(m.otherLines == [SDPLine(type: "b", value: "TIAS:1000000")])
        let again = try SDPSession.parse(s.serialize())
        #expect(again == s)
        #expect(s.serialize().contains("a=simulcast:send 1;2\r\na=rid:1 send\r\n"))
    }

    @Test("malformed lines are rejected with their number", arguments: [
        ("m=video nine UDP/TLS/RTP/SAVPF 96", 5),      // non-numeric port
        ("m=video 9 UDP/TLS/RTP/SAVPF", 5),            // m= without formats
        ("m=video 9 UDP/TLS/RTP/SAVPF 96 abc", 5),     // RTP payload type not a number
        ("a=rtpmap:96 VP8", 6),                        // rtpmap without clock rate
        ("a=rtpmap:x VP8/90000", 6),
        ("a=candidate:1 1 udp 100 10.0.0.1 5000 host", 6),   // missing "typ"
        ("a=candidate:1 1 udp 100 10.0.0.1 99999 typ host", 6),
        ("a=setup:sometimes", 6),
        ("a=extmap:x urn:foo", 6),
        ("a=ssrc:-5 cname:x", 6),
        ("a=fingerprint:sha-256 zz:11", 6),
        ("garbage", 6),
    ])
    func malformed(line: String, number: Int) {
        var lines = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0"]
        if line.hasPrefix("m=") {
            lines.append(line)
        } else {
            lines += ["m=video 9 UDP/TLS/RTP/SAVPF 96", line]
        }
        let text = lines.joined(separator: "\r\n") + "\r\n"
        #expect(throws: SDPError.self) { try SDPSession.parse(text) }
        do {
            _ = try SDPSession.parse(text)
        } catch {
            guard case let .malformedLine(n, l, reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(n == number)
            #expect(l == line)
            #expect(!reason.isEmpty)
        }
    }

    @Test func missingVersionIsLineOne() {
        do {
            _ = try SDPSession.parse("o=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")
            Issue.record("accepted SDP without v=")
        } catch {
            #expect(error == .malformedLine(number: 1, line: "o=- 1 1 IN IP4 0.0.0.0", reason: "the first line must be v=0"))
        }
        #expect(throws: SDPError.self) { try SDPSession.parse("") }
    }

    @Test func missingOriginRejected() {
        #expect(throws: SDPError.self) { try SDPSession.parse("v=0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n") }
        #expect(throws: SDPError.self) { try SDPSession.parse("v=0\r\ns=-\r\nt=0 0\r\n") }
    }

    @Test func lineEndingsDoNotMatter() throws {
        let crlf = try SDPSession.parse(SDPFixtures.chromium)
        let lf = try SDPSession.parse(SDPFixtures.chromium.replacingCRLF())
        #expect(crlf == lf)
        let noFinalNewline = try SDPSession.parse(String(SDPFixtures.aiortc.dropLast()))
        #expect(noFinalNewline == (try SDPSession.parse(SDPFixtures.aiortc)))
    }

    /// Cheap robustness check ahead of the libFuzzer target: truncating or corrupting any line of
    /// a real offer must give a value or an SDPError, never a trap.
    @Test(arguments: [0, 1, 2])
    func corruptedLinesNeverTrap(index: Int) {
        let lines = Self.fixtures[index].1.replacingCRLF().split(separator: "\n").map(String.init)
        for i in lines.indices {
            for cut in [1, 2, 3, lines[i].count / 2, lines[i].count - 1] where cut > 0 && cut < lines[i].count {
                var copy = lines
                copy[i] = String(lines[i].prefix(cut))
                _ = try? SDPSession.parse(copy.joined(separator: "\r\n"))
                copy[i] = String(lines[i].prefix(cut)) + "\u{0}é " + String(lines[i].dropFirst(cut))
                _ = try? SDPSession.parse(copy.joined(separator: "\n"))
            }
        }
    }

    @Test func badLineInsideFixtureNamesItsNumber() {
        var lines = SDPFixtures.chromium.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let index = lines.firstIndex(of: "a=rtpmap:96 VP8/90000")!
        lines[index] = "a=rtpmap:96 VP8/ninety"
        do {
            _ = try SDPSession.parse(lines.joined(separator: "\r\n"))
            Issue.record("accepted a bad rtpmap")
        } catch {
            guard case let .malformedLine(n, l, _) = error else { return }
            #expect(n == index + 1 && l == "a=rtpmap:96 VP8/ninety")
        }
    }
}

extension String {
    func replacingCRLF() -> String {
        split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: "\n")
    }
}
