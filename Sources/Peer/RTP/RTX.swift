// RTP retransmission payload format (RFC 4588 §4): the retransmission goes on its own SSRC and
// payload type (SSRC-multiplexing, §5.1 / `a=fmtp:<rtx> apt=<pt>`), its own sequence numbers, the
// original timestamp and marker, and the payload prefixed by the original sequence number (OSN).

public enum RTX {
    /// Wraps `original` for retransmission. Header extensions are kept (the caller refreshes the
    /// transport-wide sequence number, which must be new for every packet sent).
    public static func wrap(_ original: RTPPacket, rtxSSRC: UInt32, rtxPayloadType: UInt8, sequenceNumber: UInt16) -> RTPPacket {
        var payload: [UInt8] = []
        payload.reserveCapacity(2 + original.payload.count)
        appendU16(&payload, original.sequenceNumber)
        payload.append(contentsOf: original.payload)
        return RTPPacket(payloadType: rtxPayloadType, sequenceNumber: sequenceNumber, timestamp: original.timestamp,
                         ssrc: rtxSSRC, marker: original.marker, csrcs: original.csrcs,
                         extensions: original.extensions, payload: payload)
    }

    /// Restores the original packet from a retransmission. A packet with an empty payload (RTX
    /// padding, used for probing) is rejected with an error: there is nothing to restore.
    public static func unwrap(_ rtx: RTPPacket, originalSSRC: UInt32, originalPayloadType: UInt8) throws(RTPError) -> RTPPacket {
        guard rtx.payload.count >= 2 else { throw .badPayload("RTX packet without original sequence number") }
        let osn = UInt16(rtx.payload[0]) << 8 | UInt16(rtx.payload[1])
        return RTPPacket(payloadType: originalPayloadType, sequenceNumber: osn, timestamp: rtx.timestamp,
                         ssrc: originalSSRC, marker: rtx.marker, csrcs: rtx.csrcs, extensions: rtx.extensions,
                         payload: Array(rtx.payload[2...]))
    }
}
