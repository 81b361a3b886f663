import Foundation
import Testing
import SignalingCore

/// Replays every committed fuzz input (Tests/Fuzz/corpus, seeds and crash reproducers alike) through the same
/// decoders the `signaling-fuzz` entry point drives, so a fixed crash stays fixed.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // SignalingCoreTests
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fuzz/corpus", isDirectory: true)

    /// Mirrors `decodeEverything` in Sources/signaling-fuzz/FuzzEntry.swift (an executable target cannot be
    /// imported); keep the two in step. Returns how many Socket.IO events reached the typed decoders.
    @discardableResult
    static func decodeEverything(_ bytes: Data) -> Int {
        var events = 0
        let text = String(decoding: bytes, as: UTF8.self)
        for result in EngineIOPayload.decode(text) {
            guard case .success(.message(let message)) = result else { continue }
            guard let packet = try? SocketIOPacket.decode(message) else { continue }
            _ = packet.encoded()
            guard let (name, args) = try? packet.eventNameAndArgs() else { continue }
            _ = try? ServerEvent.decode(name: name, args: args)
            _ = try? ClientEvent.decode(name: name, args: args)
            events += 1
        }
        _ = try? EngineIOPacket.decode(Substring(text))
        _ = try? SocketIOPacket.decode(text)
        return events
    }

    static func files() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: [.isRegularFileKey])
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every corpus file decodes without a trap")
    func replay() throws {
        let files = try Self.files()
        #expect(files.count >= 10, "corpus at \(Self.corpus.path) is missing or nearly empty")
        var events = 0
        for file in files {
            events += Self.decodeEverything(try Data(contentsOf: file))
        }
        // The seeds are real packets: most of them must reach the typed-event layer.
        #expect(events >= 5, "only \(events) events reached the typed decoders")
    }

    @Test("every corpus file also survives re-encoding of what it decodes to")
    func reencode() throws {
        for file in try Self.files() {
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            for case .success(let packet) in EngineIOPayload.decode(text) {
                #expect(try EngineIOPacket.decode(Substring(packet.encoded())) == packet, "\(file.lastPathComponent)")
                guard case .message(let message) = packet, let sio = try? SocketIOPacket.decode(message) else { continue }
                #expect(try SocketIOPacket.decode(sio.encoded()) == sio, "\(file.lastPathComponent)")
            }
        }
    }
}
