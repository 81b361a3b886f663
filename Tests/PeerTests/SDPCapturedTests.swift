import Foundation
import Testing
import TestSupport
@testable import Peer

/// SDPs captured byte for byte from Chromium 156 and aiortc 1.16 (Tests/Interop/capture_sdp.py
/// regenerates them): our parser must take them as they are, our serializer must reproduce a
/// description that parses to the same thing, and our answers must pick VP8 and Opus with the
/// offerer's payload types. (Firefox is not installed here: its shape is in SDPFixtures.firefox.)
@Suite("Captured SDPs from Chromium and aiortc")
struct SDPCapturedTests {
    static let files = ["chromium-offer.sdp", "chromium-offer-gathered.sdp", "chromium-answer.sdp",
                        "aiortc-offer.sdp", "aiortc-answer.sdp"]

    static func load(_ name: String) throws -> String {
        try String(contentsOfFile: Repo.path("Tests/PeerTests/Fixtures/" + name), encoding: .utf8)
    }

    @Test("parse → serialize → parse is stable", arguments: files)
    func roundTrip(name: String) throws {
        let text = try Self.load(name)
        let parsed = try SDPSession.parse(text)
        #expect(parsed.media.count == 2)
        #expect(parsed.bundleMids == ["0", "1"])
        for m in parsed.media {
            #expect(parsed.iceUfrag(for: m) != nil && parsed.icePwd(for: m) != nil)
            #expect(parsed.fingerprints(for: m).contains { $0.algorithm == "sha-256" })
            #expect(m.rtcpMux)
        }
        let again = try SDPSession.parse(parsed.serialize())
        #expect(again == parsed)
        // Nothing is lost on the way: every attribute line of the original is still there.
        let originalLines = Set(text.split(whereSeparator: \.isNewline).map(String.init).filter { $0.hasPrefix("a=") })
        let outLines = Set(parsed.serialize().split(whereSeparator: \.isNewline).map(String.init))
        #expect(originalLines.subtracting(outLines).isEmpty, "lost: \(originalLines.subtracting(outLines).sorted())")
    }

    @Test("gathered offers carry host candidates on loopback; trickling ones none")
    func candidates() throws {
        let trickle = try SDPSession.parse(Self.load("chromium-offer.sdp"))
        #expect(trickle.media.allSatisfy { $0.candidates.isEmpty })
        for name in ["chromium-offer-gathered.sdp", "aiortc-offer.sdp"] {
            let gathered = try SDPSession.parse(Self.load(name))
            let all = gathered.media.flatMap(\.candidates)
            #expect(!all.isEmpty)
            #expect(all.allSatisfy { $0.address == "127.0.0.1" && $0.type == .host })
        }
    }

    @Test("our answer to each real offer picks VP8 (+RTX) and Opus with the offerer's payload types",
          arguments: [("chromium-offer.sdp", 96, 97, 111), ("aiortc-offer.sdp", 97, 98, 96)])
    func answer(name: String, vp8: Int, rtx: Int, opus: Int) throws {
        let offer = try SDPSession.parse(Self.load(name))
        let answer = SDPAnswerTests.builder.answer(to: offer)
        #expect(answer.media[0].formats == ["\(opus)"])
        #expect(answer.media[1].formats == ["\(vp8)", "\(rtx)"])
        #expect(try SDPSession.parse(answer.serialize()) == answer)
    }
}
