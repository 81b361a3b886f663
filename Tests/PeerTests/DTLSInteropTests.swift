// Interop with an implementation nobody here wrote: the openssl CLI's DTLS 1.2 s_server and
// s_client with use_srtp, over UDP on 127.0.0.1. Both sides must agree on the SRTP profile and on
// the RFC 5764 §4.2 keying material, which the CLI prints with -keymatexport.
import Testing
import NIOCore
import Foundation
@testable import Peer

/// A UDP socket on 127.0.0.1 (test only).
private final class LoopbackUDP {
    let fd: Int32
    private(set) var peer = sockaddr_in()
    private(set) var hasPeer = false

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestError("bind") }
    }

    deinit { close(fd) }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    var port: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    func setPeer(port: UInt16) {
        peer = Self.loopback(port: port)
        hasPeer = true
    }

    func send(_ datagrams: [[UInt8]]) {
        guard hasPeer else { return }
        for datagram in datagrams {
            _ = datagram.withUnsafeBytes { bytes in
                withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
    }

    /// One datagram within `milliseconds`, learning the sender as the peer.
    func receive(milliseconds: Int32) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
            }
        }
        guard n > 0 else { return nil }
        if !hasPeer {
            peer = from
            hasPeer = true
        }
        return Array(buffer[0..<n])
    }
}

private struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An openssl CLI child whose stdout+stderr are collected without blocking.
private final class OpenSSLChild {
    let process = Process()
    private let output = Pipe()
    private let input = Pipe()  // held open: s_client/s_server treat EOF on stdin as "quit"
    private(set) var text = ""

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
        process.arguments = ["-oL", "-eL", "/usr/bin/openssl"] + arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input
        try process.run()
        let fd = output.fileHandleForReading.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    func pump() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(output.fileHandleForReading.fileDescriptor, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            text += String(decoding: buffer[0..<n], as: UTF8.self)
        }
    }

    /// Pumps until `marker` appears or `seconds` pass.
    func waitFor(_ marker: String, seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            pump()
            if text.contains(marker) { return true }
            usleep(20_000)
        }
        return false
    }

    /// The hex after "Keying material: ".
    var keyingMaterialHex: String? {
        guard let range = text.range(of: "Keying material: ") else { return nil }
        return String(text[range.upperBound...].prefix { $0.isHexDigit })
    }

    func stop() {
        process.stop()  // SIGTERM (children of tests may have it blocked), then SIGKILL after 1 s
    }
}

extension Process {
    fileprivate func stop() {
        guard isRunning else { return }
        kill(processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(1)
        while isRunning && Date() < deadline { usleep(20_000) }
        if isRunning { kill(processIdentifier, SIGKILL) }
        waitUntilExit()
    }
}

private func exportedHex(_ keys: SRTPKeyingMaterial) -> String {
    (keys.clientKey + keys.serverKey + keys.clientSalt + keys.serverSalt).map { String(format: "%02X", $0) }.joined()
}

/// Runs `transport` over `socket` until it connects or fails (10 s at most).
private func drive(_ transport: DTLSTransport, _ socket: LoopbackUDP, first: DTLSOutput) -> [DTLSEvent] {
    var events = first.events
    socket.send(first.datagrams)
    let end = Date().addingTimeInterval(10)
    while Date() < end && (transport.state == .new || transport.state == .handshaking) {
        var wait: Int32 = 100
        if let due = transport.nextTimeout {
            wait = Int32(max(1, min(100, (due - NIODeadline.now()).nanoseconds / 1_000_000)))
        }
        if let datagram = socket.receive(milliseconds: wait) {
            let out = transport.handleDatagram(datagram, now: .now())
            events += out.events
            socket.send(out.datagrams)
        } else if let due = transport.nextTimeout, due <= .now() {
            let out = transport.handleTimeout(now: .now())
            events += out.events
            socket.send(out.datagrams)
        }
    }
    return events
}

@Suite("DTLS interop with the openssl CLI", .serialized)
struct DTLSInteropTests {
    @Test("our client against openssl s_server -dtls1_2 -use_srtp SRTP_AES128_CM_SHA1_80")
    func againstSServer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtls-interop-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let serverIdentity = try DTLSCertificate.loadOrCreate(directory: dir)
        let port: UInt16 = try { let probe = try LoopbackUDP(); return probe.port }()
        let server = try OpenSSLChild(["s_server", "-dtls1_2", "-accept", "127.0.0.1:\(port)",
                                       "-cert", dir + "/" + DTLSCertificate.certificateFileName,
                                       "-key", dir + "/" + DTLSCertificate.keyFileName,
                                       "-use_srtp", "SRTP_AES128_CM_SHA1_80", "-verify", "1", "-naccept", "1",
                                       "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60"])
        defer { server.stop() }
        try #require(server.waitFor("ACCEPT", seconds: 10), "s_server did not start: \(server.text)")

