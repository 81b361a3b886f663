import RoomServer
import SignalingCore
import Testing

/// Room membership and relay rules, as the seed's server behaves plus validation.
@Suite struct RoomDirectoryTests {
    /// The `.joined` payload, or a test failure.
    func joined(_ outcome: RoomDirectory.JoinOutcome, sourceLocation: SourceLocation = #_sourceLocation)
        -> (room: String, users: [RoomUser], previous: RoomDirectory.Departure?, others: [String])? {
        guard case .joined(let room, let users, let previous, let others) = outcome else {
            Issue.record("expected .joined, got \(outcome)", sourceLocation: sourceLocation)
            return nil
        }
        return (room, users, previous, others)
    }

    @Test func firstAndSecondJoin() throws {
        var rooms = RoomDirectory()
        let a = try #require(joined(rooms.join(connection: "A", room: "lobby", name: "Alice")))
        #expect(a.room == "lobby")
        #expect(a.users == [RoomUser(id: "A", name: "Alice")])
        #expect(a.others.isEmpty)
        #expect(a.previous == nil)

        let b = try #require(joined(rooms.join(connection: "B", room: "lobby", name: "Bob")))
        #expect(b.users == [RoomUser(id: "A", name: "Alice"), RoomUser(id: "B", name: "Bob")])
        #expect(b.others == ["A"])
        #expect(rooms.room(of: "B") == "lobby")
        #expect(rooms.name(of: "B") == "Bob")
        #expect(rooms.members(of: "lobby").map(\.id) == ["A", "B"])
        #expect(rooms.roomCount == 1 && rooms.memberCount == 2)
    }

    @Test func thirdMemberGetsFullAndNothingChanges() {
        var rooms = RoomDirectory()
        _ = rooms.join(connection: "A", room: "lobby", name: "Alice")
        _ = rooms.join(connection: "B", room: "lobby", name: "Bob")
        _ = rooms.join(connection: "C", room: "elsewhere", name: "Carol")
        #expect(rooms.join(connection: "C", room: "lobby", name: "Carol") == .full(room: "lobby"))
        // A refused join keeps the caller in its current room.
        #expect(rooms.room(of: "C") == "elsewhere")
        #expect(rooms.members(of: "lobby").count == 2)
        #expect(rooms.join(connection: "D", room: "lobby", name: "Dan") == .full(room: "lobby"))
        #expect(rooms.room(of: "D") == nil)
    }

    @Test func maxMembersIsConfigurable() {
        var rooms = RoomDirectory(maxMembers: 3)
        for id in ["A", "B", "C"] { _ = rooms.join(connection: id, room: "r", name: id) }
        #expect(rooms.members(of: "r").count == 3)
        #expect(rooms.join(connection: "D", room: "r", name: "D") == .full(room: "r"))
    }

    @Test func rejoiningTheSameRoomIsIdempotent() throws {
        var rooms = RoomDirectory()
        _ = rooms.join(connection: "A", room: "lobby", name: "Alice")
        _ = rooms.join(connection: "B", room: "lobby", name: "Bob")
        // Even when the room is full, and even with a different name or surrounding spaces.
        let again = try #require(joined(rooms.join(connection: "B", room: " lobby ", name: "Robert")))
        #expect(again.users == [RoomUser(id: "A", name: "Alice"), RoomUser(id: "B", name: "Bob")])
        #expect(again.others.isEmpty)
        #expect(again.previous == nil)
        #expect(rooms.memberCount == 2)
    }

    @Test func switchingRoomsReportsThePreviousRoom() throws {
        var rooms = RoomDirectory()
        _ = rooms.join(connection: "A", room: "one", name: "Alice")
        _ = rooms.join(connection: "B", room: "one", name: "Bob")
        let moved = try #require(joined(rooms.join(connection: "B", room: "two", name: "Bob")))
        #expect(moved.previous == .init(room: "one", user: RoomUser(id: "B", name: "Bob"), remaining: ["A"], roomDeleted: false))
        #expect(moved.users == [RoomUser(id: "B", name: "Bob")])
        #expect(rooms.members(of: "one").map(\.id) == ["A"])
        #expect(!rooms.canRelay(from: "A", to: "B"))

        // The last member moving away deletes the old room.
        let last = try #require(joined(rooms.join(connection: "A", room: "two", name: "Alice")))
        #expect(last.previous?.roomDeleted == true)
        #expect(last.others == ["B"])
        #expect(rooms.roomNames == ["two"])
    }

    @Test func leaveNotifiesTheRestAndDeletesAnEmptyRoom() throws {
        var rooms = RoomDirectory()
        _ = rooms.join(connection: "A", room: "lobby", name: "Alice")
        _ = rooms.join(connection: "B", room: "lobby", name: "Bob")

        let firstLeave = rooms.leave(connection: "A")
        let first = try #require(firstLeave)
        #expect(first.room == "lobby")
        #expect(first.user == RoomUser(id: "A", name: "Alice"))
        #expect(first.remaining == ["B"])
        #expect(!first.roomDeleted)
        #expect(rooms.room(of: "A") == nil)

        let secondLeave = rooms.leave(connection: "B")
        let second = try #require(secondLeave)
        #expect(second.remaining.isEmpty && second.roomDeleted)
        #expect(rooms.roomCount == 0 && rooms.memberCount == 0)
        #expect(rooms.members(of: "lobby").isEmpty)
        #expect(rooms.leave(connection: "B") == nil)
        #expect(rooms.leave(connection: "never-joined") == nil)
    }

    @Test func relayOnlyWithinTheSenderRoom() {
        var rooms = RoomDirectory()
        _ = rooms.join(connection: "A", room: "one", name: "Alice")
        _ = rooms.join(connection: "B", room: "one", name: "Bob")
        _ = rooms.join(connection: "C", room: "two", name: "Carol")
        #expect(rooms.canRelay(from: "A", to: "B"))
        #expect(rooms.canRelay(from: "B", to: "A"))
        #expect(!rooms.canRelay(from: "A", to: "A"))
        #expect(!rooms.canRelay(from: "A", to: "C"))
        #expect(!rooms.canRelay(from: "C", to: "A"))
        #expect(!rooms.canRelay(from: "X", to: "A"))
        #expect(!rooms.canRelay(from: "A", to: "X"))
    }

    @Test(arguments: [
        ("", "Alice"), ("   ", "Alice"), ("has space", "Alice"), ("a/b", "Alice"), ("emoji😀", "Alice"),
        (String(repeating: "r", count: 65), "Alice"),
        ("lobby", ""), ("lobby", " \t "), ("lobby", "Al\nice"), ("lobby", "nul\u{0}"),
        ("lobby", "evil\u{202E}txt"), ("lobby", String(repeating: "n", count: 49)),
    ])
    func invalidNamesAreRefusedWithAReason(room: String, name: String) {
        var rooms = RoomDirectory()
        guard case .invalid(let reason) = rooms.join(connection: "A", room: room, name: name) else {
            Issue.record("expected .invalid for room \(room.debugDescription), name \(name.debugDescription)")
            return
        }
        #expect(!reason.isEmpty)
        #expect(rooms.memberCount == 0)
    }

    @Test(arguments: [
        ("lobby", "Alice", "lobby", "Alice"),
        ("  Küche-2.OG_a:b  ", " Zoë ", "Küche-2.OG_a:b", "Zoë"),
        ("会议室", "王小明", "会议室", "王小明"),
        (String(repeating: "r", count: 64), String(repeating: "n", count: 48),
         String(repeating: "r", count: 64), String(repeating: "n", count: 48)),
        ("x", "👩‍👩‍👧 family (home)", "x", "👩‍👩‍👧 family (home)"),
    ])
    func validNamesAreTrimmed(room: String, name: String, expectedRoom: String, expectedName: String) {
        var rooms = RoomDirectory()
        #expect(rooms.join(connection: "A", room: room, name: name)
            == .joined(room: expectedRoom, users: [RoomUser(id: "A", name: expectedName)], previous: nil, others: []))
    }

    @Test func reasonsNameTheProblem() throws {
        #expect(throws: InvalidInput("room name is empty")) { try InputRules.room("  ") }
        #expect(throws: InvalidInput("user name is longer than 48 characters")) {
            try InputRules.userName(String(repeating: "x", count: 49))
        }
        #expect(throws: InvalidInput("user name may not contain U+000A")) { try InputRules.userName("a\nb") }
        #expect(throws: InvalidInput("room name may contain only letters, digits and - _ . : (found '/' (U+002F))")) {
            try InputRules.room("a/b")
        }
        // One character stacked with thousands of combining marks is still too long.
        #expect(throws: InvalidInput.self) { try InputRules.room("a" + String(repeating: "\u{301}", count: 1000)) }
    }
}
