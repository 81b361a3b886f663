#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the monotonic clock, in nanoseconds.
///
/// Why not `ContinuousClock.Instant`: on Linux that clock is CLOCK_BOOTTIME and its instants
/// cannot be built from a number, whereas V4L2 buffers and ALSA status report CLOCK_MONOTONIC
/// timestamps. Keeping media times as plain CLOCK_MONOTONIC nanoseconds lets captured and
/// synthetic frames share one timeline and convert to RTP ticks with integer arithmetic.
public struct MediaTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The current CLOCK_MONOTONIC time.
    public static func now() -> MediaTime {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MediaTime(nanoseconds: UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec))
    }

    /// This time in units of a `rate` Hz clock (e.g. 90 kHz video or 48 kHz audio RTP ticks),
    /// wrapping like an RTP timestamp.
    public func ticks(rate: Int) -> UInt32 {
        let wide = nanoseconds.multipliedFullWidth(by: UInt64(rate))
        let (quotient, _) = UInt64(1_000_000_000).dividingFullWidth(
            (high: wide.high % 1_000_000_000, low: wide.low))
        return UInt32(truncatingIfNeeded: quotient)
    }

    public static func + (time: MediaTime, nanoseconds: UInt64) -> MediaTime {
        MediaTime(nanoseconds: time.nanoseconds &+ nanoseconds)
    }

    public static func < (lhs: MediaTime, rhs: MediaTime) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Blocks the calling thread until `time` (returns at once when it has passed): for threads
    /// that feed frames in real time, such as a synthetic camera's.
    public static func sleep(until time: MediaTime) {
        let current = now()
        guard time > current else { return }
        let wait = time.nanoseconds - current.nanoseconds
        var spec = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
        nanosleep(&spec, nil)
    }

    public var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

/// CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID), in nanoseconds: what a codec
/// call cost this thread, free of what other threads and processes did meanwhile. It is a system
/// call (no vDSO for CPU clocks), a few hundred nanoseconds: fine per frame, not per sample.
public enum ThreadCPUClock {
    public static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// This process's CPU time (user + system, all threads) and peak resident set, from getrusage:
/// what the benchmarks divide by wall time per endpoint.
public struct ProcessUsage: Sendable {
    public var cpuSeconds: Double
    public var peakResidentKiB: Int

    public static func current() -> ProcessUsage {
        var usage = rusage()
        getrusage(Int32(truncatingIfNeeded: RUSAGE_SELF.rawValue), &usage)
        return ProcessUsage(cpuSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
                            peakResidentKiB: Int(usage.ru_maxrss))
    }
}

/// Rates every media path agrees on, so capture, codecs and RTP never negotiate them.
public enum MediaClock {
    /// Opus and our ALSA devices run at 48 kHz only (libopus's native rate: no resampling).
    public static let audioSampleRate = 48_000
    /// 20 ms audio frames: Opus's default packet time and what browsers send.
    public static let audioFrameMilliseconds = 20
    /// Samples per channel in one 20 ms frame at 48 kHz.
    public static let audioSamplesPerFrame = audioSampleRate * audioFrameMilliseconds / 1000
    /// RTP video clock (RFC 7741 for VP8).
    public static let videoRTPClockRate = 90_000
    /// Nanoseconds in one audio frame.
    public static let audioFrameNanoseconds = UInt64(audioFrameMilliseconds) * 1_000_000

    /// Nanoseconds between frames at `framesPerSecond` (rounded down).
    public static func framePeriodNanoseconds(framesPerSecond: Int) -> UInt64 {
        1_000_000_000 / UInt64(max(1, framesPerSecond))
    }
}
