import Foundation
import TestSupport
import Testing

typealias FixtureError = TestSupportError

/// The python-socketio room server (Tests/Interop/socketio_room_server.py), an independent
/// Engine.IO/Socket.IO implementation. Started per test on a free loopback port and always stopped.
final class FixtureServer: @unchecked Sendable {
    // Mutated only by the test that owns it (start/stop/pause), never concurrently.
    private var process: Process?
    private(set) var port: Int = 0
    let arguments: [String]
    let scheme: String
    let script: String

    init(transports: String = "polling,websocket", pingInterval: Double = 25, pingTimeout: Double = 20,
         extra: [String] = [], tls: TestCA? = nil) {
        var args = ["--transports", transports, "--ping-interval", "\(pingInterval)", "--ping-timeout", "\(pingTimeout)"] + extra
        if let tls { args += ["--certfile", tls.serverCert, "--keyfile", tls.serverKey] }
        arguments = args
        scheme = tls == nil ? "http" : "https"
        script = "Tests/Interop/socketio_room_server.py"
    }

    /// Another server script of Tests/Interop that prints `READY <port>` (it takes only `--port`).
    init(script: String) {
        arguments = []
        scheme = "http"
        self.script = script
    }

    var url: URL { URL(string: "\(scheme)://\(scheme == "https" ? "localhost" : "127.0.0.1"):\(port)")! }

    /// Starts the server (on the previous port when restarting) and waits for `READY <port>`.
    func start() throws {
        let (p, text) = try Process.startReadingFirstLine(
            Repo.python, [Repo.path(script), "--port", "\(port)"] + arguments)
        process = p
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            stop()
            throw FixtureError("fixture server did not start (said: '\(text)'); is python-socketio installed? run scripts/setup")
        }
        self.port = port
    }

    func stop() {
        process?.stop()
        process = nil
    }

    /// Freezes the server (SIGSTOP): it stays listening but says nothing, like a hung host.
    func freeze() { if let p = process { kill(p.processIdentifier, SIGSTOP) } }

    deinit { stop() }
}
