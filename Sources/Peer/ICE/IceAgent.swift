// The ICE agent, RFC 8445, as a sans-I/O state machine (no sockets, no clocks): the driver feeds
// it datagrams and the time, calls `handleTimeout` when `nextTimeout` passes, and drains
// `pollTransmit` / `pollEvent`. Gathering (§5.1.1), pairing and checklist pacing (§6.1.2, §6.1.4),
// regular nomination (§8.1.1), trickle (RFC 8838), consent freshness (RFC 7675) and ICE restart
// (§9) live here; STUN request/response processing (§7.2, §7.3) is in IceAgent+Checks.swift.
//
// Simplification: one data stream and one component (BUNDLE + rtcp-mux, as WebRTC uses), so every
// pair starts Waiting instead of using foundation-based unfreezing (§6.1.2.6); pacing by Ta
// still bounds the check rate.

/// A datagram to put on the wire from the driver's socket `socket`.
public struct IceTransmit: Sendable {
    public var socket: Int
    public var destination: STUNAddress
    public var bytes: [UInt8]
}

public enum IceEvent: Sendable {
    case localCandidate(IceCandidateLine)
    case endOfCandidates
    case stateChanged(IceConnectionState)
    case selectedPair(String)
    case roleChanged(IceRole)
    case log(String)
}

struct LocalCandidate {
    var kind: CandidateKind
    var address: STUNAddress
    var base: STUNAddress
    var socket: Int
    var turn: Int?
    var priority: UInt32
    var localPreference: UInt32
    var foundation: String
    var related: STUNAddress?
    /// Host (unless relay-only) and relay candidates form pairs; server-reflexive ones are
    /// replaced by their base (§6.1.2.4) so they never do.
    var pairable: Bool
    var advertised: Bool
}

struct RemoteCandidate {
    var address: STUNAddress
    var priority: UInt32
    var type: String
}

enum PairState { case waiting, inProgress, succeeded, failed }

struct CandidatePair {
    var local: Int
    var remote: Int
    var priority: UInt64
    var state: PairState = .waiting
    var nominated = false
    var remoteNominated = false
    var nominateNext = false
}

/// The pair carrying data, with the credentials of the generation it was chosen in, so consent
/// checks on it keep working across an ICE restart until a new pair is nominated (§9).
struct SelectedPath {
    var local: LocalCandidate
    var remote: STUNAddress
    var remoteType: String
    var localCredentials: IceCredentials
    var remoteCredentials: IceCredentials
    var description: String {
        let via = local.kind == .relay ? " via TURN" : ""
        return "\(local.kind.rawValue) \(local.address) ↔ \(remoteType) \(remote)\(via)"
    }
}

enum TransactionKind {
    case check(pair: Int, useCandidate: Bool, generation: Int, controlling: Bool)
    case consent
    case serverReflexive(socket: Int)
}

struct CheckTransaction {
    var kind: TransactionKind
    var bytes: [UInt8]
    var local: Int        // local candidate index (host socket for srflx)
    var remote: STUNAddress
    var key: [UInt8]
    var sends = 1
    var nextSend: Double
    var rto: Double
}

struct TurnSlot {
    var socket: Int
    var client: TurnClient
    var relayLocal: Int?
    var pending = true
}

public final class IceAgent {
    let config: IceConfiguration
    public internal(set) var role: IceRole
    let tieBreaker: UInt64
    public internal(set) var localCredentials: IceCredentials
    var previousLocal: IceCredentials?
    public internal(set) var remoteCredentials: IceCredentials?
    public internal(set) var state: IceConnectionState = .new
    var rng: SeededRandom

    let stunServers: [STUNAddress]
    let turnServers: [(STUNAddress, TurnServer)]
    var sockets: [STUNAddress] = []
    var hostLocal: [Int: Int] = [:]
    var locals: [LocalCandidate] = []
    var remotes: [RemoteCandidate] = []
    var pairs: [CandidatePair] = []
    var triggered: [Int] = []
    var transactions: [STUNTransactionID: CheckTransaction] = [:]
    var turns: [TurnSlot] = []
    var foundations: [String: String] = [:]
    var generation = 0

