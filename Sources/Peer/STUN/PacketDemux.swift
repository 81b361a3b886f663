// Demultiplexing one UDP socket between STUN, DTLS, SRTP/SRTCP and TURN ChannelData by the
// first byte, RFC 7983 §7 (which updates RFC 5764 §5.1.2). WebRTC bundles everything on one
// 5-tuple, so each datagram is routed by this before any protocol parser sees it.

/// What a datagram on a bundled socket carries.
public enum PacketKind: Sendable, Hashable, CaseIterable {
    /// 0-3: STUN (RFC 8489; the top two bits of a STUN message are zero).
    case stun
    /// 20-63: DTLS record (content types 20-63).
    case dtls
    /// 128-191: RTP or RTCP (version 2); SRTP and SRTCP are told apart later by payload type.
    case rtpOrRtcp
    /// 64-79: TURN ChannelData (RFC 8656 §12; channel numbers 0x4000-0x4FFF).
    case turnChannelData
    /// Anything else, including 16-19 (ZRTP, which WebRTC never uses) and reserved ranges:
    /// RFC 7983 §7 says drop it.
    case unknown

    /// Classifies by the first byte, per the RFC 7983 §7 table.
    public static func classify(firstByte b: UInt8) -> PacketKind {
        switch b {
        case 0...3: .stun
        case 20...63: .dtls
        case 64...79: .turnChannelData
        case 128...191: .rtpOrRtcp
        default: .unknown  // 4-15, 16-19 (ZRTP), 80-127, 192-255
        }
    }

    /// Classifies a datagram; empty ones are `.unknown`.
    public static func classify<C: Collection>(_ packet: C) -> PacketKind where C.Element == UInt8 {
        guard let first = packet.first else { return .unknown }
        return classify(firstByte: first)
    }
}
