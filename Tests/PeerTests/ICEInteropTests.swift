// Interop with aioice (Python, an independent ICE implementation) on 127.0.0.1, and TURN
// (RFC 8656) through coturn on loopback with TURN REST credentials. Each test starts and stops
// its own processes.
import SystemCrypto
import Foundation
import NIOCore
import Testing
import TestSupport
@testable import Peer

/// aioice driven over JSON lines (Tests/Interop/aioice_peer.py).
final class AioicePeer: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    let stdout = Pipe()
    private var buffer = Data()

    init(role: String) throws {
        process.executableURL = URL(fileURLWithPath: Repo.python)
        process.arguments = [Repo.path("Tests/Interop/aioice_peer.py"), "--role", role]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Blocking read of one JSON line (nil at EOF).
    func readJSON() -> [String: Any]? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<nl]
                buffer.removeSubrange(buffer.startIndex...nl)
                return (try? JSONSerialization.jsonObject(with: line)) as? [String: Any]
            }
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    func readJSONAsync() async -> [String: Any]? {
        await withCheckedContinuation { c in
            DispatchQueue.global().async { c.resume(returning: self.readJSON()) }
        }
    }

    func write(_ object: [String: Any]) throws {
        var data = try JSONSerialization.data(withJSONObject: object)
        data.append(0x0A)
        stdin.fileHandleForWriting.write(data)
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.stop()
    }
}

extension Array where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

@Suite("ICE interop with aioice and coturn", .serialized)
struct ICEInteropTests {
    /// Our agent against aioice: ICE connects and a datagram goes each way.
    func aioice(ourRole: IceRole) async throws {
        let peer = try AioicePeer(role: ourRole == .controlling ? "controlled" : "controlling")
        defer { peer.stop() }
        let started = Date()
        let ours = IceTransport(configuration: testIceConfiguration(loopbackOnly: true), role: ourRole,
                                eventLoop: IceTestLoop.loop)
        defer { ours.close() }
        let recorder = IceRecorder()
        recorder.attach(ours)
        ours.onLocalCandidate = { c in recorder.state.withLock { s in if let c { s.candidates.append(c) } else { s.endOfCandidates = true } } }
        ours.startGathering()

        let theirs = try #require(await peer.readJSONAsync(), "aioice did not start")
        let ufrag = try #require(theirs["ufrag"] as? String), pwd = try #require(theirs["pwd"] as? String)
        let candidates = try #require(theirs["candidates"] as? [String])
        #expect(candidates.allSatisfy { $0.contains("127.0.0.1") })
        #expect(await waitFor(3) { recorder.state.withLock { $0.endOfCandidates } })
        let local = recorder.state.withLock { $0.candidates }
        #expect(local.count == 1 && local.allSatisfy { $0.address == "127.0.0.1" }, "loopback only: \(local)")
        try peer.write(["ufrag": ours.localCredentials.ufrag, "pwd": ours.localCredentials.pwd,
                        "candidates": local.map { $0.serialize() }])
        ours.setRemoteCredentials(IceCredentials(ufrag: ufrag, pwd: pwd))
        for c in candidates { ours.addRemoteCandidate(try IceCandidateLine.parse(c)) }
        ours.remoteEndOfCandidates()

        #expect(await waitFor(10) { recorder.isConnected }, "states: \(recorder.states)")
        let connectedAfter = Date().timeIntervalSince(started)
        let line = await peer.readJSONAsync()
        #expect(line?["connected"] as? Bool == true)
        print("ICE with aioice (we are \(ourRole.rawValue)): connected \(Int(connectedAfter * 1000)) ms after start")

        // aioice → us
        let toUs: [UInt8] = [23, 0xFE, 0xFD, 1, 2, 3]
        try peer.write(["send": toUs.hex])
        #expect(await waitFor(5) { recorder.received.contains(toUs) })
        // us → aioice
        let toThem: [UInt8] = [22, 0xFE, 0xFD, 9, 8, 7]
        ours.send(toThem)
        let got = await peer.readJSONAsync()
        #expect(got?["received"] as? String == toThem.hex)
    }

