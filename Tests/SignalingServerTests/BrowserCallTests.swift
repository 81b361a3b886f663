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
        #expect(verdict.ok, "\(verdict.error) — \(verdict.raw)")
    }

    @Test("relay-only call through coturn")
    func relay() throws {
        let verdict = try BrowserCall.run(relay: true)
        #expect(verdict.ok, "\(verdict.error) — \(verdict.raw)")
    }
}

/// Runs browser_call.py in its own network namespace and prints its figures.
private enum BrowserCall {
    static func run(relay: Bool) throws -> NamespacedDriver.Verdict {
        let verdict = try NamespacedDriver.run("browser_call.py", ["--server-binary", Repo.product("videophone-server")]
                                               + (relay ? ["--relay"] : []))
        func ms(_ v: Any?) -> String { (v as? Int).map(String.init) ?? "-" }
        print("browser call (\(relay ? "relay" : "direct")): ok=\(verdict.ok) "
            + "connected_ms=\(ms(verdict.value("timings", "connected_ms"))) "
            + "first_frame_ms=\(ms(verdict.value("timings", "first_frame_ms"))) (browsers started in "
            + "\(ms(verdict.value("browser_start_ms"))) ms, cleanup \(ms(verdict.value("cleanup_ms"))) ms, "
            + "script \(String(format: "%.1f", verdict.seconds)) s)")
        return verdict
    }
}
