import Foundation
import Testing
import TestSupport

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
        let browser_start_ms: Int?
        let cleanup_ms: Int?
        var raw = ""
        enum CodingKeys: String, CodingKey { case ok, error, timings, browser_start_ms, cleanup_ms }
    }

    static func run(relay: Bool) throws -> Verdict {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        // A fresh network namespace: only `lo`, so no packet can leave the machine.
        p.arguments = ["-n", "--", Repo.python, Repo.path("Tests/Interop/browser_call.py"),
                       "--server-binary", Repo.product("videophone-server")] + (relay ? ["--relay"] : [])
        p.currentDirectoryURL = Repo.root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let started = Date()
        try p.run()
        // Watchdog: the script bounds its own waits, but a wedged browser must not hang the suite.
        // SIGTERM reaches the python process (unshare execs it), whose `finally` stops the browsers,
        // the server and coturn; if even that cleanup wedges, SIGKILL 30 s later.
        let pid = p.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGTERM) }
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        DispatchQueue.global().asyncAfter(deadline: .now() + 150, execute: killer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        killer.cancel()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard var verdict = try? JSONDecoder().decode(Verdict.self, from: Data(line.utf8)) else {
            Issue.record("browser_call.py (exit \(p.terminationStatus)) printed no verdict: \(line)")
            return Verdict(ok: false, error: "no verdict", timings: nil, browser_start_ms: nil, cleanup_ms: nil, raw: line)
        }
        verdict.raw = line
        let t = verdict.timings
        func ms(_ v: Int?) -> String { v.map(String.init) ?? "-" }
        print("browser call (\(relay ? "relay" : "direct")): ok=\(verdict.ok) connected_ms=\(ms(t?.connected_ms)) "
            + "first_frame_ms=\(ms(t?.first_frame_ms)) (browsers started in \(ms(verdict.browser_start_ms)) ms, "
            + "cleanup \(ms(verdict.cleanup_ms)) ms, script \(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
        return verdict
    }
}
