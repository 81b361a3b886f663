// Building our JSEP offer (RFC 8829 §5.2.1): one audio and one video m= section, both
// BUNDLEd (RFC 8843 §7.2, max-bundle so one transport), rtcp-mux (RFC 5761 §5.1.3),
// a=setup:actpass (RFC 8842 §5.2, lets the answerer pick the DTLS role), trickle ICE
// (RFC 8840 §4.1.3). Codecs are the ones we implement, with the payload types Chromium
// uses so logs from both sides read alike: Opus 111 (RFC 7587 §7), VP8 96 (RFC 7741 §6.1)
// and its RTX 97 (RFC 4588 §8.1).

/// Produces our offer.
public struct OfferBuilder: Sendable {
    public var transport: SDPLocalTransport
    public var sessionId: String
    /// Increment for each renegotiation (RFC 8829 §5.2.2).
    public var sessionVersion: UInt64
    public var audioTrack: SDPLocalTrack?
    public var videoTrack: SDPLocalTrack?
    public var audioMid = "0"
    public var videoMid = "1"

    public static let opusPayloadType = 111
    public static let vp8PayloadType = 96
    public static let rtxPayloadType = 97

    public init(transport: SDPLocalTransport, sessionId: String = AnswerBuilder.randomSessionId(),
                sessionVersion: UInt64 = 2, audioTrack: SDPLocalTrack? = nil, videoTrack: SDPLocalTrack? = nil) {
        self.transport = transport
        self.sessionId = sessionId
        self.sessionVersion = sessionVersion
        self.audioTrack = audioTrack
        self.videoTrack = videoTrack
    }

    public func offer() -> SDPSession {
        var s = SDPSession(origin: SDPOrigin(sessionId: sessionId, sessionVersion: sessionVersion))
        s.groups = [SDPGroup(semantics: "BUNDLE", mids: [audioMid, videoMid])]
        s.msidSemantic = SDPSupport.msidSemantic([audioTrack, videoTrack].compactMap { $0 })
        s.media = [audioSection(), videoSection()]
        return s
    }

    func audioSection() -> SDPMedia {
        var m = SDPMedia(kind: .audio)
        m.append(codec: SDPCodec(payloadType: Self.opusPayloadType, name: "opus", clockRate: 48000, channels: 2,
                                 fmtp: SDPSupport.opusFmtp,
                                 rtcpFeedback: [SDPRtcpFeedback(payload: "*", type: "transport-cc")]))
        finish(&m, mid: audioMid, track: audioTrack)
        return m
    }

    func videoSection() -> SDPMedia {
        var m = SDPMedia(kind: .video)
        let kinds: [(String, String?)] = [("goog-remb", nil), ("transport-cc", nil), ("ccm", "fir"), ("nack", nil), ("nack", "pli")]
        let feedback = kinds.map { SDPRtcpFeedback(payload: "*", type: $0.0, parameter: $0.1) }
        m.append(codec: SDPCodec(payloadType: Self.vp8PayloadType, name: "VP8", clockRate: 90000,
                                 rtcpFeedback: feedback))
        m.append(codec: SDPCodec(payloadType: Self.rtxPayloadType, name: "rtx", clockRate: 90000,
                                 fmtp: "apt=\(Self.vp8PayloadType)"))
        finish(&m, mid: videoMid, track: videoTrack)
        return m
    }

    private func finish(_ m: inout SDPMedia, mid: String, track: SDPLocalTrack?) {
        transport.apply(to: &m, setup: .actpass)
        m.mid = mid
        // Ids 1-3 fit the one-byte header form (RFC 8285 §4.2) that every peer accepts.
        m.extmaps = SDPSupport.headerExtensions.enumerated().map { SDPExtmap(id: $0.offset + 1, uri: $0.element) }
        m.direction = .sendrecv
        m.rtcpMux = true
        m.rtcpRsize = true
        track?.apply(to: &m, withRTX: m.kind == .video)
    }
}