    @Test func aioiceAsControlled() async throws { try await aioice(ourRole: .controlling) }
    @Test func aioiceAsControlling() async throws { try await aioice(ourRole: .controlled) }

    // MARK: coturn

    static func startCoturn(secret: String) throws -> (Process, UInt16) {
        let port = UInt16.random(in: 20000...29000)
        let minPort = Int.random(in: 40000...60000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/turnserver")
        p.arguments = ["-n", "--no-cli", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                       "--listening-port=\(port)", "--min-port=\(minPort)", "--max-port=\(minPort + 100)",
                       "--use-auth-secret", "--static-auth-secret=\(secret)", "--realm=videophone.test",
                       "--no-tls", "--no-dtls", "--fingerprint", "--allow-loopback-peers",
                       "--log-file=stdout", "--simple-log"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (p, port)
    }

    /// TURN REST credentials (draft-uberti-behave-turn-rest, coturn use-auth-secret).
    static func restCredentials(secret: String, name: String) -> (String, String) {
        let username = "\(Int(Date().timeIntervalSince1970) + 3600):\(name)"
        let mac = HMACSHA1.authenticationCode(key: Array(secret.utf8), message: Array(username.utf8))
        return (username, Data(mac).base64EncodedString())
    }

    @Test func relayOnlyThroughCoturn() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/turnserver") else {
            Issue.record("coturn (turnserver) not installed")
            return
        }
        let secret = "s3cret-\(UInt32.random(in: 0...UInt32.max))"
        let (coturn, port) = try Self.startCoturn(secret: secret)
        defer { coturn.stop() }
        try await Task.sleep(nanoseconds: 300_000_000)  // coturn binds its port
        let (user, pass) = Self.restCredentials(secret: secret, name: "test")

        var relayConfig = testIceConfiguration(loopbackOnly: true)
        relayConfig.relayOnly = true
        relayConfig.turnServers = [TurnServer(host: "127.0.0.1", port: port, username: user, password: pass)]
        let started = Date()
        let a = IceTransport(configuration: relayConfig, role: .controlling, eventLoop: IceTestLoop.loop)
        let b = IceTransport(configuration: testIceConfiguration(loopbackOnly: true), role: .controlled,
                             eventLoop: IceTestLoop.loop)
        let p = IcePeers(a: a, b: b)
        defer { p.close() }
        p.connectTrickle()
        #expect(await waitFor(10) { p.ra.isConnected && p.rb.isConnected }, "states \(p.ra.states) \(p.rb.states)")
        let elapsed = Date().timeIntervalSince(started)
        let aCandidates = p.ra.state.withLock { $0.candidates }
        #expect(!aCandidates.isEmpty && aCandidates.allSatisfy { $0.type == .relay }, "\(aCandidates)")
        let selected = try await a.selectedPairDescription().get()
        #expect(selected?.contains("TURN") == true, "\(selected ?? "none")")
        print("ICE via coturn (relay-only): connected \(Int(elapsed * 1000)) ms after start; \(selected ?? "")")
        // Data both ways, first by Send indications then (once ChannelBind succeeded) ChannelData.
        for i in 0..<5 {
            a.send([22, 1, UInt8(i)])
            b.send([22, 2, UInt8(i)])
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(await waitFor(3) { p.rb.received.count >= 4 && p.ra.received.count >= 4 })

        // Direct, for comparison.
        let directStart = Date()
        let c = IceTransport(configuration: testIceConfiguration(loopbackOnly: true), role: .controlling, eventLoop: IceTestLoop.loop)
        let d = IceTransport(configuration: testIceConfiguration(loopbackOnly: true), role: .controlled, eventLoop: IceTestLoop.loop)
        let q = IcePeers(a: c, b: d)
        defer { q.close() }
        q.connectTrickle()
        #expect(await waitFor(5) { q.ra.isConnected && q.rb.isConnected })
        print("ICE direct on loopback: connected \(Int(Date().timeIntervalSince(directStart) * 1000)) ms after start")
    }
}
