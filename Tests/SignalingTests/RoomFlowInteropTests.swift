import Foundation
import Signaling
import SignalingCore
import Testing

/// The seed's room flow against python-socketio, in the three transport modes the issue names.
@Suite("Room flow against python-socketio", .serialized)
struct RoomFlowInteropTests {
    static let modes: [EngineIOConfiguration.Transports] = [.websocket, .polling, .pollingThenUpgrade]

    /// The server speaks only the transports the mode uses, so a fallback cannot hide a broken one.
    static func server(for mode: EngineIOConfiguration.Transports, _ extra: [String] = [],
                       pingInterval: Double = 25, pingTimeout: Double = 20) -> FixtureServer {
        FixtureServer(transports: mode == .websocket ? "websocket" : mode == .polling ? "polling" : "polling,websocket",
                      pingInterval: pingInterval, pingTimeout: pingTimeout, extra: extra)
    }

    @Test("join, user:joined, room:full for a third member", arguments: modes)
    func joinAndFull(mode: EngineIOConfiguration.Transports) async throws {
        try await withFixture(Self.server(for: mode)) { server, cleanup in
            let alice = await cleanup.add(try await Member.join(server, room: "r", name: "alice", transports: mode))
            let bob = await cleanup.add(try await Member.join(server, room: "r", name: "bob", transports: mode))
            let joined = try await alice.events.wait(for: "user:joined bob") { isEvent($0, "user:joined") }
            #expect(joined == .server(.userJoined(RoomUser(id: bob.id, name: "bob"))))
            let bobJoined = try await bob.events.wait(for: "bob room:joined") { isEvent($0, "room:joined") }
            // The state names the transport actually in use, so a failed upgrade cannot pass unseen.
            let expected = mode == .polling ? "polling" : "websocket"
            try await alice.states.wait(for: "connected over \(expected)") {
                if case .connected(_, expected) = $0 { true } else { false }
            }
            if case .server(.roomJoined(let r)) = bobJoined {
                #expect(Set(r.users.map(\.name)) == ["alice", "bob"])
                #expect(r.room == "r")
            }
            let carol = await cleanup.add(try await Member.join(server, room: "r", name: "carol", transports: mode, waitForJoin: false))
            let full = try await carol.events.wait(for: "room:full") { isEvent($0, "room:full") }
            #expect(full == .server(.roomFull(RoomRef(room: "r"))))
            #expect(carol.client.selfID == nil)
        }
    }

