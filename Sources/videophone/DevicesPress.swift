import Appliance
import ArgumentParser
import Foundation

/// `videophone devices press KEY...` (hidden): a keyboard made through uinput that presses keys
/// and goes away: the QEMU and image tests press the appliance's buttons through the kernel's
/// input layer with it, exactly as a USB button box would.
struct DevicesPress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "press", abstract: "Press keys on a temporary uinput keyboard (test tool).", shouldDisplay: false)

    @Option(help: "The keyboard's name (what buttons.devices names).") var name = "videophone-test-buttons"
    @Option(help: "Seconds to wait after the keyboard appears, so the daemon's rescan opens it.") var settle = 2.5
    @Option(help: "Seconds between presses.") var gap = 0.5
    @Argument(help: "Kernel key names, e.g. KEY_SPACE KEY_ESC.") var keys: [String]

    func run() throws {
        var codes: [UInt16] = []
        for key in keys {
            guard let code = KeyMap.keyCode(named: key) else { throw ValidationError("unknown key '\(key)' (use kernel names such as KEY_ENTER)") }
            codes.append(code)
        }
        let device = try VirtualButtonDevice(name: name, keys: Array(Set(codes)))
        print("created \(device.devicePath ?? "?") \"\(name)\"")
        usleep(UInt32(settle * 1e6))
        for (i, code) in codes.enumerated() {
            if i > 0 { usleep(UInt32(gap * 1e6)) }
            try device.press(key: code, holdMilliseconds: 80)
            print("pressed \(keys[i])")
        }
        usleep(300_000)   // let the reader drain before the device disappears
    }
}
