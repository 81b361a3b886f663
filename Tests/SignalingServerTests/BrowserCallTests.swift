import Foundation
import Testing

/// Two headless Chromium browsers load videophone-server's own page, join a room and complete a
/// call (Tests/Interop/browser_call.py, Selenium). The script runs inside `unshare -n` so every
/// packet stays on loopback; relay mode adds coturn and forces relay-only ICE with credentials
/// from `/api/ice-servers`.
@Suite("two Chromium browsers call each other through videophone-server's page", .serialized)
struct BrowserCallTests {
    @Test("direct call: connected and decoding video on both sides")
    func direct() throws {
        let verdict = try BrowserCall.run(relay: false)
        #expect(verdict.ok, "\(verdict.error ?? "") — \(verdict.raw)")
    }

    @Test("relay-only call through coturn")
    func relay() throws {
        let verdict = try BrowserCall.run(relay: true)
        #expect(verdict.ok, "\(verdict.error ?? "") — \(verdict.raw)")
    }
}

/// Runs browser_call.py and decodes its one JSON line.
private enum BrowserCall {
    struct Timings: Decodable {
        let connected_ms: Int?
        let first_frame_ms: Int?
    }
    struct Verdict: Decodable {
        let ok: Bool
        let error: String?
        let timings: Timings?
        var raw = ""
        enum CodingKeys: String, CodingKey { case ok, error, timings }
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static var python: String { ProcessInfo.processInfo.environment["VIDEOPHONE_PYTHON"] ?? root + "/.venv/bin/python" }
    static var server: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("videophone-server").path
    }

    static func run(relay: Bool) throws -> Verdict {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["-n", "--", python, root + "/Tests/Interop/browser_call.py", "--server-binary", server]
            + (relay ? ["--relay"] : [])
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Watchdog: the script bounds its own waits, but a wedged browser must not hang the suite.
        // SIGTERM reaches the python process, whose `finally` stops the browsers, server and coturn.
        let pid = p.processIdentifier
        // If even that cleanup wedges, SIGKILL 30 s later.
        let watchdog = DispatchWorkItem { if p.isRunning { kill(pid, SIGTERM) } }
        let killer = DispatchWorkItem { if p.isRunning { kill(pid, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        DispatchQueue.global().asyncAfter(deadline: .now() + 150, execute: killer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        killer.cancel()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard var verdict = try? JSONDecoder().decode(Verdict.self, from: Data(line.utf8)) else {
            Issue.record("browser_call.py (exit \(p.terminationStatus)) printed no verdict: \(line)")
            return Verdict(ok: false, error: "no verdict", timings: nil, raw: line)
        }
        verdict.raw = line
        let t = verdict.timings
        print("browser call (\(relay ? "relay" : "direct")): ok=\(verdict.ok) connected_ms=\(t?.connected_ms.map(String.init) ?? "-") first_frame_ms=\(t?.first_frame_ms.map(String.init) ?? "-")")
        return verdict
    }
}
