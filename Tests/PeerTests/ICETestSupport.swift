// Helpers for the ICE tests: a recorder of transport callbacks, a polling wait, and two of our
// transports wired together (trickle or not) over the VirtualNetwork or real loopback UDP.
import Foundation
import NIOCore
import NIOPosix
import Synchronization
@testable import Peer

/// Collects what one transport reported (callbacks arrive on its event loop).
final class IceRecorder: Sendable {
    struct State {
        var states: [IceConnectionState] = []
        var candidates: [IceCandidateLine] = []
        var endOfCandidates = false
        var received: [[UInt8]] = []
        var receivedAt: [Double] = []
        var selected: [String] = []
    }
    let state = Mutex(State())

    func attach(_ t: IceTransport) {
        t.onStateChange = { s in self.state.withLock { $0.states.append(s) } }
        t.onData = { d in self.state.withLock { $0.received.append(d); $0.receivedAt.append(IceTransport.now()) } }
        t.onSelectedPair = { d in self.state.withLock { $0.selected.append(d) } }
    }

    var last: IceConnectionState? { state.withLock { $0.states.last } }
    var states: [IceConnectionState] { state.withLock { $0.states } }
    var received: [[UInt8]] { state.withLock { $0.received } }
    var isConnected: Bool { last == .connected || last == .completed }
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
@discardableResult
func waitFor(_ timeout: Double, _ condition: () -> Bool) async -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

/// Two transports, `a` and `b`, with their recorders; candidates flow by trickle or in one go.
final class IcePeers: Sendable {
    let a: IceTransport
    let b: IceTransport
    let ra = IceRecorder()
    let rb = IceRecorder()

    init(a: IceTransport, b: IceTransport) {
        self.a = a
        self.b = b
        ra.attach(a)
        rb.attach(b)
    }

    /// Trickle: candidates are passed on as they appear (RFC 8838), credentials first.
    func connectTrickle() {
        a.setRemoteCredentials(b.localCredentials)
        b.setRemoteCredentials(a.localCredentials)
        wireTrickle()
        a.startGathering()
        b.startGathering()
    }

    func wireTrickle() {
        let (a, b, ra, rb) = (self.a, self.b, self.ra, self.rb)
        a.onLocalCandidate = { c in
            ra.state.withLock { s in if let c { s.candidates.append(c) } else { s.endOfCandidates = true } }
            if let c { b.addRemoteCandidate(c) } else { b.remoteEndOfCandidates() }
        }
        b.onLocalCandidate = { c in
            rb.state.withLock { s in if let c { s.candidates.append(c) } else { s.endOfCandidates = true } }
            if let c { a.addRemoteCandidate(c) } else { a.remoteEndOfCandidates() }
        }
    }

    /// No trickle: each side gathers completely, then hands over everything (as in a full SDP).
    func connectAllAtOnce() async -> Bool {
        for (t, r) in [(a, ra), (b, rb)] {
            t.onLocalCandidate = { c in
                r.state.withLock { s in if let c { s.candidates.append(c) } else { s.endOfCandidates = true } }
            }
            t.startGathering()
        }
        guard await waitFor(5, { ra.state.withLock { $0.endOfCandidates } && rb.state.withLock { $0.endOfCandidates } })
        else { return false }
        for (t, other, r) in [(a, b, rb), (b, a, ra)] {
            t.setRemoteCredentials(other.localCredentials)
            for c in r.state.withLock({ $0.candidates }) { t.addRemoteCandidate(c) }
            t.remoteEndOfCandidates()
        }
        return true
    }

    func close() {
        a.close()
        b.close()
    }
}

enum IceTestLoop {
    /// One event loop thread for all ICE tests (each transport is confined to one loop).
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static var loop: any EventLoop { group.next() }
}

/// A fast-converging configuration for tests (short consent timers).
func testIceConfiguration(loopbackOnly: Bool = true) -> IceConfiguration {
    var c = IceConfiguration(loopbackOnly: loopbackOnly, includeIPv6: false)
    c.randomSeed = 7
    return c
}
