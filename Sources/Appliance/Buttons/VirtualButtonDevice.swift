// A virtual keyboard through uinput (kernel API: Documentation/input/uinput.rst, via libevdev's
// libevdev_uinput_*): the hardware tests press keys with it, and a bench can without buttons.
import CEvdev
#if canImport(Glibc)
import Glibc
#endif

public final class VirtualButtonDevice {
    public let name: String
    private let device: OpaquePointer
    private let uinput: OpaquePointer

    /// Creates the device with `keys`; it appears as a new /dev/input/eventN.
    public init(name: String, keys: [UInt16]) throws {
        guard let device = libevdev_new() else { throw ButtonsError("libevdev_new failed") }
        libevdev_set_name(device, name)
        _ = libevdev_enable_event_type(device, UInt32(EV_KEY))
        for key in keys { _ = libevdev_enable_event_code(device, UInt32(EV_KEY), UInt32(key), nil) }
        var uinput: OpaquePointer?
        let status = libevdev_uinput_create_from_device(device, LIBEVDEV_UINPUT_OPEN_MANAGED.rawValue, &uinput)
        guard status == 0, let uinput else {
            libevdev_free(device)
            throw ButtonsError("uinput device '\(name)': \(String(cString: strerror(-status))) (is the uinput module loaded?)")
        }
        self.name = name
        self.device = device
        self.uinput = uinput
    }

    deinit {
        libevdev_uinput_destroy(uinput)
        libevdev_free(device)
    }

    /// /dev/input/eventN of the new device (nil until the kernel names it).
    public var devicePath: String? { libevdev_uinput_get_devnode(uinput).map { String(cString: $0) } }

    /// Sends one key transition (1 press, 0 release) followed by SYN_REPORT.
    public func send(key: UInt16, value: Int32) throws {
        var status = libevdev_uinput_write_event(uinput, UInt32(EV_KEY), UInt32(key), value)
        if status == 0 { status = libevdev_uinput_write_event(uinput, UInt32(EV_SYN), UInt32(SYN_REPORT), 0) }
        guard status == 0 else { throw ButtonsError("uinput write: \(String(cString: strerror(-status)))") }
    }

    /// Press, hold for `milliseconds`, release.
    public func press(key: UInt16, holdMilliseconds: Int = 50) throws {
        try send(key: key, value: 1)
        usleep(UInt32(max(0, holdMilliseconds)) * 1000)
        try send(key: key, value: 0)
    }
}
