// The sans-I/O IceAgent on a virtual clock: the real RFC 7675 30 s consent timeout, and
// rejection of requests and responses with bad credentials (RFC 8445 §7.3, RFC 8489 §9.1.3).
import Testing
@testable import Peer

/// Two agents joined by a perfect wire, driven by a virtual clock.
struct VirtualClockPair {
    let a: IceAgent
    let b: IceAgent
    let addrA = STUNAddress(ipv4: 10, 0, 0, 1, port: 5000)
    let addrB = STUNAddress(ipv4: 10, 0, 0, 2, port: 6000)
    var now: Double = 100
    var silentB = false
    var statesA: [IceConnectionState] = []

    init() {
        a = IceAgent(configuration: testIceConfiguration(), role: .controlling)
        b = IceAgent(configuration: testIceConfiguration(), role: .controlled)
        a.addSocket(addrA, now: now)
        b.addSocket(addrB, now: now)
        a.socketsComplete(now: now)
        b.socketsComplete(now: now)
        a.setRemoteCredentials(b.localCredentials, now: now)
        b.setRemoteCredentials(a.localCredentials, now: now)
        exchangeCandidates()
    }

    mutating func exchangeCandidates() {
        while let e = a.pollEvent() { if case .localCandidate(let c) = e { b.addRemoteCandidate(c, now: now) } }
        while let e = b.pollEvent() { if case .localCandidate(let c) = e { a.addRemoteCandidate(c, now: now) } }
    }

    /// Delivers everything in flight, then advances to the next timer (at most `until`).
    mutating func run(until end: Double) {
        while now < end {
            var moved = true
            while moved {
                moved = false
                while let t = a.pollTransmit() {
                    moved = true
                    if !silentB { _ = b.receive(t.bytes, from: addrA, socket: t.socket, now: now) }
                }
                while let t = b.pollTransmit() {
                    moved = true
                    if !silentB { _ = a.receive(t.bytes, from: addrB, socket: t.socket, now: now) }
                }
                while let e = a.pollEvent() { if case .stateChanged(let s) = e { statesA.append(s) } }
                while b.pollEvent() != nil {}
            }
            let next = min(a.nextTimeout() ?? end, b.nextTimeout() ?? end, end)
            now = max(next, now + 0.001)
            a.handleTimeout(now: now)
            b.handleTimeout(now: now)
        }
    }
}

@Suite("ICE agent core (virtual clock)")
struct ICECoreTests {
    @Test func consentLostAfterThirtySecondsOfSilence() {
        var p = VirtualClockPair()
        #expect(p.a.config.consentTimeout == 30)
        p.run(until: p.now + 2)
        #expect(p.a.state == .connected || p.a.state == .completed)
        // Consent keeps the pair alive well past 30 s while the peer answers.
        p.run(until: p.now + 60)
        #expect(p.a.state == .connected || p.a.state == .completed)
        let silentAt = p.now
        p.silentB = true
        p.run(until: silentAt + 23)
        #expect(p.a.state == .disconnected, "disconnected within seconds, not yet failed (consent was fresh ≤ 6 s before)")
        p.run(until: silentAt + 31)
        #expect(p.a.state == .failed)
        #expect(p.statesA.suffix(2) == [.disconnected, .failed])
        // Nothing is sent on a pair without consent.
        #expect(p.a.send([22, 1, 2]) == nil)
    }

    static func request(username: String, password: String?, tieBreaker: UInt64 = 1) -> [UInt8] {
        var m = STUNMessage(.request, .binding)
        m.append(.username(username))
        m.append(.priority(1234))
        m.append(.iceControlling(tieBreaker: tieBreaker))
        return m.encode(integrityKey: password.map { STUNMessage.shortTermKey(password: $0) }, fingerprint: true)
    }

    static func answer(_ agent: IceAgent) -> STUNMessage? {
        guard let t = agent.pollTransmit() else { return nil }
        return try? STUNMessage.decode(t.bytes)
    }

