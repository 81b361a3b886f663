// TURN ChannelData framing, RFC 8656 §12.4 (format) and §12.5-§12.6 (sending and receiving):
// a 4-byte header (channel number, length) instead of a 36+-byte Send/Data indication, which
// is why relayed media uses channels once ChannelBind succeeds.

/// One ChannelData message.
public struct TURNChannelData: Sendable, Hashable {
    /// RFC 8656 §12: the only numbers a client may bind (the first byte then falls in 64-79,
    /// which RFC 7983 demultiplexing relies on).
    public static let channelRange: ClosedRange<UInt16> = 0x4000...0x4FFF
    public static let headerLength = 4

    public let channelNumber: UInt16
    public var data: [UInt8]

    public init(channelNumber: UInt16, data: [UInt8]) throws(STUNError) {
        guard Self.channelRange.contains(channelNumber) else { throw .invalidChannelNumber(channelNumber) }
        guard data.count <= Int(UInt16.max) else { throw .channelDataTooLong(data.count) }
        self.channelNumber = channelNumber
        self.data = data
    }

    /// Wire bytes. RFC 8656 §12.5: over TCP/TLS the message must be padded to a multiple of
    /// 4 bytes; over UDP padding is optional and we omit it (fewer bytes, and the length field
    /// already delimits the payload). The length field never counts the padding.
    public func encode(padded: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.headerLength + data.count + 3)
        out.appendUInt16(channelNumber)
        out.appendUInt16(UInt16(truncatingIfNeeded: data.count))
        out.append(contentsOf: data)
        if padded { out.append(contentsOf: repeatElement(0, count: STUNAttribute.paddingLength(data.count))) }
        return out
    }

    /// Decodes a ChannelData message at the start of `bytes` (a UDP datagram; bytes after the
    /// declared length, such as padding, are ignored). RFC 8656 §12.6: a datagram too short for
    /// its declared length is discarded, which here is an error.
    public static func decode(_ bytes: [UInt8]) throws(STUNError) -> TURNChannelData {
        guard bytes.count >= headerLength else { throw .channelDataTruncated(declared: 0, available: bytes.count) }
        let channel = bytes.readUInt16(at: 0)
        let length = Int(bytes.readUInt16(at: 2))
        guard bytes.count - headerLength >= length else {
            throw .channelDataTruncated(declared: length, available: bytes.count - headerLength)
        }
        return try TURNChannelData(channelNumber: channel,
                                   data: Array(bytes[headerLength..<(headerLength + length)]))
    }

    /// For stream transports (TCP/TLS, RFC 8656 §12.5): the size of the padded frame starting at
    /// the front of `bytes`, or nil when the header has not fully arrived yet.
    public static func framedLength(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= headerLength else { return nil }
        let length = Int(bytes.readUInt16(at: 2))
        return headerLength + length + STUNAttribute.paddingLength(length)
    }
}
