// The appliance microphone on an ALSA capture PCM (alsa-lib snd_pcm_readi), read on its own
// thread in 10 or 20 ms periods, with xrun/suspend recovery and reopen-with-backoff.
import CALSA
import Foundation
import Media

public struct ALSAMicrophoneConfiguration: Sendable, Equatable {
    /// An ALSA PCM name: "default", "plughw:1,0", "hw:Loopback,1,0", ...
    public var device: String
    public var channels: Int
    /// 10 or 20 ms: each period becomes one `AudioFrame`.
    public var periodMilliseconds: Int
    /// Periods in the capture ring: room for the reader to be late without an overrun.
    public var periods: Int

    public init(device: String = "default", channels: Int = 1, periodMilliseconds: Int = 20, periods: Int = 4) {
        self.device = device
        self.channels = max(1, channels)
        self.periodMilliseconds = periodMilliseconds == 10 ? 10 : 20
        self.periods = max(2, periods)
    }
}

public enum MicrophoneEvent: Sendable {
    case opened(device: String, parameters: AudioDeviceParameters)
    case frame(AudioFrame)
    /// An overrun or suspend was recovered from (samples were lost).
    case recovered(reason: String)
    /// The device failed; it is reopened after `retryIn` seconds.
    case lost(reason: String, retryIn: Double)
}

public final class ALSAMicrophone: Sendable {
    public let configuration: ALSAMicrophoneConfiguration
    public let retryDelays: ClosedRange<Double>

    public init(configuration: ALSAMicrophoneConfiguration = ALSAMicrophoneConfiguration(),
                retryDelays: ClosedRange<Double> = 0.5...5) {
        self.configuration = configuration
        self.retryDelays = retryDelays
    }

    /// Frames and state changes until the consumer stops iterating. A slow consumer loses the
    /// oldest frames beyond 10 (200 ms), never the device's timing.
    public func events() -> AsyncStream<MicrophoneEvent> {
        DeviceThread.stream(named: "alsa-capture", bufferingNewest: 10) { [self] continuation, stop in
            self.run(continuation: continuation, stop: stop)
        }
    }

    /// Just the audio.
    public func frames() -> AsyncStream<AudioFrame> {
        DeviceThread.only(events(), bufferingNewest: 10) { event in
            if case .frame(let frame) = event { frame } else { nil }
        }
    }

    private func run(continuation: AsyncStream<MicrophoneEvent>.Continuation, stop: DeviceStopFlag) {
        var delay = retryDelays.lowerBound
        while !stop.isSet {
            do {
                let pcm = try ALSAPCM(name: configuration.device, capture: true, channels: configuration.channels,
                                      periodMilliseconds: configuration.periodMilliseconds, periods: configuration.periods)
                continuation.yield(.opened(device: configuration.device, parameters: pcm.parameters))
                delay = retryDelays.lowerBound
                try read(pcm, continuation: continuation, stop: stop)
            } catch {
                if stop.isSet { break }
                continuation.yield(.lost(reason: "\(error)", retryIn: delay))
                stop.wait(seconds: delay)
                delay = min(retryDelays.upperBound, delay * 2)
            }
        }
        continuation.finish()
    }

    private func read(_ pcm: ALSAPCM, continuation: AsyncStream<MicrophoneEvent>.Continuation,
                      stop: DeviceStopFlag) throws {
        let channels = pcm.parameters.channels
        let period = pcm.parameters.periodFrames
        let rate = UInt64(pcm.parameters.sampleRate)
        snd_pcm_start(pcm.handle)
        while !stop.isSet {
            var samples = [Int16](repeating: 0, count: period * channels)
            var filled = 0
            while filled < period, !stop.isSet {
                let got = samples.withUnsafeMutableBufferPointer { buffer in
                    snd_pcm_readi(pcm.handle, buffer.baseAddress! + filled * channels, snd_pcm_uframes_t(period - filled))
                }
                if got >= 0 { filled += Int(got); continue }
                let error = Int32(got)
                if error == -EAGAIN || error == -EINTR { continue }
                guard pcm.recover(error) else { throw ALSAError(operation: "snd_pcm_readi \(pcm.name)", code: error) }
                continuation.yield(.recovered(reason: error == -EPIPE ? "overrun" : "suspend/resume"))
                snd_pcm_start(pcm.handle)
            }
            guard filled == period else { break }
            // The last sample was captured about now, minus what is still queued in the device.
            let queued = UInt64(max(0, pcm.delayFrames)) + UInt64(period)
            let age = queued * 1_000_000_000 / rate
            let now = MediaTime.now().nanoseconds
            let timestamp = MediaTime(nanoseconds: now > age ? now - age : 0)
            continuation.yield(.frame(AudioFrame(samples: samples, channels: channels,
                                                 sampleRate: Int(rate), timestamp: timestamp)))
        }
    }
}

/// ALSA PCM devices as `videophone devices` lists them (snd_device_name_hint, "pcm" interface).
public enum ALSADiscovery {
    public struct PCMDevice: Sendable {
        public var name: String
        public var description: String
        /// "Input", "Output" or nil for both.
        public var direction: String?
    }

    public static func pcmDevices() -> [PCMDevice] {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        guard snd_device_name_hint(-1, "pcm", &hints) >= 0, let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        var result: [PCMDevice] = []
        var index = 0
        while let hint = hints[index] {
            index += 1
            func field(_ id: String) -> String? {
                guard let value = snd_device_name_get_hint(hint, id) else { return nil }
                defer { free(value) }
                return String(cString: value)
            }
            guard let name = field("NAME") else { continue }
            result.append(PCMDevice(name: name, description: (field("DESC") ?? "").replacingOccurrences(of: "\n", with: " — "),
                                    direction: field("IOID")))
        }
        return result
    }

    /// Sound cards (index, id, name) from /proc/asound/cards (present without alsa-lib config).
    public static func cards() -> [(index: Int, id: String, name: String)] {
        var result: [(Int, String, String)] = []
        var card: Int32 = -1
        while snd_card_next(&card) >= 0, card >= 0 {
            var name: UnsafeMutablePointer<CChar>?
            var longName: UnsafeMutablePointer<CChar>?
            snd_card_get_name(card, &name)
            snd_card_get_longname(card, &longName)
            defer { free(name); free(longName) }
            result.append((Int(card), name.map { String(cString: $0) } ?? "?", longName.map { String(cString: $0) } ?? ""))
        }
        return result
    }
}
