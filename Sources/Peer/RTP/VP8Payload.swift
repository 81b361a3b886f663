// RTP payload format for VP8 (RFC 7741): the payload descriptor of §4.2 (X, N, S, PID;
// I/L/T/K extensions; 7- or 15-bit PictureID, TL0PICIDX, TID/Y/KEYIDX), the keyframe flag of
// the payload header (§4.3: P bit of the first byte of partition 0 when S=1, PID=0), the
// packetizer (§4.4, one frame per timestamp, marker on the last packet) and depacketizer.

/// The RFC 7741 §4.2 payload descriptor.
public struct VP8PayloadDescriptor: Sendable, Equatable {
    public var nonReference: Bool
    /// S: this packet starts a VP8 partition.
    public var startOfPartition: Bool
    public var partitionIndex: UInt8
    /// 7- or 15-bit PictureID (M bit says which), nil when absent.
    public var pictureID: UInt16?
    public var pictureIDIs15Bit: Bool
    public var tl0PicIndex: UInt8?
    public var temporalLayer: UInt8?
    public var layerSync: Bool
    public var keyIndex: UInt8?

    public init(nonReference: Bool = false, startOfPartition: Bool, partitionIndex: UInt8 = 0,
                pictureID: UInt16? = nil, pictureIDIs15Bit: Bool = true, tl0PicIndex: UInt8? = nil,
                temporalLayer: UInt8? = nil, layerSync: Bool = false, keyIndex: UInt8? = nil) {
        self.nonReference = nonReference
        self.startOfPartition = startOfPartition
        self.partitionIndex = partitionIndex & 0x07
        self.pictureID = pictureID
        self.pictureIDIs15Bit = pictureIDIs15Bit
        self.tl0PicIndex = tl0PicIndex
        self.temporalLayer = temporalLayer
        self.layerSync = layerSync
        self.keyIndex = keyIndex
    }

    /// The first packet of a frame: S=1 and partition index 0 (§4.2).
    public var startsFrame: Bool { startOfPartition && partitionIndex == 0 }

    /// Parses a descriptor; returns it and the offset of the VP8 payload.
    public static func parse(_ payload: [UInt8]) throws(RTPError) -> (VP8PayloadDescriptor, Int) {
        try payload.withUnsafeBufferPointer { b throws(RTPError) in try parse(b) }
    }

    public static func parse(_ b: UnsafeBufferPointer<UInt8>) throws(RTPError) -> (VP8PayloadDescriptor, Int) {
        guard b.count >= 1 else { throw .badPayload("empty VP8 payload") }
        var d = VP8PayloadDescriptor(nonReference: b[0] & 0x20 != 0, startOfPartition: b[0] & 0x10 != 0,
                                     partitionIndex: b[0] & 0x07)
        var i = 1
        if b[0] & 0x80 != 0 {
            guard b.count > i else { throw .badPayload("VP8 descriptor: missing extension byte") }
            let ext = b[i]
            i += 1
            if ext & 0x80 != 0 {  // I: PictureID
                guard b.count > i else { throw .badPayload("VP8 descriptor: missing PictureID") }
                if b[i] & 0x80 != 0 {
                    guard b.count > i + 1 else { throw .badPayload("VP8 descriptor: short 15-bit PictureID") }
                    d.pictureID = UInt16(b[i] & 0x7F) << 8 | UInt16(b[i + 1])
                    d.pictureIDIs15Bit = true
                    i += 2
                } else {
                    d.pictureID = UInt16(b[i] & 0x7F)
                    d.pictureIDIs15Bit = false
                    i += 1
                }
            }
            if ext & 0x40 != 0 {  // L: TL0PICIDX
                guard b.count > i else { throw .badPayload("VP8 descriptor: missing TL0PICIDX") }
                d.tl0PicIndex = b[i]
                i += 1
            }
            if ext & 0x30 != 0 {  // T or K: TID|Y|KEYIDX byte
                guard b.count > i else { throw .badPayload("VP8 descriptor: missing TID/KEYIDX") }
                if ext & 0x20 != 0 { d.temporalLayer = b[i] >> 6; d.layerSync = b[i] & 0x20 != 0 }
                if ext & 0x10 != 0 { d.keyIndex = b[i] & 0x1F }
                i += 1
            }
        }
        guard b.count > i else { throw .badPayload("VP8 packet without payload data") }
        return (d, i)
    }

