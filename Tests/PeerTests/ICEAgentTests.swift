// ICE (RFC 8445, RFC 8838 trickle, RFC 7675 consent) between two of our agents over the
// VirtualNetwork: connection both ways of signalling, role conflict, loss, consent loss, restart,
// and rejection of requests with bad MESSAGE-INTEGRITY.
import Foundation
import NIOCore
import Testing
@testable import Peer

@Suite("ICE agent over the virtual network")
struct ICEAgentTests {
    static func peers(_ network: VirtualNetwork, roleA: IceRole = .controlling, roleB: IceRole = .controlled,
                      configure: (inout IceConfiguration) -> Void = { _ in }) -> IcePeers {
        var config = testIceConfiguration(loopbackOnly: false)
        configure(&config)
        let a = IceTransport(configuration: config, role: roleA, eventLoop: IceTestLoop.loop,
                             socketFactory: network.host("10.0.0.1"))
        let b = IceTransport(configuration: config, role: roleB, eventLoop: IceTestLoop.loop,
                             socketFactory: network.host("10.0.0.2"))
        return IcePeers(a: a, b: b)
    }

    /// DTLS-looking datagrams (first byte 22) so RFC 7983 demultiplexing hands them to onData.
    static func dtls(_ n: Int) -> [UInt8] { [22, 0xFE, 0xFD, UInt8(truncatingIfNeeded: n), UInt8(truncatingIfNeeded: n >> 8)] }

    static func expectDataBothWays(_ p: IcePeers) async {
        p.a.send(dtls(1))
        p.b.send(dtls(2))
        #expect(await waitFor(3) { p.rb.received.contains(dtls(1)) && p.ra.received.contains(dtls(2)) })
    }

    @Test func connectsWithTrickle() async throws {
        let p = Self.peers(VirtualNetwork(seed: 1))
        defer { p.close() }
        p.connectTrickle()
        #expect(await waitFor(5) { p.ra.isConnected && p.rb.isConnected })
        #expect(p.ra.states.first == .checking)
        await Self.expectDataBothWays(p)
        let selected = try await p.a.selectedPairDescription().get()
        #expect(selected?.contains("10.0.0.2") == true)
    }

    @Test func connectsWithoutTrickle() async throws {
        let p = Self.peers(VirtualNetwork(seed: 2), roleA: .controlled, roleB: .controlling)
        defer { p.close() }
        #expect(await p.connectAllAtOnce())
        #expect(await waitFor(5) { p.ra.last == .completed && p.rb.last == .completed })
        await Self.expectDataBothWays(p)
    }

    @Test func bothControllingResolvesRoleConflict() async throws {
        let p = Self.peers(VirtualNetwork(seed: 3), roleA: .controlling, roleB: .controlling)
        defer { p.close() }
        p.connectTrickle()
        #expect(await waitFor(5) { p.ra.isConnected && p.rb.isConnected })
        await Self.expectDataBothWays(p)
    }

    @Test func connectsThroughTenPercentLoss() async throws {
        let network = VirtualNetwork(seed: 42)
        let lossy = VirtualNetwork.Conditions(loss: 0.10, duplicate: 0.02, delay: .milliseconds(5), jitter: .milliseconds(10))
        network.setConditions(lossy, forHost: "10.0.0.1")
        network.setConditions(lossy, forHost: "10.0.0.2")
        let p = Self.peers(network)
        defer { p.close() }
        p.connectTrickle()
        #expect(await waitFor(8) { p.ra.isConnected && p.rb.isConnected })
        // Data is unreliable here: send a burst and expect most of it.
        for i in 0..<50 { p.a.send(Self.dtls(i)) }
        #expect(await waitFor(3) { p.rb.received.count >= 35 })
        #expect(network.counters.dropped > 0)
    }

    @Test func silentPeerFailsByConsentTimeout() async throws {
        let network = VirtualNetwork(seed: 5)
        let p = Self.peers(network) { c in
            c.consentTimeout = 2
            c.consentInterval = 0.3
            c.disconnectedTimeout = 0.7
        }
        defer { p.close() }
        p.connectTrickle()
        #expect(await waitFor(5) { p.ra.isConnected && p.rb.isConnected })
        let silentAt = Date()
        network.setConditions(.init(silent: true), forHost: "10.0.0.2")
        #expect(await waitFor(4) { p.ra.last == .failed })
        let elapsed = Date().timeIntervalSince(silentAt)
        #expect(elapsed >= 1.2 && elapsed <= 3.5, "failed after \(elapsed) s")
        #expect(p.ra.states.contains(.disconnected))
        // After consent is lost nothing more is sent on the pair (RFC 7675 §5.1).
        p.a.send(Self.dtls(9))
    }

    @Test func restartKeepsDataFlowing() async throws {
        let p = Self.peers(VirtualNetwork(seed: 6))
        defer { p.close() }
        p.connectTrickle()
        #expect(await waitFor(5) { p.ra.isConnected && p.rb.isConnected })
        // A steady stream from a to b across the restart.
        let sender = Task {
            for i in 0..<60 {
                p.a.send(Self.dtls(i))
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        let newA = p.a.restart()
        let newB = p.b.restart()
        #expect(newA == p.a.localCredentials)
        p.a.setRemoteCredentials(newB)
        p.b.setRemoteCredentials(newA)
        #expect(await waitFor(3) { p.ra.state.withLock { $0.selected.count } >= 2 && p.rb.state.withLock { $0.selected.count } >= 2 })
        await sender.value
        #expect(await waitFor(1) { p.rb.received.count == 60 })
        let times = p.rb.state.withLock { $0.receivedAt }
        let biggestGap = zip(times.dropFirst(), times).map { $0 - $1 }.max() ?? 0
        #expect(biggestGap < 0.3, "gap of \(biggestGap) s in data across the restart")
        #expect(!p.ra.states.contains(.failed) && !p.rb.states.contains(.disconnected))
    }
}
