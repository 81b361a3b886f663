// Two of our DTLSTransports in one process: handshake, profile choice, crosswise keys, SRTP with
// the exported keys, handshake under seeded datagram loss, fingerprint mismatch, close_notify,
// garbage; and DTLSCertificate persistence (RFC 5764, RFC 6347, RFC 8122).
import Testing
import NIOCore
import Foundation
@testable import Peer

/// Deterministic loss decisions (SplitMix64).
struct SeededLoss {
    var state: UInt64
    let rate: Double
    mutating func drop() -> Bool {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53) < rate
    }
}

/// A client and a server joined by two in-memory queues.
final class DTLSPair {
    let client: DTLSTransport
    let server: DTLSTransport
    var clientEvents: [DTLSEvent] = []
    var serverEvents: [DTLSEvent] = []
    var toServer: [[UInt8]] = []
    var toClient: [[UInt8]] = []
    var sent = 0, dropped = 0

    init(clientCertificate: DTLSCertificate, serverCertificate: DTLSCertificate,
         clientExpects: DTLSFingerprint? = nil, serverExpects: DTLSFingerprint? = nil,
         clientProfiles: [SRTPProfile] = SRTPProfile.allCases, serverProfiles: [SRTPProfile] = SRTPProfile.allCases,
         initialTimeout: TimeAmount = .seconds(1)) throws {
        client = try DTLSTransport(role: .client, certificate: clientCertificate,
                                   remoteFingerprint: clientExpects ?? serverCertificate.fingerprint,
                                   profiles: clientProfiles, initialRetransmitTimeout: initialTimeout)
        server = try DTLSTransport(role: .server, certificate: serverCertificate,
                                   remoteFingerprint: serverExpects ?? clientCertificate.fingerprint,
                                   profiles: serverProfiles, initialRetransmitTimeout: initialTimeout)
    }

    func absorb(_ out: DTLSOutput, fromClient: Bool) {
        for datagram in out.datagrams { #expect(datagram.count <= DTLSTransport.defaultMTU) }
        if fromClient {
            toServer += out.datagrams
            clientEvents += out.events
        } else {
            toClient += out.datagrams
            serverEvents += out.events
        }
    }

    var settled: Bool {
        let states: [DTLSTransport.State] = [client.state, server.state]
        return states.allSatisfy { $0 != .new && $0 != .handshaking } && toServer.isEmpty && toClient.isEmpty
    }

    /// Runs until both sides are connected or done (or `limit` real seconds pass), dropping
    /// datagrams by `loss`. OpenSSL 3.0 times retransmissions on the system clock, so idle
    /// periods really sleep until the earliest `nextTimeout`.
    func run(loss: SeededLoss? = nil, limit: Double = 20) {
        var loss = loss
        let started = Date()
        absorb(server.start(now: .now()), fromClient: false)
        absorb(client.start(now: .now()), fromClient: true)
        while !settled && Date().timeIntervalSince(started) < limit {
            if !toServer.isEmpty || !toClient.isEmpty {
                let fromClient = !toServer.isEmpty
                let datagram = fromClient ? toServer.removeFirst() : toClient.removeFirst()
                sent += 1
                if loss?.drop() == true {
                    dropped += 1
                    continue
                }
                let receiver = fromClient ? server : client
                absorb(receiver.handleDatagram(datagram, now: .now()), fromClient: !fromClient)
                continue
            }
            let deadlines = [client.nextTimeout, server.nextTimeout].compactMap { $0 }
            guard let earliest = deadlines.min() else { break }
            let wait = earliest - NIODeadline.now()
            if wait.nanoseconds > 0 { usleep(UInt32(min(wait.nanoseconds / 1_000, 2_000_000))) }
            let now = NIODeadline.now()
            if let due = client.nextTimeout, due <= now { absorb(client.handleTimeout(now: now), fromClient: true) }
            if let due = server.nextTimeout, due <= now { absorb(server.handleTimeout(now: now), fromClient: false) }
        }
    }
}

func connectedKeys(_ events: [DTLSEvent]) -> SRTPKeyingMaterial? {
    for case .connected(let keys) in events { return keys }
    return nil
}

func failure(_ events: [DTLSEvent]) -> DTLSError? {
    for case .failed(let error) in events { return error }
    return nil
}

@Suite("DTLS transport")
struct DTLSTransportTests {
    let clientCertificate: DTLSCertificate
    let serverCertificate: DTLSCertificate

    init() throws {
        clientCertificate = try DTLSCertificate.sharedInMemory()
        serverCertificate = try DTLSCertificate.generate(commonName: "server")
    }