    var pendingGather = 0
    var socketsComplete = false
    var gatheringDone = false
    var remoteEnded = false
    var nextCheckAt: Double = 0
    var checkingSince: Double?
    var firstValidAt: Double?
    var nominatingPair: Int?
    var selectedPair: Int?
    var selected: SelectedPath?
    var consentExpires = Double.infinity
    var nextConsentAt = Double.infinity
    var lastInbound: Double = 0
    /// Remote addresses data may come from: authenticated requesters and succeeded pairs.
    var validRemotes: Set<STUNAddress> = []

    private var transmits: [IceTransmit] = []
    private var transmitHead = 0
    private var events: [IceEvent] = []

    /// Server addresses must already be resolved (the driver does that).
    public init(configuration: IceConfiguration, role: IceRole, stunServers: [STUNAddress] = [],
                turnServers: [(STUNAddress, TurnServer)] = [], credentials: IceCredentials = .random(),
                tieBreaker: UInt64 = UInt64.random(in: 0...UInt64.max)) {
        config = configuration
        self.role = role
        self.tieBreaker = tieBreaker
        localCredentials = credentials
        self.stunServers = stunServers
        self.turnServers = turnServers
        rng = SeededRandom(seed: configuration.randomSeed ?? UInt64.random(in: 0...UInt64.max))
    }

    // MARK: Output

    public func pollTransmit() -> IceTransmit? {
        guard transmitHead < transmits.count else {
            if !transmits.isEmpty { transmits.removeAll(keepingCapacity: true); transmitHead = 0 }
            return nil
        }
        defer { transmitHead += 1 }
        return transmits[transmitHead]
    }

    /// True when transmits or events wait to be drained.
    public var hasPendingOutput: Bool { transmitHead < transmits.count || !events.isEmpty }

    public func pollEvent() -> IceEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    func transmit(_ bytes: [UInt8], socket: Int, to destination: STUNAddress) {
        transmits.append(IceTransmit(socket: socket, destination: destination, bytes: bytes))
    }

    func event(_ e: IceEvent) { events.append(e) }

    func setState(_ s: IceConnectionState) {
        guard state != s, state != .closed else { return }
        state = s
        events.append(.stateChanged(s))
    }

    /// Sends `bytes` from local candidate `li` to `remote`, through TURN when the candidate is relayed.
    func emit(_ bytes: [UInt8], from li: Int, to remote: STUNAddress) {
        emit(bytes, from: locals[li], to: remote)
    }

    func emit(_ bytes: [UInt8], from local: LocalCandidate, to remote: STUNAddress) {
        if let t = local.turn {
            guard let wrapped = turns[t].client.wrap(bytes, to: remote) else { return }
            transmit(wrapped, socket: turns[t].socket, to: turns[t].client.server)
        } else {
            transmit(bytes, socket: local.socket, to: remote)
        }
    }

    // MARK: Gathering (§5.1.1)

    /// The driver bound a socket on a host address: host candidate, then srflx and relay from it.
    @discardableResult
    public func addSocket(_ address: STUNAddress, now: Double) -> Int {
        let s = sockets.count
        sockets.append(address)
        let pref = localPreference(address, index: s)
        let host = LocalCandidate(kind: .host, address: address, base: address, socket: s, turn: nil,
                                  priority: IcePriority.candidate(kind: .host, localPreference: pref),
                                  localPreference: pref, foundation: foundation(.host, address, nil),
                                  related: nil, pairable: !config.relayOnly, advertised: !config.relayOnly)
        hostLocal[s] = addLocal(host, now: now)
        if !config.relayOnly {
            for server in stunServers where server.family == address.family {
                var m = STUNMessage(.request, .binding)
                m.append(.software("videophone"))
                let bytes = m.encode(fingerprint: true)
                transactions[m.transactionID] = CheckTransaction(
                    kind: .serverReflexive(socket: s), bytes: bytes, local: hostLocal[s]!, remote: server, key: [],
                    nextSend: now + 0.5, rto: 0.5)
                transmit(bytes, socket: s, to: server)
                pendingGather += 1
            }
        }
        for (server, credentials) in turnServers where server.family == address.family
            && !turns.contains(where: { $0.client.server == server }) {
            turns.append(TurnSlot(socket: s, client: TurnClient(server: server, username: credentials.username,
                                                               password: credentials.password, now: now)))
            pendingGather += 1
            drainTurn(turns.count - 1, now: now)
        }
        return s
    }

