// Debounce and long-press recognition over evdev key events (EV_KEY value 1 = press,
// 0 = release, 2 = autorepeat). Pure and clock-injected: times come in with the events and
// with `tick`, so tests drive it with exact timestamps.

/// A recognised button gesture.
public struct ButtonEvent: Sendable, Equatable {
    public var action: ButtonAction
    public var key: UInt16
    public var longPress: Bool
    /// When it was recognised (press time for short presses, threshold time for long ones), in
    /// nanoseconds on the monotonic clock.
    public var time: UInt64
    /// The input device's name.
    public var device: String

    public init(action: ButtonAction, key: UInt16, longPress: Bool, time: UInt64, device: String) {
        self.action = action
        self.key = key
        self.longPress = longPress
        self.time = time
        self.device = device
    }
}

public struct ButtonTiming: Sendable, Equatable {
    /// A press within this time of the key's previous release is contact bounce: ignored.
    public var debounceNanoseconds: UInt64
    /// Held this long, a key with a long-press binding fires it instead of its short action.
    public var longPressNanoseconds: UInt64

    public init(debounceMilliseconds: Int = 30, longPressMilliseconds: Int = 800) {
        debounceNanoseconds = UInt64(max(0, debounceMilliseconds)) * 1_000_000
        longPressNanoseconds = UInt64(max(1, longPressMilliseconds)) * 1_000_000
    }
}

public struct ButtonRecognizer: Sendable {
    public let keyMap: KeyMap
    public let timing: ButtonTiming
    private struct Held { var since: UInt64; var longFired: Bool }
    private var held: [UInt16: Held] = [:]
    private var lastRelease: [UInt16: UInt64] = [:]

    public init(keyMap: KeyMap, timing: ButtonTiming = ButtonTiming()) {
        self.keyMap = keyMap
        self.timing = timing
    }

    /// Feeds one key event; returns the actions it completes.
    /// - Keys with only a short binding fire on press (no waiting: a call button feels instant).
    /// - Keys with a long binding wait: release before the threshold fires the short action
    ///   (if any), reaching the threshold (seen here or in `tick`) fires the long one once.
    public mutating func handle(key: UInt16, value: Int32, time: UInt64, device: String) -> [ButtonEvent] {
        guard keyMap.keys.contains(key) else { return [] }
        switch value {
        case 1:
            guard held[key] == nil else { return [] }
            if let released = lastRelease[key], time &- released < timing.debounceNanoseconds, time >= released {
                return []  // bounce
            }
            held[key] = Held(since: time, longFired: false)
            if keyMap.long[key] == nil, let action = keyMap.short[key] {
                return [ButtonEvent(action: action, key: key, longPress: false, time: time, device: device)]
            }
            return []
        case 0:
            guard let state = held.removeValue(forKey: key) else { return [] }
            lastRelease[key] = time
            var events = longEvents(key: key, state: state, now: time, device: device)
            if events.isEmpty, !state.longFired, keyMap.long[key] != nil, let action = keyMap.short[key] {
                events.append(ButtonEvent(action: action, key: key, longPress: false, time: state.since, device: device))
            }
            return events
        default:  // autorepeat: only time moves on
            return tick(now: time, device: device)
        }
    }

    /// Fires long presses whose threshold has passed by `now` (call it every ~50 ms).
    public mutating func tick(now: UInt64, device: String) -> [ButtonEvent] {
        var events: [ButtonEvent] = []
        for (key, state) in held.sorted(by: { $0.key < $1.key }) {
            events += longEvents(key: key, state: state, now: now, device: device)
        }
        return events
    }

    /// Forgets held keys (a device vanished mid-press: no action on its behalf).
    public mutating func reset() { held.removeAll() }

    private mutating func longEvents(key: UInt16, state: Held, now: UInt64, device: String) -> [ButtonEvent] {
        guard !state.longFired, let action = keyMap.long[key], now >= state.since,
              now - state.since >= timing.longPressNanoseconds else { return [] }
        if held[key] != nil { held[key]?.longFired = true }
        return [ButtonEvent(action: action, key: key, longPress: true, time: state.since + timing.longPressNanoseconds,
                            device: device)]
    }
}
