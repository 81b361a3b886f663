// The appliance's settings: one TOML file (default /etc/videophone/videophone.toml), keys named after
// the module that uses them (baresip style: `[call] auto_answer`, `[camera] device`), every key with a
// default so an empty file (or none) gives a working phone. `config/videophone.toml` documents them all.

/// Every setting of `videophoned`, with its default. Built by ``ApplianceConfig/decode(_:)`` from
/// layered dotted-key values (file, then signed remote layer, then CLI flags).
public struct ApplianceConfig: Sendable, Equatable {
    public static let defaultPath = "/etc/videophone/videophone.toml"

    public struct Signaling: Sendable, Equatable {
        /// Base URL of videophone-server (http, https, ws or wss).
        public var url = "http://127.0.0.1:3001"
        /// The home room.
        public var room = "home"
        /// The name shown to the other side.
        public var name = "videophone"
        /// Extra CA certificate (PEM) for the server's TLS; empty = system trust store only.
        public var caFile = ""
        public init() {}
    }

    public enum AutoAnswer: String, Sendable, Equatable, CaseIterable {
        case off, immediate, after
    }

    public struct Call: Sendable, Equatable {
        public var autoAnswer: AutoAnswer = .off
        /// Seconds of ringing (with a beep at the end) before answering when `auto_answer = "after"`.
        public var autoAnswerDelay: Double = 5
        /// Caller names that are auto-answered; empty = everyone. Others ring normally.
        public var allowedCallers: [String] = []
        /// Seconds an incoming call rings (or an outgoing one waits for an answer) before giving up.
        public var ringTimeout: Double = 45
        /// Seconds from answer to connected media before the call is abandoned.
        public var setupTimeout: Double = 20
        public init() {}
    }

    public struct Camera: Sendable, Equatable {
        /// `"synthetic"` (test pattern) or a V4L2 device path such as `/dev/video0`.
        public var device = "synthetic"
        public var width = 640
        public var height = 480
        public var fps = 30
        /// The most video may use, in bit/s (a metered or shared uplink); 0 = what the picture size
        /// is worth (600k up to 320x240, 1.5M up to 640x480, 2M up to 960x540, 2.5M above).
        public var maxBitrate = 0
        /// Send smaller than the camera while the link is short for its size (libwebrtc's
        /// "balanced"); false keeps the camera's size and lets the picture get coarser instead.
        public var adaptResolution = true
        /// Keep camera and microphone open while idle (for cameras that start slowly). Off by default:
        /// the camera light is off unless a call is being placed or is in progress.
        public var keepWarm = false
        public init() {}
    }

    public struct AudioDevice: Sendable, Equatable {
        /// `"synthetic"` (tone / discard) or an ALSA PCM name such as `default` or `hw:1,0`.
        public var device = "synthetic"
        public init() {}
    }

    public struct Screen: Sendable, Equatable {
        /// `"headless"` (no display, optional PNG snapshots) or a DRM card such as `/dev/dri/card0`.
        public var device = "headless"
        /// Where headless snapshots are written; empty = none.
        public var snapshotDir = ""
        /// Size of the headless screen (a KMS screen uses the display's preferred mode).
        public var width = 800
        public var height = 480
        public init() {}
    }

    /// Key names as evdev spells them (`KEY_ENTER`, `BTN_0`, …).
    public struct Keys: Sendable, Equatable {
        public var call = "KEY_ENTER"
        public var accept = "KEY_SPACE"
        public var end = "KEY_ESC"
        public var mute = "KEY_M"
        public var camera = "KEY_V"
        /// One key per ``SpeedDial/rooms`` entry, in order.
        public var speedDial = ["KEY_F1", "KEY_F2", "KEY_F3", "KEY_F4"]
        public init() {}
    }

    public struct Buttons: Sendable, Equatable {
        /// evdev devices to read (`/dev/input/event3`, `/dev/input/by-id/...`); empty = none.
        public var devices: [String] = []
        /// Take the devices exclusively (EVIOCGRAB) so key presses do not also reach a console.
        public var grab = true
        public var keys = Keys()
        /// A key that calls, answers or hangs up depending on the state; empty = single-button mode off.
        public var singleButton = ""
        public init() {}
    }

    public struct SpeedDial: Sendable, Equatable {
        /// Contact rooms; speed-dial button N moves to `rooms[N-1]`, calls whoever is there, then returns home.
        public var rooms: [String] = []
        public init() {}
    }

    public struct Admin: Sendable, Equatable {
        /// Ed25519 public keys (base64 of 32 bytes) allowed to sign remote configuration; empty = remote
        /// configuration refused.
        public var publicKeys: [String] = []
        /// This device's id on the server's device channel; empty = the device channel is not used.
        public var deviceId = ""
        public init() {}
    }

    public struct State: Sendable, Equatable {
        /// Writable directory for the applied remote configuration.
        public var dir = "/var/lib/videophone"
        public init() {}
    }

    public struct ICE: Sendable, Equatable {
        public var stunURLs: [String] = []
        public var turnURLs: [String] = []
        public var turnUsername = ""
        /// Secret: never printed or logged.
        public var turnPassword = ""
        /// Also ask the signaling server for ICE servers (`/api/ice-servers`, time-limited TURN credentials).
        public var fromServer = true
        /// Gather loopback addresses only (tests and demos on one machine; never on a real board).
        public var loopbackOnly = false
        public init() {}
    }

    public struct Control: Sendable, Equatable {
        /// Local Unix socket for `videophone press` / `videophone status`; empty = none.
        public var socket = "/run/videophone/control.sock"
        /// Group allowed to use the socket (mode 0660); empty = root only.
        public var group = ""
        public init() {}
    }

    public struct Log: Sendable, Equatable {
        public var level = "info"
        public init() {}
    }

    public var signaling = Signaling()
    public var call = Call()
    public var camera = Camera()
    public var microphone = AudioDevice()
    public var speaker = AudioDevice()
    public var screen = Screen()
    public var buttons = Buttons()
    public var speedDial = SpeedDial()
    public var admin = Admin()
    public var state = State()
    public var ice = ICE()
    public var control = Control()
    public var log = Log()

    public init() {}
}

/// One problem in a configuration, named by its dotted key.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible, Error {
    public var key: String
    public var message: String
    public init(key: String, message: String) { self.key = key; self.message = message }
    public var description: String { key.isEmpty ? message : "\(key): \(message)" }
}

/// The result of decoding: the configuration (defaults where a value was bad), the problems (a
/// non-empty list means the configuration must not be used) and warnings (unknown keys).
public struct ConfigDecoding: Sendable {
    public var config: ApplianceConfig
    public var problems: [ConfigProblem]
    public var warnings: [ConfigProblem]
    public var isValid: Bool { problems.isEmpty }
}
