import Foundation
import Testing
import TestSupport

/// Headless Chromium (real libwebrtc, fake camera and microphone) calls our endpoint
/// (`videophone peer`) through videophone-server, with the seed's signaling flow: the page clicks
/// Call, we answer. Passes when both report connected and we decrypted more than 100 SRTP packets
/// on each SSRC the browser's offer announced for audio and video, plus its RTCP
/// (Tests/Interop/browser_peer.py, inside `unshare -n`). Relay: our side uses only TURN relay
/// candidates through a local coturn.
@Suite("Interop: Chromium calls our endpoint", .serialized)
struct ChromiumInteropTests {
    static func run(relay: Bool) throws -> NamespacedDriver.Verdict {
        let verdict = try NamespacedDriver.run(
            "browser_peer.py",
            ["--server-binary", Repo.product("videophone-server"), "--endpoint-binary", Repo.product("videophone"),
             "--min-packets", "100"] + (relay ? ["--relay"] : []))
        func ms(_ v: Any?) -> String { (v as? Int).map(String.init) ?? "-" }
        print("Chromium → our endpoint (\(relay ? "relay" : "direct")): ok=\(verdict.ok) "
            + "remote description → ICE \(ms(verdict.value("timings", "remote_description_to_ice_connected_ms"))) ms, "
            + "→ DTLS \(ms(verdict.value("timings", "remote_description_to_dtls_connected_ms"))) ms; "
            + "page call → connected \(Self.pageConnectedMs(verdict)) ms; "
            + "SRTP by SSRC \(verdict.value("endpoint", "srtpPacketsBySSRC") ?? "-"), "
            + "RTCP \(verdict.value("endpoint", "rtcpPackets") ?? "-"), profile \(verdict.value("endpoint", "srtpProfile") ?? "-") "
            + "(script \(String(format: "%.1f", verdict.seconds)) s)")
        return verdict
    }

    static func pageConnectedMs(_ v: NamespacedDriver.Verdict) -> String {
        guard let call = v.value("page", "times", "call") as? Int, let up = v.value("page", "times", "connected") as? Int else { return "-" }
        return String(up - call)
    }

    @Test("direct: connected, more than 100 SRTP packets per announced SSRC decrypted, RTCP too")
    func direct() throws {
        let verdict = try Self.run(relay: false)
        #expect(verdict.ok, "\(verdict.error) — \(verdict.raw)")
        #expect(verdict.value("endpoint", "srtpErrors") as? Int == 0)
    }

    @Test("relay-only on our side through coturn: the same call connects via TURN")
    func relay() throws {
        let verdict = try Self.run(relay: true)
        #expect(verdict.ok, "\(verdict.error) — \(verdict.raw)")
        #expect(verdict.value("endpoint", "selectedPair", "localType") as? String == "relay")
    }
}
