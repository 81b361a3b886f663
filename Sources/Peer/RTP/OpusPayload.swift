// RTP payload format for Opus (RFC 7587 §4.1-§4.2): one Opus packet per RTP packet, the
// timestamp in 48 kHz ticks whatever the coded bandwidth, no payload header.
import Media

public struct OpusPacketizer: Sendable {
    public let ssrc: UInt32
    public let payloadType: UInt8
    public private(set) var sequenceNumber: UInt16
    private var startOfTalkspurt = true

    public init(ssrc: UInt32, payloadType: UInt8, firstSequenceNumber: UInt16 = 0) {
        self.ssrc = ssrc
        self.payloadType = payloadType
        sequenceNumber = firstSequenceNumber
    }

    /// One packet; the marker is set on the first packet of a talkspurt (RFC 7587 §4.1 with
    /// RFC 3551 §4.1), i.e. the first of the stream here, since we do not use DTX.
    public mutating func packetize(_ opus: [UInt8], timestamp: UInt32) -> RTPPacket {
        let packet = RTPPacket(payloadType: payloadType, sequenceNumber: sequenceNumber, timestamp: timestamp,
                               ssrc: ssrc, marker: startOfTalkspurt, payload: opus)
        startOfTalkspurt = false
        sequenceNumber &+= 1
        return packet
    }
}
