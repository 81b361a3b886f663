import Appliance
import Testing

// Fast, pure tests of the buttons' key map and gesture recognition (they live beside the VM test
// because this target already links Appliance). Times are injected: no sleeping.

private let ms: UInt64 = 1_000_000

@Suite struct KeyMapTests {
    @Test func parsesActionsKeysAndLongPresses() throws {
        let map = try KeyMap.parse(["call": "KEY_ENTER", "end": "KEY_ESC, long:KEY_ENTER", "mute": "key_m",
                                    "speed_dial_2": "KEY_2", "single": "BTN_0"])
        let enter = try #require(KeyMap.keyCode(named: "KEY_ENTER"))
        #expect(enter == 28)
        #expect(map.short[enter] == .call)
        #expect(map.long[enter] == .end)
        #expect(map.short[1] == .end)    // KEY_ESC
        #expect(map.short[50] == .mute)  // KEY_M, lower-case accepted
        #expect(map.short[3] == .speedDial(2))
        #expect(map.short[0x100] == .single)  // BTN_0
        #expect(KeyMap.keyName(28) == "KEY_ENTER")
    }

    @Test func actionNames() {
        #expect(ButtonAction(name: "speedDial(12)") == .speedDial(12))
        #expect(ButtonAction(name: "speed-dial-3") == .speedDial(3))
        #expect(ButtonAction(name: "Hangup") == .end)
        #expect(ButtonAction(name: "speed_dial_0") == nil)
        #expect(ButtonAction(name: "dance") == nil)
        #expect(ButtonAction.speedDial(4).description == "speed_dial_4")
    }

    @Test func errorsNameTheCulprit() {
        func message(_ entries: [String: String]) -> String {
            do { _ = try KeyMap.parse(entries); return "" } catch { return "\(error)" }
        }
        #expect(message(["dance": "KEY_A"]).contains("dance"))
        #expect(message(["call": "KEY_NOPE"]).contains("KEY_NOPE"))
        #expect(message(["call": "ENTER"]).contains("ENTER"))
        #expect(message(["call": " , "]).contains("no key"))
        #expect(message(["call": "KEY_A", "end": "KEY_A"]).contains("both"))
    }
}

@Suite struct ButtonRecognizerTests {
    let enter: UInt16 = 28, m: UInt16 = 50, other: UInt16 = 30
    func recognizer() throws -> ButtonRecognizer {
        ButtonRecognizer(keyMap: try KeyMap.parse(["call": "KEY_ENTER", "mute": "KEY_M", "camera": "long:KEY_M"]),
                         timing: ButtonTiming(debounceMilliseconds: 30, longPressMilliseconds: 800))
    }

    @Test func shortOnlyKeyFiresOnPress() throws {
        var r = try recognizer()
        let events = r.handle(key: enter, value: 1, time: 1000 * ms, device: "d")
        #expect(events == [ButtonEvent(action: .call, key: enter, longPress: false, time: 1000 * ms, device: "d")])
        #expect(r.handle(key: enter, value: 0, time: 1050 * ms, device: "d").isEmpty)
        #expect(r.handle(key: other, value: 1, time: 1100 * ms, device: "d").isEmpty)  // unmapped
    }

    @Test func bounceWithinDebounceIsIgnored() throws {
        var r = try recognizer()
        #expect(r.handle(key: enter, value: 1, time: 0, device: "d").count == 1)
        _ = r.handle(key: enter, value: 0, time: 40 * ms, device: "d")
        #expect(r.handle(key: enter, value: 1, time: 50 * ms, device: "d").isEmpty)  // 10 ms after release
        _ = r.handle(key: enter, value: 0, time: 55 * ms, device: "d")
        #expect(r.handle(key: enter, value: 1, time: 200 * ms, device: "d").count == 1)  // a real second press
    }

    @Test func dualKeyShortPressFiresOnRelease() throws {
        var r = try recognizer()
        #expect(r.handle(key: m, value: 1, time: 0, device: "d").isEmpty)
        #expect(r.tick(now: 300 * ms, device: "d").isEmpty)
        let events = r.handle(key: m, value: 0, time: 400 * ms, device: "d")
        #expect(events.map(\.action) == [.mute])
        #expect(events.first?.longPress == false)
    }

    @Test func longPressFiresOnceAtTheThreshold() throws {
        var r = try recognizer()
        _ = r.handle(key: m, value: 1, time: 0, device: "d")
        #expect(r.tick(now: 799 * ms, device: "d").isEmpty)
        let long = r.tick(now: 810 * ms, device: "d")
        #expect(long == [ButtonEvent(action: .camera, key: m, longPress: true, time: 800 * ms, device: "d")])
        #expect(r.handle(key: m, value: 2, time: 900 * ms, device: "d").isEmpty)  // autorepeat
        #expect(r.tick(now: 1500 * ms, device: "d").isEmpty)
        #expect(r.handle(key: m, value: 0, time: 2000 * ms, device: "d").isEmpty)  // no mute after a long press
    }

    @Test func longPressSeenOnlyAtReleaseStillCounts() throws {
        var r = try recognizer()
        _ = r.handle(key: m, value: 1, time: 0, device: "d")
        #expect(r.handle(key: m, value: 0, time: 1000 * ms, device: "d").map(\.action) == [.camera])
    }

    @Test func resetForgetsHeldKeys() throws {
        var r = try recognizer()
        _ = r.handle(key: m, value: 1, time: 0, device: "d")
        r.reset()
        #expect(r.tick(now: 2000 * ms, device: "d").isEmpty)
        #expect(r.handle(key: m, value: 0, time: 2100 * ms, device: "d").isEmpty)
    }
}
