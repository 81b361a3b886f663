// One entry point that runs an arbitrary byte string through a Peer parser, for libFuzzer
// (`peer-fuzz`, scripts/fuzz peer) and for the corpus replay in PeerTests. The first byte picks the
// parser, the rest is its input. The invariant for every parser: any input decodes to a value or
// to an error (never a trap), and whatever decodes survives its own encoder and decodes again to
// the same value.

/// What one exercise run found: violated invariants (empty when all is well).
public struct PeerParserOutcome: Sendable {
    public var parser: String
    public var decoded: Bool
    public var violations: [String]
}

public enum PeerParserExercise {
    /// Parsers in the order the selector byte chooses them (`selector % count`).
    public static let parsers = ["stun", "channel-data", "sdp", "candidate", "demux", "rtp", "rtcp", "vp8"]

    public static func run(_ bytes: UnsafeRawBufferPointer) -> PeerParserOutcome {
        guard let selector = bytes.first else {
            return PeerParserOutcome(parser: "none", decoded: false, violations: [])
        }
        let input = Array(bytes.dropFirst())
        let parser = parsers[Int(selector) % parsers.count]
        var outcome = PeerParserOutcome(parser: parser, decoded: false, violations: [])
        switch parser {
        case "stun": stun(input, &outcome)
        case "channel-data": channelData(input, &outcome)
        case "sdp": sdp(input, &outcome)
        case "candidate": candidate(input, &outcome)
        case "rtp": media(MediaParserExercise.rtp(input), &outcome)
        case "rtcp": media(MediaParserExercise.rtcp(input), &outcome)
        case "vp8": media(MediaParserExercise.vp8(input), &outcome)
        default:
            _ = PacketKind.classify(input)
            outcome.decoded = true
        }
        return outcome
    }

    /// RTP (RFC 3550 §5.1, RFC 8285), RTCP (RFC 3550 §6.4, RFC 4585, RFC 5104, REMB, transport-wide
    /// CC) and the VP8 descriptor (RFC 7741 §4.2): the media layer's own round-trip checks.
    static func media(_ result: (decoded: Bool, violations: [String]), _ outcome: inout PeerParserOutcome) {
        outcome.decoded = result.decoded
        outcome.violations += result.violations
    }

    /// RFC 8489 §5: decode, then re-encode the decoded attributes and decode that again. The
    /// integrity and fingerprint attributes are recomputed by the encoder, so they are exercised
    /// against the received bytes only.
    static func stun(_ input: [UInt8], _ outcome: inout PeerParserOutcome) {
        guard let message = try? STUNMessage.decode(input) else { return }
        outcome.decoded = true
        _ = message.validateFingerprint()
        _ = message.validateIntegrity(key: [1, 2, 3])
        var copy = STUNMessage(message.messageClass, message.method, transactionID: message.transactionID)
        for attribute in message.attributes { copy.append(attribute) }
        let encoded = copy.encode()
        guard let again = try? STUNMessage.decode(encoded) else {
            outcome.violations.append("stun: re-encoded message does not decode")
            return
        }
        // The encoder regenerates the integrity and fingerprint attributes, so compare the rest.
        let regenerated: Set<STUNAttributeType> = [.messageIntegrity, .messageIntegritySHA256, .fingerprint]
        let kept = { (m: STUNMessage) in m.attributes.filter { !regenerated.contains($0.type) } }
        if kept(again) != kept(message) || again.method != message.method
            || again.messageClass != message.messageClass {
            outcome.violations.append("stun: re-encoded message decodes differently")
        }
    }

    /// RFC 8656 §12.4.
    static func channelData(_ input: [UInt8], _ outcome: inout PeerParserOutcome) {
        _ = TURNChannelData.framedLength(input)
        guard let frame = try? TURNChannelData.decode(input) else { return }
        outcome.decoded = true
        guard let again = try? TURNChannelData.decode(frame.encode(padded: true)) else {
            outcome.violations.append("channel-data: re-encoded frame does not decode")
            return
        }
        if again.channelNumber != frame.channelNumber || again.data != frame.data {
            outcome.violations.append("channel-data: re-encoded frame decodes differently")
        }
    }

    /// RFC 8866: parse → serialize → parse gives the same session.
    static func sdp(_ input: [UInt8], _ outcome: inout PeerParserOutcome) {
        guard let text = String(validating: input, as: UTF8.self),
              let session = try? SDPSession.parse(text) else { return }
        outcome.decoded = true
        do {
            let again = try SDPSession.parse(session.serialize())
            if again != session { outcome.violations.append("sdp: serialize → parse changes the session") }
        } catch {
            outcome.violations.append("sdp: our own output does not parse: \(error)")
        }
    }

    /// RFC 8839 §5.1.
    static func candidate(_ input: [UInt8], _ outcome: inout PeerParserOutcome) {
        guard let text = String(validating: input, as: UTF8.self),
              let line = try? IceCandidateLine.parse(text) else { return }
        outcome.decoded = true
        if (try? IceCandidateLine.parse(line.serialize())) != line {
            outcome.violations.append("candidate: serialize → parse changes the candidate")
        }
    }
}