        let socket = try LoopbackUDP()
        socket.setPeer(port: port)
        let client = try DTLSTransport(role: .client, certificate: try DTLSCertificate.sharedInMemory(),
                                       remoteFingerprint: serverIdentity.fingerprint)
        let events = drive(client, socket, first: client.start(now: .now()))
        let keys = try #require(connectedKeys(events), "events \(events); s_server said: \(server.text)")
        #expect(keys.profile == .aes128CMHMACSHA1_80)
        #expect(server.waitFor("Keying material: ", seconds: 5) && server.waitFor("\n", seconds: 1))
        _ = server.waitFor("SRTP Extension negotiated", seconds: 2)
        #expect(server.text.contains("SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80"), "\(server.text)")
        _ = server.waitFor(exportedHex(keys), seconds: 2)
        #expect(server.keyingMaterialHex == exportedHex(keys), "\(server.text)")
        socket.send(client.close(now: .now()).datagrams)
        #expect(client.state == .closed)
        // -naccept 1: our close_notify ends the only session, so s_server exits by itself.
        let end = Date().addingTimeInterval(5)
        while server.process.isRunning && Date() < end { usleep(20_000) }
        #expect(!server.process.isRunning, "s_server still running after close_notify: \(server.text)")
    }

    @Test("openssl s_client -dtls1_2 -use_srtp SRTP_AEAD_AES_128_GCM against our server")
    func againstSClient() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dtls-interop-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clientIdentity = try DTLSCertificate.loadOrCreate(directory: dir)
        let socket = try LoopbackUDP()
        let serverTransport = try DTLSTransport(role: .server, certificate: try DTLSCertificate.sharedInMemory(),
                                                remoteFingerprint: clientIdentity.fingerprint)
        let first = serverTransport.start(now: .now())
        let client = try OpenSSLChild(["s_client", "-dtls1_2", "-connect", "127.0.0.1:\(socket.port)",
                                       "-cert", dir + "/" + DTLSCertificate.certificateFileName,
                                       "-key", dir + "/" + DTLSCertificate.keyFileName,
                                       "-use_srtp", "SRTP_AEAD_AES_128_GCM",
                                       "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "56"])
        defer { client.stop() }
        let events = drive(serverTransport, socket, first: first)
        let keys = try #require(connectedKeys(events), "events \(events); s_client said: \(client.text)")
        #expect(keys.profile == .aeadAES128GCM)
        #expect(client.waitFor("Keying material: ", seconds: 5))
        _ = client.waitFor(exportedHex(keys), seconds: 2)
        #expect(client.text.contains("SRTP Extension negotiated, profile=SRTP_AEAD_AES_128_GCM"), "\(client.text)")
        #expect(client.keyingMaterialHex == exportedHex(keys), "\(client.text)")
        // Our close_notify ends s_client's session.
        socket.send(serverTransport.close(now: .now()).datagrams)
        #expect(client.waitFor("closed", seconds: 5) || !client.process.isRunning, "\(client.text)")
    }
}