    @Test("handshake: GCM preferred, CM when the server only has CM; keys match crosswise; SRTP flows both ways",
          arguments: [[SRTPProfile.aeadAES128GCM, .aes128CMHMACSHA1_80], [.aes128CMHMACSHA1_80]])
    func handshake(serverProfiles: [SRTPProfile]) throws {
        let pair = try DTLSPair(clientCertificate: clientCertificate, serverCertificate: serverCertificate,
                                serverProfiles: serverProfiles)
        pair.run()
        let clientKeys = try #require(connectedKeys(pair.clientEvents), "client: \(pair.clientEvents)")
        let serverKeys = try #require(connectedKeys(pair.serverEvents), "server: \(pair.serverEvents)")
        #expect(clientKeys == serverKeys)
        #expect(clientKeys.profile == serverProfiles[0])
        #expect(pair.client.state == .connected && pair.server.state == .connected)
        #expect(pair.client.peerFingerprint == serverCertificate.fingerprint)
        #expect(pair.server.peerFingerprint == clientCertificate.fingerprint)
        #expect(clientKeys.clientKey != clientKeys.serverKey)

        // Client protects with client keys, server unprotects with them; and the other way round.
        let profile = clientKeys.profile
        let clientOut = try SRTPSession(profile: profile, masterKeyAndSalt: clientKeys.localMasterKeyAndSalt(isClient: true), direction: .outbound)
        let serverIn = try SRTPSession(profile: profile, masterKeyAndSalt: serverKeys.remoteMasterKeyAndSalt(isClient: false), direction: .inbound)
        let serverOut = try SRTPSession(profile: profile, masterKeyAndSalt: serverKeys.localMasterKeyAndSalt(isClient: false), direction: .outbound)
        let clientIn = try SRTPSession(profile: profile, masterKeyAndSalt: clientKeys.remoteMasterKeyAndSalt(isClient: true), direction: .inbound)
        let rtp: [UInt8] = [0x80, 96, 0, 7, 0, 0, 0, 90, 1, 2, 3, 4] + Array(repeating: 0x42, count: 100)
        var packet = rtp
        try clientOut.protectRTP(&packet)
        #expect(packet != rtp)
        try serverIn.unprotectRTP(&packet)
        #expect(packet == rtp)
        var reply = rtp
        try serverOut.protectRTP(&reply)
        try clientIn.unprotectRTP(&reply)
        #expect(reply == rtp)
    }

    // Seeds chosen so that at least two of the first four handshake datagrams are lost.
    @Test("the handshake completes through retransmission with 15 % seeded datagram loss",
          arguments: [3, 6, 10, 14, 19] as [UInt64])
    func lossyHandshake(seed: UInt64) throws {
        let pair = try DTLSPair(clientCertificate: clientCertificate, serverCertificate: serverCertificate,
                                initialTimeout: .milliseconds(60))
        pair.run(loss: SeededLoss(state: seed, rate: 0.15), limit: 30)
        let clientKeys = try #require(connectedKeys(pair.clientEvents), "client \(pair.clientEvents), dropped \(pair.dropped)/\(pair.sent)")
        let serverKeys = try #require(connectedKeys(pair.serverEvents), "server \(pair.serverEvents), dropped \(pair.dropped)/\(pair.sent)")
        #expect(clientKeys == serverKeys)
        #expect(pair.dropped >= 2, "the seed must actually lose handshake datagrams")
        print("DTLS lossy handshake seed \(seed): dropped \(pair.dropped) of \(pair.sent) datagrams")
    }

    @Test("a lost first flight is resent when nextTimeout passes")
    func retransmitOnTimeout() throws {
        let pair = try DTLSPair(clientCertificate: clientCertificate, serverCertificate: serverCertificate,
                                initialTimeout: .milliseconds(50))
        let first = pair.client.start(now: .now())
        #expect(first.datagrams.count >= 1)
        let due = try #require(pair.client.nextTimeout)
        #expect(pair.client.handleTimeout(now: .now()).datagrams.isEmpty, "nothing before the timer expires")
        usleep(UInt32(max(0, (due - NIODeadline.now()).nanoseconds / 1_000) + 20_000))
        let again = pair.client.handleTimeout(now: .now())
        #expect(again.datagrams.count == first.datagrams.count)
        #expect(again.datagrams.first?.first == 22)  // a handshake record: the ClientHello again
        #expect(pair.client.nextTimeout != nil)
    }

    @Test("wrong SDP fingerprint: the handshake fails naming both fingerprints; the peer gets an alert")
    func wrongFingerprint() throws {
        let bogus = DTLSFingerprint(algorithm: "sha-256", value: Array(repeating: "AB", count: 32).joined(separator: ":"))
        let pair = try DTLSPair(clientCertificate: clientCertificate, serverCertificate: serverCertificate,
                                clientExpects: bogus)
        pair.run(limit: 10)
        let error = try #require(failure(pair.clientEvents), "client: \(pair.clientEvents)")
        #expect(error == .fingerprintMismatch(expected: bogus, actual: serverCertificate.fingerprint))
        #expect(error.description.contains(bogus.value) && error.description.contains(serverCertificate.fingerprint.value))
        #expect(pair.client.state == .failed && pair.client.keyingMaterial == nil)
        let serverError = try #require(failure(pair.serverEvents), "server: \(pair.serverEvents)")
        guard case .alertReceived(let text) = serverError else {
            Issue.record("server should see an alert, got \(serverError)")
            return
        }
        #expect(text.contains("alert"), "\(text)")  // OpenSSL sends unknown_ca for a refused self-signed leaf
        #expect(connectedKeys(pair.serverEvents) == nil)
    }