    /// No more sockets will be added: end-of-candidates once srflx and relay gathering settle.
    public func socketsComplete(now: Double) {
        socketsComplete = true
        checkGatheringDone()
    }

    func checkGatheringDone() {
        guard socketsComplete, pendingGather <= 0, !gatheringDone else { return }
        gatheringDone = true
        event(.endOfCandidates)
    }

    func localPreference(_ a: STUNAddress, index: Int) -> UInt32 {
        (a.family == .ipv6 ? 65535 : 60000) - UInt32(min(index, 1000)) * 2
    }

    /// §5.1.1.3: same type, base IP and server → same foundation.
    func foundation(_ kind: CandidateKind, _ base: STUNAddress, _ server: STUNAddress?) -> String {
        let key = "\(kind.rawValue)|\(base.host)|\(server?.description ?? "")"
        if let f = foundations[key] { return f }
        let f = String(foundations.count + 1)
        foundations[key] = f
        return f
    }

    @discardableResult
    func addLocal(_ c: LocalCandidate, now: Double) -> Int {
        locals.append(c)
        let li = locals.count - 1
        if c.advertised { event(.localCandidate(line(c))) }
        if c.pairable { for ri in remotes.indices { makePair(local: li, remote: ri, now: now) } }
        return li
    }

    func line(_ c: LocalCandidate) -> IceCandidateLine {
        IceCandidateLine(foundation: c.foundation, priority: c.priority, address: c.address.host,
                         port: Int(c.address.port), type: c.kind.lineType,
                         relatedAddress: c.related?.host, relatedPort: c.related.map { Int($0.port) },
                         extensions: [.init(name: "generation", value: String(generation))])
    }

    func drainTurn(_ t: Int, now: Double) {
        for bytes in turns[t].client.outgoing { transmit(bytes, socket: turns[t].socket, to: turns[t].client.server) }
        turns[t].client.outgoing.removeAll()
        let evs = turns[t].client.events
        turns[t].client.events.removeAll()
        for e in evs {
            switch e {
            case .allocated(let relayed, let mapped):
                let pref = localPreference(relayed, index: 500 + t)
                let c = LocalCandidate(kind: .relay, address: relayed, base: relayed, socket: turns[t].socket, turn: t,
                                       priority: IcePriority.candidate(kind: .relay, localPreference: pref),
                                       localPreference: pref, foundation: foundation(.relay, relayed, turns[t].client.server),
                                       related: mapped, pairable: true, advertised: true)
                turns[t].relayLocal = addLocal(c, now: now)
                event(.log("TURN allocation \(relayed) on \(turns[t].client.server)"))
            case .failed(let why):
                event(.log("TURN \(turns[t].client.server): \(why)"))
            }
            if turns[t].pending {
                turns[t].pending = false
                pendingGather -= 1
                checkGatheringDone()
            }
        }
        for bytes in turns[t].client.outgoing { transmit(bytes, socket: turns[t].socket, to: turns[t].client.server) }
        turns[t].client.outgoing.removeAll()
    }

    // MARK: Remote side (RFC 8839 §5.4 credentials, RFC 8838 trickle)

    public func setRemoteCredentials(_ credentials: IceCredentials, now: Double) {
        if let old = remoteCredentials, old != credentials {
            // The peer restarted (§9): a new checklist; the selected pair keeps carrying data.
            resetChecklist(now: now)
        }
        remoteCredentials = credentials
        if state == .new, !pairs.isEmpty { startChecking(now: now) }
    }

