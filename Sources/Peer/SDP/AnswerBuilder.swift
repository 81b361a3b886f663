// Building a JSEP answer (RFC 8829 §5.3.1) to a remote unified-plan offer:
// - one m= section per offered section, same order and mids (§5.3.1, RFC 3264 §6);
// - sections we cannot serve (data channels, no VP8/Opus, no rtcp-mux, already rejected by the
//   offerer) answered with port 0 and dropped from BUNDLE (RFC 8843 §7.3.3, RFC 3264 §6);
// - codecs: VP8 (+ its RTX by apt=, RFC 4588 §8.1) and Opus, keeping the offerer's payload
//   types (RFC 3264 §6.1: the answer uses the offer's payload type numbers);
// - rtcp-fb and extmaps: the intersection with what we implement, keeping the offerer's
//   extmap ids (RFC 8285 §7);
// - direction mirrored (RFC 3264 §6.1), a=setup:active for actpass (RFC 8829 §5.3.1, RFC 8842 §5).

/// Produces our answer to a remote offer.
public struct AnswerBuilder: Sendable {
    public var transport: SDPLocalTransport
    /// o= session id; JSEP asks for a random 62-bit number (RFC 8829 §5.2.1).
    public var sessionId: String
    public var sessionVersion: UInt64
    /// Role we take when the offer says actpass; `.active` saves the offerer a round trip.
    public var preferredSetup: SDPSetup
    public var audioTrack: SDPLocalTrack?
    public var videoTrack: SDPLocalTrack?

    public init(transport: SDPLocalTransport, sessionId: String = AnswerBuilder.randomSessionId(),
                sessionVersion: UInt64 = 2, preferredSetup: SDPSetup = .active,
                audioTrack: SDPLocalTrack? = nil, videoTrack: SDPLocalTrack? = nil) {
        self.transport = transport
        self.sessionId = sessionId
        self.sessionVersion = sessionVersion
        self.preferredSetup = preferredSetup
        self.audioTrack = audioTrack
        self.videoTrack = videoTrack
    }

    /// A random 62-bit decimal id (top bits clear so it stays positive in any signed parser).
    public static func randomSessionId() -> String {
        String(UInt64.random(in: 1...(UInt64(1) << 62)))
    }

    /// The answer to `offer`.
    public func answer(to offer: SDPSession) -> SDPSession {
        var answer = SDPSession(origin: SDPOrigin(sessionId: sessionId, sessionVersion: sessionVersion))
        answer.media = offer.media.map { answerSection(for: $0, in: offer) }

        // BUNDLE: the offered group minus what we rejected, in the offer's order (RFC 8843 §7.3).
        if let offered = offer.bundleMids {
            let accepted = answer.media.filter { !$0.isRejected }.compactMap(\.mid)
            let mids = offered.filter { accepted.contains($0) }
            if !mids.isEmpty { answer.groups = [SDPGroup(semantics: "BUNDLE", mids: mids)] }
        }
        let tracks = [audioTrack, videoTrack].compactMap { $0 }
        answer.msidSemantic = SDPSupport.msidSemantic(tracks)
        return answer
    }

    func answerSection(for offered: SDPMedia, in offer: SDPSession) -> SDPMedia {
        // Port 0 with a=bundle-only is not a rejection but "use the BUNDLE transport" (RFC 8843 §6).
        let bundleOnly = offered.otherAttributes.contains { $0.name == "bundle-only" }
        guard !offered.isRejected || bundleOnly, offered.rtcpMux, offered.proto.contains("RTP"),
              offered.kind == .audio || offered.kind == .video else {
            return rejected(offered)
        }
        var m = SDPMedia(kind: offered.kind, port: 9, proto: offered.proto)
        m.mid = offered.mid
        let feedbackFilter: (SDPRtcpFeedback) -> Bool = { SDPSupport.feedback.contains($0.kind) }

        if offered.kind == .video {
            guard var vp8 = offered.pick(name: "VP8") else { return rejected(offered) }
            vp8.rtcpFeedback = Self.dedupe(vp8.rtcpFeedback.filter(feedbackFilter))
            m.append(codec: vp8)
            if var rtx = offered.rtx(for: vp8.payloadType) {
                rtx.rtcpFeedback = []
                m.append(codec: rtx)
            }
        } else {
            // Opus is always 48000/2 in SDP (RFC 7587 §7); ignore odd variants.
            guard var opus = offered.pick(name: "opus", where: { $0.clockRate == 48000 }) else {
                return rejected(offered)
            }
            opus.rtcpFeedback = Self.dedupe(opus.rtcpFeedback.filter(feedbackFilter))
            opus.fmtp = opus.fmtp ?? SDPSupport.opusFmtp
            m.append(codec: opus)
        }

        let setup = (offer.setup(for: offered) ?? .actpass).answering(preferring: preferredSetup)
        transport.apply(to: &m, setup: setup)
        let direction = offered.effectiveDirection.reversed
        m.direction = direction
        m.extmaps = offered.extmaps
            .filter { SDPSupport.headerExtensions.contains($0.uri) }
            .map { SDPExtmap(id: $0.id, direction: $0.direction?.reversed, uri: $0.uri) }
        m.rtcpMux = true
        m.rtcpRsize = offered.rtcpRsize
        if direction == .sendrecv || direction == .sendonly,
           let track = offered.kind == .video ? videoTrack : audioTrack {
            track.apply(to: &m, withRTX: m.formats.count > 1)
        }
        return m
    }

    /// A rejected section: port 0, the offer's kind, proto and formats (the m= line needs at
    /// least one format), and its mid so the offerer can match it (RFC 8829 §5.3.1).
    func rejected(_ offered: SDPMedia) -> SDPMedia {
        var m = SDPMedia(kind: offered.kind, port: 0, proto: offered.proto, formats: offered.formats)
        m.connection = SDPConnection()
        m.mid = offered.mid
        return m
    }

    /// rtcp-fb can reach a codec both by its payload type and by "*"; write each kind once.
    static func dedupe(_ items: [SDPRtcpFeedback]) -> [SDPRtcpFeedback] {
        var seen = Set<String>()
        return items.filter { seen.insert($0.kind).inserted }
    }
}
