import Foundation
import Testing
@testable import SignalingCore

/// HTTP long-polling payloads (engine.io-protocol v4, "HTTP long-polling": packets joined by \x1e).
@Suite("Engine.IO polling payload")
struct EngineIOPayloadTests {
    /// The successes of a decoded payload, with failures kept in place.
    static func outcomes(_ body: String) -> [Result<EngineIOPacket, SignalingDecodeError>] {
        EngineIOPayload.decode(body)
    }

    @Test("the spec's text payload: \"4hello\\u{1e}4€\"")
    func specTextPayload() {
        #expect(Self.outcomes("4hello\u{1e}4€") == [.success(.message("hello")), .success(.message("€"))])
        #expect(EngineIOPayload.encode([.message("hello"), .message("€")]) == "4hello\u{1e}4€")
    }

    @Test("the spec's mixed payload: text then base64 binary")
    func specMixedPayload() {
        #expect(Self.outcomes("4€\u{1e}bAQIDBA==") == [.success(.message("€")), .success(.binaryMessage([1, 2, 3, 4]))])
        #expect(EngineIOPayload.encode([.message("€"), .binaryMessage([1, 2, 3, 4])]) == "4€\u{1e}bAQIDBA==")
    }

    @Test("a single packet is a payload without separator")
    func singlePacket() {
        #expect(Self.outcomes("2") == [.success(.ping(""))])
        #expect(Self.outcomes("6") == [.success(.noop)])
        #expect(EngineIOPayload.encode([.pong("probe")]) == "3probe")
    }

    @Test("each element decodes independently: bad elements do not spoil good ones")
    func independentElements() {
        let body = "4a\u{1e}9bad\u{1e}\u{1e}b!!!!\u{1e}0{}\u{1e}4b\u{1e}1"
        let results = Self.outcomes(body)
        #expect(results.count == 7)
        #expect(results[0] == .success(.message("a")))
        #expect(results[1] == .failure(.unknownEngineIOPacketType("9")))
        #expect(results[2] == .failure(.empty))
        #expect(results[3] == .failure(.badBase64))
        if case .failure(.badHandshake) = results[4] {} else { Issue.record("element 4: \(results[4])") }
        #expect(results[5] == .success(.message("b")))
        #expect(results[6] == .success(.close))
    }

    @Test("empty body and trailing separator give .empty elements, not a crash")
    func emptyElements() {
        #expect(Self.outcomes("") == [.failure(.empty)])
        #expect(Self.outcomes("4a\u{1e}") == [.success(.message("a")), .failure(.empty)])
        #expect(Self.outcomes("\u{1e}\u{1e}") == [.failure(.empty), .failure(.empty), .failure(.empty)])
    }

    @Test("encode then decode keeps every packet and its order")
    func roundTrip() {
        let packets: [EngineIOPacket] = [
            .open(EngineIOHandshake(sid: "s", upgrades: ["websocket"], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1_000_000)),
            .message(#"0{"token":"123"}"#), .ping(""), .binaryMessage([0, 0xff, 0x1e]), .message("€"), .noop, .close,
        ]
        let decoded = Self.outcomes(EngineIOPayload.encode(packets))
        #expect(decoded == packets.map { .success($0) })
    }

    // MARK: batches(maxPayload:)

    static let mixed: [EngineIOPacket] = (0..<40).map { i in
        switch i % 5 {
        case 0: return .message(String(repeating: "x", count: i))
        case 1: return .message(String(repeating: "€", count: i / 3))  // 3 UTF-8 bytes each
        case 2: return .binaryMessage(Array(repeating: UInt8(i), count: i / 2))
        case 3: return .ping("")
        default: return .message("\(i)")
        }
    }

    @Test("batches keep order and never exceed the limit", arguments: [45, 46, 50, 64, 100, 257, 1000, 1_000_000])
    func batchesRespectLimit(limit: Int) throws {
        let batches = try EngineIOPayload.batches(Self.mixed, maxPayload: limit)
        for batch in batches {
            #expect(batch.utf8.count <= limit, "batch of \(batch.utf8.count) bytes over \(limit)")
            #expect(!batch.isEmpty)
        }
        let flattened = batches.flatMap { EngineIOPayload.decode($0) }
        #expect(flattened == Self.mixed.map { .success($0) })
        // Greedy packing: no two neighbouring batches could have been merged.
        for (a, b) in zip(batches, batches.dropFirst()) {
            let firstOfB = b.split(separator: EngineIOPayload.separator, omittingEmptySubsequences: false)[0]
            #expect(a.utf8.count + 1 + firstOfB.utf8.count > limit)
        }
    }

    @Test("a batch may be exactly maxPayload bytes, separators counted")
    func exactFit() throws {
        let packets: [EngineIOPacket] = [.message("a"), .message("b"), .message("c")]  // 2 bytes each
        #expect(try EngineIOPayload.batches(packets, maxPayload: 5) == ["4a\u{1e}4b", "4c"])
        #expect(try EngineIOPayload.batches(packets, maxPayload: 8) == ["4a\u{1e}4b\u{1e}4c"])
        #expect(try EngineIOPayload.batches(packets, maxPayload: 2) == ["4a", "4b", "4c"])
        #expect(try EngineIOPayload.batches(packets, maxPayload: 4) == ["4a", "4b", "4c"])
    }

    @Test("limits count UTF-8 bytes, not characters")
    func utf8Bytes() throws {
        // "4€" is 4 bytes; two of them plus a separator is 9.
        let packets: [EngineIOPacket] = [.message("€"), .message("€")]
        #expect(try EngineIOPayload.batches(packets, maxPayload: 8) == ["4€", "4€"])
        #expect(try EngineIOPayload.batches(packets, maxPayload: 9) == ["4€\u{1e}4€"])
    }

    @Test("no packets, no batches")
    func noPackets() throws {
        #expect(try EngineIOPayload.batches([], maxPayload: 10) == [])
    }

    @Test("a single packet larger than the limit throws .oversized")
    func oversized() {
        let big = EngineIOPacket.message(String(repeating: "x", count: 20))  // 21 bytes encoded
        let error = decodeError { () throws(SignalingDecodeError) in
            try EngineIOPayload.batches([.message("ok"), big, .message("ok")], maxPayload: 10)
        }
        #expect(error == .oversized(bytes: 21, limit: 10))
        let euro = decodeError { () throws(SignalingDecodeError) in try EngineIOPayload.batches([.message("€€€")], maxPayload: 9) }
        #expect(euro == .oversized(bytes: 10, limit: 9))
        let zero = decodeError { () throws(SignalingDecodeError) in try EngineIOPayload.batches([.noop], maxPayload: 0) }
        #expect(zero == .oversized(bytes: 1, limit: 0))
    }
}