    @Test("every relay in the contract, chat to the sender too, leave", arguments: modes)
    func relays(mode: EngineIOConfiguration.Transports) async throws {
        try await withFixture(Self.server(for: mode)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "relay", name: "alice", transports: mode))
            let b = await cleanup.add(try await Member.join(server, room: "relay", name: "bob", transports: mode))
            let offer = SessionDescription(type: .offer, sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n")
            let answer = SessionDescription(type: .answer, sdp: "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\n")
            let candidate = IceCandidate(candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
                                         sdpMid: "0", sdpMLineIndex: 0)

            try await a.client.send(.call(to: b.id, offer: offer))
            try await b.events.wait(for: "incoming:call") { $0 == .server(.incomingCall(from: a.id, offer: offer)) }
            try await b.client.send(.accept(to: a.id, answer: answer))
            try await a.events.wait(for: "call:accepted") { $0 == .server(.callAccepted(from: b.id, answer: answer)) }
            try await a.client.send(.negotiationNeeded(to: b.id, offer: offer))
            try await b.events.wait(for: "peer:nego:needed") { $0 == .server(.negotiationNeeded(from: a.id, offer: offer)) }
            try await b.client.send(.negotiationDone(to: a.id, answer: answer))
            try await a.events.wait(for: "peer:nego:final") { $0 == .server(.negotiationFinal(from: b.id, answer: answer)) }
            try await a.client.send(.iceCandidate(to: b.id, candidate: candidate))
            try await b.events.wait(for: "ice:candidate") { $0 == .server(.iceCandidate(from: a.id, candidate: candidate)) }
            try await b.client.send(.iceCandidate(to: a.id, candidate: nil))
            try await a.events.wait(for: "end-of-candidates") { $0 == .server(.iceCandidate(from: b.id, candidate: nil)) }
            try await a.client.send(.endCall(to: b.id))
            try await b.events.wait(for: "call:ended") { $0 == .server(.callEnded(from: a.id)) }

            try await a.client.send(.chat(ChatSend(text: "hello there")))
            for member in [a, b] {
                let got = try await member.events.wait(for: "chat at \(member.id)") {
                    if case .server(.chat(let m)) = $0 { return m.text == "hello there" } else { return false }
                }
                if case .server(.chat(let m)) = got {
                    #expect(m.senderId == a.id)
                    #expect(m.userName == "alice")
                    #expect(!m.id.isEmpty && !m.timestamp.isEmpty)
                }
            }
            let bobID = b.id
            try await b.client.leave()
            try await a.events.wait(for: "user:left") { $0 == .server(.userLeft(RoomUser(id: bobID, name: "bob"))) }
        }
    }

    @Test("acknowledgement round trip", arguments: modes)
    func ack(mode: EngineIOConfiguration.Transports) async throws {
        try await withFixture(Self.server(for: mode)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "ack", name: "alice", transports: mode))
            let reply = try await a.client.request("test:echo", [.object(["n": .number(7)]), .string("two")])
            #expect(reply == [.array([.object(["n": .number(7)]), .string("two")])])
        }
    }

    @Test("server restarted mid-session: reconnects and is back in its room", arguments: modes)
    func restart(mode: EngineIOConfiguration.Transports) async throws {
        try await withFixture(Self.server(for: mode)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "restart", name: "alice", transports: mode))
            let before = await a.events.count
            server.stop()
            try await a.events.wait(for: "disconnected") { if case .disconnected = $0 { return true } else { return false } }
            let down = ContinuousClock.now
            try server.start()
            let up = ContinuousClock.now
            try await a.events.wait(for: "room:joined again", timeout: .seconds(15), after: before) { isEvent($0, "room:joined") }
            let rejoined = ContinuousClock.now
            print("reconnect(\(mode.rawValue)): server down for \(down.duration(to: up)), back in room \(up.duration(to: rejoined)) after restart")
            // The rejoined member is a full member again: a new peer sees it.
            let b = await cleanup.add(try await Member.join(server, room: "restart", name: "bob", transports: mode))
            let joined = try await b.events.wait(for: "bob joined") { isEvent($0, "room:joined") }
            if case .server(.roomJoined(let r)) = joined { #expect(Set(r.users.map(\.name)) == ["alice", "bob"]) }
        }
    }

    @Test("server goes silent: noticed within pingInterval + pingTimeout", arguments: modes)
    func silent(mode: EngineIOConfiguration.Transports) async throws {
        try await withFixture(Self.server(for: mode, pingInterval: 1, pingTimeout: 1)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "silent", name: "alice", transports: mode))
            server.freeze()
            let frozen = ContinuousClock.now
            let event = try await a.events.wait(for: "disconnected", timeout: .seconds(8)) {
                if case .disconnected = $0 { return true } else { return false }
            }
            let noticed = frozen.duration(to: .now)
            print("silent(\(mode.rawValue)): noticed after \(noticed) (limit 2 s + one interval of slack): \(event)")
            #expect(event == .disconnected(.heartbeatTimeout(milliseconds: 2_000)))
            #expect(noticed < .seconds(4))
        }
    }

    @Test("malformed frames are rejected and the connection survives", arguments: modes)
    func malformed(mode: EngineIOConfiguration.Transports) async throws {
        try await withFixture(Self.server(for: mode)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "bad", name: "alice", transports: mode))
            try await a.client.socket.emit("test:malformed", [])
            try await a.events.wait(for: "chat after the garbage") {
                if case .server(.chat(let m)) = $0 { return m.text == "still here" } else { return false }
            }
            let items = await a.events.items
            #expect(items.contains { if case .malformed(.badPayload(event: "room:joined", _)) = $0 { true } else { false } })
            #expect(items.contains { if case .malformed(.badPayload(event: "user:joined", _)) = $0 { true } else { false } })
            #expect(items.contains { if case .unknown(name: "no:such:event", _) = $0 { true } else { false } })
            #expect(!items.contains { if case .disconnected = $0 { true } else { false } })
            #expect(a.client.state.isConnected)
            // Still usable: an ack round trip after the garbage.
            _ = try await a.client.request("test:echo", [.string("ok")])
        }
    }

    @Test("an oversized frame closes the session cleanly; the client reconnects", arguments: modes)
    func oversized(mode: EngineIOConfiguration.Transports) async throws {
        try await withFixture(Self.server(for: mode)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "big", name: "alice", transports: mode,
                                                           maxInbound: 64_000))
            let before = await a.events.count
            try await a.client.socket.emit("test:oversized", [.object(["bytes": .number(200_000)])])
            let dropped = try await a.events.wait(for: "disconnected", after: before) {
                if case .disconnected = $0 { return true } else { return false }
            }
            print("oversized(\(mode.rawValue)): \(dropped)")
            try await a.events.wait(for: "rejoined", timeout: .seconds(15), after: before) { isEvent($0, "room:joined") }
            #expect(!(await a.events.items).contains { if case .server(.chat(let m)) = $0 { m.id == "big" } else { false } })
        }
    }

    /// Events that reach the client while polling hands over to the websocket are all delivered, in
    /// order. Before the fix, packets brought by the last polling GET were still in the reader when
    /// the transport switched, and were dropped as strays: a daemon then waited for `room:joined` forever.
    @Test("no event is lost across the polling → websocket upgrade")
    func upgradeLosesNothing() async throws {
        try await withFixture(Self.server(for: .pollingThenUpgrade)) { server, cleanup in
            for round in 0..<8 {
                let a = await cleanup.add(try await Member.join(server, room: "up\(round)", name: "alice",
                                                               transports: .pollingThenUpgrade, waitForJoin: false))
                try await a.states.wait(for: "connected") { $0.isConnected }
                let count = 150
                try await a.client.socket.emit("test:burst", [.object(["count": .number(Double(count)), "gap": .number(0.0005)])])
                try await a.events.wait(for: "room:joined (round \(round))") { isEvent($0, "room:joined") }
                try await a.events.wait(for: "the last burst event (round \(round))") {
                    if case .server(.chat(let m)) = $0 { m.id == "burst-\(count - 1)" } else { false }
                }
                let ids = await a.events.items.compactMap { e -> String? in
                    if case .server(.chat(let m)) = e, m.id.hasPrefix("burst-") { m.id } else { nil }
                }
                #expect(ids == (0..<count).map { "burst-\($0)" }, "round \(round): \(ids.count) of \(count) arrived")
                try await a.states.wait(for: "upgraded (round \(round))") {
                    if case .connected(_, "websocket") = $0 { true } else { false }
                }
                await a.stop()
            }
        }
    }

    @Test("the upgrade holds the next polling GET while the probe is out (a server may hold that GET until the upgrade)")
    func upgradeHoldsPollingDuringProbe() async throws {
        // The server releases the held GET with a noop at once but its pong comes 0.5 s later, and
        // holds any GET that arrives meanwhile until the upgrade packet: polling again before the
        // pong deadlocks the upgrade (the client waits for that GET, the server for the upgrade).
        try await withFixture(FixtureServer(script: "Tests/Interop/engineio_slow_pong_server.py")) { server, cleanup in
            for round in 0..<3 {
                let a = await cleanup.add(try await Member.join(server, room: "probe", name: "alice\(round)",
                                                               transports: .pollingThenUpgrade, waitForJoin: false))
                try await a.states.wait(for: "upgraded to websocket (round \(round))") {
                    if case .connected(_, "websocket") = $0 { true } else { false }
                }
                await a.stop()
            }
        }
    }

    @Test("CONNECT_ERROR from the server is reported with its reason")
    func connectRefused() async throws {
        try await withFixture(Self.server(for: .pollingThenUpgrade)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "x", name: "mallory", transports: .pollingThenUpgrade,
                                                           auth: .object(["token": .string("reject")]), waitForJoin: false))
            try await a.states.wait(for: "reconnecting with connectRefused") {
                if case .reconnecting(_, .connectRefused(let why)) = $0 { return why == "bad token" } else { return false }
            }
        }
    }
}
