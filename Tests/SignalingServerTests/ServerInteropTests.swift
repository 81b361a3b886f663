import Foundation
import TestSupport
import Testing

/// videophone-server against python-socketio clients (an independent implementation), in the three
/// transport modes; the server runs as its own process, as deployed.
@Suite("videophone-server against python-socketio clients", .serialized)
struct ServerInteropTests {
    static let modes = ["polling", "websocket", "polling,websocket"]

    @Test("the whole room flow, relays, room:full, cross-room relay refused", arguments: modes)
    func roomFlow(mode: String) throws {
        let server = try ServerProcess(transports: mode)
        defer { server.stop() }
        let result = try Driver.run(server.url, "room_flow", transports: mode)
        #expect(result.ok, "\(result.error ?? "") \(result.checks.filter { !$0.ok })")
        #expect(result.checks.count >= 15)
    }

    @Test("a polling GET sent while the websocket probe is answered is released too, not held for a ping interval")
    func upgradeRace() throws {
        let server = try ServerProcess(transports: "polling,websocket")
        defer { server.stop() }
        let result = try Driver.run(server.url, "upgrade_race", transports: "polling,websocket")
        #expect(result.ok, "\(result.error ?? "") \(result.checks.filter { !$0.ok })")
        #expect(result.checks.count == 5)
    }

    @Test("heartbeat: each ping follows the pong by one interval, and clients stay connected past interval + timeout",
          arguments: ["websocket", "polling"])
    func heartbeat(mode: String) throws {
        let server = try ServerProcess(transports: "polling,websocket", extra: ["--ping-interval", "1", "--ping-timeout", "1"])
        defer { server.stop() }
        let result = try Driver.run(server.url, "heartbeat", transports: mode)
        #expect(result.ok, "\(result.error ?? "") \(result.checks.filter { !$0.ok })")
        #expect(result.checks.count == 4)
        print("heartbeat (\(mode) client alongside): \(result.checks.map { "\($0.check): \($0.detail)" })")
    }

    @Test("chat history survives a server restart")
    func historyAfterRestart() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("vp-state-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        var server = try ServerProcess(transports: "polling,websocket", stateDir: state)
        for _ in 0..<2 { _ = try Driver.run(server.url, "history", transports: "websocket") }
        let t0 = Date()
        server.stop()
        print("history: server stopped in \(String(format: "%.2f", Date().timeIntervalSince(t0))) s")
        let t1 = Date()
        server = try ServerProcess(transports: "polling,websocket", stateDir: state)
        print("history: restart \(Date().timeIntervalSince(t1))")
        defer { server.stop() }
        let result = try Driver.run(server.url, "history", transports: "polling")
        #expect(result.ok)
        #expect(result.checks.first?.detail == #"["message 1", "message 2"]"#)
    }

    @Test("device channel: signed config stored, delivered on hello and while online, replay refused, status listed",
          arguments: modes)
    func deviceChannel(mode: String) throws {
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("vp-admin-\(UUID().uuidString)").path
        try "0123456789abcdef-admin\n".write(toFile: token, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: token) }
        let server = try ServerProcess(transports: mode, extra: ["--admin-token-file", token])
        defer { server.stop() }
        let result = try Driver.run(server.url, "device", transports: mode, extra: ["--admin-token", "0123456789abcdef-admin"])
        #expect(result.ok, "\(result.error ?? "") \(result.checks.filter { !$0.ok })")
        #expect(result.checks.count == 10)
    }

    @Test("direct TLS: the room flow over https/wss with a private CA", arguments: modes)
    func directTLS(mode: String) throws {
        let ca = try TestCA.make()
        defer { ca.remove() }
        let server = try ServerProcess(transports: mode, extra: ["--tls-certificate", ca.serverCert, "--tls-key", ca.serverKey])
        defer { server.stop() }
        #expect(server.url.hasPrefix("https://"))
        let result = try Driver.run(server.url.replacingOccurrences(of: "127.0.0.1", with: "localhost"), "room_flow",
                                    transports: mode, extra: ["--cafile", ca.caCert])
        #expect(result.ok, "\(result.error ?? "") \(result.checks.filter { !$0.ok })")
    }

    @Test("polling from an allowed origin is accepted, from another refused")
    func origins() throws {
        let server = try ServerProcess(transports: "polling", extra: ["--allowed-origin", "http://app.example"])
        defer { server.stop() }
        let allowed = try Driver.run(server.url, "origin", transports: "polling", origin: "http://app.example")
        #expect(allowed.checks.first?.check == "connected")
        let refused = try Driver.run(server.url, "origin", transports: "polling", origin: "http://evil.example")
        #expect(refused.checks.first?.check == "refused")
    }
}

