// What a remote description tells the transport and the media layer (JSEP, RFC 8829 §5.10-5.11):
// ICE credentials and candidates (RFC 8839 §5), the DTLS fingerprint and role (RFC 8842 §5), the
// BUNDLE group (RFC 8843), and per media section the SSRCs the peer announced (RFC 5576) and the
// payload types both sides agreed on.

/// The session description types JSEP exchanges (the seed's `{type, sdp}` objects).
public enum SessionDescriptionType: String, Sendable, Hashable {
    case offer, answer
}

/// W3C `RTCSignalingState` (the subset an endpoint without rollback and provisional answers uses).
public enum SignalingState: String, Sendable, Hashable {
    case stable
    case haveLocalOffer = "have-local-offer"
    case haveRemoteOffer = "have-remote-offer"
    case closed
}

/// W3C `RTCPeerConnectionState`: ICE and DTLS taken together.
public enum PeerConnectionState: String, Sendable, Hashable {
    case new, connecting, connected, disconnected, failed, closed
}

/// A clear, loggable reason why a description or candidate was refused.
public struct PeerConnectionError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One negotiated media section.
public struct NegotiatedMedia: Sendable, Equatable {
    public var mid: String
    public var kind: SDPMediaKind
    /// The peer sends on this section (its direction includes send).
    public var remoteSends: Bool
    /// We may send on this section.
    public var localSends: Bool
    /// The primary payload type (VP8 or Opus) and RTX, as the offerer numbered them.
    public var payloadType: Int?
    public var rtxPayloadType: Int?
    public var clockRate: Int
    /// SSRCs the peer announced in this section (a=ssrc), the primary first; RTX ones follow.
    public var remoteSSRCs: [UInt32]
    /// The extmap id of urn:ietf:params:rtp-hdrext:sdes:mid, if negotiated.
    public var midExtensionID: Int?
    /// The extmap ids of every header extension we implement (mid, abs-send-time, transport-wide
    /// sequence numbers), as the remote description numbered them (RFC 8285 §7: both sides use
    /// the offerer's ids).
    public var extensionIDs = RTPExtensionIDs()
}

/// The remote side's transport and media parameters, checked for what we need.
public struct NegotiatedSession: Sendable, Equatable {
    public var iceCredentials: IceCredentials
    public var fingerprint: DTLSFingerprint
    public var setup: SDPSetup
    public var candidates: [IceCandidateLine]
    public var endOfCandidates: Bool
    public var media: [NegotiatedMedia]

    /// Reads what we need from a parsed remote description; every missing piece is an error
    /// naming it (never a crash, never a half-applied description).
    public init(remote: SDPSession) throws(PeerConnectionError) {
        let active = remote.media.filter { !$0.isRejected || $0.otherAttributes.contains { $0.name == "bundle-only" } }
        guard let first = active.first else {
            throw PeerConnectionError("remote description has no usable media section")
        }
        // BUNDLE: one transport for all; its parameters come from the first bundled section.
        guard let ufrag = remote.iceUfrag(for: first), let pwd = remote.icePwd(for: first) else {
            throw PeerConnectionError("remote description has no a=ice-ufrag / a=ice-pwd")
        }
        guard ufrag.count >= 4, pwd.count >= 22 else {
            throw PeerConnectionError("remote ICE credentials too short (ufrag ≥ 4, pwd ≥ 22 characters, RFC 8839 §5.4)")
        }
        guard let sdpFingerprint = remote.fingerprints(for: first).first(where: { $0.algorithm.lowercased() == "sha-256" })
                ?? remote.fingerprints(for: first).first else {
            throw PeerConnectionError("remote description has no a=fingerprint")
        }
        iceCredentials = IceCredentials(ufrag: ufrag, pwd: pwd)
        fingerprint = DTLSFingerprint(algorithm: sdpFingerprint.algorithm.lowercased(), value: sdpFingerprint.value)
        setup = remote.setup(for: first) ?? .actpass
        candidates = active.flatMap(\.candidates).filter(\.isUDP)
        endOfCandidates = active.contains { $0.endOfCandidates }

        media = remote.media.compactMap { m -> NegotiatedMedia? in
            guard let mid = m.mid, m.kind == .audio || m.kind == .video, !m.isRejected || !active.isEmpty else { return nil }
            let codec = m.kind == .video ? m.pick(name: "VP8") : m.pick(name: "opus", where: { $0.clockRate == 48000 })
            let direction = m.effectiveDirection
            var ssrcs: [UInt32] = []
            // FID groups list the primary first; plain a=ssrc lines keep their order.
            for group in m.ssrcGroups where group.semantics == "FID" {
                for s in group.ssrcs where !ssrcs.contains(s) { ssrcs.append(s) }
            }
            for s in m.ssrcs.map(\.ssrc) where !ssrcs.contains(s) { ssrcs.append(s) }
            return NegotiatedMedia(
                mid: mid, kind: m.kind,
                remoteSends: !m.isRejected && (direction == .sendrecv || direction == .sendonly),
                localSends: !m.isRejected && (direction == .sendrecv || direction == .recvonly),
                payloadType: codec?.payloadType,
                rtxPayloadType: codec.flatMap { m.rtx(for: $0.payloadType)?.payloadType },
                clockRate: codec?.clockRate ?? (m.kind == .video ? 90000 : 48000),
                remoteSSRCs: ssrcs,
                midExtensionID: m.extmaps.first { $0.uri == SDPSupport.midURI }?.id,
                extensionIDs: RTPExtensionIDs(extmap: m.extmaps.map { (id: $0.id, uri: $0.uri) }))
        }
    }

    /// Our DTLS role given the remote a=setup (RFC 8842 §5.1): the remote "active" makes us the
    /// server; "passive" makes us the client; an offer's "actpass" lets us (the answerer) choose
    /// active, i.e. client, which is what our answers say.
    public var localDTLSRole: DTLSRole {
        switch setup {
        case .active: .server
        case .passive, .actpass, .holdconn: .client
        }
    }
}
