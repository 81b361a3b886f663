import Foundation
import Testing

/// Paths of the checkout, found from this file so tests work from any working directory.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's python (made by scripts/setup); `VIDEOPHONE_PYTHON` overrides it.
    static var python: String {
        if let p = ProcessInfo.processInfo.environment["VIDEOPHONE_PYTHON"] { return p }
        return root.appendingPathComponent(".venv/bin/python").path
    }

    /// A product built beside the test binary (e.g. the `videophone` CLI).
    static func product(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }
}

/// The python-socketio room server (Tests/Interop/socketio_room_server.py), an independent
/// Engine.IO/Socket.IO implementation. Started per test on a free loopback port and always stopped.
final class FixtureServer: @unchecked Sendable {
    // Mutated only by the test that owns it (start/stop/pause), never concurrently.
    private var process: Process?
    private(set) var port: Int = 0
    let arguments: [String]
    let scheme: String

    init(transports: String = "polling,websocket", pingInterval: Double = 25, pingTimeout: Double = 20,
         extra: [String] = [], tls: TestCA? = nil) {
        var args = ["--transports", transports, "--ping-interval", "\(pingInterval)", "--ping-timeout", "\(pingTimeout)"] + extra
        if let tls { args += ["--certfile", tls.serverCert, "--keyfile", tls.serverKey] }
        arguments = args
        scheme = tls == nil ? "http" : "https"
    }

    var url: URL { URL(string: "\(scheme)://\(scheme == "https" ? "localhost" : "127.0.0.1"):\(port)")! }

    /// Starts the server (on the previous port when restarting) and waits for `READY <port>`.
    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repo.python)
        p.arguments = [Repo.root.appendingPathComponent("Tests/Interop/socketio_room_server.py").path,
                       "--port", "\(port)"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard FileManager.default.isExecutableFile(atPath: Repo.python) else {
            throw FixtureError("python venv missing at \(Repo.python): run scripts/setup")
        }
        try p.run()
        process = p
        // Read the READY line (bounded: the server prints it within a second or two).
        var line = Data()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { break }
            if byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            stop()
            throw FixtureError("fixture server did not start (said: '\(text)'); is python-socketio installed? run scripts/setup")
        }
        self.port = port
    }

    func stop() {
        guard let p = process else { return }
        if p.isRunning {
            let pid = p.processIdentifier
            kill(pid, SIGCONT)
            p.terminate()
            // A watchdog kills a server that ignores SIGTERM; waitUntilExit returns as soon as it exits.
            let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 5, execute: watchdog)
            p.waitUntilExit()
            watchdog.cancel()
        }
        process = nil
    }

    /// Freezes the server (SIGSTOP): it stays listening but says nothing, like a hung host.
    func freeze() { if let p = process { kill(p.processIdentifier, SIGSTOP) } }

    deinit { stop() }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A private CA and a server certificate for `localhost` / 127.0.0.1, made with the openssl CLI.
struct TestCA: Sendable {
    let dir: String
    var caCert: String { dir + "/ca.pem" }
    var serverCert: String { dir + "/server.pem" }
    var serverKey: String { dir + "/server.key" }

    static func make() throws -> TestCA {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("videophone-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ext = dir + "/ext.cnf"
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n".write(toFile: ext, atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", dir + "/ca.key"],
            ["req", "-x509", "-new", "-key", dir + "/ca.key", "-subj", "/CN=videophone test CA", "-days", "2", "-out", dir + "/ca.pem"],
            ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", dir + "/server.key"],
            ["req", "-new", "-key", dir + "/server.key", "-subj", "/CN=localhost", "-out", dir + "/server.csr"],
            ["x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", dir + "/server.pem"],
        ]
        for args in steps {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw FixtureError("openssl \(args[0]) failed") }
        }
        return TestCA(dir: dir)
    }
}
