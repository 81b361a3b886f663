import Foundation
import Testing
import TestSupport

/// Issue #7 "Done when": Chromium (videophone-server's own page, fake camera and microphone) calls a
/// `videophoned` in auto-answer mode, then the daemon calls Chromium: frames decoded on both sides
/// and the daemon's screen shows the browser's picture (Tests/Interop/daemon_call.py, in `unshare -n`).
@Suite("Interop: Chromium ↔ videophoned", .serialized)
struct DaemonChromiumTests {
    @Test func chromiumCallsTheDaemonAndTheDaemonCallsChromium() throws {
        let verdict = try NamespacedDriver.run(
            "daemon_call.py",
            ["--server-binary", Repo.product("videophone-server"), "--daemon-binary", Repo.product("videophoned"),
             "--min-frames", "30"], timeout: 150)
        for round in ["chromium_calls_daemon", "daemon_calls_chromium"] {
            print("Chromium ↔ videophoned (\(round)): call up with ≥ 30 frames decoded each way after "
                + "\(verdict.value("rounds", round, "call_up_ms") ?? "-") ms; page decoded "
                + "\(verdict.value("rounds", round, "page", "video", "framesDecoded") ?? "-"), daemon received "
                + "\(verdict.value("rounds", round, "daemon_call", "framesReceived") ?? "-")")
        }
        #expect(verdict.ok, "\(verdict.error) — \(verdict.raw)")
    }
}
