// Buttons on evdev input devices (kernel API: Documentation/input/input.rst, EV_KEY events from
// /dev/input/eventN, read through libevdev with SYN_DROPPED resync). Devices are chosen by path
// or name, optionally grabbed exclusively, and picked up when they appear later (rescan).
import CEvdev
import Foundation
import Media

public struct ButtonsConfiguration: Sendable, Equatable {
    /// Device paths (/dev/input/event3, /dev/input/by-id/...) or parts of device names
    /// ("gpio-keys"); empty takes every device that has one of the mapped keys.
    public var devices: [String]
    /// EVIOCGRAB: our keys do not also reach the console or another reader.
    public var grab: Bool
    public var keyMap: KeyMap
    public var timing: ButtonTiming
    /// How often /dev/input is rescanned for devices plugged in later.
    public var rescanSeconds: Double

    public init(devices: [String] = [], grab: Bool = false, keyMap: KeyMap, timing: ButtonTiming = ButtonTiming(),
                rescanSeconds: Double = 1) {
        self.devices = devices
        self.grab = grab
        self.keyMap = keyMap
        self.timing = timing
        self.rescanSeconds = max(0.1, rescanSeconds)
    }
}

public enum ButtonsNotice: Sendable, Equatable {
    case action(ButtonEvent)
    case deviceAdded(path: String, name: String)
    case deviceRemoved(path: String, reason: String)
}

/// An input device as `videophone devices` lists it.
public struct InputDeviceInfo: Sendable {
    public var path: String
    public var name: String
    public var keys: [UInt16]
}

public enum InputDiscovery {
    /// /dev/input/eventN in numeric order.
    public static func eventNodes() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/input")) ?? [])
            .filter { $0.hasPrefix("event") && Int($0.dropFirst(5)) != nil }
            .sorted { Int($0.dropFirst(5))! < Int($1.dropFirst(5))! }
            .map { "/dev/input/" + $0 }
    }

    public static func devices() -> [InputDeviceInfo] {
        eventNodes().compactMap { path in
            guard let device = try? EvdevDevice(path: path) else { return nil }
            return InputDeviceInfo(path: path, name: device.name, keys: device.keys())
        }
    }
}

/// One open evdev node. Not thread-safe: owned by the buttons thread.
final class EvdevDevice {
    let path: String
    let fd: Int32
    let handle: OpaquePointer
    let name: String

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ButtonsError("open \(path): \(String(cString: strerror(errno)))") }
        var device: OpaquePointer?
        let status = libevdev_new_from_fd(fd, &device)
        guard status == 0, let device else {
            close(fd)
            throw ButtonsError("libevdev_new_from_fd \(path): \(String(cString: strerror(-status)))")
        }
        handle = device
        name = libevdev_get_name(device).map { String(cString: $0) } ?? "?"
        // Event times on the monotonic clock, like every other media timestamp.
        _ = libevdev_set_clock_id(device, CLOCK_MONOTONIC)
    }

    deinit {
        libevdev_free(handle)
        close(fd)
    }

    func keys() -> [UInt16] {
        guard libevdev_has_event_type(handle, UInt32(EV_KEY)) != 0 else { return [] }
        return (0..<UInt16(KEY_MAX)).filter { libevdev_has_event_code(handle, UInt32(EV_KEY), UInt32($0)) != 0 }
    }

    func has(anyOf keys: Set<UInt16>) -> Bool {
        keys.contains { libevdev_has_event_code(handle, UInt32(EV_KEY), UInt32($0)) != 0 }
    }

    func grab() -> Bool { libevdev_grab(handle, LIBEVDEV_GRAB) == 0 }
}

struct ButtonsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

public final class EvdevButtons: Sendable {
    public let configuration: ButtonsConfiguration

    public init(configuration: ButtonsConfiguration) {
        self.configuration = configuration
    }

    /// Actions and device changes until the consumer stops iterating.
    public func events() -> AsyncStream<ButtonsNotice> {
        let (stream, continuation) = AsyncStream.makeStream(of: ButtonsNotice.self, bufferingPolicy: .bufferingNewest(64))
        let stop = DeviceStopFlag()
        continuation.onTermination = { _ in stop.set() }
        let thread = Thread { [self] in run(continuation: continuation, stop: stop) }
        thread.name = "evdev-buttons"
        thread.start()
        return stream
    }

