// videophoned: the appliance daemon. Loads the configuration (file, signed remote layer, flags),
// checks it, and runs under systemd (Type=notify). The call logic lives in Appliance (CallController,
// RemoteConfigManager); signaling and media are wired to it by the integration step.
import Appliance
import ArgumentParser
import Dispatch
import Foundation
import Logging
import TOMLConfig

@main
struct VideophonedCommand: AsyncParsableCommand {
    /// One malloc arena from the first line, before the async runtime starts a thread (MallocArenas).
    static func main() async {
        MallocArenas.limit()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "videophoned",
        abstract: "The videophone appliance daemon.",
        discussion: "Settings come from the TOML file (default \(ApplianceConfig.defaultPath)), then the signed remote layer in state.dir, then these flags.")

    @Option(name: .long, help: "Configuration file (default \(ApplianceConfig.defaultPath); missing default = built-in defaults).")
    var config: String?

    @Flag(name: .long, help: "Check the configuration, print every problem with its key, and exit (non-zero on problems).")
    var checkConfig = false

    @Flag(name: .long, help: "Print the effective configuration (secrets redacted) and exit.")
    var printConfig = false

    @Option(name: .long, help: "signaling.url: the signaling server's URL.") var server: String?
    @Option(name: .long, help: "signaling.room: the home room.") var room: String?
    @Option(name: .long, help: "signaling.name: the name the other side sees.") var name: String?
    @Option(name: .long, help: "signaling.ca_file: extra CA certificate (PEM).") var caFile: String?
    @Option(name: .long, help: "call.auto_answer: off, immediate or after.") var autoAnswer: String?
    @Option(name: .long, help: "call.auto_answer_delay in seconds.") var autoAnswerDelay: Double?
    @Option(name: .long, help: "camera.device: synthetic or /dev/videoN.") var camera: String?
    @Option(name: .long, help: "microphone.device: synthetic or an ALSA PCM.") var microphone: String?
    @Option(name: .long, help: "speaker.device: synthetic or an ALSA PCM.") var speaker: String?
    @Option(name: .long, help: "screen.device: headless or /dev/dri/cardN.") var screen: String?
    @Option(name: .long, help: "screen.snapshot_dir for headless PNG snapshots.") var snapshotDir: String?
    @Option(name: .long, help: "state.dir: where applied remote configuration is kept.") var stateDir: String?
    @Option(name: .long, help: "admin.device_id on the server's device channel.") var deviceId: String?
    @Option(name: .long, help: "control.socket path (empty = none).") var controlSocket: String?
    @Option(name: .long, help: "log.level: trace, debug, info, notice, warning, error.") var logLevel: String?
    @Flag(name: .long, help: "ice.loopback_only: gather loopback addresses only (tests, demos).") var loopbackOnly = false
    @Flag(name: .long, help: "camera.keep_warm: keep camera and microphone open while idle.") var keepWarm = false

    @Option(name: .long, help: ArgumentHelp("Test only: rewrite the remote configuration in DIR forever (crash-safety test).",
                                             visibility: .hidden))
    var stressRemoteStore: String?

    /// Saves alternating remote configurations with increasing versions until killed: the test kills
    /// it with SIGKILL at random moments and checks that the store always loads whole.
    static func stressRemoteStore(_ dir: String) throws -> Never {
        let store = RemoteConfigStore(directory: dir)
        var version = store.appliedVersion()
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        while true {
            version += 1
            let padding = String(repeating: "x", count: 16_384)
            try store.save(settings: ["signaling.room": .string("room-\(version)"), "signaling.name": .string(padding)],
                           version: version, deviceId: "stress")
        }
    }

    /// Flags as a configuration layer (same keys and checks as the file).
    var flagLayer: [String: TOMLValue] {
        var v: [String: TOMLValue] = [:]
        func set(_ key: String, _ s: String?) { if let s { v[key] = .string(s) } }
        set("signaling.url", server)
        set("signaling.room", room)
        set("signaling.name", name)
        set("signaling.ca_file", caFile)
        set("call.auto_answer", autoAnswer)
        if let autoAnswerDelay { v["call.auto_answer_delay"] = .float(autoAnswerDelay) }
        set("camera.device", camera)
        set("microphone.device", microphone)
        set("speaker.device", speaker)
        set("screen.device", screen)
        set("screen.snapshot_dir", snapshotDir)
        set("state.dir", stateDir)
        set("admin.device_id", deviceId)
        set("control.socket", controlSocket)
        set("log.level", logLevel)
        if loopbackOnly { v["ice.loopback_only"] = .bool(true) }
        if keepWarm { v["camera.keep_warm"] = .bool(true) }
        return v
    }

