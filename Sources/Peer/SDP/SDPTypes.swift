// Value types for SDP session- and transport-level fields:
// RFC 8866 §5.2 (o=), §5.7 (c=), §5.9 (t=), §6.7 (direction attributes);
// RFC 5888 §5 (a=group), RFC 8843 (BUNDLE); RFC 8122 §5 (a=fingerprint, a=setup);
// RFC 8839 §5.4-5.6 (ice-ufrag/pwd/options).
// Fields keep the text as sent where browsers disagree on spelling (e.g. "UDP" vs "udp")
// so a parse → serialize round trip is lossless.

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2).
public struct SDPOrigin: Equatable, Sendable {
    public var username: String
    /// Kept as text: Chromium sends 19-digit ids, and JSEP (RFC 8829 §5.2.1) only asks for digits.
    public var sessionId: String
    public var sessionVersion: UInt64
    public var netType: String
    public var addressType: String
    public var address: String

    public init(username: String = "-", sessionId: String, sessionVersion: UInt64 = 2,
                netType: String = "IN", addressType: String = "IP4", address: String = "127.0.0.1") {
        self.username = username
        self.sessionId = sessionId
        self.sessionVersion = sessionVersion
        self.netType = netType
        self.addressType = addressType
        self.address = address
    }
}

/// `t=<start-time> <stop-time>` (RFC 8866 §5.9); WebRTC always sends `t=0 0`.
public struct SDPTiming: Equatable, Sendable {
    public var start: UInt64
    public var stop: UInt64
    public init(start: UInt64 = 0, stop: UInt64 = 0) {
        self.start = start
        self.stop = stop
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7).
public struct SDPConnection: Equatable, Sendable {
    public var netType: String
    public var addressType: String
    public var address: String
    public init(netType: String = "IN", addressType: String = "IP4", address: String = "0.0.0.0") {
        self.netType = netType
        self.addressType = addressType
        self.address = address
    }
}

/// `a=group:<semantics> <mid> ...` (RFC 5888 §5); BUNDLE is RFC 8843.
public struct SDPGroup: Equatable, Sendable {
    public var semantics: String
    public var mids: [String]
    public init(semantics: String, mids: [String]) {
        self.semantics = semantics
        self.mids = mids
    }
}

/// `a=fingerprint:<hash-func> <fingerprint>` (RFC 8122 §5); aiortc offers sha-256/384/512.
public struct SDPFingerprint: Equatable, Sendable {
    public var algorithm: String
    /// Upper-case hex pairs separated by colons, as sent.
    public var value: String
    public init(algorithm: String, value: String) {
        self.algorithm = algorithm
        self.value = value
    }
}

/// `a=setup` (RFC 4145 §4, used by DTLS-SRTP per RFC 8122 §5 and JSEP §5.3.1).
public enum SDPSetup: String, Equatable, Sendable {
    case actpass, active, passive, holdconn

    /// The role an answerer takes for a given offered role. JSEP (RFC 8829 §5.3.1) tells the
    /// answerer to pick `active` for `actpass`, which also saves a round trip for the offerer.
    public func answering(preferring preferred: SDPSetup = .active) -> SDPSetup {
        switch self {
        case .actpass: return preferred == .passive ? .passive : .active
        case .active: return .passive
        case .passive: return .active
        case .holdconn: return .holdconn
        }
    }
}

/// Media direction attributes (RFC 8866 §6.7; answer rules RFC 3264 §6.1).
public enum SDPDirection: String, Equatable, Sendable {
    case sendrecv, sendonly, recvonly, inactive

    /// The direction an answerer mirrors: what the offerer sends we receive and vice versa.
    public var reversed: SDPDirection {
        switch self {
        case .sendrecv: return .sendrecv
        case .sendonly: return .recvonly
        case .recvonly: return .sendonly
        case .inactive: return .inactive
        }
    }
}

/// `m=` media type (RFC 8866 §5.14); kept open so unknown types ("message", "text") survive.
public struct SDPMediaKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let audio = SDPMediaKind(rawValue: "audio")
    public static let video = SDPMediaKind(rawValue: "video")
    public static let application = SDPMediaKind(rawValue: "application")
    public var description: String { rawValue }
}

/// An attribute this model has no field for, kept verbatim and in order (`a=<name>[:<value>]`).
public struct SDPAttribute: Equatable, Sendable {
    public var name: String
    public var value: String?
    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
    var line: String { value.map { "a=\(name):\($0)" } ?? "a=\(name)" }
}

/// A non-attribute line the model does not interpret (`i=`, `u=`, `b=`, `k=` ...), kept verbatim.
public struct SDPLine: Equatable, Sendable {
    public var type: Character
    public var value: String
    public init(type: Character, value: String) {
        self.type = type
        self.value = value
    }
}

/// `a=msid:<stream-id> [<track-id>]` (RFC 8830 §2); Chromium writes "-" for no stream.
public struct SDPMsid: Equatable, Sendable {
    public var streamId: String
    public var trackId: String?
    public init(streamId: String, trackId: String? = nil) {
        self.streamId = streamId
        self.trackId = trackId
    }
    var value: String { trackId.map { "\(streamId) \($0)" } ?? streamId }
}
