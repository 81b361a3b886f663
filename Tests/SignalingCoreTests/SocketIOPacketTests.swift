import Foundation
import Testing
@testable import SignalingCore

/// Socket.IO v5 packets (socket.io-protocol v5, "Packet encoding" and its examples).
@Suite("Socket.IO packet")
struct SocketIOPacketTests {
    static let specExamples: [(String, SocketIOPacket)] = [
        ("0", SocketIOPacket(kind: .connect)),
        (#"0{"token":"123"}"#, SocketIOPacket(kind: .connect, data: .object(["token": .string("123")]))),
        (#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
         SocketIOPacket(kind: .connect, namespace: "/admin", data: .object(["sid": .string("oSO0OpakMV_3jnilAAAA")]))),
        (#"2["foo"]"#, .event("foo", [])),
        (#"2/admin,["bar"]"#, .event("bar", [], namespace: "/admin")),
        (#"212["foo"]"#, .event("foo", [], ackID: 12)),
        (#"3/admin,13["bar"]"#, SocketIOPacket(kind: .ack, namespace: "/admin", ackID: 13, data: .array([.string("bar")]))),
        (#"4{"message":"Not authorized"}"#,
         SocketIOPacket(kind: .connectError, data: .object(["message": .string("Not authorized")]))),
        ("1", SocketIOPacket(kind: .disconnect)),
        ("1/admin,", SocketIOPacket(kind: .disconnect, namespace: "/admin")),
    ]

    @Test("spec examples decode", arguments: specExamples)
    func decodesSpecExample(text: String, packet: SocketIOPacket) throws {
        #expect(try SocketIOPacket.decode(text) == packet)
    }

    @Test("spec examples encode to the same text", arguments: specExamples)
    func encodesSpecExample(text: String, packet: SocketIOPacket) {
        #expect(packet.encoded() == text)
    }

    @Test("event name and arguments")
    func eventNameAndArgs() throws {
        let packet = try SocketIOPacket.decode(#"2["chat:message",{"text":"hi"},3,null]"#)
        let (name, args) = try packet.eventNameAndArgs()
        #expect(name == "chat:message")
        #expect(args == [.object(["text": .string("hi")]), .number(3), .null])
        #expect(packet.ackID == nil)
        let connect = SocketIOPacket(kind: .connect)
        #expect(decodeError { () throws(SignalingDecodeError) in try connect.eventNameAndArgs() } == .eventNotArray)
    }

    @Test("a namespace without a trailing comma ends the packet")
    func namespaceWithoutComma() throws {
        #expect(try SocketIOPacket.decode("1/admin") == SocketIOPacket(kind: .disconnect, namespace: "/admin"))
        #expect(try SocketIOPacket.decode("0/admin") == SocketIOPacket(kind: .connect, namespace: "/admin"))
    }

    static let roundTrips: [SocketIOPacket] = [
        .event("room:join", [.object(["room": .string("kitchen"), "userName": .string("Ann")])]),
        .event("chat:message", [.object(["text": .string("quote \" backslash \\ slash / newline \n € 🎥 \u{1e}")])]),
        .event("x", [.number(-1.5), .number(0), .number(9_007_199_254_740_991), .bool(true), .bool(false), .null,
                     .array([]), .object([:]), .array([.array([.string("nested")])])]),
        .event("ack-me", [], ackID: 0),
        .event("ack-me", [.number(1)], ackID: 1 << 53, namespace: "/admin"),
        SocketIOPacket(kind: .ack, ackID: 7, data: .array([])),
        SocketIOPacket(kind: .ack, namespace: "/a/b", ackID: 99, data: .array([.object(["ok": .bool(true)])])),
        SocketIOPacket(kind: .connect, namespace: "/admin", data: .object(["token": .string("t"), "n": .number(1)])),
        SocketIOPacket(kind: .connectError, data: .object(["message": .string("Invalid namespace")])),
        SocketIOPacket(kind: .connectError, namespace: "/admin", data: .string("plain reason")),
        SocketIOPacket(kind: .disconnect, namespace: "/admin"),
    ]

    @Test("decode(encode(p)) == p", arguments: roundTrips)
    func roundTrip(packet: SocketIOPacket) throws {
        #expect(try SocketIOPacket.decode(packet.encoded()) == packet)
    }

    @Test("round-trips also through an Engine.IO message in a polling payload")
    func throughEngineIO() throws {
        let body = EngineIOPayload.encode(Self.roundTrips.map { .message($0.encoded()) })
        let decoded = try EngineIOPayload.decode(body).map { result throws -> SocketIOPacket in
            guard case .success(.message(let text)) = result else { throw SignalingDecodeError.empty }
            return try SocketIOPacket.decode(text)
        }
        #expect(decoded == Self.roundTrips)
    }

    @Test("ack ids up to 2^53 are accepted, above are refused")
    func ackIDRange() throws {
        #expect(try SocketIOPacket.decode(#"29007199254740992["foo"]"#).ackID == 9_007_199_254_740_992)
        #expect(try SocketIOPacket.decode(#"30[]"#).ackID == 0)
        for text in [#"29007199254740993["foo"]"#, #"39999999999999999[]"#, #"212345678901234567890["foo"]"#,
                     #"2/admin,18446744073709551616["foo"]"#] {
            let error = decodeError { () throws(SignalingDecodeError) in try SocketIOPacket.decode(text) }
            #expect(error == .malformedHeader("ack id out of range"), "\(text)")
        }
    }

    static let notArrays = [
        #"2{"name":"foo"}"#, #"2"foo""#, "2[]", #"2[1,"foo"]"#, #"2[null]"#, #"2[["foo"]]"#, "2/admin,{}", "2", "27", "2/admin",
        "2/admin,",
    ]

    @Test("EVENT whose data is not an array starting with a string is refused", arguments: notArrays)
    func eventNotArray(text: String) {
        #expect(decodeError { () throws(SignalingDecodeError) in try SocketIOPacket.decode(text) } == .eventNotArray)
    }

    static let badHeaders = [
        #"3["bar"]"#,             // ACK without id
        "3/admin,[]",             // ACK without id, with namespace
        "3/admin",                // ACK without id or data, namespace without comma
        "3",                      // ACK without anything
        "313",                    // ACK without data
        #"313{"a":1}"#,           // ACK data not an array
        #"1{"reason":"bye"}"#,    // DISCONNECT with data
        #"1/admin,["x"]"#,        // DISCONNECT with data, with namespace
        #"0"token""#,             // CONNECT data not an object
        "0[]",                    // CONNECT data not an object
        "4",                      // CONNECT_ERROR without data
        "4/admin",                // CONNECT_ERROR without data, namespace without comma
        "4/admin,",               // CONNECT_ERROR without data
        "4 5", "4-5", "4[1]", "4true", "4null", "4/admin, 7",  // CONNECT_ERROR data neither string nor object
        "5", "5[\"a\"]", "5-[\"a\"]", "5x-", "61[\"a\"]",  // binary without "<n>-"
        #"51000-["a"]"#,          // absurd attachment count
    ]

    @Test("malformed headers and per-type shape violations are .malformedHeader", arguments: badHeaders)
    func malformedHeader(text: String) {
        let error = decodeError { () throws(SignalingDecodeError) in try SocketIOPacket.decode(text) }
        guard case .malformedHeader? = error else {
            Issue.record("\(text) gave \(String(describing: error))")
            return
        }
    }

    @Test("bad JSON is .malformedJSON", arguments: [
        #"2["foo""#, "2[foo]", #"0{"token":}"#, #"2/admin,["foo"] trailing"#, "2\u{1e}", #"212["a"x"#,
        "4{", #"2["\u{0}"#,
    ])
    func malformedJSON(text: String) {
        let error = decodeError { () throws(SignalingDecodeError) in try SocketIOPacket.decode(text) }
        guard case .malformedJSON(let why)? = error else {
            Issue.record("\(text) gave \(String(describing: error))")
            return
        }
        #expect(why.count <= 200)
    }

    @Test("binary packets are refused with their attachment count")
    func binaryRefused() {
        let cases: [(String, Int)] = [
            (#"51-["a",{"_placeholder":true,"num":0}]"#, 1),
            (#"52-/admin,["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#, 2),
            (#"61-/admin,15[{"_placeholder":true,"num":0}]"#, 1),
            (#"5999-[]"#, 999),
        ]
        for (text, count) in cases {
            #expect(decodeError { () throws(SignalingDecodeError) in try SocketIOPacket.decode(text) }
                    == .binaryAttachmentsUnsupported(count), "\(text)")
        }
    }

    @Test("unknown type and empty text", arguments: ["9", "7[\"x\"]", "a", "/admin,", "€", " 2[\"foo\"]"])
    func unknownType(text: String) {
        #expect(decodeError { () throws(SignalingDecodeError) in try SocketIOPacket.decode(text) }
                == .unknownSocketIOPacketType(text.first!))
    }

    @Test("empty text is .empty")
    func empty() {
        #expect(decodeError { () throws(SignalingDecodeError) in try SocketIOPacket.decode("") } == .empty)
    }
}
