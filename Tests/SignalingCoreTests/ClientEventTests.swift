import Foundation
import Testing
@testable import SignalingCore

/// Events a client emits, per the wire contract.
@Suite("Typed client events")
struct ClientEventTests {
    static let all: [ClientEvent] = [
        .roomJoin(RoomJoin(room: "kitchen", userName: "Ann")),
        .call(to: "sid-b", offer: Sample.offer),
        .accept(to: "sid-a", answer: Sample.answer),
        .negotiationNeeded(to: "sid-b", offer: Sample.offer),
        .negotiationDone(to: "sid-a", answer: Sample.answer),
        .iceCandidate(to: "sid-b", candidate: Sample.candidate),
        .iceCandidate(to: "sid-b", candidate: Sample.bareCandidate),
        .iceCandidate(to: "sid-b", candidate: nil),
        .endCall(to: "sid-b"),
        .chat(ChatSend(text: "hello € 🎥 \"quoted\"")),
        .chat(ChatSend(text: "")),
        .leaveRoom,
    ]

    @Test("decode(name:args:) inverts name/arguments()", arguments: all)
    func roundTrip(event: ClientEvent) throws {
        #expect(try ClientEvent.decode(name: event.name, args: event.arguments()) == event)
    }

    @Test("round-trips through Socket.IO and Engine.IO text", arguments: all)
    func roundTripOnTheWire(event: ClientEvent) throws {
        let frame = EngineIOPacket.message(SocketIOPacket.event(event.name, event.arguments()).encoded()).encoded()
        guard case .message(let text) = try EngineIOPacket.decode(Substring(frame)) else {
            Issue.record("not a message: \(frame)")
            return
        }
        let (name, args) = try SocketIOPacket.decode(text).eventNameAndArgs()
        #expect(try ClientEvent.decode(name: name, args: args) == event)
    }

