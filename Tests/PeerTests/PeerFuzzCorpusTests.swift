import Foundation
import Testing
import TestSupport
import Peer

/// Replays every committed Peer fuzz input (Tests/Fuzz/peer-corpus: seeds and crash reproducers) through
/// the parsers the `fuzz` entry drives with FUZZ_TARGET=peer, so a fixed crash stays fixed.
@Suite("Peer fuzz corpus replay")
struct PeerFuzzCorpusTests {
    @Test func corpusHoldsNoViolations() throws {
        let dir = Repo.path("Tests/Fuzz/peer-corpus")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names.count >= 10)
        var decodedBy: [String: Int] = [:]
        for name in names {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
            let outcome = data.withUnsafeBytes { PeerParserExercise.run($0) }
            #expect(outcome.violations.isEmpty, "\(name): \(outcome.violations)")
            if outcome.decoded { decodedBy[outcome.parser, default: 0] += 1 }
        }
        // The seeds are real inputs: each parser they target must accept them.
        #expect(decodedBy["sdp"] == 6)
        #expect((decodedBy["stun"] ?? 0) >= 3)
        #expect(decodedBy["candidate"] == 2)
        #expect(decodedBy["rtp"] == 1 && decodedBy["rtcp"] == 1 && decodedBy["vp8"] == 1)
    }
}
