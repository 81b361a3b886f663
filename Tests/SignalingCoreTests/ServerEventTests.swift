import Foundation
import Testing
@testable import SignalingCore

/// Events the server sends, per the wire contract.
@Suite("Typed server events")
struct ServerEventTests {
    static let ann = RoomUser(id: "sid-a", name: "Ann")
    static let bob = RoomUser(id: "sid-b", name: "Bob")
    static let message = ChatMessage(id: "m1", userName: "Ann", senderId: "sid-a", text: "hi € 🎥", timestamp: "2024-05-01T10:00:00Z")

    static let all: [ServerEvent] = [
        .roomJoined(RoomJoined(room: "kitchen", id: "sid-a", users: [ann, bob], messages: [message])),
        .roomJoined(RoomJoined(room: "kitchen", id: "sid-a", users: [])),
        .roomFull(RoomRef(room: "kitchen")),
        .userJoined(bob),
        .userLeft(bob),
        .incomingCall(from: "sid-a", offer: Sample.offer),
        .callAccepted(from: "sid-b", answer: Sample.answer),
        .negotiationNeeded(from: "sid-a", offer: Sample.offer),
        .negotiationFinal(from: "sid-b", answer: Sample.answer),
        .iceCandidate(from: "sid-a", candidate: Sample.candidate),
        .iceCandidate(from: "sid-a", candidate: Sample.bareCandidate),
        .iceCandidate(from: "sid-a", candidate: nil),
        .callEnded(from: "sid-a"),
        .chat(message),
        .chat(ChatMessage(id: "1", userName: "", senderId: "2", text: "", timestamp: "")),
    ]

    @Test("decode(name:args:) inverts name/arguments()", arguments: all)
    func roundTrip(event: ServerEvent) throws {
        #expect(try ServerEvent.decode(name: event.name, args: event.arguments()) == event)
    }

    @Test("round-trips through Socket.IO and an Engine.IO polling payload", arguments: all)
    func roundTripOnTheWire(event: ServerEvent) throws {
        let body = EngineIOPayload.encode([.noop, .message(SocketIOPacket.event(event.name, event.arguments()).encoded())])
        guard case .success(.message(let text)) = EngineIOPayload.decode(body).last else {
            Issue.record("no message in \(body)")
            return
        }
        let (name, args) = try SocketIOPacket.decode(text).eventNameAndArgs()
        #expect(try ServerEvent.decode(name: name, args: args) == event)
    }

