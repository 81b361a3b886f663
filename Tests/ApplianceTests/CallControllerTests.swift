import Appliance
import Signaling
import SignalingCore
import Testing

@Suite struct CallControllerTests {
    static func collect(_ c: CallController, until done: @escaping @Sendable (CallEffect) -> Bool) async -> [CallEffect] {
        var seen: [CallEffect] = []
        for await e in c.effects {
            seen.append(e)
            if done(e) { break }
        }
        return seen
    }

    /// Timers run in the controller (scaled: 1 s = 1 ms here) and come back as events.
    @Test func autoAnswerTimerFiresThroughTheController() async {
        let c = CallController(settings: CallSettings(autoAnswer: .after, autoAnswerDelay: 2),
                               sleep: { try await Task.sleep(for: .milliseconds(Int($0 * 1))) })
        await c.start()
        await c.send(.signalingConnected)
        await c.send(Harness.joined())
        await c.send(.incomingCall(from: Harness.bob.id, offer: Harness.offer))
        #expect(await c.phase == .autoAnswerPending)
        let effects = await Self.collect(c) { $0 == .media(.start(.answerer(offer: Harness.offer))) }
        #expect(effects.contains(.beep) && effects.contains(.openDevices))
        #expect(await c.phase == .inCall)
        let snap = await c.snapshot
        #expect(snap.peerName == "Bob" && snap.devicesOpen && snap.room == "home")
        await c.stop()
    }

    /// A cancelled timer never reaches the machine, even if its sleep ends.
    @Test func cancelledTimerIsDropped() async throws {
        let c = CallController(settings: CallSettings(autoAnswer: .after, autoAnswerDelay: 5),
                               sleep: { try await Task.sleep(for: .milliseconds(Int($0 * 10))) })
        await c.start()
        await c.send(.signalingConnected)
        await c.send(Harness.joined())
        await c.send(.incomingCall(from: Harness.bob.id, offer: Harness.offer))
        await c.press(.end)
        try await Task.sleep(for: .milliseconds(150))
        #expect(await c.phase == .idle)
        await c.stop()
        var all: [CallEffect] = []
        for await e in c.effects { all.append(e) }
        #expect(!all.contains(.beep))
    }

    @Test func newHomeRoomIsJoinedWhenIdle() async {
        let c = CallController(settings: CallSettings(homeRoom: "home"))
        await c.start()
        await c.send(.signalingConnected)
        await c.send(Harness.joined())
        await c.update(settings: CallSettings(homeRoom: "hall"))
        await c.stop()
        var all: [CallEffect] = []
        for await e in c.effects { all.append(e) }
        #expect(all.contains(.joinRoom("hall")))
        #expect(await c.phase == .connecting)
    }
}

@Suite struct ApplianceInputTests {
    @Test func routesSignalingEvents() {
        #expect(ApplianceInput.route(.connected) == .call(.signalingConnected))
        #expect(ApplianceInput.route(.server(.callEnded(from: "x"))) == .call(.callEnded(from: "x")))
        let payload = JSONValue.object(["version": .number(1)])
        #expect(ApplianceInput.route(.unknown(name: "device:config", args: [payload])) == .deviceConfig(payload))
        #expect(ApplianceInput.route(.unknown(name: "other", args: [])) == .none)
    }

    @Test func impactsOfChangedKeys() {
        #expect(ConfigImpact.of(["signaling.room", "call.auto_answer", "camera.width"]) == [.rejoinRoom, .callSettings, .restartCamera])
        #expect(ConfigImpact.of(["signaling.url"]) == [.reconnectSignaling])
        #expect(ConfigImpact.of(["camera.keep_warm"]) == [.callSettings])
        #expect(ConfigImpact.of(["camera.max_bitrate", "camera.adapt_resolution"]) == [.callSettings])
    }

    @Test func keepWarmChangeOpensAndClosesDevicesWhenIdle() async {
        let c = CallController(settings: CallSettings())
        await c.start()
        await c.update(settings: CallSettings(keepWarm: true))
        #expect(await c.snapshot.devicesOpen)
        await c.update(settings: CallSettings(keepWarm: false))
        #expect(await !c.snapshot.devicesOpen)
        await c.stop()
        var all: [CallEffect] = []
        for await e in c.effects { all.append(e) }
        #expect(all.filter { $0 == .openDevices || $0 == .closeDevices } == [.openDevices, .closeDevices])
    }
}
