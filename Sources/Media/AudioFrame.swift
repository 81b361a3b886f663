/// A block of signed 16-bit interleaved PCM, normally 20 ms at 48 kHz.
///
/// s16 interleaved is what ALSA devices and libopus both take, so audio crosses the capture,
/// codec and playback boundaries without conversion.
public struct AudioFrame: Sendable {
    public var sampleRate: Int
    public var channels: Int
    /// `samplesPerChannel * channels` values, channel-interleaved.
    public var samples: [Int16]
    /// Capture time of the first sample on the monotonic clock.
    public var timestamp: MediaTime

    public var samplesPerChannel: Int { samples.count / max(1, channels) }

    /// Duration in nanoseconds, from the sample count and rate.
    public var durationNanoseconds: UInt64 {
        UInt64(samplesPerChannel) * 1_000_000_000 / UInt64(max(1, sampleRate))
    }

    public init(samples: [Int16], channels: Int = 1, sampleRate: Int = MediaClock.audioSampleRate,
                timestamp: MediaTime) {
        precondition(channels > 0 && samples.count % channels == 0, "samples must be whole interleaved groups")
        self.samples = samples
        self.channels = channels
        self.sampleRate = sampleRate
        self.timestamp = timestamp
    }

    /// Silence of the default 20 ms length.
    public static func silence(channels: Int = 1, timestamp: MediaTime) -> AudioFrame {
        AudioFrame(samples: [Int16](repeating: 0, count: MediaClock.audioSamplesPerFrame * channels),
                   channels: channels, timestamp: timestamp)
    }
}