    @Test("wire names of the contract")
    func names() {
        #expect(Self.all.map(\.name) == ["room:joined", "room:joined", "room:full", "user:joined", "user:left",
                                         "incoming:call", "call:accepted", "peer:nego:needed", "peer:nego:final",
                                         "ice:candidate", "ice:candidate", "ice:candidate", "call:ended",
                                         "chat:message", "chat:message"])
    }

    @Test("room:joined without messages decodes to []; without room/id to \"\"")
    func roomJoinedDefaults() throws {
        let payload = try json(#"{"room":"kitchen","id":"sid-a","users":[{"id":"sid-b","name":"Bob"}]}"#)
        #expect(try ServerEvent.decode(name: "room:joined", args: [payload])
                == .roomJoined(RoomJoined(room: "kitchen", id: "sid-a", users: [Self.bob], messages: [])))
        let bare = try json(#"{"users":[]}"#)
        #expect(try ServerEvent.decode(name: "room:joined", args: [bare]) == .roomJoined(RoomJoined(room: "", id: "", users: [])))
    }

    @Test("chat message: numeric id, senderId and timestamp decode to strings")
    func chatNumericFields() throws {
        let payload = try json(#"{"id":42,"userName":"Ann","senderId":7,"text":"hi","timestamp":1700000000123}"#)
        #expect(try ServerEvent.decode(name: "chat:message", args: [payload])
                == .chat(ChatMessage(id: "42", userName: "Ann", senderId: "7", text: "hi", timestamp: "1700000000123")))
        let fractional = try json(#"{"id":-3,"userName":"Ann","senderId":"s","text":"hi","timestamp":1.5}"#)
        #expect(try ServerEvent.decode(name: "chat:message", args: [fractional])
                == .chat(ChatMessage(id: "-3", userName: "Ann", senderId: "s", text: "hi", timestamp: "1.5")))
        let noTimestamp = try json(#"{"id":"m","userName":"Ann","senderId":"s","text":"hi"}"#)
        #expect(try ServerEvent.decode(name: "chat:message", args: [noTimestamp])
                == .chat(ChatMessage(id: "m", userName: "Ann", senderId: "s", text: "hi", timestamp: "")))
        // Inside room:joined's history, too.
        let joined = try json(#"{"room":"r","id":"i","users":[],"messages":[{"id":1,"userName":"A","senderId":2,"text":"t","timestamp":3}]}"#)
        #expect(try ServerEvent.decode(name: "room:joined", args: [joined])
                == .roomJoined(RoomJoined(room: "r", id: "i", users: [],
                                          messages: [ChatMessage(id: "1", userName: "A", senderId: "2", text: "t", timestamp: "3")])))
    }

    @Test("null, empty or missing ICE candidate is end of candidates", arguments: [
        #"{"from":"a","candidate":null}"#,
        #"{"from":"a","candidate":""}"#,
        #"{"from":"a"}"#,
        #"{"from":"a","candidate":{"candidate":"","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"x"}}"#,
    ])
    func endOfCandidates(payload: String) throws {
        #expect(try ServerEvent.decode(name: "ice:candidate", args: [json(payload)]) == .iceCandidate(from: "a", candidate: nil))
    }

    /// (event, payload, words the reason must contain)
    static let malformed: [(String, String?, [String])] = [
        ("room:joined", #"{"room":"r","id":"i"}"#, ["users"]),
        ("room:joined", #"{"room":"r","id":"i","users":[{"id":"a","name":"A"},{"id":"b"}]}"#, ["'users[1].name'"]),
        ("room:joined", #"{"room":"r","id":"i","users":{}}"#, ["users"]),
        ("room:joined", #"{"room":7,"users":[]}"#, ["room"]),
        ("room:joined", #"{"users":[],"messages":[{"id":"1","userName":"A","senderId":"s"}]}"#, ["'messages[0].text'"]),
        ("room:joined", #"{"users":[],"messages":[{"id":true,"userName":"A","senderId":"s","text":"t"}]}"#, ["id"]),
        ("room:joined", nil, []),
        ("room:full", "{}", ["room"]),
        ("room:full", #"{"room":null}"#, ["room"]),
        ("user:joined", #"{"id":"a"}"#, ["name"]),
        ("user:joined", #"{"id":1,"name":"A"}"#, ["id"]),
        ("user:left", #"{"name":"A"}"#, ["id"]),
        ("incoming:call", #"{"offer":\#(Sample.offerJSON)}"#, ["from"]),
        ("incoming:call", #"{"from":"a"}"#, ["offer"]),
        ("incoming:call", #"{"from":"a","offer":{"type":"offer","sdp":null}}"#, ["'offer.sdp'"]),
        ("incoming:call", #"{"from":"a","offer":[]}"#, ["'offer'"]),
        ("call:accepted", #"{"from":"b"}"#, ["ans"]),
        ("call:accepted", #"{"to":"b","ans":\#(Sample.answerJSON)}"#, ["from"]),
        ("peer:nego:needed", #"{"from":"a","offer":{"type":"OFFER","sdp":"v=0"}}"#, ["'offer.type'"]),
        ("peer:nego:final", #"{"from":"b"}"#, ["ans"]),
        ("peer:nego:final", #"{"from":"","ans":\#(Sample.answerJSON)}"#, ["from"]),
        ("ice:candidate", #"{"candidate":null}"#, ["from"]),
        ("ice:candidate", #"{"from":"a","candidate":[]}"#, ["'candidate'"]),
        ("ice:candidate", #"{"from":"a","candidate":{"candidate":"c","sdpMLineIndex":0.5}}"#, ["'candidate.sdpMLineIndex'"]),
        ("ice:candidate", "null", ["object"]),
        ("call:ended", "{}", ["from"]),
        ("call:ended", #"{"from":["a"]}"#, ["from"]),
        ("chat:message", #"{"id":"1","userName":"A","senderId":"s"}"#, ["text"]),
        ("chat:message", #"{"userName":"A","senderId":"s","text":"t"}"#, ["id"]),
        ("chat:message", #"{"id":"1","senderId":"s","text":"t"}"#, ["userName"]),
        ("chat:message", #"{"id":"1","userName":"A","text":"t"}"#, ["senderId"]),
        ("chat:message", #"{"id":{},"userName":"A","senderId":"s","text":"t"}"#, ["id"]),
    ]

    @Test("malformed payloads throw .badPayload naming the field", arguments: malformed)
    func malformedPayload(event: String, payload: String?, words: [String]) throws {
        try expectBadPayload(event: event, payload: payload, naming: words) { args throws(SignalingDecodeError) in
            _ = try ServerEvent.decode(name: event, args: args)
        }
    }

    @Test("unknown event names decode to nil", arguments: ["", "room:join", "user:call", "peer:nego:done", "call:end",
                                                         "leave:room", "Room:Joined", "chat:message:v2"])
    func unknownName(name: String) throws {
        #expect(try ServerEvent.decode(name: name, args: [.object(["from": .string("a")])]) == nil)
    }
}
