// RTP fixed header (RFC 3550 §5.1), CSRC list, padding (§5.1 P bit), and header extensions in
// the one-byte and two-byte forms of RFC 8285 §4.2/§4.3 (0xBEDE and 0x100x profiles).
// Parsing never traps: every length is checked against the buffer and errors say what was wrong.

public enum RTPError: Error, Equatable, CustomStringConvertible {
    case tooShort(Int)
    case badVersion(UInt8)
    case truncated(String)
    case badPadding(Int)
    case badExtension(String)
    case badPayload(String)

    public var description: String {
        switch self {
        case let .tooShort(n): "RTP packet of \(n) bytes is shorter than its 12-byte header"
        case let .badVersion(v): "RTP version \(v), expected 2"
        case let .truncated(what): "RTP packet truncated in \(what)"
        case let .badPadding(n): "RTP padding length \(n) exceeds the payload"
        case let .badExtension(what): "RTP header extension: \(what)"
        case let .badPayload(what): "RTP payload: \(what)"
        }
    }
}

/// One header extension element (RFC 8285 §4): a local identifier from `a=extmap` and its value.
public struct RTPHeaderExtension: Sendable, Equatable {
    public var id: UInt8
    public var value: [UInt8]
    public init(id: UInt8, value: [UInt8]) {
        self.id = id
        self.value = value
    }
}

public struct RTPPacket: Sendable, Equatable {
    public var marker: Bool
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcs: [UInt32]
    /// RFC 8285 elements; serialized in the one-byte form when every id is 1...14 and every
    /// value 1...16 bytes long, else in the two-byte form.
    public var extensions: [RTPHeaderExtension]
    public var payload: [UInt8]
    /// Padding bytes to append (the last one counts them); 0 for none.
    public var paddingLength: UInt8

    public init(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, marker: Bool = false,
                csrcs: [UInt32] = [], extensions: [RTPHeaderExtension] = [], payload: [UInt8] = [], paddingLength: UInt8 = 0) {
        self.marker = marker
        self.payloadType = payloadType & 0x7F
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.extensions = extensions
        self.payload = payload
        self.paddingLength = paddingLength
    }

    /// The value of extension `id`, if present.
    public func extensionValue(id: UInt8) -> [UInt8]? {
        for element in extensions where element.id == id { return element.value }
        return nil
    }

    /// Sets (or replaces) extension `id`.
    public mutating func setExtension(id: UInt8, value: [UInt8]) {
        if let index = extensions.firstIndex(where: { $0.id == id }) {
            extensions[index].value = value
        } else {
            extensions.append(RTPHeaderExtension(id: id, value: value))
        }
    }

    public mutating func removeExtension(id: UInt8) { extensions.removeAll { $0.id == id } }

    // MARK: Parsing

    public static func parse(_ bytes: [UInt8]) throws(RTPError) -> RTPPacket {
        try bytes.withUnsafeBufferPointer { buffer throws(RTPError) in try parse(buffer) }
    }

    public static func parse(_ b: UnsafeBufferPointer<UInt8>) throws(RTPError) -> RTPPacket {
        guard b.count >= 12 else { throw .tooShort(b.count) }
        let version = b[0] >> 6
        guard version == 2 else { throw .badVersion(version) }
        let hasPadding = b[0] & 0x20 != 0
        let hasExtension = b[0] & 0x10 != 0
        let csrcCount = Int(b[0] & 0x0F)
        var packet = RTPPacket(payloadType: b[1] & 0x7F, sequenceNumber: readU16(b, 2), timestamp: readU32(b, 4),
                               ssrc: readU32(b, 8), marker: b[1] & 0x80 != 0)
        var offset = 12
        guard b.count >= offset + 4 * csrcCount else { throw .truncated("CSRC list") }
        if csrcCount > 0 {
            packet.csrcs.reserveCapacity(csrcCount)
            for i in 0..<csrcCount { packet.csrcs.append(readU32(b, 12 + 4 * i)) }
        }
        offset += 4 * csrcCount
        if hasExtension {
            guard b.count >= offset + 4 else { throw .truncated("extension header") }
            let profile = readU16(b, offset)
            let length = Int(readU16(b, offset + 2)) * 4
            let start = offset + 4
            guard b.count >= start + length else { throw .truncated("extension body") }
            if profile == 0xBEDE {
                packet.extensions = try parseOneByte(b, start, start + length)
            } else if profile & 0xFFF0 == 0x1000 {
                packet.extensions = try parseTwoByte(b, start, start + length)
            }  // other profiles (RFC 3550 §5.3.1) are skipped: nothing we negotiate uses them
            offset = start + length
        }
        var end = b.count
        if hasPadding {
            let padding = Int(b[b.count - 1])
            guard padding > 0, end - padding >= offset else { throw .badPadding(padding) }
            end -= padding
            packet.paddingLength = UInt8(padding)
        }
        packet.payload = Array(b[offset..<end])
        return packet
    }

