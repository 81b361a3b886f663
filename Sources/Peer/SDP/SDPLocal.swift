// What our endpoint puts into every offer or answer it writes: the ICE credentials
// (RFC 8839 §5.4), DTLS fingerprint and role (RFC 8122 §5, RFC 8842 §5), trickle
// (RFC 8840 §4.1.3), and the tracks we send (msid RFC 8830 §2, ssrc/cname RFC 5576 §4.1,
// RTX FID group RFC 4588 §8.1). The header extensions and feedback we implement live here
// too, so the offer and the answer builders cannot drift apart.

/// Our transport parameters, shared by all sections of a BUNDLE group (RFC 8843 §7.1.3).
public struct SDPLocalTransport: Equatable, Sendable {
    public var iceUfrag: String
    public var icePwd: String
    public var fingerprint: SDPFingerprint
    /// Candidates already gathered (non-trickle peers need them in the SDP).
    public var candidates: [IceCandidateLine]
    /// Gathering finished: write a=end-of-candidates (RFC 8840 §4.1.4).
    public var endOfCandidates: Bool
    /// Advertise a=ice-options:trickle (RFC 8840 §4.1.3).
    public var trickle: Bool

    public init(iceUfrag: String, icePwd: String, fingerprint: SDPFingerprint,
                candidates: [IceCandidateLine] = [], endOfCandidates: Bool = false, trickle: Bool = true) {
        self.iceUfrag = iceUfrag
        self.icePwd = icePwd
        self.fingerprint = fingerprint
        self.candidates = candidates
        self.endOfCandidates = endOfCandidates
        self.trickle = trickle
    }

    func apply(to m: inout SDPMedia, setup: SDPSetup) {
        m.connection = SDPConnection()
        m.iceUfrag = iceUfrag
        m.icePwd = icePwd
        m.iceOptions = trickle ? ["trickle"] : []
        m.fingerprints = [fingerprint]
        m.setup = setup
        m.candidates = candidates
        m.endOfCandidates = endOfCandidates
    }
}

/// A track we send: announced with a=msid and a=ssrc so the peer can map SSRCs to tracks
/// before the first packet (Chromium and aiortc both use the ssrc lines).
public struct SDPLocalTrack: Equatable, Sendable {
    public var streamId: String
    public var trackId: String
    public var ssrc: UInt32
    /// Retransmission SSRC, paired with `ssrc` by a=ssrc-group:FID (video only).
    public var rtxSsrc: UInt32?
    public var cname: String

    public init(streamId: String, trackId: String, ssrc: UInt32, rtxSsrc: UInt32? = nil, cname: String) {
        self.streamId = streamId
        self.trackId = trackId
        self.ssrc = ssrc
        self.rtxSsrc = rtxSsrc
        self.cname = cname
    }

    func apply(to m: inout SDPMedia, withRTX: Bool) {
        m.msids = [SDPMsid(streamId: streamId, trackId: trackId)]
        var ssrcList = [ssrc]
        if withRTX, let rtxSsrc {
            ssrcList.append(rtxSsrc)
            m.ssrcGroups = [SDPSsrcGroup(semantics: "FID", ssrcs: ssrcList)]
        }
        m.ssrcs = ssrcList.flatMap { s in
            [SDPSsrcAttribute(ssrc: s, attribute: "cname", value: cname),
             SDPSsrcAttribute(ssrc: s, attribute: "msid", value: "\(streamId) \(trackId)")]
        }
    }
}

/// The RTP features this endpoint implements, used when building offers and answers.
public enum SDPSupport {
    public static let midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"
    public static let absSendTimeURI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    public static let transportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    /// Header extensions (RFC 8285) we read and write.
    public static let headerExtensions: [String] = [midURI, absSendTimeURI, transportCCURI]
    /// RTCP feedback (RFC 4585 §4.2 "type [parameter]") we act on; goog-remb and transport-cc
    /// are the browser congestion-control feedback formats.
    public static let feedback: Set<String> = ["nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"]
    /// Our Opus receive parameters (RFC 7587 §6.1); in-band FEC because the appliance is on Wi-Fi.
    public static let opusFmtp = "minptime=10;useinbandfec=1"

    static func msidSemantic(_ tracks: [SDPLocalTrack]) -> String {
        var streams: [String] = []
        for t in tracks where !streams.contains(t.streamId) { streams.append(t.streamId) }
        return ([" WMS"] + streams).joined(separator: " ")
    }
}
