#if canImport(Glibc)
import Glibc
#endif
import Media

/// A microphone for machines without one: a continuous sine tone in 20 ms, 48 kHz s16 frames.
/// The phase carries across frames, so the tone has no clicks at frame boundaries and its
/// frequency can be measured exactly after a round trip.
public struct SyntheticMicrophone: Sendable {
    public var frequency: Double
    /// Peak level as a fraction of full scale (0...1).
    public var amplitude: Double
    public let channels: Int
    private let start: MediaTime
    private var phase: Double = 0
    private var framesProduced: UInt64 = 0

    public init(frequency: Double = 440, amplitude: Double = 0.5, channels: Int = 1, start: MediaTime = .now()) {
        precondition(frequency > 0 && frequency < Double(MediaClock.audioSampleRate) / 2, "tone above Nyquist")
        precondition((0...1).contains(amplitude) && channels > 0, "amplitude 0...1, at least one channel")
        self.frequency = frequency
        self.amplitude = amplitude
        self.channels = channels
        self.start = start
    }

    /// The next 20 ms frame, timestamped `start + n × 20 ms`.
    public mutating func nextFrame() -> AudioFrame {
        let count = MediaClock.audioSamplesPerFrame
        let step = 2 * Double.pi * frequency / Double(MediaClock.audioSampleRate)
        let peak = amplitude * Double(Int16.max)
        var samples = [Int16](repeating: 0, count: count * channels)
        for index in 0..<count {
            let value = Int16((peak * sin(phase)).rounded())
            for channel in 0..<channels { samples[index * channels + channel] = value }
            phase += step
            if phase >= 2 * Double.pi { phase -= 2 * Double.pi }  // keeps sin() precise over hours
        }
        let timestamp = start + framesProduced * MediaClock.audioFrameNanoseconds
        framesProduced += 1
        return AudioFrame(samples: samples, channels: channels, timestamp: timestamp)
    }

    /// Frames paced in real time (every 20 ms); a slow consumer loses the oldest frames.
    public func frames() -> AsyncStream<AudioFrame> {
        let microphone = self
        return AsyncStream(bufferingPolicy: .bufferingNewest(5)) { continuation in
            let task = Task {
                var microphone = microphone
                let clock = ContinuousClock()
                var deadline = clock.now
                while !Task.isCancelled {
                    continuation.yield(microphone.nextFrame())
                    deadline += .milliseconds(MediaClock.audioFrameMilliseconds)
                    do { try await clock.sleep(until: deadline) } catch { break }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
