import Foundation
import Testing
@testable import SignalingCore

/// Engine.IO v4 packets (engine.io-protocol v4, "Packet encoding").
@Suite("Engine.IO packet")
struct EngineIOPacketTests {
    static let specOpen =
        #"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#
    static let handshake = EngineIOHandshake(sid: "lv_VI97HAXpY6yYWAAAC", upgrades: ["websocket"],
                                             pingInterval: 25_000, pingTimeout: 5_000, maxPayload: 1_000_000)

    static let encodings: [(EngineIOPacket, String)] = [
        (.close, "1"),
        (.ping(""), "2"),
        (.ping("probe"), "2probe"),
        (.pong(""), "3"),
        (.pong("probe"), "3probe"),
        (.message("hello"), "4hello"),
        (.message(""), "4"),
        (.message("€ ✓ 🎥"), "4€ ✓ 🎥"),
        (.message(#"2["chat:message",{"text":"hi"}]"#), #"42["chat:message",{"text":"hi"}]"#),
        (.binaryMessage([1, 2, 3, 4]), "bAQIDBA=="),
        (.binaryMessage([]), "b"),
        (.upgrade, "5"),
        (.noop, "6"),
    ]

    @Test("every non-open type encodes to its spec text", arguments: encodings)
    func encodes(packet: EngineIOPacket, text: String) {
        #expect(packet.encoded() == text)
    }

    @Test("every non-open type decodes from its spec text", arguments: encodings)
    func decodes(packet: EngineIOPacket, text: String) throws {
        #expect(try EngineIOPacket.decode(Substring(text)) == packet)
    }

    @Test("decode(encode(p)) == p for every type, open included")
    func roundTrip() throws {
        let all = Self.encodings.map(\.0) + [.open(Self.handshake),
                                            .binaryMessage(Array(0...255)),
                                            .open(EngineIOHandshake(sid: "a/b+c", upgrades: [], pingInterval: 1,
                                                                    pingTimeout: 1, maxPayload: 1))]
        for packet in all {
            #expect(try EngineIOPacket.decode(Substring(packet.encoded())) == packet)
        }
    }

    @Test("open: the spec's handshake")
    func openSpecExample() throws {
        #expect(try EngineIOPacket.decode(Substring(Self.specOpen)) == .open(Self.handshake))
    }

    @Test("open: missing optional fields take the v4 defaults")
    func openDefaults() throws {
        let packet = try EngineIOPacket.decode(#"0{"sid":"abc"}"#)
        #expect(packet == .open(EngineIOHandshake(sid: "abc", upgrades: [], pingInterval: 25_000,
                                                  pingTimeout: 20_000, maxPayload: 1_000_000)))
        // Unknown members are ignored (servers may add fields).
        let extra = try EngineIOPacket.decode(#"0{"sid":"abc","pingInterval":300,"future":true}"#)
        guard case .open(let hs) = extra else { Issue.record("not an open packet"); return }
        #expect(hs.pingInterval == 300)
        #expect(hs.pingTimeout == 20_000)
    }

    @Test("open: rejects empty sid, non-positive timings/limits, non-JSON and wrong types", arguments: [
        #"0{"sid":""}"#,
        #"0{"sid":"a","pingInterval":0}"#,
        #"0{"sid":"a","pingInterval":-25000}"#,
        #"0{"sid":"a","pingTimeout":0}"#,
        #"0{"sid":"a","pingTimeout":-1}"#,
        #"0{"sid":"a","maxPayload":0}"#,
        #"0{"sid":"a","maxPayload":-5}"#,
        #"0{}"#,
        #"0{"sid":42}"#,
        #"0{"sid":"a","upgrades":"websocket"}"#,
        #"0{"sid":"a","pingInterval":"25000"}"#,
        #"0{"sid":"a","pingInterval":2.5}"#,
        "0",
        "0not json",
        #"0{"sid":"a""#,
        #"0["sid"]"#,
        "0null",
    ])
    func openRejects(text: String) {
        let error = decodeError { () throws(SignalingDecodeError) in try EngineIOPacket.decode(Substring(text)) }
        guard case .badHandshake(let why)? = error else {
            Issue.record("\(text) gave \(String(describing: error)), expected .badHandshake")
            return
        }
        #expect(!why.isEmpty)
    }

    @Test("open: a missing sid names the field")
    func openMissingSidReason() {
        let error = decodeError { () throws(SignalingDecodeError) in try EngineIOPacket.decode(#"0{"upgrades":[]}"#) }
        #expect(error == .badHandshake("missing field 'sid'"))
    }

    @Test("binary: malformed base64 is .badBase64", arguments: ["b!!!!", "bAQIDBA", "bAQ=ID", "b€"])
    func badBase64(text: String) {
        #expect(decodeError { () throws(SignalingDecodeError) in try EngineIOPacket.decode(Substring(text)) } == .badBase64)
    }

    @Test("unknown type character is .unknownEngineIOPacketType", arguments: ["7", "9hello", "x", "B", "{}", " 4", "€", "\u{1e}"])
    func unknownType(text: String) {
        let expected = SignalingDecodeError.unknownEngineIOPacketType(text.first!)
        #expect(decodeError { () throws(SignalingDecodeError) in try EngineIOPacket.decode(Substring(text)) } == expected)
    }

    @Test("empty text is .empty")
    func empty() {
        #expect(decodeError { () throws(SignalingDecodeError) in try EngineIOPacket.decode("") } == .empty)
    }

    @Test("a type digit followed by a combining mark is not that type")
    func combiningMark() {
        // "4\u{301}" is one Character; it must not be taken for a message.
        let error = decodeError { () throws(SignalingDecodeError) in try EngineIOPacket.decode("4\u{301}x") }
        #expect(error == .unknownEngineIOPacketType("4\u{301}"))
    }

    @Test("the error descriptions are readable")
    func descriptions() {
        #expect(SignalingDecodeError.unknownEngineIOPacketType("x").description == "unknown Engine.IO packet type 'x'")
        #expect(SignalingDecodeError.empty.description == "empty packet")
        #expect(SignalingDecodeError.oversized(bytes: 11, limit: 10).description.contains("11 bytes"))
    }
}
