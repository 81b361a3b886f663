/// Events a client emits (and the server receives), per the wire contract.
public enum ClientEvent: Sendable, Equatable {
    case roomJoin(RoomJoin)
    case call(to: String, offer: SessionDescription)
    case accept(to: String, answer: SessionDescription)
    case negotiationNeeded(to: String, offer: SessionDescription)
    case negotiationDone(to: String, answer: SessionDescription)
    /// `nil` candidate = end of candidates.
    case iceCandidate(to: String, candidate: IceCandidate?)
    case endCall(to: String)
    case chat(ChatSend)
    case leaveRoom

    public var name: String {
        switch self {
        case .roomJoin: return "room:join"
        case .call: return "user:call"
        case .accept: return "call:accepted"
        case .negotiationNeeded: return "peer:nego:needed"
        case .negotiationDone: return "peer:nego:done"
        case .iceCandidate: return "ice:candidate"
        case .endCall: return "call:end"
        case .chat: return "chat:message"
        case .leaveRoom: return "leave:room"
        }
    }

    public func arguments() -> [JSONValue] {
        func obj(_ members: [String: JSONValue]) -> [JSONValue] { [.object(members)] }
        switch self {
        case .roomJoin(let p): return obj(["room": .string(p.room), "userName": .string(p.userName)])
        case .call(let to, let offer): return obj(["to": .string(to), "offer": offer.json])
        case .accept(let to, let ans): return obj(["to": .string(to), "ans": ans.json])
        case .negotiationNeeded(let to, let offer): return obj(["to": .string(to), "offer": offer.json])
        case .negotiationDone(let to, let ans): return obj(["to": .string(to), "ans": ans.json])
        case .iceCandidate(let to, let c): return obj(["to": .string(to), "candidate": c.map(\.json) ?? .null])
        case .endCall(let to): return obj(["to": .string(to)])
        case .chat(let p): return obj(["text": .string(p.text)])
        case .leaveRoom: return []
        }
    }

    /// Decodes an event a client sent. Unknown names return `nil` (log and ignore); a known name with a
    /// malformed payload throws with the reason.
    public static func decode(name: String, args: [JSONValue]) throws(SignalingDecodeError) -> ClientEvent? {
        let p = args.first ?? .null
        switch name {
        case "room:join": return .roomJoin(try p.decode(RoomJoin.self, event: name))
        case "user:call": return .call(to: try p.field("to", name), offer: try p.description("offer", name))
        case "call:accepted": return .accept(to: try p.field("to", name), answer: try p.description("ans", name))
        case "peer:nego:needed": return .negotiationNeeded(to: try p.field("to", name), offer: try p.description("offer", name))
        case "peer:nego:done": return .negotiationDone(to: try p.field("to", name), answer: try p.description("ans", name))
        case "ice:candidate": return .iceCandidate(to: try p.field("to", name), candidate: try p.candidate(name))
        case "call:end": return .endCall(to: try p.field("to", name))
        case "chat:message": return .chat(try p.decode(ChatSend.self, event: name))
        case "leave:room": return .leaveRoom
        default: return nil
        }
    }
}

/// Events the server sends to a client, per the wire contract.
public enum ServerEvent: Sendable, Equatable {
    case roomJoined(RoomJoined)
    case roomFull(RoomRef)
    case userJoined(RoomUser)
    case userLeft(RoomUser)
    case incomingCall(from: String, offer: SessionDescription)
    case callAccepted(from: String, answer: SessionDescription)
    case negotiationNeeded(from: String, offer: SessionDescription)
    case negotiationFinal(from: String, answer: SessionDescription)
    case iceCandidate(from: String, candidate: IceCandidate?)
    case callEnded(from: String)
    case chat(ChatMessage)

    public var name: String {
        switch self {
        case .roomJoined: return "room:joined"
        case .roomFull: return "room:full"
        case .userJoined: return "user:joined"
        case .userLeft: return "user:left"
        case .incomingCall: return "incoming:call"
        case .callAccepted: return "call:accepted"
        case .negotiationNeeded: return "peer:nego:needed"
        case .negotiationFinal: return "peer:nego:final"
        case .iceCandidate: return "ice:candidate"
        case .callEnded: return "call:ended"
        case .chat: return "chat:message"
        }
    }

