import Appliance
import SignalingCore
import Testing

@Suite struct ControlProtocolTests {
    @Test(arguments: [
        (#"{"command":"press","action":"call"}"#, ControlRequest.press(.call)),
        ("press call", .press(.call)),
        ("  press   accept \n", .press(.accept)),
        ("press camera", .press(.cameraToggle)),
        ("press speed_dial 2", .press(.speedDial(2))),
        ("press speed-dial-3", .press(.speedDial(3))),
        (#"{"command":"press","action":"speed_dial","index":4}"#, .press(.speedDial(4))),
        ("press single", .press(.single)),
        ("status", .status),
        (#"{"command":"status"}"#, .status),
        ("hangup", .hangup),
    ])
    func parses(_ line: String, _ want: ControlRequest) throws {
        #expect(try ControlRequest.parse(line).get() == want)
    }

    @Test(arguments: ["", "press", "press dance", "press speed_dial 0", "reboot", "status now", "{", "[1]",
                      #"{"action":"call"}"#, #"{"command":"press","action":"speed_dial","index":1.5}"#])
    func refusesWithAReason(_ line: String) {
        guard case .failure(let e) = ControlRequest.parse(line) else { Issue.record("accepted \(line)"); return }
        #expect(!e.description.isEmpty)
    }

    @Test func refusesHugeLines() {
        #expect((try? ControlRequest.parse(String(repeating: "x", count: 5000)).get()) == nil)
    }

    @Test func statusReplyIsOneJSONLine() throws {
        let snap = CallSnapshot(phase: .inCall, room: "home", peerName: "Bob", members: ["Bob"], status: "In a call with Bob",
                                muted: false, cameraOff: true, devicesOpen: true, signalingUp: true)
        let line = ControlReply.status(snap, stats: ["fpsIn": .number(30)])
        #expect(!line.contains("\n"))
        let json = try JSONValue.parse(Substring(line))
        #expect(json["state"] == .string("inCall") && json["peer"] == .string("Bob") && json["call"]?["fpsIn"] == .number(30))
        #expect(json["cameraOff"] == .bool(true))
        let refused = try JSONValue.parse(Substring(ControlReply.pressed(.ignored("already in a call"), snap)))
        #expect(refused["ok"] == .bool(false) && refused["error"] == .string("already in a call"))
    }
}
