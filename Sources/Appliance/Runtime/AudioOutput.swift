// The speaker: remote audio during a call, the ring tone while ringing and the beep before an
// auto-answer. "synthetic" discards the audio but counts it (tests and headless demos check the
// counts); an ALSA PCM plays it through Display's ALSASpeaker (snd_pcm_writei on its own thread).
import Display
import Foundation
import Logging
import Media

public final class AudioOutput: @unchecked Sendable {
    private let speaker: ALSASpeaker?
    private let logger: Logger
    private let lock = NSLock()
    private var ringTask: Task<Void, Never>?
    private var _beeps = 0
    private var _ringing = false
    private var _remoteFrames = 0

    public init(device: String, logger: Logger) {
        self.logger = logger
        if device == "synthetic" {
            speaker = nil
        } else {
            let s = ALSASpeaker(configuration: ALSASpeakerConfiguration(device: device))
            s.start()
            speaker = s
        }
    }

    public var beeps: Int { lock.withLock { _beeps } }
    public var ringing: Bool { lock.withLock { _ringing } }
    public var remoteFramesPlayed: Int { lock.withLock { _remoteFrames } }

    /// Remote audio (from the media session's decode thread: never blocks).
    public func play(_ frame: AudioFrame) {
        lock.withLock { _remoteFrames += 1 }
        speaker?.play(frame)
    }

    public func beep() {
        lock.withLock { _beeps += 1 }
        logger.info("beep")
        guard let speaker else { return }
        for frame in Self.tone(frequency: 880, milliseconds: 200) { speaker.play(frame) }
    }

    /// The ring tone: 1 s of a two-tone ring, 2 s of silence, until turned off.
    public func ring(_ on: Bool) {
        let task: Task<Void, Never>? = lock.withLock {
            _ringing = on
            defer { ringTask = nil }
            return ringTask
        }
        task?.cancel()
        guard on else { return }
        logger.info("ringing")
        guard let speaker else { return }
        let ring = Task {
            while !Task.isCancelled {
                for frame in Self.tone(frequency: 440, milliseconds: 400) + Self.tone(frequency: 480, milliseconds: 600) {
                    if Task.isCancelled { return }
                    speaker.play(frame)
                    try? await Task.sleep(for: .milliseconds(MediaClock.audioFrameMilliseconds))
                }
                try? await Task.sleep(for: .seconds(2))
            }
        }
        lock.withLock { ringTask = ring }
    }

    public func stop() {
        ring(false)
        speaker?.stop()
    }

    /// 20 ms frames of a sine at half scale.
    static func tone(frequency: Double, milliseconds: Int) -> [AudioFrame] {
        let perFrame = MediaClock.audioSamplesPerFrame
        let frames = max(1, milliseconds / MediaClock.audioFrameMilliseconds)
        var out: [AudioFrame] = []
        var t = 0
        let start = MediaTime.now()
        for i in 0..<frames {
            var samples = [Int16](repeating: 0, count: perFrame)
            for k in 0..<perFrame {
                samples[k] = Int16(16_000 * sin(2 * Double.pi * frequency * Double(t) / Double(MediaClock.audioSampleRate)))
                t += 1
            }
            out.append(AudioFrame(samples: samples, timestamp: start + UInt64(i) * MediaClock.audioFrameNanoseconds))
        }
        return out
    }
}
