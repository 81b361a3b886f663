// Lip sync from RTCP sender reports (RFC 3550 §6.4.1: an SR pairs an NTP timestamp with the RTP
// timestamp of the same instant, per source; audio and video of one CNAME share the NTP clock).
// Mapping each stream's RTP timestamps to NTP gives capture times on one clock; comparing how
// long after capture each stream is played tells how much to delay the earlier one.

/// RTP → sender NTP time for one stream, from its latest SR (nominal clock rate).
public struct RTPClockMapping: Sendable, Equatable {
    public let clockRate: Int
    private var reference: (ntpSeconds: Double, rtp: UInt32)?

    public init(clockRate: Int) { self.clockRate = clockRate }

    public var isValid: Bool { reference != nil }

    public mutating func update(_ report: RTCPSenderReport) {
        reference = (NTPTime.seconds(report.ntpTimestamp), report.rtpTimestamp)
    }

    /// Capture time in sender NTP seconds of an RTP timestamp near the SR's (± half the 32-bit range).
    public func captureSeconds(rtpTimestamp: UInt32) -> Double? {
        guard let reference else { return nil }
        let delta = Int32(bitPattern: rtpTimestamp &- reference.rtp)
        return reference.ntpSeconds + Double(delta) / Double(clockRate)
    }

    public static func == (a: RTPClockMapping, b: RTPClockMapping) -> Bool {
        a.clockRate == b.clockRate && a.reference?.ntpSeconds == b.reference?.ntpSeconds && a.reference?.rtp == b.reference?.rtp
    }
}

public struct LipSync: Sendable, Equatable {
    public var audio = RTPClockMapping(clockRate: 48_000)
    public var video = RTPClockMapping(clockRate: 90_000)

    public init() {}

    /// Seconds by which video is late relative to audio for frames played now: positive means
    /// delay audio by that much, negative means delay video. `audioPlayout` and `videoRender` are
    /// local times (any one clock, in seconds) at which the frames are heard/shown.
    public func videoLagSeconds(audioRTP: UInt32, audioPlayout: Double, videoRTP: UInt32, videoRender: Double) -> Double? {
        guard let audioCapture = audio.captureSeconds(rtpTimestamp: audioRTP),
              let videoCapture = video.captureSeconds(rtpTimestamp: videoRTP) else { return nil }
        return (videoRender - videoCapture) - (audioPlayout - audioCapture)
    }
}
