import Foundation
import Testing
import TestSupport

/// Headless Chromium (real libwebrtc, fake camera and microphone) calls our endpoint
/// (`videophone peer`) through videophone-server, with the seed's signaling flow: the page clicks
/// Call, we answer. Passes when both report connected and we decrypted more than 100 SRTP packets
/// on each SSRC the browser's offer announced for audio and video, plus its RTCP
/// (Tests/Interop/browser_peer.py, inside `unshare -n`). Relay: our side uses only TURN relay
/// candidates through a local coturn. Media: each side calling once, two-way VP8 + Opus through
/// MediaSession judged over a 6 s window (Chromium decodes our 30 fps at ≥ 25 fps and hears our
/// tone; we decode ≥ 95 % of the frames it sent and hear its beep); renegotiation by the page.
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

    static func runMedia(_ extra: [String]) throws -> NamespacedDriver.Verdict {
        let verdict = try NamespacedDriver.run(
            "browser_peer.py",
            ["--server-binary", Repo.product("videophone-server"), "--endpoint-binary", Repo.product("videophone"),
             "--min-packets", "50", "--min-frames", "20", "--media", "--hold", "6"] + extra, timeout: 150)
        func f(_ key: String) -> String { verdict.value("media", key).map { "\($0)" } ?? "-" }
        print("Chromium ↔ our endpoint media (\(verdict.value("caller") ?? "-") calls\(extra.contains("--renegotiate") ? ", renegotiated \(verdict.value("renegotiated") ?? "-")" : "")): ok=\(verdict.ok) "
            + "Chromium decodes our video at \(f("chromium_decode_fps")) fps, hears level \(f("chromium_audio_level")); "
            + "we decoded \(f("ours_decoded")) of \(f("chromium_frames_sent")) frames it sent (\(f("ours_decoded_fraction"))), "
            + "our audio energy \(f("ours_audio_energy")) peak \(f("ours_audio_peak")), first frame \(f("ours_first_frame_ms")) ms "
            + "(script \(String(format: "%.1f", verdict.seconds)) s)")
        return verdict
    }

    @Test("media, Chromium calls: it decodes our video at ≥ 25 fps and hears our tone; we decode ≥ 95 % of its frames and hear its beep")
    func mediaChromiumCalls() throws {
        let verdict = try Self.runMedia([])
        #expect(verdict.ok, "\(verdict.error) — \(verdict.raw)")
        #expect((verdict.value("media", "failures") as? [Any])?.isEmpty == true, "\(verdict.raw)")
    }

    @Test("media, our endpoint calls (`videophone peer --call`, the page auto-answers): the same figures")
    func mediaWeCall() throws {
        let verdict = try Self.runMedia(["--call"])
        #expect(verdict.ok, "\(verdict.error) — \(verdict.raw)")
        #expect(verdict.value("caller") as? String == "endpoint")
    }

    @Test("renegotiation: the page restarts ICE through peer:nego:needed; we answer and media goes on",
          arguments: ["ice-restart", "remove-video"])
    func renegotiation(how: String) throws {
        let verdict = try NamespacedDriver.run(
            "browser_peer.py",
            ["--server-binary", Repo.product("videophone-server"), "--endpoint-binary", Repo.product("videophone"),
             "--min-packets", "50", "--min-frames", "20", "--renegotiate", how], timeout: 150)
        print("Chromium renegotiates (\(how)): ok=\(verdict.ok) \(verdict.error)")
        #expect(verdict.ok, "\(verdict.error) — \(verdict.raw)")
        #expect(verdict.value("renegotiated") as? String == how)
    }
}
