// The appliance speaker on an ALSA playback PCM (alsa-lib snd_pcm_writei) with a small, fixed
// latency: a writer thread keeps exactly the configured buffer queued, fills gaps with silence
// rather than letting the device underrun, and drops the oldest audio when the network delivers
// a burst, so latency never creeps up.
import CALSA
import Foundation
import Media
import Synchronization

public struct ALSASpeakerConfiguration: Sendable, Equatable {
    public var device: String
    public var channels: Int
    /// 10 ms periods: each write is small, the device wakes us often.
    public var periodMilliseconds: Int
    /// Device buffer in periods (3 × 10 ms = 30 ms).
    public var periods: Int
    /// Audio waiting for the device beyond which the oldest is dropped.
    public var maxQueuedMilliseconds: Int

    public init(device: String = "default", channels: Int = 1, periodMilliseconds: Int = 10, periods: Int = 3,
                maxQueuedMilliseconds: Int = 60) {
        self.device = device
        self.channels = max(1, channels)
        self.periodMilliseconds = periodMilliseconds == 20 ? 20 : 10
        self.periods = max(2, periods)
        self.maxQueuedMilliseconds = max(periodMilliseconds, maxQueuedMilliseconds)
    }
}

public struct SpeakerStatistics: Sendable, Equatable {
    public var parameters: AudioDeviceParameters?
    /// Samples (per channel) written from real audio, and silence inserted for lack of it.
    public var playedFrames: Int = 0
    public var silenceFrames: Int = 0
    /// Samples dropped to keep latency bounded.
    public var droppedFrames: Int = 0
    public var underruns: Int = 0
    public var reopenings: Int = 0
    public var lastError: String?
}

public final class ALSASpeaker: Sendable {
    public let configuration: ALSASpeakerConfiguration
    private struct State {
        var queue: [Int16] = []
        var stats = SpeakerStatistics()
    }
    private let state = Mutex(State())
    private let stopFlag = DeviceStopFlag()

    public init(configuration: ALSASpeakerConfiguration = ALSASpeakerConfiguration()) {
        self.configuration = configuration
    }

    /// Starts the writer thread (plays silence until audio arrives).
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "alsa-playback"
        thread.start()
    }

    public func stop() { stopFlag.set() }

    public var statistics: SpeakerStatistics { state.withLock { $0.stats } }

    /// Queues a frame; never blocks. Frames at another rate are refused (we never resample: the
    /// whole media path is 48 kHz); channel counts are adapted (mono duplicated, extra dropped).
    public func play(_ frame: AudioFrame) {
        guard frame.sampleRate == MediaClock.audioSampleRate else { return }
        let channels = configuration.channels
        var samples: [Int16]
        if frame.channels == channels {
            samples = frame.samples
        } else {
            samples = [Int16](repeating: 0, count: frame.samplesPerChannel * channels)
            for index in 0..<frame.samplesPerChannel {
                for channel in 0..<channels {
                    samples[index * channels + channel] = frame.samples[index * frame.channels + min(channel, frame.channels - 1)]
                }
            }
        }
        let limit = configuration.maxQueuedMilliseconds * MediaClock.audioSampleRate / 1000 * channels
        state.withLock { state in
            state.queue += samples
            if state.queue.count > limit {
                let excess = state.queue.count - limit
                state.queue.removeFirst(excess)
                state.stats.droppedFrames += excess / channels
            }
        }
    }

    private func run() {
        var delay = 0.5
        while !stopFlag.isSet {
            do {
                let pcm = try ALSAPCM(name: configuration.device, capture: false, channels: configuration.channels,
                                      periodMilliseconds: configuration.periodMilliseconds, periods: configuration.periods)
                state.withLock { $0.stats.parameters = pcm.parameters }
                delay = 0.5
                try write(pcm)
            } catch {
                state.withLock { $0.stats.lastError = "\(error)"; $0.stats.reopenings += 1 }
                stopFlag.wait(seconds: delay)
                delay = min(5, delay * 2)
            }
        }
    }

    private func write(_ pcm: ALSAPCM) throws {
        let channels = pcm.parameters.channels
        let period = pcm.parameters.periodFrames
        var chunk = [Int16](repeating: 0, count: period * channels)
        while !stopFlag.isSet {
            // Take one period of queued audio, padding with silence.
            let count = chunk.count
            let taken: [Int16] = state.withLock { state in
                let take = min(state.queue.count, count)
                let head = Array(state.queue.prefix(take))
                state.queue.removeFirst(take)
                state.stats.playedFrames += take / channels
                state.stats.silenceFrames += (count - take) / channels
                return head
            }
            for index in 0..<count { chunk[index] = index < taken.count ? taken[index] : 0 }
            var offset = 0
            while offset < period, !stopFlag.isSet {
                let written = chunk.withUnsafeBufferPointer { buffer in
                    snd_pcm_writei(pcm.handle, buffer.baseAddress! + offset * channels, snd_pcm_uframes_t(period - offset))
                }
                if written >= 0 { offset += Int(written); continue }
                let error = Int32(written)
                if error == -EAGAIN || error == -EINTR { continue }
                guard pcm.recover(error) else { throw ALSAError(operation: "snd_pcm_writei \(pcm.name)", code: error) }
                state.withLock { $0.stats.underruns += 1 }
            }
        }
        snd_pcm_drop(pcm.handle)
    }
}
