import Appliance
import SystemCrypto
import Foundation
import SignalingCore
import TestSupport
import TOMLConfig

/// A real `videophone-server` and real `videophoned` processes on 127.0.0.1, driven through their
/// control sockets (unix(7)), as an installer or a home-automation script would.
final class DaemonHarness: @unchecked Sendable {
    let dir: String
    let adminToken = "test-admin-token-\(UUID().uuidString)"
    let adminKey = Ed25519PrivateKey()
    private(set) var server: Process?
    private(set) var port = 0
    private var daemons: [String: Process] = [:]

    init() throws {
        // Short path: sun_path holds 107 bytes.
        dir = "/tmp/vpd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var publicKey: String { Data(adminKey.publicKey.rawRepresentation).base64EncodedString() }

    func startServer(_ extra: [String] = []) throws {
        let tokenFile = dir + "/admin-token"
        try adminToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let (p, line) = try Process.startReadingFirstLine(Repo.product("videophone-server"),
                                                          ["--port", "0", "--state-dir", dir + "/server", "--admin-token-file", tokenFile] + extra)
        server = p
        guard let portText = line.split(separator: ":").last?.split(separator: " ").first, let port = Int(portText) else {
            p.stop()
            throw TestSupportError("server did not print its port: \(line)")
        }
        self.port = port
    }

    func restartServer(port: Int) throws {
        let (p, _) = try Process.startReadingFirstLine(Repo.product("videophone-server"),
                                                       ["--port", "\(port)", "--state-dir", dir + "/server",
                                                        "--admin-token-file", dir + "/admin-token"])
        server = p
    }

    func socket(_ name: String) -> String { "\(dir)/\(name).sock" }
    func log(_ name: String) -> String { "\(dir)/\(name).log" }
    var snapshots: String { dir + "/snapshots" }

    /// Writes NAME.toml and starts the daemon; returns the start-to-READY milliseconds it reports.
    @discardableResult
    func startDaemon(_ name: String, room: String = "kitchen", settings: [String: String] = [:], flags: [String] = []) throws -> Int {
        var values: [String: String] = [
            "signaling.url": "\"\(url)\"", "signaling.room": "\"\(room)\"", "signaling.name": "\"\(name)\"",
            "control.socket": "\"\(socket(name))\"", "state.dir": "\"\(dir)/\(name)-state\"",
            "screen.snapshot_dir": "\"\(snapshots)\"", "screen.width": "640", "screen.height": "400",
            "ice.loopback_only": "true", "camera.fps": "15",
        ]
        values.merge(settings) { $1 }
        let text = values.keys.sorted().map { "\($0) = \(values[$0]!)" }.joined(separator: "\n") + "\n"
        let config = "\(dir)/\(name).toml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repo.product("videophoned"))
        p.arguments = ["--config", config] + flags
        let out = Pipe()
        p.standardOutput = out
        if !FileManager.default.fileExists(atPath: log(name)) { FileManager.default.createFile(atPath: log(name), contents: nil) }
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log(name)))
        logHandle.seekToEndOfFile()
        p.standardError = logHandle
        try p.run()
        daemons[name] = p
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let json = try JSONValue.parse(Substring(String(decoding: line, as: UTF8.self)))
        guard json["event"]?.stringValue == "ready", case .number(let ms)? = json["startupMs"] else {
            throw TestSupportError("\(name) did not become ready: \(String(decoding: line, as: UTF8.self)); log: \(logText(name).suffix(2000))")
        }
        return Int(ms)
    }

    func stopDaemon(_ name: String, signal: Int32 = SIGTERM) {
        daemons.removeValue(forKey: name)?.stop(signal: signal)
    }

    func logText(_ name: String) -> String { (try? String(contentsOfFile: log(name), encoding: .utf8)) ?? "" }

    /// One request line, one reply line.
    func control(_ name: String, _ request: String) throws -> JSONValue {
        do { return try ControlClient.request(request, socketPath: socket(name)) }
        catch { throw TestSupportError(error.description) }
    }

    func status(_ name: String) throws -> JSONValue { try control(name, "status") }

    /// Polls `status` until `condition` holds; returns the last status (or throws after `seconds`).
    @discardableResult
    func waitFor(_ name: String, _ what: String, seconds: Double = 15, _ condition: (JSONValue) -> Bool) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(seconds)
        var last: JSONValue = .null
        while Date() < deadline {
            last = try status(name)
            if condition(last) { return last }
            usleep(100_000)
        }
        // The work directory is removed after the test: keep the daemon's own account of what happened.
        throw TestSupportError("\(name): timed out waiting for \(what); last status \(last.serialized()); log tail:\n\(logText(name).suffix(3000))")
    }

    /// POST /api/devices/{id}/config as AdminAPI expects; returns the HTTP status.
    func postConfig(_ signed: SignedDeviceConfig) throws -> Int {
        let body = dir + "/body.json"
        try signed.json.serialized().write(toFile: body, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(adminToken)",
                       "-H", "Content-Type: application/json", "--data-binary", "@\(body)",
                       "\(url)/api/devices/\(signed.deviceId)/config"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        return Int(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) ?? 0
    }

    func stopAll() {
        for name in Array(daemons.keys) { stopDaemon(name) }
        server?.stop()
        server = nil
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

extension JSONValue {
    subscript(path path: String) -> JSONValue? {
        var v: JSONValue? = self
        for key in path.split(separator: ".") { v = v?[String(key)] }
        return v
    }

    func number(_ path: String) -> Double {
        if case .number(let n)? = self[path: path] { return n }
        return -1
    }

    func string(_ path: String) -> String? { self[path: path]?.stringValue }

    func bool(_ path: String) -> Bool? {
        if case .bool(let b)? = self[path: path] { return b }
        return nil
    }
}
