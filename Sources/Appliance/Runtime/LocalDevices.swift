// Camera and microphone (V4L2 / ALSA, or the synthetic stand-ins) with the privacy rule of the seed:
// opened when a call is placed or accepted (or always with camera.keep_warm), released when it ends.
// The accounting here (open now? how many opens and closes? first frame after open) is what `status`
// reports and what tests check: while idle nothing holds the camera or the microphone.
import Capture
import Display
import Foundation
import Logging
import Media
import Peer

/// Where captured frames go: the call's media session (when there is one) and the local preview.
/// Frames cross it from capture tasks at camera rate, so it is a lock, not an actor hop.
final class FrameRouter: @unchecked Sendable {
    private let lock = NSLock()
    private var session: MediaSession?
    private var cameraEnabled = true
    private var muted = false
    private(set) var videoFramesCaptured = 0
    private(set) var audioFramesCaptured = 0

    func attach(_ s: MediaSession?) { lock.withLock { session = s } }
    func setCameraEnabled(_ on: Bool) { lock.withLock { cameraEnabled = on } }
    func setMuted(_ on: Bool) { lock.withLock { muted = on } }
    var counts: (video: Int, audio: Int) { lock.withLock { (videoFramesCaptured, audioFramesCaptured) } }

    /// Returns whether the frame may be previewed (camera not switched off).
    func video(_ frame: VideoFrame) -> Bool {
        let (s, on) = lock.withLock { () -> (MediaSession?, Bool) in
            videoFramesCaptured += 1
            return (session, cameraEnabled)
        }
        guard on else { return false }
        s?.send(video: frame)
        return true
    }

    func audio(_ frame: AudioFrame) {
        let (s, mute) = lock.withLock { () -> (MediaSession?, Bool) in
            audioFramesCaptured += 1
            return (session, muted)
        }
        guard let s else { return }
        s.send(audio: mute ? AudioFrame.silence(channels: frame.channels, timestamp: frame.timestamp) : frame)
    }
}

public actor LocalDevices {
    public struct Accounting: Sendable, Equatable {
        public var open = false
        public var opens = 0
        public var closes = 0
        /// Milliseconds from the last open to its first camera frame.
        public var lastOpenToFirstFrameMs: Double?
        public var videoFramesCaptured = 0
        public var audioFramesCaptured = 0
    }

    private let camera: ApplianceConfig.Camera
    private let microphone: ApplianceConfig.AudioDevice
    private let screen: ScreenOutput
    private let logger: Logger
    let router = FrameRouter()
    private var cameraTask: Task<Void, Never>?
    private var microphoneTask: Task<Void, Never>?
    private var accounting = Accounting()
    private var openedAt: ContinuousClock.Instant?
    private let font: PSFFont?

    public init(camera: ApplianceConfig.Camera, microphone: ApplianceConfig.AudioDevice, screen: ScreenOutput, logger: Logger) {
        self.camera = camera
        self.microphone = microphone
        self.screen = screen
        self.logger = logger
        font = try? FontLoader.consoleFont()
    }

    public var state: Accounting {
        var a = accounting
        (a.videoFramesCaptured, a.audioFramesCaptured) = router.counts
        return a
    }

    public func open() {
        guard !accounting.open else { return }
        accounting.open = true
        accounting.opens += 1
        accounting.lastOpenToFirstFrameMs = nil
        openedAt = .now
        logger.info("camera and microphone opened", metadata: ["camera": "\(camera.device)", "microphone": "\(microphone.device)"])
        let video = videoFrames()
        let router = self.router, screen = self.screen
        cameraTask = Task { [weak self] in
            var n = 0
            for await frame in video {
                if n == 0 { await self?.firstFrame() }
                let previewed = router.video(frame)
                // The preview needs no more than 10 fps.
                if n % 3 == 0 { await screen.show(local: previewed ? frame : nil) }
                n += 1
            }
        }
        let audio = audioFrames()
        microphoneTask = Task {
            for await frame in audio { router.audio(frame) }
        }
    }

    /// Stops capture: the streams' termination closes the devices (V4L2 streamoff + close, ALSA close).
    public func close() {
        guard accounting.open else { return }
        accounting.open = false
        accounting.closes += 1
        cameraTask?.cancel()
        microphoneTask?.cancel()
        cameraTask = nil
        microphoneTask = nil
        router.attach(nil)
        logger.info("camera and microphone released")
        Task { await screen.show(local: nil) }
    }

    public func attach(_ session: MediaSession?) { router.attach(session) }
    public func setCameraEnabled(_ on: Bool) { router.setCameraEnabled(on) }
    public func setMuted(_ on: Bool) { router.setMuted(on) }

    private func firstFrame() {
        guard let openedAt, accounting.lastOpenToFirstFrameMs == nil else { return }
        let d = ContinuousClock.now - openedAt
        accounting.lastOpenToFirstFrameMs = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    private func videoFrames() -> AsyncStream<VideoFrame> {
        if camera.device == "synthetic" {
            return SyntheticCamera(configuration: .init(width: camera.width, height: camera.height, framesPerSecond: camera.fps),
                                   font: font).frames()
        }
        return V4L2Camera(configuration: V4L2CameraConfiguration(device: camera.device, width: camera.width,
                                                                 height: camera.height, framesPerSecond: camera.fps)).frames()
    }

    private func audioFrames() -> AsyncStream<AudioFrame> {
        if microphone.device == "synthetic" { return SyntheticMicrophone(frequency: 440, amplitude: 0.3).frames() }
        return ALSAMicrophone(configuration: ALSAMicrophoneConfiguration(device: microphone.device)).frames()
    }
}