    public func serialize(into out: inout [UInt8]) {
        let hasExt = pictureID != nil || tl0PicIndex != nil || temporalLayer != nil || keyIndex != nil
        out.append((hasExt ? 0x80 : 0) | (nonReference ? 0x20 : 0) | (startOfPartition ? 0x10 : 0) | (partitionIndex & 0x07))
        guard hasExt else { return }
        out.append((pictureID != nil ? 0x80 : 0) | (tl0PicIndex != nil ? 0x40 : 0) | (temporalLayer != nil ? 0x20 : 0)
                   | (keyIndex != nil ? 0x10 : 0))
        if let pictureID {
            if pictureIDIs15Bit {
                out.append(0x80 | UInt8((pictureID >> 8) & 0x7F))
                out.append(UInt8(pictureID & 0xFF))
            } else {
                out.append(UInt8(pictureID & 0x7F))
            }
        }
        if let tl0PicIndex { out.append(tl0PicIndex) }
        if temporalLayer != nil || keyIndex != nil {
            out.append(((temporalLayer ?? 0) & 0x03) << 6 | (layerSync ? 0x20 : 0) | ((keyIndex ?? 0) & 0x1F))
        }
    }
}

/// Splits encoded VP8 frames into RTP packets (RFC 7741 §4.4) with a running 15-bit PictureID.
public struct VP8Packetizer: Sendable {
    public let ssrc: UInt32
    public let payloadType: UInt8
    /// Bytes of VP8 data + descriptor per packet (MTU minus IP/UDP/SRTP/RTP/extension overhead).
    public var maxPayloadSize: Int
    public private(set) var sequenceNumber: UInt16
    public private(set) var pictureID: UInt16

    public init(ssrc: UInt32, payloadType: UInt8, maxPayloadSize: Int = 1100, firstSequenceNumber: UInt16 = 0,
                firstPictureID: UInt16 = 0) {
        self.ssrc = ssrc
        self.payloadType = payloadType
        self.maxPayloadSize = max(16, maxPayloadSize)
        sequenceNumber = firstSequenceNumber
        pictureID = firstPictureID & 0x7FFF
    }

    /// Packets for one frame, balanced in size, marker on the last; all share `timestamp`.
    public mutating func packetize(_ frame: [UInt8], timestamp: UInt32) -> [RTPPacket] {
        guard !frame.isEmpty else { return [] }
        let descriptorSize = 4  // X + I byte + 2-byte PictureID
        let room = maxPayloadSize - descriptorSize
        let count = (frame.count + room - 1) / room
        let base = frame.count / count, extra = frame.count % count
        var packets: [RTPPacket] = []
        packets.reserveCapacity(count)
        var offset = 0
        for index in 0..<count {
            let size = base + (index < extra ? 1 : 0)
            var payload: [UInt8] = []
            payload.reserveCapacity(descriptorSize + size)
            VP8PayloadDescriptor(startOfPartition: index == 0, pictureID: pictureID).serialize(into: &payload)
            payload.append(contentsOf: frame[offset..<(offset + size)])
            offset += size
            packets.append(RTPPacket(payloadType: payloadType, sequenceNumber: sequenceNumber, timestamp: timestamp,
                                     ssrc: ssrc, marker: index == count - 1, payload: payload))
            sequenceNumber &+= 1
        }
        pictureID = (pictureID &+ 1) & 0x7FFF
        return packets
    }
}

/// What the depacketizer learns from one VP8 RTP packet.
public struct VP8PacketInfo: Sendable, Equatable {
    public var descriptor: VP8PayloadDescriptor
    /// Offset of the VP8 data in the RTP payload.
    public var dataOffset: Int
    /// First packet of a keyframe (S=1, PID=0, P bit clear in the payload header, §4.3).
    public var isKeyframeStart: Bool
}

public enum VP8Depacketizer {
    public static func inspect(_ packet: RTPPacket) throws(RTPError) -> VP8PacketInfo {
        let (descriptor, offset) = try VP8PayloadDescriptor.parse(packet.payload)
        let key = descriptor.startsFrame && packet.payload[offset] & 0x01 == 0
        return VP8PacketInfo(descriptor: descriptor, dataOffset: offset, isKeyframeStart: key)
    }

    /// Joins the VP8 data of one frame's packets (in sequence order) into the encoded frame.
    public static func assemble(_ packets: [RTPPacket]) throws(RTPError) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(packets.reduce(0) { $0 + $1.payload.count })
        for (index, packet) in packets.enumerated() {
            let info = try inspect(packet)
            if index == 0 && !info.descriptor.startsFrame { throw .badPayload("VP8 frame does not start with S=1, PID=0") }
            frame.append(contentsOf: packet.payload[info.dataOffset...])
        }
        return frame
    }
}