    /// RFC 8285 §4.2: ID (4 bits) and L (value length − 1); ID 0 is padding, 15 stops parsing.
    private static func parseOneByte(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) throws(RTPError) -> [RTPHeaderExtension] {
        var elements: [RTPHeaderExtension] = []
        var i = start
        while i < end {
            let id = b[i] >> 4
            if id == 0 { i += 1; continue }
            if id == 15 { break }
            let length = Int(b[i] & 0x0F) + 1
            guard i + 1 + length <= end else { throw .badExtension("one-byte element \(id) overruns") }
            elements.append(RTPHeaderExtension(id: id, value: Array(b[(i + 1)..<(i + 1 + length)])))
            i += 1 + length
        }
        return elements
    }

    /// RFC 8285 §4.3: ID byte, length byte (0...255), value; ID 0 is padding.
    private static func parseTwoByte(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) throws(RTPError) -> [RTPHeaderExtension] {
        var elements: [RTPHeaderExtension] = []
        var i = start
        while i < end {
            let id = b[i]
            if id == 0 { i += 1; continue }
            guard i + 1 < end else { throw .badExtension("two-byte element \(id) without length") }
            let length = Int(b[i + 1])
            guard i + 2 + length <= end else { throw .badExtension("two-byte element \(id) overruns") }
            elements.append(RTPHeaderExtension(id: id, value: Array(b[(i + 2)..<(i + 2 + length)])))
            i += 2 + length
        }
        return elements
    }

    // MARK: Serializing

    /// Whether the elements fit the one-byte form (RFC 8285 §4.2).
    var fitsOneByteExtensions: Bool {
        extensions.allSatisfy { (1...14).contains($0.id) && (1...16).contains($0.value.count) }
    }

    public var serializedSize: Int {
        var size = 12 + 4 * csrcs.count + payload.count + Int(paddingLength)
        if !extensions.isEmpty {
            let perElement = fitsOneByteExtensions ? 1 : 2
            let body = extensions.reduce(0) { $0 + perElement + $1.value.count }
            size += 4 + (body + 3) / 4 * 4
        }
        return size
    }

    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(serializedSize)
        serialize(into: &out)
        return out
    }

    public func serialize(into out: inout [UInt8]) {
        let csrcCount = UInt8(min(15, csrcs.count))
        out.append(0x80 | (paddingLength > 0 ? 0x20 : 0) | (extensions.isEmpty ? 0 : 0x10) | csrcCount)
        out.append((marker ? 0x80 : 0) | (payloadType & 0x7F))
        appendU16(&out, sequenceNumber)
        appendU32(&out, timestamp)
        appendU32(&out, ssrc)
        for csrc in csrcs.prefix(15) { appendU32(&out, csrc) }
        if !extensions.isEmpty {
            let oneByte = fitsOneByteExtensions
            appendU16(&out, oneByte ? 0xBEDE : 0x1000)
            let lengthAt = out.count
            appendU16(&out, 0)
            let start = out.count
            for element in extensions {
                if oneByte {
                    out.append(element.id << 4 | UInt8(element.value.count - 1))
                } else {
                    out.append(element.id)
                    out.append(UInt8(min(255, element.value.count)))
                }
                out.append(contentsOf: oneByte ? element.value[...] : element.value.prefix(255))
            }
            while (out.count - start) % 4 != 0 { out.append(0) }
            let words = UInt16((out.count - start) / 4)
            out[lengthAt] = UInt8(words >> 8)
            out[lengthAt + 1] = UInt8(words & 0xFF)
        }
        out.append(contentsOf: payload)
        if paddingLength > 0 {
            out.append(contentsOf: repeatElement(0, count: Int(paddingLength) - 1))
            out.append(paddingLength)
        }
    }
}

// MARK: Big-endian helpers shared by RTP and RTCP

@inline(__always) func readU16(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
@inline(__always) func readU24(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
    UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
}
@inline(__always) func readU32(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
}
@inline(__always) func appendU16(_ out: inout [UInt8], _ v: UInt16) { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF)) }
@inline(__always) func appendU24(_ out: inout [UInt8], _ v: UInt32) {
    out.append(UInt8((v >> 16) & 0xFF)); out.append(UInt8((v >> 8) & 0xFF)); out.append(UInt8(v & 0xFF))
}
@inline(__always) func appendU32(_ out: inout [UInt8], _ v: UInt32) {
    out.append(UInt8(v >> 24)); out.append(UInt8((v >> 16) & 0xFF)); out.append(UInt8((v >> 8) & 0xFF)); out.append(UInt8(v & 0xFF))
}
