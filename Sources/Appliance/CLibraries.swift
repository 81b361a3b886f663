// libevdev (the appliance's buttons and keys), reachable from here through CShims/CEvdev.
import CEvdev

public enum ApplianceLibraries {
    /// Creates an unbacked libevdev device, names it, reads the name back and frees it:
    /// proves libevdev links without needing /dev/input.
    public static func evdevNameRoundTrip(_ name: String) -> String? {
        guard let device = libevdev_new() else { return nil }
        defer { libevdev_free(device) }
        libevdev_set_name(device, name)
        guard let readBack = libevdev_get_name(device) else { return nil }
        return String(cString: readBack)
    }
}
