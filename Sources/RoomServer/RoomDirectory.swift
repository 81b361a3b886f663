import SignalingCore

/// Who is in which room, and who may send to whom.
///
/// A value type with mutating methods and no I/O: the server keeps one inside the actor (or other
/// single serial context) that owns its connections, so every change is serialised by that owner and
/// no lock is needed here. The outcomes say exactly whom the caller must notify, so the transport never
/// has to reason about room state itself.
public struct RoomDirectory: Sendable {
    /// How many members a room holds. The seed's rooms are one-to-one calls, hence 2.
    public let maxMembers: Int

    /// Room name → members, in joining order (the first member is the one who waited).
    private var rooms: [String: [RoomUser]] = [:]
    /// Connection id → the room it is in.
    private var roomOfConnection: [String: String] = [:]

    public init(maxMembers: Int = 2) {
        precondition(maxMembers >= 1, "a room must hold at least one member")
        self.maxMembers = maxMembers
    }

    /// A member leaving a room: what the caller needs to tell the others (`user:left` to `remaining`).
    public struct Departure: Sendable, Equatable {
        public var room: String
        /// The user as the others knew them (the name they joined with).
        public var user: RoomUser
        /// Connection ids still in the room, to notify.
        public var remaining: [String]
        /// The room was left empty and removed.
        public var roomDeleted: Bool

        public init(room: String, user: RoomUser, remaining: [String], roomDeleted: Bool) {
            self.room = room; self.user = user; self.remaining = remaining; self.roomDeleted = roomDeleted
        }
    }

    public enum JoinOutcome: Sendable, Equatable {
        /// Joined `room` (trimmed). `users` is every member including the joiner, in joining order (the
        /// `room:joined` payload). `previous` is the room the connection had to leave first, if it was
        /// in another one: send `user:left` there. `others` are the connections to send `user:joined`
        /// to; it is empty when the connection was already a member (an idempotent rejoin).
        case joined(room: String, users: [RoomUser], previous: Departure?, others: [String])
        /// The room already has `maxMembers` members; nothing changed (the connection stays where it was).
        case full(room: String)
        /// The room or user name is refused; nothing changed.
        case invalid(reason: String)
    }

    // MARK: Changes

    /// Puts `connection` in `room` under `name`, after validating both (see ``InputRules``).
    ///
    /// A connection is in at most one room: joining another room leaves the current one first, but only
    /// once the new room is known to have space, so a refused join never strands the caller outside
    /// both rooms. Rejoining the room one is already in changes nothing (the original name is kept) and
    /// announces nobody: a client that retries `room:join` after a reconnect glitch must not appear
    /// twice to the other member.
    public mutating func join(connection: String, room rawRoom: String, name rawName: String) -> JoinOutcome {
        let room: String, name: String
        do throws(InvalidInput) {
            room = try InputRules.room(rawRoom)
            name = try InputRules.userName(rawName)
        } catch {
            return .invalid(reason: error.reason)
        }

        let current = roomOfConnection[connection]
        if current == room {
            return .joined(room: room, users: members(of: room), previous: nil, others: [])
        }
        let existing = rooms[room] ?? []
        guard existing.count < maxMembers else { return .full(room: room) }

        let previous = current == nil ? nil : leave(connection: connection)
        let user = RoomUser(id: connection, name: name)
        rooms[room, default: []].append(user)
        roomOfConnection[connection] = room
        return .joined(room: room, users: existing + [user], previous: previous, others: existing.map(\.id))
    }

    /// Removes `connection` from its room (on `leave:room` or disconnect). `nil` if it was in none, so
    /// calling it twice is harmless. An emptied room is deleted, as in the seed.
    @discardableResult
    public mutating func leave(connection: String) -> Departure? {
        guard let room = roomOfConnection.removeValue(forKey: connection),
              var members = rooms[room],
              let index = members.firstIndex(where: { $0.id == connection }) else { return nil }
        let user = members.remove(at: index)
        let deleted = members.isEmpty
        rooms[room] = deleted ? nil : members
        return Departure(room: room, user: user, remaining: members.map(\.id), roomDeleted: deleted)
    }

    // MARK: Queries

    /// Whether a relayed event (`user:call`, `ice:candidate`, ...) from `from` may be delivered to `to`:
    /// both are members of the same room and they are different connections. Everything else is refused,
    /// so a client cannot reach sockets outside its room by guessing their ids.
    public func canRelay(from: String, to: String) -> Bool {
        guard from != to, let room = roomOfConnection[from] else { return false }
        return roomOfConnection[to] == room
    }

    public func room(of connection: String) -> String? { roomOfConnection[connection] }

    /// Members of `room` in joining order; empty for a room that does not exist.
    public func members(of room: String) -> [RoomUser] { rooms[room] ?? [] }

    /// The name `connection` joined its room with.
    public func name(of connection: String) -> String? { user(of: connection)?.name }

    public func user(of connection: String) -> RoomUser? {
        guard let room = roomOfConnection[connection] else { return nil }
        return rooms[room]?.first { $0.id == connection }
    }

    /// Number of rooms with at least one member (for `/healthz`).
    public var roomCount: Int { rooms.count }
    /// Number of connections in a room (for `/healthz`).
    public var memberCount: Int { roomOfConnection.count }
    /// Names of the current rooms, sorted (for diagnostics).
    public var roomNames: [String] { rooms.keys.sorted() }
}
