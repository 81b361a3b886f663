import Appliance
import ArgumentParser
import CYUV
import Capture
import Display
import Foundation
import Media
import Synchronization

/// `videophone devices check`: exercises Capture, Display and Buttons against real kernel
/// drivers (in the QEMU guest: vivid, virtio-gpu, snd-aloop, uinput). Each check prints one
/// line `@@vp result {json}` on stdout; the host (Tests/HardwareTests) reads them back.
struct DevicesCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Hardware self-test (used by the QEMU test tier).", shouldDisplay: false)

    @Option(help: "Directory shared with the host (screendumps are written there).") var share = "/mnt/host"
    @Option(help: "Checks to run: camera, display, audio, buttons.") var only: [String] = []
    @Option(help: "Playback PCM for the audio loop.") var playback = "hw:Loopback,0,0"
    @Option(help: "Capture PCM for the audio loop.") var capture = "hw:Loopback,1,0"

    func run() async throws {
        let wanted = Set(only.isEmpty ? ["camera", "display", "audio", "buttons"] : only)
        var failures = 0
        var cameraFrame: VideoFrame?
        if wanted.contains("camera") {
            for format in [CameraPixelFormat.yuyv, .nv12] {
                let (result, frame) = await checkCamera(format: format)
                failures += report(result)
                cameraFrame = cameraFrame ?? frame
            }
            failures += report(await checkCameraUnplug())
        }
        if wanted.contains("display") { failures += report(await checkDisplay(remote: cameraFrame)) }
        if wanted.contains("audio") { failures += report(await checkAudio()) }
        if wanted.contains("buttons") { failures += report(await checkButtons()) }
        emit("@@vp checks-done failures=\(failures)")
        if failures > 0 { throw ExitCode(1) }
    }

    struct CheckResult: Codable {
        var check: String
        var ok: Bool
        var detail: String
        var figures: [String: Double] = [:]
        var notes: [String: String] = [:]
    }

    private func report(_ result: CheckResult) -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = (try? encoder.encode(result)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        emit("@@vp result \(json)")
        return result.ok ? 0 : 1
    }

    // MARK: Camera (vivid)

    /// Captures frames through V4L2Camera with the native format forced (so libyuv converts
    /// it) and checks size, timestamps, rate and vivid's 75 % colour bars.
    private func checkCamera(format: CameraPixelFormat) async -> (CheckResult, VideoFrame?) {
        var result = CheckResult(check: "camera-\(format)", ok: false, detail: "")
        let camera = V4L2Camera(configuration: V4L2CameraConfiguration(width: 640, height: 480, framesPerSecond: 30,
                                                                       forcedFormat: format))
        let events = Collector(camera.events())
        defer { events.cancel() }
        let started = MediaTime.now()
        guard await events.wait(seconds: 20, until: { $0.filter(\.isFrame).count >= 12 }) else {
            result.detail = "fewer than 12 frames in 20 s: " + events.items.map(\.summary).joined(separator: "; ")
            return (result, nil)
        }
        let all = events.items
        let frames = all.compactMap(\.frame).dropFirst(2)  // the first frames may predate S_PARM
        let elapsed = Double((MediaTime.now().nanoseconds - started.nanoseconds)) / 1e9
        // The previous check's capture thread may still be letting go of the device (EBUSY,
        // then a retry): take the last `.opened`.
        if case .opened(let path, let fourcc, let size, let rate) = all.last(where: { if case .opened = $0 { true } else { false } }) {
            result.notes["device"] = path
            result.notes["format"] = fourcc
            result.notes["size"] = size.description
            result.figures["configuredRate"] = Double(rate)
        }
        guard let first = frames.first, let last = frames.last else { return (result, nil) }
        let span = Double(last.timestamp.nanoseconds - first.timestamp.nanoseconds) / 1e9
        result.figures["measuredRate"] = span > 0 ? Double(frames.count - 1) / span : 0
        result.figures["secondsToTwelveFrames"] = elapsed
        let monotonic = zip(frames, frames.dropFirst()).allSatisfy { $0.timestamp < $1.timestamp && $0.sequence < $1.sequence }
        let bars = ColourBarCheck.vividBars(in: last)
        result.figures["barsMatched"] = Double(bars.matched)
        result.notes["bars"] = bars.measured
        // Conversion cost of this format at this size, in the guest (TCG: slow, for the record only).
        result.ok = last.width == 640 && last.height == 480 && monotonic && bars.matched == 8
        result.detail = "\(frames.count) frames \(last.width)x\(last.height), timestamps \(monotonic ? "increasing" : "NOT increasing"), \(bars.matched)/8 colour bars"
        return (result, last)
    }

    /// Unplugs the camera while it streams (vivid's Disconnect control unregisters its nodes,
    /// like a USB camera pulled out), then plugs it back (module reload): the stream must report
    /// the loss and deliver frames again by itself.
    private func checkCameraUnplug() async -> CheckResult {
        var result = CheckResult(check: "camera-unplug", ok: false, detail: "")
        let camera = V4L2Camera(configuration: V4L2CameraConfiguration(width: 640, height: 480, forcedFormat: .yuyv),
                                retryDelays: 0.25...1)
        let events = Collector(camera.events())
        defer { events.cancel() }
        let started = await events.wait(seconds: 10, until: { $0.filter(\.isFrame).count >= 3 })
        let opened = events.items.compactMap { if case .opened(let path, _, _, _) = $0 { path } else { nil } }
        guard started, let path = opened.last else {
            result.detail = "no frames before the unplug: " + events.items.map(\.summary).joined(separator: "; ")
            return result
        }
        let vividDisconnect: UInt32 = 0x00F0_F000 + 65  // VIVID_CID_VIVID_BASE + 65 (drivers/media/test-drivers/vivid)
        do { try V4L2Discovery.setControl(path: path, id: vividDisconnect, value: 0) } catch {
            result.detail = "could not press vivid's Disconnect: \(error)"
            return result
        }
        let unplugged = MediaTime.now()
        guard await events.wait(seconds: 10, until: { $0.contains { if case .lost = $0 { true } else { false } } }) else {
            result.detail = "unplug not reported: " + events.items.suffix(5).map(\.summary).joined(separator: "; ")
            return result
        }
        result.figures["unplugReportedMs"] = Double(MediaTime.now().nanoseconds - unplugged.nanoseconds) / 1e6
        // Plug it back: reload the driver once nothing holds the old device.
        var reloaded = false
        for _ in 0..<20 where !reloaded {
            reloaded = shell("/sbin/rmmod vivid 2>/dev/null || /bin/rmmod vivid 2>/dev/null") == 0
            if !reloaded { try? await Task.sleep(for: .milliseconds(100)) }
        }
        let plugged = MediaTime.now()
        guard reloaded, shell("modprobe vivid node_types=0x1 n_devs=1") == 0 else {
            result.detail = "could not reload vivid"
            return result
        }
        let before = events.items.count
        guard await events.wait(seconds: 15, until: { $0.dropFirst(before).filter(\.isFrame).count >= 3 }) else {
            result.detail = "no frames after re-plug: " + events.items.suffix(5).map(\.summary).joined(separator: "; ")
            return result
        }
        result.figures["replugToFramesMs"] = Double(MediaTime.now().nanoseconds - plugged.nanoseconds) / 1e6
        result.figures["lostReports"] = Double(events.items.filter { if case .lost = $0 { true } else { false } }.count)
        result.ok = true
        result.detail = "loss reported, frames again after re-plug"
        return result
    }

    /// Runs a busybox shell command. posix_spawn + waitpid rather than Foundation's Process,
    /// whose exit notification needs a socket pair the minimal guest does not always give it.
    private func shell(_ command: String) -> Int32 {
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", command]
        var argv = arguments.map { strdup($0) } + [nil]
        var environment = [strdup("PATH=/bin:/sbin:/usr/bin:/usr/sbin"), nil]
        defer { argv.forEach { free($0) }; environment.forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, &environment) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -1
    }

    // MARK: Display (virtio-gpu)

    private func checkDisplay(remote: VideoFrame?) async -> CheckResult {
        var result = CheckResult(check: "display", ok: false, detail: "")
        do {
            let font = try FontLoader.consoleFont()
            let screen = try KMSScreen()
            result.notes["card"] = screen.card
            result.notes["connector"] = screen.connectorName
            result.notes["mode"] = screen.mode.description
            result.figures["width"] = Double(screen.width)
            result.figures["height"] = Double(screen.height)
            result.figures["modeRefreshHz"] = screen.mode.refreshHertz
            var compositor = Compositor(font: font)
            var synthetic = SyntheticCamera(configuration: .init(width: 320, height: 240, framesPerSecond: 30), font: font)
            var standIn = SyntheticCamera(configuration: .init(width: 640, height: 480), font: font)
            let remoteFrame = remote ?? standIn.nextFrame()
            let overlay = Overlay(status: "videophone KMS check \(screen.mode)", chat: ["hello from the guest"])
            var flips: [MediaTime] = []
            var drawNanoseconds: UInt64 = 0
            for _ in 0..<30 {
                let local = synthetic.nextFrame()
                let before = MediaTime.now()
                let event = try screen.present { surface in
                    compositor.render(remote: remoteFrame, local: local, overlay: overlay, into: surface)
                    drawNanoseconds += MediaTime.now().nanoseconds - before.nanoseconds
                }
                flips.append(event.time)
            }
            // Flips alone (both buffers already drawn): the cadence of the driver's flip events.
            var bare: [MediaTime] = []
            for _ in 0..<30 { bare.append(try screen.present { _ in }.time) }
            let bareIntervals = zip(bare, bare.dropFirst()).map { Double($1.nanoseconds - $0.nanoseconds) / 1e6 }
            let bareMean = bareIntervals.reduce(0, +) / Double(max(1, bareIntervals.count))
            result.figures["bareFlipIntervalMs"] = bareMean
            result.figures["bareFlipRateHz"] = bareMean > 0 ? 1000 / bareMean : 0
            // Leave the composed picture on screen for the screendump.
            try screen.show(with: &compositor, remote: remoteFrame, local: synthetic.nextFrame(), overlay: overlay)
            let intervals = zip(flips, flips.dropFirst()).map { Double($1.nanoseconds - $0.nanoseconds) / 1e6 }
            let mean = intervals.reduce(0, +) / Double(max(1, intervals.count))
            result.figures["flips"] = Double(flips.count)
            result.figures["meanFlipIntervalMs"] = mean
            result.figures["flipRateHz"] = mean > 0 ? 1000 / mean : 0
            result.figures["composeMsPerFrame"] = Double(drawNanoseconds) / Double(flips.count) / 1e6
            let picture = ScreenRect.aspectFit(sourceWidth: remoteFrame.width, sourceHeight: remoteFrame.height,
                                               in: ScreenRect(x: 0, y: 0, width: screen.width, height: screen.height))
            result.figures["pictureX"] = Double(picture.x)
            result.figures["pictureY"] = Double(picture.y)
            result.figures["pictureWidth"] = Double(picture.width)
            result.figures["pictureHeight"] = Double(picture.height)
            result.figures["statusBarHeight"] = Double(compositor.statusBarRect(screenWidth: screen.width).height)
            // What we drew, for the host to compare with QEMU's own screendump of the scan-out.
            try screen.withFrontSurface { try PPM.write($0, to: "\(share)/kms-front.ppm") }
            let shot = await screendump(name: "kms-screendump.ppm")
            result.notes["screendump"] = shot ? "kms-screendump.ppm" : "not taken"
            let monotonic = zip(flips, flips.dropFirst()).allSatisfy { $0.0 < $0.1 }
            result.ok = flips.count == 30 && monotonic && shot
            result.detail = "\(screen.connectorName) \(screen.mode) on \(screen.card): 30 composed flips, mean interval \(String(format: "%.2f", mean)) ms; 30 bare flips \(String(format: "%.2f", bareMean)) ms; screendump \(shot ? "taken" : "MISSING")"
        } catch {
            result.detail = "\(error)"
        }
        return result
    }

    /// Asks the host (scripts/vm/run) to save QEMU's view of the screen, and waits until it has.
    private func screendump(name: String) async -> Bool {
        let done = "\(share)/\(name).done"
        unlink(done)
        emit("@@vp screendump \(name)")
        for _ in 0..<200 {
            if access(done, F_OK) == 0 { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    // MARK: Audio (snd-aloop)

    /// Plays a 1 kHz tone into the loopback's playback side while recording its capture side:
    /// the tone must come back at its frequency; the delay from queueing it to hearing it is
    /// the round-trip latency (speaker queue + both device buffers).
    private func checkAudio() async -> CheckResult {
        var result = CheckResult(check: "audio", ok: false, detail: "")
        let microphone = ALSAMicrophone(configuration: ALSAMicrophoneConfiguration(device: capture, periodMilliseconds: 10))
        // Room for 200 ms: the feeder below keeps ~100 ms queued, so a late wake-up of this
        // (emulated, slow) machine does not punch silence into the tone we measure.
        let speaker = ALSASpeaker(configuration: ALSASpeakerConfiguration(device: playback, maxQueuedMilliseconds: 200))
        let events = Collector(microphone.events())
        defer { events.cancel(); speaker.stop() }
        speaker.start()
        guard await events.wait(seconds: 5, until: { $0.contains { $0.frame != nil } }) else {
            result.detail = "microphone gave no audio: " + events.items.map(\.summary).joined(separator: "; ")
                + " speaker: \(speaker.statistics.lastError ?? "-")"
            return result
        }
        try? await Task.sleep(for: .milliseconds(300))
        var tone = SyntheticMicrophone(frequency: 1000, amplitude: 0.5)
        let toneStart = MediaTime.now()
        let clock = ContinuousClock()
        var deadline = clock.now
        speaker.play(tone.nextFrame())  // the onset goes into an empty queue: latency is measured from here
        for index in 1..<60 {  // 1.2 s, then paced in real time like a network source, 100 ms ahead
            speaker.play(tone.nextFrame())
            if index >= 5 {
                deadline += .milliseconds(20)
                try? await clock.sleep(until: deadline)
            }
        }
        try? await Task.sleep(for: .milliseconds(300))
        let frames = events.items.compactMap(\.frame).filter { $0.timestamp.nanoseconds + 20_000_000 >= toneStart.nanoseconds }
        let analysis = ToneAnalysis(frames: frames, threshold: Int16.max / 8)
        let stats = speaker.statistics
        result.figures["recordedMs"] = Double(frames.reduce(0) { $0 + $1.samplesPerChannel }) / 48
        result.figures["underruns"] = Double(stats.underruns)
        result.figures["overruns"] = Double(events.items.filter(\.isRecovery).count)
        result.notes["speaker"] = stats.parameters.map { "period \($0.periodMilliseconds) ms, buffer \($0.bufferMilliseconds) ms" } ?? "-"
        guard let onset = analysis.onset, let frequency = analysis.frequency else {
            result.detail = "tone not heard (peak \(analysis.peak)); speaker \(stats)"
            return result
        }
        let latency = Double(Int64(onset.nanoseconds) - Int64(toneStart.nanoseconds)) / 1e6
        result.figures["frequencyHz"] = frequency
        result.figures["roundTripMs"] = latency
        result.figures["peak"] = Double(analysis.peak)
        result.ok = abs(frequency - 1000) < 10 && latency > 0 && latency < 500
        result.detail = String(format: "tone heard at %.1f Hz, round trip %.1f ms, peak %d", frequency, latency, Int(analysis.peak))
        return result
    }

    // MARK: Buttons (uinput)

    private func checkButtons() async -> CheckResult {
        var result = CheckResult(check: "buttons", ok: false, detail: "")
        var steps: [String] = []
        do {
            let keyMap = try KeyMap.parse(["call": "KEY_ENTER", "end": "KEY_ESC", "mute": "KEY_M",
                                           "camera": "long:KEY_M", "speed_dial_1": "KEY_1"])
            let enter = KeyMap.keyCode(named: "KEY_ENTER")!, escape = KeyMap.keyCode(named: "KEY_ESC")!
            let m = KeyMap.keyCode(named: "KEY_M")!, one = KeyMap.keyCode(named: "KEY_1")!
            let first = try VirtualButtonDevice(name: "vp-buttons-a", keys: [enter, escape, m])
            let buttons = EvdevButtons(configuration: ButtonsConfiguration(
                devices: ["vp-buttons"], grab: true, keyMap: keyMap,
                timing: ButtonTiming(debounceMilliseconds: 30, longPressMilliseconds: 600), rescanSeconds: 0.25))
            let notices = Collector(buttons.events())
            defer { notices.cancel() }
            func expect(_ what: String, seconds: Double = 5, _ predicate: @escaping @Sendable (ButtonsNotice) -> Bool) async -> Bool {
                let ok = await notices.wait(seconds: seconds) { $0.contains(where: predicate) }
                steps.append("\(what): \(ok ? "ok" : "MISSING")")
                return ok
            }
            func actions() -> [ButtonEvent] { notices.items.compactMap { if case .action(let a) = $0 { a } else { nil } } }
            var ok = await expect("device a added") { if case .deviceAdded(_, let name) = $0 { name == "vp-buttons-a" } else { false } }
            let pressTime = MediaTime.now()
            try first.press(key: enter, holdMilliseconds: 40)
            ok = await expect("ENTER -> call") { $0 == .action(ButtonEvent(action: .call, key: enter, longPress: false, time: 0, device: "")) || { if case .action(let a) = $0 { a.action == .call } else { false } }($0) } && ok
            if let call = actions().first(where: { $0.action == .call }) {
                result.figures["pressToActionMs"] = Double(Int64(call.time) - Int64(pressTime.nanoseconds)) / 1e6
            }
            try first.press(key: m, holdMilliseconds: 900)
            ok = await expect("long M -> camera") { if case .action(let a) = $0 { a.action == .camera && a.longPress } else { false } } && ok
            usleep(150_000)  // a person's next press, not contact bounce
            try first.press(key: m, holdMilliseconds: 60)
            ok = await expect("short M -> mute") { if case .action(let a) = $0 { a.action == .mute } else { false } } && ok
            // Contact bounce: press, release, press again within the debounce time: one action.
            usleep(150_000)
            try first.send(key: escape, value: 1); try first.send(key: escape, value: 0)
            usleep(5_000)
            try first.send(key: escape, value: 1); try first.send(key: escape, value: 0)
            ok = await expect("ESC -> end") { if case .action(let a) = $0 { a.action == .end } else { false } } && ok
            try? await Task.sleep(for: .milliseconds(300))
            let ends = actions().filter { $0.action == .end }.count
            steps.append("bounced ESC gave \(ends) end action(s)")
            ok = ok && ends == 1
            // Hot-plug: a device that appears after start is picked up by the rescan.
            let plugged = MediaTime.now()
            var second: VirtualButtonDevice? = try VirtualButtonDevice(name: "vp-buttons-b", keys: [one])
            ok = await expect("device b hot-plugged") { if case .deviceAdded(_, let name) = $0 { name == "vp-buttons-b" } else { false } } && ok
            result.figures["hotplugDetectMs"] = Double(MediaTime.now().nanoseconds - plugged.nanoseconds) / 1e6
            try second?.press(key: one, holdMilliseconds: 40)
            ok = await expect("KEY_1 -> speed_dial_1") { if case .action(let a) = $0 { a.action == .speedDial(1) } else { false } } && ok
            second = nil  // unplug
            ok = await expect("device b removed") { if case .deviceRemoved = $0 { true } else { false } } && ok
            let wrongMute = actions().filter { $0.action == .mute }.count
            ok = ok && wrongMute == 1 && !actions().contains { $0.action == .camera && !$0.longPress }
            withExtendedLifetime(first) {}
            result.ok = ok
            result.detail = steps.joined(separator: "; ")
            result.notes["actions"] = actions().map { "\($0.action)\($0.longPress ? "(long)" : "")" }.joined(separator: ",")
        } catch {
            result.detail = "\(error); " + steps.joined(separator: "; ")
        }
        return result
    }
}

// MARK: Helpers

/// One console line, written at once and unbuffered: the host acts on these as they arrive.
private func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Gathers a stream's elements in the background so checks can wait for conditions with a
/// deadline (an AsyncStream iterator cannot be raced against a timer directly).
final class Collector<Element: Sendable>: Sendable {
    private final class Box: Sendable {
        let items = Mutex<[Element]>([])
    }
    private let box: Box
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<Element>) {
        let box = Box()
        self.box = box
        task = Task { for await element in stream { box.items.withLock { $0.append(element) } } }
    }

    var items: [Element] { box.items.withLock { $0 } }

    func wait(seconds: Double, until condition: ([Element]) -> Bool) async -> Bool {
        let deadline = MediaTime.now() + UInt64(seconds * 1e9)
        while MediaTime.now() < deadline {
            if condition(items) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(items)
    }

    func cancel() { task.cancel() }
}

extension CameraEvent {
    var frame: VideoFrame? { if case .frame(let frame) = self { frame } else { nil } }
    var isFrame: Bool { frame != nil }
    var summary: String {
        switch self {
        case .opened(let path, let format, let size, let rate): "opened \(path) \(format) \(size)@\(rate)"
        case .frame(let frame): "frame \(frame.sequence)"
        case .lost(let reason, _): "lost: \(reason)"
        }
    }
}

extension MicrophoneEvent {
    var frame: AudioFrame? { if case .frame(let frame) = self { frame } else { nil } }
    var isRecovery: Bool { if case .recovered = self { true } else { false } }
    var summary: String {
        switch self {
        case .opened(let device, let parameters): "opened \(device) \(parameters)"
        case .frame: "frame"
        case .recovered(let reason): "recovered \(reason)"
        case .lost(let reason, _): "lost: \(reason)"
        }
    }
}

/// vivid's default test pattern: 75 % colour bars, eight of them, in BT.601 limited range.
enum ColourBarCheck {
    static let expected: [(y: Int, u: Int, v: Int)] = [
        (180, 128, 128), (162, 44, 142), (131, 156, 44), (112, 72, 58),
        (84, 184, 198), (65, 100, 212), (35, 212, 114), (16, 128, 128),
    ]

    /// Samples the middle of each bar at three quarters of the height (below vivid's text).
    static func vividBars(in frame: VideoFrame, tolerance: Int = 20) -> (matched: Int, measured: String) {
        var matched = 0
        var measured: [String] = []
        for (index, bar) in expected.enumerated() {
            let x = (2 * index + 1) * frame.width / 16, y = frame.height * 3 / 4
            let luma = Int(frame.luma(x: x, y: y)), (u, v) = frame.chroma(x: x, y: y)
            measured.append("\(luma)/\(u)/\(v)")
            if abs(luma - bar.y) <= tolerance && abs(Int(u) - bar.u) <= tolerance && abs(Int(v) - bar.v) <= tolerance {
                matched += 1
            }
        }
        return (matched, measured.joined(separator: " "))
    }
}

/// Finds where a tone starts and its frequency (from zero crossings over its steady part).
struct ToneAnalysis {
    var onset: MediaTime?
    var frequency: Double?
    var peak: Int16 = 0

    init(frames: [AudioFrame], threshold: Int16) {
        var samples: [Int16] = []
        var start: MediaTime?
        for frame in frames {
            if start == nil { start = frame.timestamp }
            for index in stride(from: 0, to: frame.samples.count, by: frame.channels) { samples.append(frame.samples[index]) }
        }
        guard let start, let first = samples.firstIndex(where: { abs(Int($0)) >= Int(threshold) }) else {
            peak = samples.map { Int16(clamping: abs(Int($0))) }.max() ?? 0
            return
        }
        peak = samples.map { Int16(clamping: abs(Int($0))) }.max() ?? 0
        onset = start + UInt64(first) * 1_000_000_000 / 48_000
        // Skip 50 ms of onset, measure over up to 500 ms.
        let from = first + 2_400, to = min(samples.count, from + 24_000)
        guard to - from > 4_800 else { return }
        var crossings = 0
        for index in (from + 1)..<to where (samples[index - 1] < 0) != (samples[index] < 0) { crossings += 1 }
        frequency = Double(crossings) / 2 / (Double(to - from) / 48_000)
    }
}

/// Binary PPM (P6) of an XRGB surface: the format QEMU's screendump writes, so the two compare
/// byte for byte.
enum PPM {
    static func write(_ surface: PixelSurface, to path: String) throws {
        var rgb = [UInt8](repeating: 0, count: surface.width * surface.height * 3)
        // libyuv "RAW" is R,G,B in memory order, what PPM stores.
        _ = ARGBToRAW(surface.base.assumingMemoryBound(to: UInt8.self), Int32(surface.stride), &rgb,
                      Int32(surface.width * 3), Int32(surface.width), Int32(surface.height))
        let data = Data("P6\n\(surface.width) \(surface.height)\n255\n".utf8) + Data(rgb)
        try data.write(to: URL(fileURLWithPath: path))
    }
}