    @Test("wire names of the contract")
    func names() {
        #expect(Self.all.map(\.name) == ["room:join", "user:call", "call:accepted", "peer:nego:needed", "peer:nego:done",
                                         "ice:candidate", "ice:candidate", "ice:candidate", "call:end", "chat:message",
                                         "chat:message", "leave:room"])
    }

    @Test("wire field names of the contract")
    func wireFields() throws {
        #expect(ClientEvent.roomJoin(RoomJoin(room: "r", userName: "u")).arguments()
                == [try json(#"{"room":"r","userName":"u"}"#)])
        #expect(ClientEvent.accept(to: "a", answer: SessionDescription(type: .answer, sdp: "v=0\r\n")).arguments()
                == [try json(#"{"to":"a","ans":"# + Sample.answerJSON + "}")])
        #expect(ClientEvent.iceCandidate(to: "b", candidate: nil).arguments() == [try json(#"{"to":"b","candidate":null}"#)])
        #expect(ClientEvent.leaveRoom.arguments() == [])
    }

    @Test("null, empty or missing ICE candidate is end of candidates", arguments: [
        #"{"to":"b","candidate":null}"#,
        #"{"to":"b","candidate":""}"#,
        #"{"to":"b"}"#,
        #"{"to":"b","candidate":{"candidate":"","sdpMid":"0","sdpMLineIndex":0}}"#,
    ])
    func endOfCandidates(payload: String) throws {
        #expect(try ClientEvent.decode(name: "ice:candidate", args: [json(payload)]) == .iceCandidate(to: "b", candidate: nil))
    }

    @Test("browser-shaped candidate decodes, extra members ignored")
    func browserCandidate() throws {
        let payload = try json(#"{"to":"b","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","#
                               + #""sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null,"extra":1}}"#)
        let expected = IceCandidate(candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0)
        #expect(try ClientEvent.decode(name: "ice:candidate", args: [payload]) == .iceCandidate(to: "b", candidate: expected))
    }

    @Test("sdpMLineIndex: integral numbers 0...65535 (WebIDL unsigned short)")
    func mLineIndexRange() throws {
        for (text, index) in [("0", 0), ("1.0", 1), ("65535", 65_535)] {
            let payload = try json(#"{"to":"b","candidate":{"candidate":"c","sdpMLineIndex":"# + text + "}}")
            #expect(try ClientEvent.decode(name: "ice:candidate", args: [payload])
                    == .iceCandidate(to: "b", candidate: IceCandidate(candidate: "c", sdpMid: nil, sdpMLineIndex: index)))
        }
    }

    @Test("leave:room takes no payload; extra arguments are ignored")
    func leaveRoom() throws {
        #expect(try ClientEvent.decode(name: "leave:room", args: []) == .leaveRoom)
        #expect(try ClientEvent.decode(name: "leave:room", args: [.object([:]), .number(1)]) == .leaveRoom)
    }

    /// (event, payload, words the reason must contain)
    static let malformed: [(String, String?, [String])] = [
        ("room:join", #"{"room":"r"}"#, ["'userName'"]),
        ("room:join", #"{"userName":"u"}"#, ["room"]),
        ("room:join", #"{"room":5,"userName":"u"}"#, ["room"]),
        ("room:join", nil, []),
        ("user:call", #"{"offer":\#(Sample.offerJSON)}"#, ["to"]),
        ("user:call", #"{"to":"","offer":\#(Sample.offerJSON)}"#, ["to"]),
        ("user:call", #"{"to":7,"offer":\#(Sample.offerJSON)}"#, ["to"]),
        ("user:call", #"{"to":"b"}"#, ["offer"]),
        ("user:call", #"{"to":"b","offer":"v=0"}"#, ["'offer'"]),
        ("user:call", #"{"to":"b","offer":{"type":"offer"}}"#, ["'offer.sdp'"]),
        ("user:call", #"{"to":"b","offer":{"type":"bogus","sdp":"v=0"}}"#, ["'offer.type'", "bogus"]),
        ("user:call", #"{"to":"b","offer":{"type":"offer","sdp":5}}"#, ["'offer.sdp'"]),
        ("user:call", #"["b"]"#, ["object"]),
        ("call:accepted", #"{"to":"a"}"#, ["ans"]),
        ("call:accepted", #"{"to":"a","offer":\#(Sample.answerJSON)}"#, ["ans"]),
        ("call:accepted", #"{"ans":\#(Sample.answerJSON)}"#, ["to"]),
        ("peer:nego:needed", #"{"to":"b"}"#, ["offer"]),
        ("peer:nego:needed", #"{"offer":\#(Sample.offerJSON)}"#, ["to"]),
        ("peer:nego:done", #"{"to":"a","ans":{"sdp":"v=0"}}"#, ["'ans.type'"]),
        ("peer:nego:done", #"{"ans":\#(Sample.answerJSON)}"#, ["to"]),
        ("ice:candidate", #"{"candidate":null}"#, ["to"]),
        ("ice:candidate", #"{"to":"b","candidate":42}"#, ["'candidate'"]),
        ("ice:candidate", #"{"to":"b","candidate":{"sdpMid":"0"}}"#, ["'candidate.candidate'"]),
        ("ice:candidate", #"{"to":"b","candidate":{"candidate":"c","sdpMLineIndex":"zero"}}"#, ["'candidate.sdpMLineIndex'"]),
        ("ice:candidate", #"{"to":"b","candidate":{"candidate":"c","sdpMLineIndex":-1}}"#, ["'candidate.sdpMLineIndex'"]),
        ("ice:candidate", #"{"to":"b","candidate":{"candidate":"c","sdpMLineIndex":65536}}"#, ["'candidate.sdpMLineIndex'"]),
        ("ice:candidate", #"{"to":"b","candidate":{"candidate":"c","sdpMid":0}}"#, ["'candidate.sdpMid'"]),
        ("ice:candidate", #""candidate:1""#, ["object"]),
        ("ice:candidate", nil, ["object"]),
        ("call:end", "{}", ["to"]),
        ("call:end", #"{"to":null}"#, ["to"]),
        ("call:end", nil, ["object"]),
        ("chat:message", "{}", ["text"]),
        ("chat:message", #"{"text":3}"#, ["text"]),
        ("chat:message", #""just text""#, []),
    ]

    @Test("malformed payloads throw .badPayload naming the field", arguments: malformed)
    func malformedPayload(event: String, payload: String?, words: [String]) throws {
        try expectBadPayload(event: event, payload: payload, naming: words) { args throws(SignalingDecodeError) in
            _ = try ClientEvent.decode(name: event, args: args)
        }
    }

    @Test("unknown event names decode to nil", arguments: ["", "room:leave", "ROOM:JOIN", "room:joined", "incoming:call",
                                                         "user:call ", "connect", "disconnect"])
    func unknownName(name: String) throws {
        #expect(try ClientEvent.decode(name: name, args: [.object(["to": .string("b")])]) == nil)
    }
}
