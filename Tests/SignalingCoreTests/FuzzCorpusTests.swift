import Foundation
import Testing
import SignalingCore

/// Replays every committed fuzz input (Tests/Fuzz/corpus, seeds and crash reproducers alike) through the same
/// decoders the `fuzz` entry point drives with FUZZ_TARGET=signaling, so a fixed crash stays fixed.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // SignalingCoreTests
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fuzz/corpus", isDirectory: true)

    static func files() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: [.isRegularFileKey])
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every corpus file decodes without a trap, and what it decodes to re-encodes to itself")
    func replay() throws {
        let files = try Self.files()
        #expect(files.count >= 10, "corpus at \(Self.corpus.path) is missing or nearly empty")
        var events = 0
        for file in files {
            let outcome = DecoderExercise.run(try Data(contentsOf: file))
            #expect(outcome.violations.isEmpty, "\(file.lastPathComponent): \(outcome.violations)")
            events += outcome.events
        }
        // The seeds are real packets: most of them must reach the typed-event layer.
        #expect(events >= 5, "only \(events) events reached the typed decoders")
    }
}
