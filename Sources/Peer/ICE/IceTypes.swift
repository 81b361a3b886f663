// ICE public types: credentials (RFC 8445 §5.3, RFC 8839 §5.4 lengths), roles (§6.1.1),
// connection states (W3C RTCIceConnectionState names), configuration, and candidate priority and
// foundation rules (RFC 8445 §5.1.2, §5.1.1.3).

/// Short-term credentials of one ICE generation. RFC 8839 §5.4: ufrag 4-256 chars, pwd 22-256,
/// from ice-char; 128 bits of randomness are enough for the pwd (RFC 8445 §5.3 asks ≥ 128).
public struct IceCredentials: Sendable, Hashable, CustomStringConvertible {
    public var ufrag: String
    public var pwd: String
    public init(ufrag: String, pwd: String) {
        self.ufrag = ufrag
        self.pwd = pwd
    }

    public static func random() -> IceCredentials {
        IceCredentials(ufrag: randomIceChars(8), pwd: randomIceChars(24))
    }

    static func randomIceChars(_ n: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var rng = SystemRandomNumberGenerator()
        return String((0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
    }

    public var description: String { "ufrag \(ufrag)" }
}

public enum IceRole: String, Sendable, Hashable {
    case controlling, controlled
}

/// The W3C RTCIceConnectionState values.
public enum IceConnectionState: String, Sendable, Hashable {
    case new, checking, connected, completed, disconnected, failed, closed
}

public struct StunServer: Sendable, Hashable {
    public var host: String
    public var port: UInt16
    public init(host: String, port: UInt16 = 3478) {
        self.host = host
        self.port = port
    }
}

/// A TURN server (RFC 8656) reached over UDP with long-term credentials (for coturn's REST
/// scheme: username "<expiry>:<name>", password base64(HMAC-SHA1(secret, username))).
public struct TurnServer: Sendable, Hashable {
    public var host: String
    public var port: UInt16
    public var username: String
    public var password: String
    public init(host: String, port: UInt16 = 3478, username: String, password: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }
}

public struct IceConfiguration: Sendable {
    public var stunServers: [StunServer] = []
    public var turnServers: [TurnServer] = []
    /// Gather only 127.0.0.1 (tests): nothing reaches the machine's real interfaces.
    public var loopbackOnly = false
    /// Offer and use only relayed candidates (RFC 8445 §5.1.1.2; W3C iceTransportPolicy "relay").
    public var relayOnly = false
    public var includeIPv6 = true
    /// RFC 7675 §5.1: consent expires 30 s after the last successful consent check.
    public var consentTimeout: Double = 30
    /// RFC 7675 §5.1: consent checks every 5 s, randomised ±20 %.
    public var consentInterval: Double = 5
    /// No inbound packet on the selected pair for this long → "disconnected" (W3C; not an RFC
    /// value). Longer than the largest consent interval (6 s), so an idle but healthy pair never
    /// flaps.
    public var disconnectedTimeout: Double = 7
    /// RFC 8445 §14.2: pacing Ta between new checks (50 ms is the default the RFC allows).
    public var pacing: Double = 0.05
    /// First retransmission timeout of a connectivity check; doubles per retransmission.
    public var checkRTO: Double = 0.2
    /// Sends of one check before its pair fails (RFC 8489 Rc = 7).
    public var checkMaxSends = 7
    /// Without any valid pair after this long in "checking" → failed.
    public var checkingTimeout: Double = 30
    /// Seed for consent jitter (deterministic tests); nil = system random.
    public var randomSeed: UInt64? = nil

    public init(stunServers: [StunServer] = [], turnServers: [TurnServer] = [], loopbackOnly: Bool = false,
                relayOnly: Bool = false, includeIPv6: Bool = true, consentTimeout: Double = 30) {
        self.stunServers = stunServers
        self.turnServers = turnServers
        self.loopbackOnly = loopbackOnly
        self.relayOnly = relayOnly
        self.includeIPv6 = includeIPv6
        self.consentTimeout = consentTimeout
    }
}

public enum IceError: Error, Sendable, CustomStringConvertible {
    case socket(String)
    case resolve(String)
    public var description: String {
        switch self {
        case .socket(let s): "socket: \(s)"
        case .resolve(let s): "cannot resolve \(s)"
        }
    }
}

/// RFC 8445 §5.1.2.2 recommended type preferences.
enum CandidateKind: String, Sendable {
    case host, srflx, prflx, relay
    var typePreference: UInt32 {
        switch self {
        case .host: 126
        case .prflx: 110
        case .srflx: 100
        case .relay: 0
        }
    }
    var lineType: IceCandidateLine.CandidateType { IceCandidateLine.CandidateType(rawValue: rawValue) }
}

enum IcePriority {
    /// RFC 8445 §5.1.2.1: (2^24)·type pref + (2^8)·local pref + (256 − component id).
    static func candidate(kind: CandidateKind, localPreference: UInt32, component: UInt32 = 1) -> UInt32 {
        (kind.typePreference << 24) + ((localPreference & 0xFFFF) << 8) + (256 - component)
    }

    /// RFC 8445 §6.1.2.3: G is the controlling agent's candidate priority, D the controlled's.
    static func pair(controlling g: UInt32, controlled d: UInt32) -> UInt64 {
        let g = UInt64(g), d = UInt64(d)
        return (1 << 32) * min(g, d) + 2 * max(g, d) + (g > d ? 1 : 0)
    }
}
