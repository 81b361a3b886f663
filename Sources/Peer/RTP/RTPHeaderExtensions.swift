// Values of the RTP header extensions WebRTC negotiates (RFC 8285 elements):
// - abs-send-time (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time): 24-bit 6.18
//   fixed-point seconds of the send time;
// - transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2):
//   16-bit counter over every packet of the transport, fed back in RTCP TWCC (§3.1);
// - sdes:mid (RFC 9143 §15, urn:ietf:params:rtp-hdrext:sdes:mid): the m-line's mid as text.
import Media

public enum RTPExtensionURI {
    public static let absSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    public static let transportWideCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    public static let mid = "urn:ietf:params:rtp-hdrext:sdes:mid"
}

/// The local ids the SDP `a=extmap` lines gave each extension we use (nil: not negotiated).
public struct RTPExtensionIDs: Sendable, Equatable {
    public var absSendTime: UInt8?
    public var transportWideSequence: UInt8?
    public var mid: UInt8?

    public init(absSendTime: UInt8? = nil, transportWideSequence: UInt8? = nil, mid: UInt8? = nil) {
        self.absSendTime = absSendTime
        self.transportWideSequence = transportWideSequence
        self.mid = mid
    }

    /// From `(id, uri)` pairs as found in `a=extmap` lines.
    public init(extmap: [(id: Int, uri: String)]) {
        self.init()
        for (id, uri) in extmap where (1...255).contains(id) {
            switch uri {
            case RTPExtensionURI.absSendTime: absSendTime = UInt8(id)
            case RTPExtensionURI.transportWideCC: transportWideSequence = UInt8(id)
            case RTPExtensionURI.mid: mid = UInt8(id)
            default: break
            }
        }
    }
}

public enum AbsSendTime {
    /// 6.18 fixed-point seconds, wrapping every 64 s.
    public static func encode(_ time: MediaTime) -> [UInt8] {
        let value = fixed(time)
        return [UInt8(value >> 16), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    public static func fixed(_ time: MediaTime) -> UInt32 {
        let wide = time.nanoseconds.multipliedFullWidth(by: 1 << 18)
        let (q, _) = UInt64(1_000_000_000).dividingFullWidth((high: wide.high % 1_000_000_000, low: wide.low))
        return UInt32(truncatingIfNeeded: q) & 0xFF_FFFF
    }

    public static func decode(_ value: [UInt8]) -> UInt32? {
        guard value.count == 3 else { return nil }
        return UInt32(value[0]) << 16 | UInt32(value[1]) << 8 | UInt32(value[2])
    }
}

public enum TransportSequenceNumber {
    public static func encode(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    public static func decode(_ value: [UInt8]) -> UInt16? {
        guard value.count == 2 else { return nil }
        return UInt16(value[0]) << 8 | UInt16(value[1])
    }
}

public enum SDESMid {
    public static func encode(_ mid: String) -> [UInt8] { Array(mid.utf8.prefix(255)) }
    public static func decode(_ value: [UInt8]) -> String? {
        guard !value.isEmpty else { return nil }
        // Senders may pad with NULs (RFC 7941 §4.1.1); strip them.
        return String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
    }
}

extension RTPPacket {
    public func transportSequenceNumber(ids: RTPExtensionIDs) -> UInt16? {
        guard let id = ids.transportWideSequence, let value = extensionValue(id: id) else { return nil }
        return TransportSequenceNumber.decode(value)
    }

    public func absSendTime(ids: RTPExtensionIDs) -> UInt32? {
        guard let id = ids.absSendTime, let value = extensionValue(id: id) else { return nil }
        return AbsSendTime.decode(value)
    }

    public func mid(ids: RTPExtensionIDs) -> String? {
        guard let id = ids.mid, let value = extensionValue(id: id) else { return nil }
        return SDESMid.decode(value)
    }
}