    @Test func rejectsRequestsWithBadCredentials() throws {
        let agent = IceAgent(configuration: testIceConfiguration(), role: .controlled)
        let me = STUNAddress(ipv4: 10, 0, 0, 1, port: 5000)
        let peer = STUNAddress(ipv4: 10, 0, 0, 9, port: 7000)
        agent.addSocket(me, now: 0)
        agent.setRemoteCredentials(IceCredentials(ufrag: "peer", pwd: "peerpasswordpeerpassword"), now: 0)
        let user = "\(agent.localCredentials.ufrag):peer"

        _ = agent.receive(Self.request(username: user, password: "wrong-password-wrong-pw"), from: peer, socket: 0, now: 1)
        #expect(Self.answer(agent)?.errorCode?.code == 401)
        _ = agent.receive(Self.request(username: user, password: nil), from: peer, socket: 0, now: 1)
        #expect(Self.answer(agent)?.errorCode?.code == 400)
        _ = agent.receive(Self.request(username: "nobody:peer", password: agent.localCredentials.pwd), from: peer, socket: 0, now: 1)
        #expect(Self.answer(agent)?.errorCode?.code == 401)
        // Rejected requests teach the agent nothing: no peer-reflexive candidate, and data from
        // that address is not accepted.
        #expect(agent.remotes.isEmpty)
        #expect(agent.receive([22, 1, 2], from: peer, socket: 0, now: 1) == nil)

        // The right password is answered with a success carrying XOR-MAPPED-ADDRESS and integrity.
        _ = agent.receive(Self.request(username: user, password: agent.localCredentials.pwd), from: peer, socket: 0, now: 1)
        let ok = try #require(Self.answer(agent))
        #expect(ok.messageClass == .successResponse)
        #expect(ok.xorMappedAddress == peer)
        #expect(ok.validateIntegrity(key: STUNMessage.shortTermKey(password: agent.localCredentials.pwd)))
        #expect(agent.remotes.count == 1)
        #expect(agent.receive([22, 1, 2], from: peer, socket: 0, now: 1) == [22, 1, 2])
    }

    @Test func ignoresResponsesWithBadIntegrity() throws {
        // Controlled, so a success does not start a nomination check that re-opens the pair.
        let agent = IceAgent(configuration: testIceConfiguration(), role: .controlled)
        let me = STUNAddress(ipv4: 10, 0, 0, 1, port: 5000)
        let peer = STUNAddress(ipv4: 10, 0, 0, 9, port: 7000)
        agent.addSocket(me, now: 0)
        agent.socketsComplete(now: 0)
        agent.setRemoteCredentials(IceCredentials(ufrag: "peer", pwd: "peerpasswordpeerpassword"), now: 0)
        agent.addRemoteCandidate(IceCandidateLine(foundation: "1", priority: 2_000_000_000, address: "10.0.0.9",
                                                  port: 7000, type: .host), now: 0)
        agent.handleTimeout(now: 0)
        let check = try STUNMessage.decode(try #require(agent.pollTransmit()).bytes)
        #expect(check.username == "peer:\(agent.localCredentials.ufrag)")
        #expect(check.validateIntegrity(key: STUNMessage.shortTermKey(password: "peerpasswordpeerpassword")))
        var forged = STUNMessage(.successResponse, .binding, transactionID: check.transactionID)
        forged.append(.xorMappedAddress(me))
        _ = agent.receive(forged.encode(integrityKey: Array("not-the-password-at-all".utf8), fingerprint: true),
                          from: peer, socket: 0, now: 0.01)
        #expect(agent.pairs.first?.state == .inProgress)
        #expect(!agent.validRemotes.contains(peer))
        let genuine = forged.encode(integrityKey: STUNMessage.shortTermKey(password: "peerpasswordpeerpassword"), fingerprint: true)
        _ = agent.receive(genuine, from: peer, socket: 0, now: 0.02)
        #expect(agent.pairs.first?.state == .succeeded)
    }
}
