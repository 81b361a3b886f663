import Foundation

// Payload types of the seed's wire contract (shared/seed/video-chat-workflow.md and issue #2).
// Field names are the wire names; every type decodes what the seed's browser app sends.

/// An RTCSessionDescription as browsers serialise it: `{type, sdp}`.
public struct SessionDescription: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case offer, answer, pranswer, rollback }
    public var type: Kind
    public var sdp: String
    public init(type: Kind, sdp: String) { self.type = type; self.sdp = sdp }
}

/// An RTCIceCandidateInit. An empty `candidate` string means end of candidates.
public struct IceCandidate: Codable, Sendable, Equatable {
    public var candidate: String
    public var sdpMid: String?
    public var sdpMLineIndex: Int?
    public var usernameFragment: String?
    public init(candidate: String, sdpMid: String?, sdpMLineIndex: Int?, usernameFragment: String? = nil) {
        self.candidate = candidate
        self.sdpMid = sdpMid
        self.sdpMLineIndex = sdpMLineIndex
        self.usernameFragment = usernameFragment
    }
    public var isEndOfCandidates: Bool { candidate.isEmpty }

    enum CodingKeys: String, CodingKey { case candidate, sdpMid, sdpMLineIndex, usernameFragment }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        candidate = try c.decode(String.self, forKey: .candidate)
        sdpMid = try c.decodeIfPresent(String.self, forKey: .sdpMid)
        // Read as a number first: Foundation rejects a fractional number for an Int without naming the field.
        if let index = try c.decodeIfPresent(Double.self, forKey: .sdpMLineIndex) {
            // WebIDL `unsigned short?` in RTCIceCandidateInit.
            guard index >= 0, index <= Double(UInt16.max), index.rounded() == index else {
                throw DecodingError.dataCorruptedError(forKey: .sdpMLineIndex, in: c,
                                                       debugDescription: "\(index) is not an integer in 0...65535")
            }
            sdpMLineIndex = Int(index)
        } else {
            sdpMLineIndex = nil
        }
        usernameFragment = try c.decodeIfPresent(String.self, forKey: .usernameFragment)
    }
}

public struct RoomUser: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public init(id: String, name: String) { self.id = id; self.name = name }
}

/// A chat message as the server relays it. Ids and timestamps may be numbers or strings on the
/// wire (the seed does not fix them); both decode, and they are kept as text.
public struct ChatMessage: Codable, Sendable, Equatable {
    public var id: String
    public var userName: String
    public var senderId: String
    public var text: String
    public var timestamp: String

    public init(id: String, userName: String, senderId: String, text: String, timestamp: String) {
        self.id = id
        self.userName = userName
        self.senderId = senderId
        self.text = text
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey { case id, userName, senderId, text, timestamp }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeLoose(.id)
        userName = try c.decode(String.self, forKey: .userName)
        senderId = try c.decodeLoose(.senderId)
        text = try c.decode(String.self, forKey: .text)
        timestamp = (try? c.decodeLoose(.timestamp)) ?? ""
    }
}

extension KeyedDecodingContainer {
    /// A string, or a number rendered as text (JavaScript servers often send ids/timestamps as numbers).
    func decodeLoose(_ key: Key) throws -> String {
        if let s = try? decode(String.self, forKey: key) { return s }
        let n = try decode(Double.self, forKey: key)
        return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    }
}

// MARK: Payloads

public struct RoomJoin: Codable, Sendable, Equatable {
    public var room: String
    public var userName: String
    public init(room: String, userName: String) { self.room = room; self.userName = userName }
}

public struct RoomJoined: Codable, Sendable, Equatable {
    public var room: String
    public var id: String
    public var users: [RoomUser]
    public var messages: [ChatMessage]
    public init(room: String, id: String, users: [RoomUser], messages: [ChatMessage] = []) {
        self.room = room; self.id = id; self.users = users; self.messages = messages
    }
    enum CodingKeys: String, CodingKey { case room, id, users, messages }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        room = try c.decodeIfPresent(String.self, forKey: .room) ?? ""
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        users = try c.decode([RoomUser].self, forKey: .users)
        messages = try c.decodeIfPresent([ChatMessage].self, forKey: .messages) ?? []
    }
}

public struct RoomRef: Codable, Sendable, Equatable {
    public var room: String
    public init(room: String) { self.room = room }
}

/// A payload addressed to one room member (`to`) or relayed from one (`from`).
public struct Addressed<Body: Codable & Sendable & Equatable>: Sendable, Equatable {
    public var peer: String
    public var body: Body
    public init(peer: String, body: Body) { self.peer = peer; self.body = body }
}

public struct ChatSend: Codable, Sendable, Equatable {
    public var text: String
    public init(text: String) { self.text = text }
}