    @Test("close(): the peer sees closed; late datagrams and garbage never crash")
    func closeNotifyAndGarbage() throws {
        let pair = try DTLSPair(clientCertificate: clientCertificate, serverCertificate: serverCertificate)
        pair.run()
        try #require(pair.client.state == .connected && pair.server.state == .connected)

        // Garbage: not DTLS at all, too short, and a well-formed header with junk (dropped by OpenSSL).
        // Protected records of every length below and at the AES-GCM nonce + tag (OpenSSL 3.0.19
        // treats the short ones as fatal), an overrunning length, trailing bytes, and a well-sized
        // record whose tag is wrong (dropped by OpenSSL itself).
        let header: [UInt8] = [23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9]
        var junks: [[UInt8]] = [[0xFF, 1, 2, 3] + Array(repeating: 0, count: 20), [23, 0xFE],
                                header + [0, 40, 1, 2, 3], header + [0, 24] + Array(repeating: 7, count: 24) + [23, 0xFE]]
        for length in [0, 1, 4, 16, 23, 24, 40] { junks.append(header + [0, UInt8(length)] + Array(repeating: 7, count: length)) }
        for junk in junks {
            let out = pair.server.handleDatagram(junk, now: .now())
            #expect(out.datagrams.isEmpty)
            #expect(failure(out.events) == nil)
        }
        #expect(pair.server.state == .connected)

        let bye = pair.client.close(now: .now())
        #expect(pair.client.state == .closed)
        try #require(!bye.datagrams.isEmpty)
        var serverSaw: [DTLSEvent] = []
        for datagram in bye.datagrams { serverSaw += pair.server.handleDatagram(datagram, now: .now()).events }
        #expect(serverSaw.contains(.closed), "\(serverSaw)")
        #expect(pair.server.state == .closed)
        #expect(pair.server.handleDatagram(bye.datagrams[0], now: .now()).events.isEmpty)
    }

    @Test("unsupported or malformed SDP fingerprints are refused up front")
    func badFingerprintInput() throws {
        #expect(throws: DTLSError.self) {
            _ = try DTLSTransport(role: .client, certificate: clientCertificate,
                                  remoteFingerprint: DTLSFingerprint(algorithm: "md5", value: "AB:CD"))
        }
        #expect(throws: DTLSError.self) {
            _ = try DTLSTransport(role: .client, certificate: clientCertificate,
                                  remoteFingerprint: DTLSFingerprint(algorithm: "sha-256", value: "not hex"))
        }
        let parsed = try #require(DTLSFingerprint(sdp: "sha-256 ab:cd:ef"))
        #expect(parsed.algorithm == "sha-256" && parsed.value == "AB:CD:EF" && parsed.bytes == [0xAB, 0xCD, 0xEF])
    }
}

@Suite("DTLS certificate")
struct DTLSCertificateTests {
    @Test("fingerprint is sha-256 uppercase colon hex of the DER, matching the openssl CLI")
    func fingerprintForm() throws {
        let certificate = try DTLSCertificate.generate()
        #expect(certificate.fingerprint.algorithm == "sha-256")
        #expect(certificate.fingerprint.value.count == 32 * 3 - 1)
        #expect(certificate.fingerprint.value.allSatisfy { "0123456789ABCDEF:".contains($0) })
        #expect(certificate.fingerprint.sdp.hasPrefix("sha-256 "))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtls-fp-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DTLSCertificate.loadOrCreate(directory: dir)
        let loaded = try DTLSCertificate.loadOrCreate(directory: dir)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["x509", "-noout", "-fingerprint", "-sha256", "-in", dir + "/" + DTLSCertificate.certificateFileName]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains(loaded.fingerprint.value), "\(text)")
    }

    @Test("loadOrCreate writes key (0600) and cert once and reloads the same identity")
    func persistence() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtls-cert-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ContinuousClock()
        var created: DTLSCertificate?
        let createTime = try clock.measure { created = try DTLSCertificate.loadOrCreate(directory: dir) }
        var loaded: DTLSCertificate?
        let loadTime = try clock.measure { loaded = try DTLSCertificate.loadOrCreate(directory: dir) }
        let first = try #require(created), second = try #require(loaded)
        #expect(first.fingerprint == second.fingerprint)
        print("DTLSCertificate: create+write \(createTime), load \(loadTime)")

        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/" + DTLSCertificate.keyFileName)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == [DTLSCertificate.certificateFileName, DTLSCertificate.keyFileName].sorted(), "no temp files left")

        // A corrupt key is an error, not a silent new identity.
        try "garbage".write(toFile: dir + "/" + DTLSCertificate.keyFileName, atomically: true, encoding: .utf8)
        #expect(throws: DTLSCertificateError.self) { _ = try DTLSCertificate.loadOrCreate(directory: dir) }
        // A shared in-memory identity is one identity.
        #expect(try DTLSCertificate.sharedInMemory() === DTLSCertificate.sharedInMemory())
    }
}

