// The session description model: RFC 8866 §5 (session and media lines) as used by
// JSEP (RFC 8829 §5.2 offers, §5.3 answers) in unified plan with BUNDLE (RFC 8843).
// Attributes a WebRTC endpoint acts on get typed fields; anything else is kept in
// `otherAttributes` / `otherLines` in order, so what Chromium, Firefox or aiortc send
// survives parse → serialize (named SDPSession to avoid SignalingCore.SessionDescription).

/// A parsed SDP offer or answer.
public struct SDPSession: Equatable, Sendable {
    public var version: Int = 0
    public var origin: SDPOrigin
    public var sessionName: String = "-"
    public var timing = SDPTiming()
    public var connection: SDPConnection?
    /// Uninterpreted session-level lines (i=, u=, e=, p=, b=, r=, z=, k=).
    public var otherLines: [SDPLine] = []

    /// `a=group:` lines, BUNDLE first in practice (RFC 8843 §7).
    public var groups: [SDPGroup] = []
    /// Raw value of `a=msid-semantic:`; Chromium writes " WMS id" (leading space), Firefox "WMS *".
    public var msidSemantic: String?
    public var iceOptions: [String] = []
    /// Session-level ICE credentials (Firefox and aiortc may place them here; RFC 8839 §5.4).
    public var iceUfrag: String?
    public var icePwd: String?
    public var iceLite = false
    public var fingerprints: [SDPFingerprint] = []
    public var setup: SDPSetup?
    public var otherAttributes: [SDPAttribute] = []

    public var media: [SDPMedia] = []

    public init(origin: SDPOrigin, media: [SDPMedia] = []) {
        self.origin = origin
        self.media = media
    }

    /// The mids of the first BUNDLE group, if any.
    public var bundleMids: [String]? { groups.first(where: { $0.semantics == "BUNDLE" })?.mids }

    /// Media section by mid.
    public func media(mid: String) -> SDPMedia? { media.first(where: { $0.mid == mid }) }

    /// ICE ufrag for a media section: its own, else the session-level one (RFC 8839 §5.4).
    public func iceUfrag(for m: SDPMedia) -> String? { m.iceUfrag ?? iceUfrag }
    public func icePwd(for m: SDPMedia) -> String? { m.icePwd ?? icePwd }
    public func fingerprints(for m: SDPMedia) -> [SDPFingerprint] { m.fingerprints.isEmpty ? fingerprints : m.fingerprints }
    public func setup(for m: SDPMedia) -> SDPSetup? { m.setup ?? setup }
}

/// One m= section.
public struct SDPMedia: Equatable, Sendable {
    public var kind: SDPMediaKind
    /// 0 means rejected (RFC 8829 §5.3.1, RFC 3264 §6); 9 is the JSEP placeholder port.
    public var port: Int
    /// `<port>/<number of ports>` (RFC 8866 §5.14); never used by WebRTC but legal.
    public var portCount: Int?
    public var proto: String
    /// The m= format list: payload types for RTP, "webrtc-datachannel" for SCTP.
    public var formats: [String]

    public var connection: SDPConnection?
    /// Uninterpreted media-level lines (i=, b=, k=).
    public var otherLines: [SDPLine] = []

    public var mid: String?
    public var msids: [SDPMsid] = []
    public var iceUfrag: String?
    public var icePwd: String?
    public var iceOptions: [String] = []
    public var fingerprints: [SDPFingerprint] = []
    public var setup: SDPSetup?
    public var direction: SDPDirection?
    public var rtcpMux = false
    public var rtcpMuxOnly = false
    public var rtcpRsize = false
    public var rtpMaps: [SDPRtpMap] = []
    public var fmtps: [SDPFmtp] = []
    public var rtcpFeedback: [SDPRtcpFeedback] = []
    public var extmaps: [SDPExtmap] = []
    public var ssrcGroups: [SDPSsrcGroup] = []
    public var ssrcs: [SDPSsrcAttribute] = []
    public var candidates: [IceCandidateLine] = []
    public var endOfCandidates = false
    public var otherAttributes: [SDPAttribute] = []

    public init(kind: SDPMediaKind, port: Int = 9, proto: String = "UDP/TLS/RTP/SAVPF", formats: [String] = []) {
        self.kind = kind
        self.port = port
        self.proto = proto
        self.formats = formats
    }

    /// Numeric payload types from the m= line (non-numeric formats skipped).
    public var payloadTypes: [Int] { formats.compactMap { Int($0) } }
    /// Port 0: the answerer (or offerer) rejected or stopped this section.
    public var isRejected: Bool { port == 0 }
    /// Absent direction means sendrecv (RFC 8866 §6.7).
    public var effectiveDirection: SDPDirection { direction ?? .sendrecv }

    /// Values of the first `a=<name>` unknown attribute.
    public func attribute(_ name: String) -> String? {
        otherAttributes.first(where: { $0.name == name })?.value
    }
}
