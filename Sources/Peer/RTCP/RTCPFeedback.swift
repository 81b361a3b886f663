// Feedback messages: generic NACK (RFC 4585 §6.2.1: PID + BLP bitmask), PLI (RFC 4585 §6.3.1),
// FIR (RFC 5104 §4.3.1) and REMB (draft-alvestrand-rmcat-remb-03 §2.2: 'REMB', 6-bit exponent,
// 18-bit mantissa). Every feedback message starts with sender and media SSRC (RFC 4585 §6.1).

private func ssrcPair(_ b: UnsafeBufferPointer<UInt8>, _ what: String) throws(RTCPError) -> (UInt32, UInt32) {
    guard b.count >= 8 else { throw .truncated("\(what) SSRCs") }
    return (readU32(b, 0), readU32(b, 4))
}

/// Generic NACK: the lost sequence numbers, packed as (PID, BLP) pairs on the wire.
public struct RTCPNack: Sendable, Equatable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    /// Lost packets in the order the FCI lists them.
    public var lostSequenceNumbers: [UInt16]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, lostSequenceNumbers: [UInt16]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.lostSequenceNumbers = lostSequenceNumbers
    }

    static func parse(body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPNack {
        let (sender, media) = try ssrcPair(b, "NACK")
        guard (b.count - 8) % 4 == 0, b.count > 8 else { throw .malformed("NACK without whole FCI entries") }
        var lost: [UInt16] = []
        for i in stride(from: 8, to: b.count, by: 4) {
            let pid = readU16(b, i), blp = readU16(b, i + 2)
            lost.append(pid)
            for bit in 0..<16 where blp & (1 << UInt16(bit)) != 0 { lost.append(pid &+ UInt16(bit + 1)) }
        }
        return RTCPNack(senderSSRC: sender, mediaSSRC: media, lostSequenceNumbers: lost)
    }

    /// (PID, BLP) pairs: each PID covers itself and the 16 following numbers. A number joins the
    /// previous entry only if it lies beyond that entry's last set bit, so parsing the entries
    /// gives back exactly this list (order and repeats included).
    public var fciEntries: [(pid: UInt16, blp: UInt16)] {
        var entries: [(pid: UInt16, blp: UInt16)] = []
        for seq in lostSequenceNumbers {
            if let last = entries.last {
                let distance = seq &- last.pid
                let used = last.blp == 0 ? 0 : 16 - UInt16(last.blp.leadingZeroBitCount)
                if distance >= 1 && distance <= 16 && distance > used {
                    entries[entries.count - 1].blp |= 1 << (distance - 1)
                    continue
                }
            }
            entries.append((seq, 0))
        }
        return entries
    }

    func serializeBody(into out: inout [UInt8]) {
        appendU32(&out, senderSSRC)
        appendU32(&out, mediaSSRC)
        for entry in fciEntries {
            appendU16(&out, entry.pid)
            appendU16(&out, entry.blp)
        }
    }
}

/// Picture Loss Indication: no FCI.
public struct RTCPPictureLossIndication: Sendable, Equatable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    static func parse(body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPPictureLossIndication {
        let (sender, media) = try ssrcPair(b, "PLI")
        return RTCPPictureLossIndication(senderSSRC: sender, mediaSSRC: media)
    }

    func serializeBody(into out: inout [UInt8]) {
        appendU32(&out, senderSSRC)
        appendU32(&out, mediaSSRC)
    }
}

/// Full Intra Request: media SSRC is 0; each FCI entry names a target SSRC and a command
/// sequence number (repeats carry the same number, RFC 5104 §4.3.1.2).
public struct RTCPFullIntraRequest: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var ssrc: UInt32
        public var sequenceNumber: UInt8
        public init(ssrc: UInt32, sequenceNumber: UInt8) {
            self.ssrc = ssrc
            self.sequenceNumber = sequenceNumber
        }
    }

    public var senderSSRC: UInt32
    public var entries: [Entry]

    public init(senderSSRC: UInt32, entries: [Entry]) {
        self.senderSSRC = senderSSRC
        self.entries = entries
    }

    static func parse(body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPFullIntraRequest {
        let (sender, _) = try ssrcPair(b, "FIR")
        guard (b.count - 8) % 8 == 0, b.count > 8 else { throw .malformed("FIR without whole FCI entries") }
        let entries = stride(from: 8, to: b.count, by: 8).map { Entry(ssrc: readU32(b, $0), sequenceNumber: b[$0 + 4]) }
        return RTCPFullIntraRequest(senderSSRC: sender, entries: entries)
    }

    func serializeBody(into out: inout [UInt8]) {
        appendU32(&out, senderSSRC)
        appendU32(&out, 0)
        for entry in entries {
            appendU32(&out, entry.ssrc)
            out.append(entry.sequenceNumber)
            out.append(contentsOf: [0, 0, 0])
        }
    }
}

/// Receiver Estimated Maximum Bitrate: bitrate = mantissa × 2^exponent bits per second.
public struct RTCPREMB: Sendable, Equatable {
    public var senderSSRC: UInt32
    public var bitrate: UInt64
    public var ssrcs: [UInt32]

    public init(senderSSRC: UInt32, bitrate: UInt64, ssrcs: [UInt32]) {
        self.senderSSRC = senderSSRC
        self.bitrate = bitrate
        self.ssrcs = ssrcs
    }

    static func parse(body b: UnsafeBufferPointer<UInt8>) throws(RTCPError) -> RTCPREMB {
        let (sender, _) = try ssrcPair(b, "REMB")
        guard b.count >= 16 else { throw .truncated("REMB bitrate") }
        let count = Int(b[12])
        let exponent = UInt64(b[13] >> 2)
        let mantissa = UInt64(b[13] & 0x03) << 16 | UInt64(b[14]) << 8 | UInt64(b[15])
        guard b.count >= 16 + 4 * count else { throw .truncated("REMB SSRC list") }
        let bitrate = exponent >= 46 ? UInt64.max : mantissa << exponent
        return RTCPREMB(senderSSRC: sender, bitrate: bitrate, ssrcs: (0..<count).map { readU32(b, 16 + 4 * $0) })
    }

    func serializeBody(into out: inout [UInt8]) {
        appendU32(&out, senderSSRC)
        appendU32(&out, 0)
        out.append(contentsOf: [0x52, 0x45, 0x4D, 0x42])  // "REMB"
        out.append(UInt8(min(255, ssrcs.count)))
        var mantissa = bitrate, exponent: UInt8 = 0
        while mantissa > 0x3FFFF { mantissa >>= 1; exponent += 1 }  // 18-bit mantissa, rounded down
        out.append(exponent << 2 | UInt8((mantissa >> 16) & 0x03))
        out.append(UInt8((mantissa >> 8) & 0xFF))
        out.append(UInt8(mantissa & 0xFF))
        for ssrc in ssrcs.prefix(255) { appendU32(&out, ssrc) }
    }
}
