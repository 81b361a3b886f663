import Foundation
import TestSupport
import Signaling
import SignalingCore
import Testing

/// https/wss against python-socketio behind a certificate from a private test CA.
@Suite("TLS against python-socketio", .serialized)
struct TLSInteropTests {
    static let modes: [EngineIOConfiguration.Transports] = [.websocket, .polling, .pollingThenUpgrade]

    @Test("accepted with the CA file", arguments: modes)
    func trustedWithCAFile(mode: EngineIOConfiguration.Transports) async throws {
        let ca = try TestCA.make()
        defer { try? FileManager.default.removeItem(atPath: ca.dir) }
        try await withFixture(FixtureServer(tls: ca)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "tls", name: "alice", transports: mode, caFile: ca.caCert))
            _ = try await a.client.request("test:echo", [.string("over tls")])
            if mode == .pollingThenUpgrade {
                try await a.states.wait(for: "upgraded to wss") { if case .connected(_, "websocket") = $0 { true } else { false } }
            }
        }
    }

    @Test("refused without it, reported as a TLS error and never retried as plain text", arguments: modes)
    func refusedWithoutCAFile(mode: EngineIOConfiguration.Transports) async throws {
        let ca = try TestCA.make()
        defer { try? FileManager.default.removeItem(atPath: ca.dir) }
        try await withFixture(FixtureServer(tls: ca)) { server, cleanup in
            let a = await cleanup.add(try await Member.join(server, room: "tls", name: "alice", transports: mode, waitForJoin: false))
            let failed = try await a.states.wait(for: "a TLS failure") {
                if case .reconnecting(_, .tls) = $0 { return true } else { return false }
            }
            print("tls(\(mode.rawValue)) without CA: \(failed)")
            let states = await a.states.items
            #expect(!states.contains { $0.isConnected })
            #expect(!states.contains { if case .reconnecting(_, let e) = $0 { if case .tls = e { return false }; return true }; return false })
        }
    }
}