    public func arguments() -> [JSONValue] {
        func encoded(_ v: some Encodable) -> [JSONValue] { [(try? JSONValue(encoding: v)) ?? .null] }
        func obj(_ members: [String: JSONValue]) -> [JSONValue] { [.object(members)] }
        switch self {
        case .roomJoined(let p): return encoded(p)
        case .roomFull(let p): return encoded(p)
        case .userJoined(let u), .userLeft(let u): return encoded(u)
        case .incomingCall(let from, let offer): return obj(["from": .string(from), "offer": offer.json])
        case .callAccepted(let from, let ans): return obj(["from": .string(from), "ans": ans.json])
        case .negotiationNeeded(let from, let offer): return obj(["from": .string(from), "offer": offer.json])
        case .negotiationFinal(let from, let ans): return obj(["from": .string(from), "ans": ans.json])
        case .iceCandidate(let from, let c): return obj(["from": .string(from), "candidate": c.map(\.json) ?? .null])
        case .callEnded(let from): return obj(["from": .string(from)])
        case .chat(let m): return encoded(m)
        }
    }

    /// Decodes an event the server sent. Unknown names return `nil`; malformed payloads throw.
    public static func decode(name: String, args: [JSONValue]) throws(SignalingDecodeError) -> ServerEvent? {
        let p = args.first ?? .null
        switch name {
        case "room:joined": return .roomJoined(try p.decode(RoomJoined.self, event: name))
        case "room:full": return .roomFull(try p.decode(RoomRef.self, event: name))
        case "user:joined": return .userJoined(try p.decode(RoomUser.self, event: name))
        case "user:left": return .userLeft(try p.decode(RoomUser.self, event: name))
        case "incoming:call": return .incomingCall(from: try p.field("from", name), offer: try p.description("offer", name))
        case "call:accepted": return .callAccepted(from: try p.field("from", name), answer: try p.description("ans", name))
        case "peer:nego:needed": return .negotiationNeeded(from: try p.field("from", name), offer: try p.description("offer", name))
        case "peer:nego:final": return .negotiationFinal(from: try p.field("from", name), answer: try p.description("ans", name))
        case "ice:candidate": return .iceCandidate(from: try p.field("from", name), candidate: try p.candidate(name))
        case "call:ended": return .callEnded(from: try p.field("from", name))
        case "chat:message": return .chat(try p.decode(ChatMessage.self, event: name))
        default: return nil
        }
    }
}

extension SessionDescription {
    var json: JSONValue { .object(["type": .string(type.rawValue), "sdp": .string(sdp)]) }
}

extension IceCandidate {
    var json: JSONValue {
        var o: [String: JSONValue] = ["candidate": .string(candidate),
                                      "sdpMid": sdpMid.map(JSONValue.string) ?? .null,
                                      "sdpMLineIndex": sdpMLineIndex.map { .number(Double($0)) } ?? .null]
        if let usernameFragment { o["usernameFragment"] = .string(usernameFragment) }
        return .object(o)
    }
}

extension JSONValue {
    func field(_ key: String, _ event: String) throws(SignalingDecodeError) -> String {
        guard case .object = self else { throw .badPayload(event: event, reason: "payload is not an object") }
        guard let value = self[key] else { throw .badPayload(event: event, reason: "missing field '\(key)'") }
        guard case .string(let s) = value, !s.isEmpty else { throw .badPayload(event: event, reason: "'\(key)' is not a non-empty string") }
        return s
    }

    func description(_ key: String, _ event: String) throws(SignalingDecodeError) -> SessionDescription {
        guard let value = self[key] else { throw .badPayload(event: event, reason: "missing field '\(key)'") }
        return try value.decode(SessionDescription.self, event: event, field: key)
    }

    /// A null, absent or empty candidate is end-of-candidates (`nil`).
    func candidate(_ event: String) throws(SignalingDecodeError) -> IceCandidate? {
        guard case .object = self else { throw .badPayload(event: event, reason: "payload is not an object") }
        switch self["candidate"] {
        case nil, .null?: return nil
        case .string(let s)? where s.isEmpty: return nil
        case let value?:
            let c = try value.decode(IceCandidate.self, event: event, field: "candidate")
            return c.isEndOfCandidates ? nil : c
        }
    }
}