    public func addRemoteCandidate(_ candidate: IceCandidateLine, now: Double) {
        guard state != .closed, candidate.isUDP, candidate.component == 1,
              let address = STUNAddress(host: candidate.address, port: UInt16(clamping: candidate.port)) else {
            event(.log("ignoring remote candidate \(candidate)"))
            return
        }
        if let ri = remotes.firstIndex(where: { $0.address == address }) {
            if remotes[ri].type == "prflx" { remotes[ri].type = candidate.type.rawValue }
            return
        }
        remotes.append(RemoteCandidate(address: address, priority: candidate.priority, type: candidate.type.rawValue))
        for li in locals.indices where locals[li].pairable { makePair(local: li, remote: remotes.count - 1, now: now) }
    }

    public func remoteEndOfCandidates(now: Double) {
        remoteEnded = true
        evaluate(now: now)
    }

    @discardableResult
    func makePair(local li: Int, remote ri: Int, now: Double) -> Int? {
        let l = locals[li], r = remotes[ri]
        guard l.pairable, l.address.family == r.address.family else { return nil }
        if let existing = pairs.firstIndex(where: { $0.local == li && $0.remote == ri }) { return existing }
        pairs.append(CandidatePair(local: li, remote: ri, priority: pairPriority(l.priority, r.priority)))
        if let t = l.turn {
            turns[t].client.ensurePermission(for: r.address, now: now)
            drainTurn(t, now: now)
        }
        if remoteCredentials != nil, state == .new { startChecking(now: now) }
        return pairs.count - 1
    }

    func pairPriority(_ local: UInt32, _ remote: UInt32) -> UInt64 {
        role == .controlling ? IcePriority.pair(controlling: local, controlled: remote)
                             : IcePriority.pair(controlling: remote, controlled: local)
    }

    func startChecking(now: Double) {
        checkingSince = now
        setState(.checking)
    }

    func resetChecklist(now: Double) {
        remotes.removeAll()
        pairs.removeAll()
        triggered.removeAll()
        transactions = transactions.filter { if case .check = $0.value.kind { false } else { true } }
        nominatingPair = nil
        selectedPair = nil
        firstValidAt = nil
        remoteEnded = false
        checkingSince = now
        generation += 1
    }

    func switchRole(to newRole: IceRole) {
        guard role != newRole else { return }
        role = newRole
        for i in pairs.indices {
            pairs[i].priority = pairPriority(locals[pairs[i].local].priority, remotes[pairs[i].remote].priority)
        }
        nominatingPair = nil
        event(.roleChanged(newRole))
    }

    // MARK: Data

    /// Wraps application data (DTLS, SRTP) for the selected pair; nil when there is none.
    public func send(_ bytes: [UInt8]) -> IceTransmit? {
        guard let path = selected, state != .failed, state != .closed else { return nil }
        if let t = path.local.turn {
            guard let wrapped = turns[t].client.wrap(bytes, to: path.remote) else { return nil }
            return IceTransmit(socket: turns[t].socket, destination: turns[t].client.server, bytes: wrapped)
        }
        return IceTransmit(socket: path.local.socket, destination: path.remote, bytes: bytes)
    }

    public var selectedPairDescription: String? { selected?.description }

    // MARK: Restart (§9) and close

    /// New local credentials; the old selected pair keeps carrying data (and answering consent
    /// under the old credentials) until a pair of the new generation is nominated.
    public func restart(now: Double) -> IceCredentials {
        previousLocal = localCredentials
        localCredentials = .random()
        remoteCredentials = nil
        resetChecklist(now: now)
        for c in locals where c.advertised { event(.localCandidate(line(c))) }
        if gatheringDone { event(.endOfCandidates) }
        if selected == nil, state != .closed { setState(.new) }
        return localCredentials
    }

    public func close(now: Double) {
        guard state != .closed else { return }
        for t in turns.indices {
            turns[t].client.close(now: now)
            drainTurn(t, now: now)
        }
        transactions.removeAll()
        selected = nil
        setState(.closed)
    }
}
