import Foundation

/// Runs one of the Python interop drivers (Tests/Interop/*.py) inside a fresh network namespace
/// (`unshare -n`: only `lo`, so no packet can leave the machine) and returns the one JSON line it
/// prints last. A watchdog sends SIGTERM after `timeout` seconds (the driver's `finally` stops its
/// browsers, servers and coturn) and SIGKILL 30 s later, so a wedged browser never hangs a suite.
public enum NamespacedDriver {
    public struct Verdict: @unchecked Sendable {
        /// The decoded JSON object (empty if the driver printed none).
        public let json: [String: Any]
        public let raw: String
        public let exitStatus: Int32
        public let seconds: Double
        public var ok: Bool { json["ok"] as? Bool ?? false }
        public var error: String { json["error"] as? String ?? (json.isEmpty ? "no verdict: \(raw)" : "") }
        /// A nested value by path, e.g. `value("timings", "connected_ms")`.
        public func value(_ path: String...) -> Any? {
            var current: Any? = json
            for key in path { current = (current as? [String: Any])?[key] }
            return current
        }
    }

    public static func run(_ script: String, _ arguments: [String], timeout: Double = 120) throws -> Verdict {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["-n", "--", Repo.python, Repo.path("Tests/Interop/" + script)] + arguments
        p.currentDirectoryURL = Repo.root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let started = Date()
        try p.run()
        let pid = p.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGTERM) }
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout + 30, execute: killer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        killer.cancel()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return Verdict(json: json, raw: line, exitStatus: p.terminationStatus,
                       seconds: Date().timeIntervalSince(started))
    }
}