/// The python-socketio driver (Tests/Interop/socketio_client_driver.py) and its JSON verdict.
enum Driver {
    struct Check: Decodable { let check: String; let ok: Bool; let detail: String }
    struct Result: Decodable { let ok: Bool; let checks: [Check]; let error: String? }

    static func run(_ url: String, _ scenario: String, transports: String, origin: String? = nil,
                    extra: [String] = []) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ServerProcess.python)
        p.arguments = [ServerProcess.root + "/Tests/Interop/socketio_client_driver.py", url, scenario, "--transports", transports]
            + (origin.map { ["--origin", $0] } ?? []) + extra
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try JSONDecoder().decode(Result.self, from: data)
    }
}

/// `videophone-server` started on a free loopback port; stopped by `stop()`.
struct ServerProcess {
    static var root: String { Repo.root.path }
    static var python: String { Repo.python }

    let process: Process
    let url: String

    init(transports: String, stateDir: String? = nil, extra: [String] = []) throws {
        let (p, text) = try Process.startReadingFirstLine(
            Repo.product("videophone-server"),
            ["--port", "0", "--transports", transports, "--log-level", "warning"]
                + (stateDir.map { ["--state-dir", $0] } ?? ["--store", "memory"]) + extra)
        guard text.hasPrefix("listening on "), let port = text.split(separator: ":").last?.split(separator: " ").first else {
            p.terminate()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(text)"])
        }
        process = p
        url = (text.hasSuffix("(https)") ? "https" : "http") + "://127.0.0.1:\(port)"
    }

    func stop() { process.stop(signal: SIGINT) }
}

@Suite("videophone-server under bad input and shutdown", .serialized)
struct ServerRobustnessTests {
    @Test("malformed packets, unknown events, oversized payloads and floods are refused; others keep being served",
          arguments: ServerInteropTests.modes)
    func abuse(mode: String) throws {
        let server = try ServerProcess(transports: mode, extra: ["--max-payload", "65536"])
        defer { server.stop() }
        let result = try Driver.run(server.url, "abuse", transports: mode)
        #expect(result.ok, "\(result.error ?? "") \(result.checks.filter { !$0.ok })")
        #expect(server.process.isRunning)
        print("abuse(\(mode)): \(result.checks.map { "\($0.check): \($0.detail.prefix(60))" })")
    }

    @Test("SIGTERM: members are told, the server exits cleanly")
    func gracefulShutdown() throws {
        let server = try ServerProcess(transports: "polling,websocket")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ServerProcess.python)
        p.arguments = [ServerProcess.root + "/Tests/Interop/socketio_client_driver.py", server.url, "shutdown", "--transports", "websocket"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Wait for the member to be in its room (bounded by the driver's own timeouts).
        var said = Data()
        while !String(decoding: said, as: UTF8.self).contains("READY") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            said.append(chunk)
        }
        let start = Date()
        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        let exitTime = Date().timeIntervalSince(start)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let result = try JSONDecoder().decode(Driver.Result.self, from: data)
        print("shutdown: server exited \(server.process.terminationStatus) after \(String(format: "%.2f", exitTime)) s")
        #expect(result.ok, "\(result.error ?? "")")
        #expect(server.process.terminationStatus == 0)
    }
}