    /// Just the actions.
    public func actions() -> AsyncStream<ButtonEvent> {
        let events = events()
        return AsyncStream(bufferingPolicy: .bufferingNewest(64)) { continuation in
            let task = Task {
                for await event in events { if case .action(let action) = event { continuation.yield(action) } }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Whether a device is one the configuration asks for.
    func wanted(_ device: EvdevDevice) -> Bool {
        guard device.has(anyOf: configuration.keyMap.keys) else { return false }
        if configuration.devices.isEmpty { return true }
        let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: device.path)) ?? device.path
        return configuration.devices.contains { wanted in
            if wanted.hasPrefix("/") {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: wanted))
                    .map { $0.hasPrefix("/") ? $0 : "/dev/input/" + ($0 as NSString).lastPathComponent } ?? wanted
                return target == device.path || wanted == device.path || wanted == real
            }
            return device.name.localizedCaseInsensitiveContains(wanted)
        }
    }

    private func run(continuation: AsyncStream<ButtonsNotice>.Continuation, stop: DeviceStopFlag) {
        var open: [(device: EvdevDevice, recognizer: ButtonRecognizer)] = []
        var ignored = Set<String>()
        var nextScan: UInt64 = 0
        let scanPeriod = UInt64(configuration.rescanSeconds * 1e9)
        while !stop.isSet {
            let now = MediaTime.now().nanoseconds
            if now >= nextScan {
                nextScan = now + scanPeriod
                let present = Set(InputDiscovery.eventNodes())
                ignored.formIntersection(present)  // a node number reused later is looked at again
                for path in present.sorted() where !ignored.contains(path) && !open.contains(where: { $0.device.path == path }) {
                    guard let device = try? EvdevDevice(path: path) else { continue }
                    guard wanted(device) else { ignored.insert(path); continue }
                    if configuration.grab, !device.grab() {
                        continuation.yield(.deviceRemoved(path: path, reason: "could not grab (another reader holds it)"))
                    }
                    open.append((device, ButtonRecognizer(keyMap: configuration.keyMap, timing: configuration.timing)))
                    continuation.yield(.deviceAdded(path: path, name: device.name))
                }
            }
            var fds = open.map { pollfd(fd: $0.device.fd, events: Int16(POLLIN), revents: 0) }
            let ready = fds.isEmpty ? (usleep(50_000), 0).1 : poll(&fds, nfds_t(fds.count), 50)
            var gone: [Int: String] = [:]
            if ready > 0 {
                for index in fds.indices where fds[index].revents != 0 {
                    if let reason = drain(&open[index], continuation: continuation) { gone[index] = reason }
                }
            }
            let tickTime = MediaTime.now().nanoseconds
            for index in open.indices where gone[index] == nil {
                for event in open[index].recognizer.tick(now: tickTime, device: open[index].device.name) {
                    continuation.yield(.action(event))
                }
            }
            for index in gone.keys.sorted(by: >) {
                continuation.yield(.deviceRemoved(path: open[index].device.path, reason: gone[index]!))
                open.remove(at: index)
            }
        }
        continuation.finish()
    }

    /// Reads everything pending; returns a reason when the device is gone.
    private func drain(_ entry: inout (device: EvdevDevice, recognizer: ButtonRecognizer),
                       continuation: AsyncStream<ButtonsNotice>.Continuation) -> String? {
        var flag = LIBEVDEV_READ_FLAG_NORMAL.rawValue
        while true {
            var event = input_event()
            let status = libevdev_next_event(entry.device.handle, flag, &event)
            if status == -EAGAIN {
                if flag == LIBEVDEV_READ_FLAG_SYNC.rawValue { flag = LIBEVDEV_READ_FLAG_NORMAL.rawValue; continue }
                return nil
            }
            if status == Int32(LIBEVDEV_READ_STATUS_SYNC.rawValue) {
                // SYN_DROPPED: the kernel's queue overflowed; replay the device's true state.
                flag = LIBEVDEV_READ_FLAG_SYNC.rawValue
            } else if status < 0 {
                entry.recognizer.reset()
                return status == -ENODEV ? "unplugged" : String(cString: strerror(-status))
            }
            guard event.type == UInt16(EV_KEY) else { continue }
            let time = UInt64(event.time.tv_sec) * 1_000_000_000 + UInt64(event.time.tv_usec) * 1000
            for action in entry.recognizer.handle(key: event.code, value: event.value, time: time,
                                                  device: entry.device.name) {
                continuation.yield(.action(action))
            }
        }
    }
}