    func run() async throws {
        let launched = ContinuousClock.now
        if let dir = stressRemoteStore { try Self.stressRemoteStore(dir) }
        let loaded: ConfigLoader.Loaded
        switch ConfigLoader.load(path: config, flags: flagLayer) {
        case .success(let l): loaded = l
        case .failure(let problem):
            FileHandle.standardError.write(Data("videophoned: \(problem)\n".utf8))
            throw ExitCode(2)
        }
        let d = loaded.decoding
        let source = config ?? ApplianceConfig.defaultPath
        for w in d.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        if let p = loaded.remoteProblem { FileHandle.standardError.write(Data("warning: \(p)\n".utf8)) }

        if checkConfig {
            for p in d.problems { print(p) }
            if d.isValid {
                print("\(source): OK" + (loaded.remoteVersion > 0 ? " (remote configuration v\(loaded.remoteVersion))" : ""))
                return
            }
            print("\(source): \(d.problems.count) problem\(d.problems.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
        guard d.isValid else {
            for p in d.problems { FileHandle.standardError.write(Data("videophoned: \(p)\n".utf8)) }
            throw ExitCode(1)
        }
        if printConfig {
            print(d.config.summary, terminator: "")
            return
        }

        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: d.config.log.level) ?? .info
            return h
        }
        let logger = Logger(label: "videophoned")
        // The summary is redacted (TURN credentials never reach the journal).
        logger.info("configuration", metadata: ["source": "\(source)", "remoteVersion": "\(loaded.remoteVersion)",
                                                "room": "\(d.config.signaling.room)", "server": "\(d.config.signaling.url)"])
        logger.debug("effective configuration:\n\(d.config.summary)")

        let termination = Termination()   // before READY: a SIGTERM right after start-up must stop us cleanly
        let remote = RemoteConfigManager(layers: loaded.layers, store: RemoteConfigStore(directory: d.config.state.dir),
                                         logger: Logger(label: "videophone.remote-config"))
        let daemon: ApplianceDaemon
        do {
            daemon = try ApplianceDaemon(config: d.config, remote: remote, logger: logger)
            try await daemon.start()
        } catch {
            logger.critical("cannot start", metadata: ["reason": "\(error)"])
            throw ExitCode(1)
        }
        let buttons = Self.startButtons(d.config, daemon: daemon, logger: logger)
        let readyMs = CallMediaLink.milliseconds(ContinuousClock.now - launched)
        logger.notice("ready", metadata: ["startupMs": "\(Int(readyMs))"])
        let line = "{\"event\":\"ready\",\"startupMs\":\(Int(readyMs.rounded()))}"
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
        await termination.wait()
        buttons?.cancel()
        await daemon.stop()
    }

    /// evdev buttons (configured devices) mapped onto the call machine's actions.
    static func startButtons(_ c: ApplianceConfig, daemon: ApplianceDaemon, logger: Logger) -> Task<Void, Never>? {
        guard !c.buttons.devices.isEmpty else { return nil }
        var entries = ["call": c.buttons.keys.call, "accept": c.buttons.keys.accept, "end": c.buttons.keys.end,
                       "mute": c.buttons.keys.mute, "camera": c.buttons.keys.camera]
        for (i, key) in c.buttons.keys.speedDial.enumerated() where i < c.speedDial.rooms.count {
            entries["speed_dial_\(i + 1)"] = key
        }
        if !c.buttons.singleButton.isEmpty { entries = ["single": c.buttons.singleButton] }
        let map: KeyMap
        do { map = try KeyMap.parse(entries) } catch {
            logger.error("buttons disabled", metadata: ["reason": "\(error)"])
            return nil
        }
        let buttons = EvdevButtons(configuration: ButtonsConfiguration(devices: c.buttons.devices, grab: c.buttons.grab, keyMap: map))
        return Task {
            for await event in buttons.actions() {
                logger.info("button", metadata: ["action": "\(event.action)", "device": "\(event.device)"])
                _ = await daemon.controller.press(event.action.applianceAction)
            }
        }
    }
}

extension ButtonAction {
    var applianceAction: ApplianceAction {
        switch self {
        case .call: .call
        case .accept: .accept
        case .end: .end
        case .mute: .mute
        case .camera: .cameraToggle
        case .speedDial(let n): .speedDial(n)
        case .single: .single
        }
    }
}

/// SIGTERM / SIGINT, caught from construction on (dispatch signal sources; the default action is ignored).
private final class Termination: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var waiter: CheckedContinuation<Void, Never>?
    private var sources: [DispatchSourceSignal] = []

    init() {
        let queue = DispatchQueue(label: "videophoned.signals")
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [weak self] in self?.fire() }
            source.resume()
            sources.append(source)
        }
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let already = lock.withLock { () -> Bool in
                if fired { return true }
                waiter = c
                return false
            }
            if already { c.resume() }
        }
    }

    private func fire() {
        let c = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            fired = true
            defer { waiter = nil }
            return waiter
        }
        c?.resume()
    }
}
