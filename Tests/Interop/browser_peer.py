#!/usr/bin/env python3
"""Headless Chromium calls our own endpoint through videophone-server, the way the seed's app does.

Run it inside a fresh network namespace so that every packet stays on loopback:

    unshare -n -- .venv/bin/python Tests/Interop/browser_peer.py --server-binary PATH \
        --endpoint-binary PATH [--relay] [--min-packets 100] [--min-frames 0] [--call] [--media --hold 6]

It brings `lo` up, starts videophone-server on 127.0.0.1 (port 0) and, with --relay, coturn; then our
endpoint (`videophone peer --server URL --room r --name appliance`, relay-only ICE with --relay),
which joins and answers incoming calls; then one browser page "bob" that joins the same room and
clicks Call. It waits until the page reports connectionState 'connected' and our endpoint reports
DTLS connected and at least --min-packets SRTP packets decrypted from each SSRC the browser's offer
announced for audio and video, plus RTCP. With --min-frames it also waits until our endpoint has
decoded that many video frames and the page's inbound video framesDecoded reaches the same.
With --call our endpoint places the call (`videophone peer --call`) and the page answers on its own
(`?autoanswer=1`). With --media (and --hold SECONDS) it also judges the media over the hold window:
Chromium's inbound video framesDecoded must rise at --min-fps or more and its inbound audio carry
energy (our tone); our endpoint must decode at least --min-decoded-fraction of the frames Chromium's
outbound-rtp reports sent over the same window (our decoded count is interpolated at the page's
sample times plus 150 ms for transit: both use CLOCK_MONOTONIC) and hear its beep (audio energy).
With --impair-send/--impair-receive SPEC (e.g. 'loss=5%,jitter=30ms' or 'rate=300k,queue=200ms')
our endpoint applies those link conditions to every datagram it sends and receives (`videophone
peer --impair-*`: the in-process tests' model on a real socket, since the host has no netem), so
Chromium's sender and receiver meet them as ours do; --settle waits before the --hold window (a
sender has 10 s to settle under a cap). The verdict then also has both sides' freezes, Chromium's
share of our frames decoded, both senders' bitrates and a per-second timeline of ours; with
--max-freeze-ms our longest gap must stay under it and Chromium must receive
--min-decoded-fraction of our frames (and decode that less 10 points: its decoder trails on a loaded
machine), with --max-sent-kbps our mean video bitrate must stay under it.
Prints one JSON line (verdict, timings, both sides' figures) and exits 0 (ok) or 1. Everything it
starts is stopped in `finally`.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from browser_call import (STATS_JS, enter_own_namespace, on_sigterm, start_coturn, start_server,  # noqa: E402
                          start_browser, stop_everything, tail, wait_for)
from selenium.webdriver.common.by import By  # noqa: E402

CALL_TIMEOUT = 30.0
# browser_call.py's STATS_JS plus the media figures this driver judges (W3C webrtc-stats names).
MEDIA_STATS_JS = r"""
const done = arguments[arguments.length - 1];
const pc = window.vp && window.vp.pc;
if (!pc) { done(null); return; }
pc.getStats().then((stats) => {
  const out = {now: performance.timeOrigin + performance.now()};
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') out.videoIn = {
      framesDecoded: r.framesDecoded || 0, framesReceived: r.framesReceived || 0, framesDropped: r.framesDropped || 0,
      framesPerSecond: r.framesPerSecond, freezeCount: r.freezeCount, totalFreezesDuration: r.totalFreezesDuration,
      nackCount: r.nackCount, pliCount: r.pliCount, firCount: r.firCount, packetsLost: r.packetsLost,
      packetsReceived: r.packetsReceived, frameWidth: r.frameWidth, frameHeight: r.frameHeight,
      jitterBufferDelay: r.jitterBufferDelay, jitterBufferEmittedCount: r.jitterBufferEmittedCount,
      keyFramesDecoded: r.keyFramesDecoded, bytesReceived: r.bytesReceived, timestamp: r.timestamp};
    if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audioIn = {
      audioLevel: r.audioLevel, totalAudioEnergy: r.totalAudioEnergy, totalSamplesDuration: r.totalSamplesDuration,
      packetsReceived: r.packetsReceived, packetsLost: r.packetsLost, concealedSamples: r.concealedSamples,
      totalSamplesReceived: r.totalSamplesReceived, timestamp: r.timestamp};
    if (r.type === 'outbound-rtp' && r.kind === 'video') out.videoOut = {
      framesEncoded: r.framesEncoded || 0, framesSent: r.framesSent || 0, framesPerSecond: r.framesPerSecond,
      targetBitrate: r.targetBitrate, nackCount: r.nackCount, pliCount: r.pliCount, keyFramesEncoded: r.keyFramesEncoded,
      retransmittedPacketsSent: r.retransmittedPacketsSent, qualityLimitationReason: r.qualityLimitationReason,
      frameWidth: r.frameWidth, frameHeight: r.frameHeight, bytesSent: r.bytesSent,
      headerBytesSent: r.headerBytesSent, timestamp: r.timestamp};
    if (r.type === 'outbound-rtp' && r.kind === 'audio') out.audioOut = {packetsSent: r.packetsSent};
    if (r.type === 'remote-inbound-rtp' && r.kind === 'video') out.videoRemoteIn = {
      roundTripTime: r.roundTripTime, fractionLost: r.fractionLost, packetsLost: r.packetsLost, jitter: r.jitter};
    if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded')
      out.availableOutgoingBitrate = r.availableOutgoingBitrate;
  });
  done(out);
}).catch((e) => done({error: String(e)}));
"""
OFFER_SSRCS_JS = r"""
const pc = window.vp && window.vp.pc;
if (!pc || !pc.localDescription) return null;
const out = {audio: [], video: []};
let kind = null;
for (const line of pc.localDescription.sdp.split(/\r?\n/)) {
  const m = line.match(/^m=(\w+)/); if (m) kind = m[1];
  const s = line.match(/^a=ssrc:(\d+) /); if (s && out[kind] && !out[kind].includes(Number(s[1]))) out[kind].push(Number(s[1]));
}
return out;
"""


class Endpoint:
    """Our endpoint process: JSON lines on stdout, kept as the latest value per event name."""

    def __init__(self, argv, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.PIPE, text=True)
        self.latest = {}
        self.events = []
        self.lines = []  # every stats line's media figures (a timeline for impaired runs)
        self.history = []  # (monotonicNs, videoFramesDecoded, framesSent, videoBitrateOut) from every stats line
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.latest[msg.get("event")] = msg
                if msg.get("event") == "stats" and "monotonicNs" in msg and msg.get("media"):
                    m = msg["media"]
                    self.lines.append([round(msg["monotonicNs"] / 1e9, 2), round(m.get("targetBitrate", 0) / 1000),
                                       round(m.get("videoBitrateOut", 0) / 1000), round(m.get("videoBitrateIn", 0) / 1000),
                                       round((m.get("roundTripTime") or 0) * 1000), m.get("keyframesSent"),
                                       m.get("plisReceived"), m.get("nacksReceived"), m.get("packetsRetransmittedOut")])
                if msg.get("event") == "stats" and "monotonicNs" in msg:
                    self.history.append((msg["monotonicNs"], msg.get("videoFramesDecoded") or 0, msg.get("framesSent") or 0,
                                         (msg.get("media") or {}).get("videoBitrateOut") or 0))
                if msg.get("event") != "stats":
                    self.events.append(msg)

    def get(self, name):
        with self.lock:
            return self.latest.get(name)

    def decoded_at(self, t_ns, column=1):
        """Our decoded-frame count (column 1; 2: frames sent) at monotonic time t_ns, interpolated
        between stats lines."""
        with self.lock:
            h = list(self.history)
        before = [p for p in h if p[0] <= t_ns]
        after = [p for p in h if p[0] >= t_ns]
        if not before or not after:
            return None
        (t0, v0), (t1, v1) = (before[-1][0], before[-1][column]), (after[0][0], after[0][column])
        return v0 if t1 == t0 else v0 + (v1 - v0) * (t_ns - t0) / (t1 - t0)

    def mean_between(self, t0_ns, t1_ns, column=3):
        """Mean of a stats column (3: our video bitrate out) over the lines in [t0, t1]."""
        with self.lock:
            values = [p[column] for p in self.history if t0_ns <= p[0] <= t1_ns]
        return sum(values) / len(values) if values else None


def judge_media(args, m0, m1, t0, t1, endpoint):
    """The Done-when figures over [t0, t1]; failures lists what missed its threshold."""
    out, failures = {}, []
    vin0, vin1 = (m0 or {}).get("videoIn") or {}, (m1 or {}).get("videoIn") or {}
    seconds = ((vin1.get("timestamp") or 0) - (vin0.get("timestamp") or 0)) / 1000 or (t1 - t0) / 1e9
    out["window_s"] = round(seconds, 3)
    out["chromium_decode_fps"] = round((vin1.get("framesDecoded", 0) - vin0.get("framesDecoded", 0)) / seconds, 2)
    out["chromium_video_in"] = vin1
    ain0, ain1 = (m0 or {}).get("audioIn") or {}, (m1 or {}).get("audioIn") or {}
    out["chromium_audio_level"] = ain1.get("audioLevel")
    out["chromium_audio_energy_window"] = round((ain1.get("totalAudioEnergy") or 0) - (ain0.get("totalAudioEnergy") or 0), 6)
    vout0, vout1 = (m0 or {}).get("videoOut") or {}, (m1 or {}).get("videoOut") or {}
    sent = vout1.get("framesSent", 0) - vout0.get("framesSent", 0)
    encoded = vout1.get("framesEncoded", 0) - vout0.get("framesEncoded", 0)
    transit = 150_000_000
    d0, d1 = endpoint.decoded_at(t0 + transit), endpoint.decoded_at(t1 + transit)
    ours = None if d0 is None or d1 is None else d1 - d0
    out.update({"chromium_frames_sent": sent, "chromium_frames_encoded": encoded, "chromium_video_out": vout1,
                "chromium_remote_inbound": (m1 or {}).get("videoRemoteIn"),
                "ours_decoded": None if ours is None else round(ours, 1),
                "ours_decoded_fraction": None if ours is None or not sent else round(ours / sent, 4)})
    ep = endpoint.get("stats") or {}
    out["ours_audio_energy"] = ep.get("totalAudioEnergy")
    out["ours_audio_peak"] = ep.get("audioPeak")
    out["ours_fps_in"] = ep.get("fpsIn")
    out["ours_fps_out"] = ep.get("fpsOut")
    out["ours_first_frame_ms"] = (ep.get("media") or {}).get("firstFrameAfterMs")
    out["ours_media"] = ep.get("media")
    # Under impairment: freezes on both sides, delivery of our frames, and both senders' rates.
    window_ns = (t0 + transit, t1 + transit)
    gaps = [g[1] for g in (ep.get("freezes") or []) if window_ns[0] <= g[0] <= window_ns[1]]
    out["ours_longest_freeze_ms"] = max(gaps) if gaps else 0
    out["ours_freezes"] = len(gaps)
    ours_sent = [endpoint.decoded_at(t, column=2) for t in (t0, t1)]
    if None not in ours_sent and ours_sent[1] > ours_sent[0]:
        decoded = vin1.get("framesDecoded", 0) - vin0.get("framesDecoded", 0)
        received = vin1.get("framesReceived", 0) - vin0.get("framesReceived", 0)
        out["chromium_decoded_fraction"] = round(decoded / (ours_sent[1] - ours_sent[0]), 4)
        # A frame decoded was received, whatever framesReceived says: with 5 % loss Chromium
        # counted 91.5 % received and 99.1 % decoded (frames completed by retransmission).
        out["chromium_received_fraction"] = round(max(received, decoded) / (ours_sent[1] - ours_sent[0]), 4)
    out["chromium_freezes"] = (vin1.get("freezeCount") or 0) - (vin0.get("freezeCount") or 0)
    out["chromium_freezes_s"] = round((vin1.get("totalFreezesDuration") or 0) - (vin0.get("totalFreezesDuration") or 0), 3)
    for key, before, after, field in (("chromium_sent_kbps", vout0, vout1, "bytesSent"),
                                      ("chromium_received_kbps", vin0, vin1, "bytesReceived")):
        if after.get(field) is not None and before.get(field) is not None:
            out[key] = round((after[field] - before[field]) * 8 / seconds / 1000, 1)
    mean_out = endpoint.mean_between(t0, t1)
    out["ours_sent_kbps"] = None if mean_out is None else round(mean_out / 1000, 1)
    out["chromium_target_kbps"] = None if vout1.get("targetBitrate") is None else round(vout1["targetBitrate"] / 1000, 1)
    if args.impair_send or args.impair_receive:
        with endpoint.lock:
            out["ours_timeline"] = {"columns": ["t_s", "target_kbps", "video_out_kbps", "video_in_kbps", "rtt_ms",
                                                "keyframes_sent", "plis_received", "nacks_received", "rtx_sent"],
                                    "rows": endpoint.lines[::2]}
    if args.max_freeze_ms is not None:
        if out["ours_longest_freeze_ms"] > args.max_freeze_ms:
            failures.append(f"our longest freeze {out['ours_longest_freeze_ms']} ms (> {args.max_freeze_ms})")
        # What our sender and the link delivered is what Chromium received (whole frames, lost
        # packets recovered). Its decoder trails that on a starved machine: a fresh-clone CI run
        # where Chromium received 577 of our 591 frames had decoded 540 when the window closed,
        # with no loss, NACK or PLI. Decoding is held to 10 points less, which undecodable
        # frames would still miss by far.
        if (out.get("chromium_received_fraction") or 0) < args.min_decoded_fraction:
            failures.append(f"Chromium received {out.get('chromium_received_fraction')} of the frames we sent "
                            f"(< {args.min_decoded_fraction:.0%})")
        if (out.get("chromium_decoded_fraction") or 0) < args.min_decoded_fraction - 0.1:
            failures.append(f"Chromium decoded {out.get('chromium_decoded_fraction')} of the frames we sent "
                            f"(< {args.min_decoded_fraction - 0.1:.0%})")
    if args.max_sent_kbps is not None and (out["ours_sent_kbps"] is None or out["ours_sent_kbps"] > args.max_sent_kbps):
        failures.append(f"we sent {out['ours_sent_kbps']} kbit/s of video (> {args.max_sent_kbps})")
    if out["chromium_decode_fps"] < args.min_fps:
        failures.append(f"Chromium decoded our video at {out['chromium_decode_fps']} fps (< {args.min_fps})")
    if not (out["chromium_audio_energy_window"] > 1e-4 and (out["chromium_audio_level"] or 0) > 0.01):
        failures.append(f"Chromium hears no energy in our audio (level {out['chromium_audio_level']}, "
                        f"energy {out['chromium_audio_energy_window']})")
    if sent < 10 or out["ours_decoded_fraction"] is None or out["ours_decoded_fraction"] < args.min_decoded_fraction:
        failures.append(f"we decoded {out['ours_decoded']} of {sent} frames Chromium sent (< {args.min_decoded_fraction:.0%})")
    if not ((ep.get("totalAudioEnergy") or 0) > 1e-3 and (ep.get("audioPeak") or 0) > 1000):
        failures.append(f"we hear no beep (energy {ep.get('totalAudioEnergy')}, peak {ep.get('audioPeak')})")
    out["failures"] = failures
    return out


RENEGOTIATE_JS = {
    "ice-restart": "window.vp.pc.restartIce(); return true;",
    "remove-video": """const pc = window.vp.pc; const s = pc.getSenders().find(s => s.track && s.track.kind === 'video');
if (!s) return false; pc.removeTrack(s); return true;""",
    "add-video": """const pc = window.vp.pc; const s = pc.getSenders().find(s => s.track && s.track.kind === 'video');
if (!s) return false; const stream = new MediaStream([s.track]); pc.addTrack(s.track.clone(), stream); return true;""",
}


def renegotiate(page, endpoint, how, result):
    """Make the page renegotiate through peer:nego:needed and wait for our endpoint to answer it and
    for media to keep flowing (our video still decoded by the page, audio still arriving here)."""
    before = page.execute_async_script(MEDIA_STATS_JS) or {}
    decoded_before = ((before.get("videoIn") or {}).get("framesDecoded") or 0)
    ours_before = (endpoint.get("stats") or {}).get("audioFramesDecoded") or 0
    if not page.execute_script(RENEGOTIATE_JS[how]):
        raise RuntimeError(f"the page could not {how}")

    def renegotiated():
        return any(e.get("event") == "renegotiated" for e in endpoint.events)
    wait_for(f"our endpoint to answer the page's renegotiation ({how})", renegotiated, 15)
    def flowing():
        now = page.execute_async_script(MEDIA_STATS_JS) or {}
        ours = (endpoint.get("stats") or {}).get("audioFramesDecoded") or 0
        return (page.execute_script("return window.vp.pc.signalingState") == "stable"
                and ((now.get("videoIn") or {}).get("framesDecoded") or 0) > decoded_before + 30
                and ours > ours_before + 50)
    wait_for("media to go on after the renegotiation", flowing, 15)
    result["renegotiated"] = how


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--endpoint-binary", required=True, help="the `videophone` executable")
    ap.add_argument("--relay", action="store_true", help="our side relay-only through a local coturn")
    ap.add_argument("--min-packets", type=int, default=100)
    ap.add_argument("--min-frames", type=int, default=0)
    ap.add_argument("--hold", type=float, default=0.0, help="seconds to keep the call up once it passed")
    ap.add_argument("--call", action="store_true", help="our endpoint places the call; the page auto-answers")
    ap.add_argument("--media", action="store_true", help="judge the media over the --hold window")
    ap.add_argument("--min-fps", type=float, default=25.0, help="with --media: Chromium's decode rate of our video")
    ap.add_argument("--min-decoded-fraction", type=float, default=0.95,
                    help="with --media: share of Chromium's sent frames we decode")
    ap.add_argument("--renegotiate", choices=["ice-restart", "remove-video", "add-video"],
                    help="after the call is up, make the page renegotiate (peer:nego:needed) and check media goes on")
    ap.add_argument("--impair-send", default="", help="conditions on what our endpoint sends (videophone peer --impair-send)")
    ap.add_argument("--impair-receive", default="", help="conditions on what our endpoint receives")
    ap.add_argument("--scene", choices=["bars", "camera"], default="bars", help="our synthetic camera's scene")
    ap.add_argument("--settle", type=float, default=0.0, help="seconds between the call passing and the --hold window")
    ap.add_argument("--max-freeze-ms", type=float, help="with --media: our longest gap between decoded frames in the "
                    "window; also requires Chromium to decode --min-decoded-fraction of the frames we sent")
    ap.add_argument("--max-sent-kbps", type=float, help="with --media: our mean video bitrate out over the window")
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()

    result = {"ok": False, "mode": "relay" if args.relay else "direct", "caller": "endpoint" if args.call else "page"}
    work = tempfile.mkdtemp(prefix="vp-browser-peer-")
    procs, drivers, endpoint = [], [], None
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        enter_own_namespace()
        secret_file = start_coturn(work, procs) if args.relay else None
        base = start_server(args.server_binary, work, procs, secret_file)

        endpoint_argv = [args.endpoint_binary, "peer", "--server", base, "--room", "r", "--name", "appliance",
                         "--stats-interval", "0.5", "--loopback-only"]
        if args.relay:
            endpoint_argv.append("--relay-only")
        if args.call:
            endpoint_argv.append("--call")
        endpoint_argv += ["--scene", args.scene, "--impair-send", args.impair_send, "--impair-receive", args.impair_receive]
        endpoint = Endpoint(endpoint_argv, os.path.join(work, "endpoint.log"))
        def endpoint_joined():
            if endpoint.proc.poll() is not None:
                raise RuntimeError(f"endpoint exited {endpoint.proc.returncode}: "
                                   f"{tail(os.path.join(work, 'endpoint.log'))}")
            return endpoint.get("joined")
        wait_for("our endpoint to join", endpoint_joined, 15)

        profile = os.path.join(work, "profile-bob")
        os.mkdir(profile)
        drivers.append(start_browser(profile))
        bob = drivers[0]
        # Relay-only is our side's policy; the page keeps its host candidates (coturn relays to them).
        if args.call:
            # Our endpoint calls as soon as the page joins; the page answers by itself.
            bob.get(f"{base}?room=r&name=bob&autojoin=1&autoanswer=1")
        else:
            bob.get(f"{base}?room=r&name=bob&autojoin=1")
            wait_for("bob to join and see the appliance",
                     lambda: bob.execute_script("return !!(window.vp && window.vp.state.me)")
                     and bob.find_element(By.ID, "callButton").is_enabled(), 10)
            bob.find_element(By.ID, "callButton").click()
        clicked = time.monotonic()

        def passed():
            page = bob.execute_async_script(STATS_JS)
            ours = endpoint.get("stats") or {}
            result["page"], result["endpoint"] = page, ours
            ssrcs = bob.execute_script(OFFER_SSRCS_JS)
            result["offer_ssrcs"] = ssrcs
            if page.get("connectionState") != "connected" or not ssrcs:
                return False
            if ours.get("connectionState") != "connected":
                return False
            rtp = {int(k): v for k, v in (ours.get("srtpPacketsBySSRC") or {}).items()}
            for kind in ("audio", "video"):
                # The primary SSRC of each kind (the first one listed; the second video one is RTX).
                if not ssrcs[kind] or rtp.get(ssrcs[kind][0], 0) < args.min_packets:
                    return False
            if (ours.get("rtcpPackets") or 0) < 1:
                return False
            if args.min_frames:
                if (ours.get("videoFramesDecoded") or 0) < args.min_frames:
                    return False
                if (page.get("video") or {}).get("framesDecoded", 0) < args.min_frames:
                    return False
            if args.relay and ours.get("selectedPair", {}).get("localType") != "relay":
                return False
            return True
        wait_for("a connected call with SRTP decrypted on our side", passed, CALL_TIMEOUT)
        result["timings"] = {"test_saw_call_up_ms": round((time.monotonic() - clicked) * 1000)}
        for e in endpoint.events:
            if e.get("event") == "timing":
                result["timings"].update({k: v for k, v in e.items() if k != "event"})
        if args.renegotiate:
            renegotiate(bob, endpoint, args.renegotiate, result)
        if args.hold:
            time.sleep(args.settle)
            m0, t0 = bob.execute_async_script(MEDIA_STATS_JS), time.monotonic_ns()
            time.sleep(args.hold)
            m1, t1 = bob.execute_async_script(MEDIA_STATS_JS), time.monotonic_ns()
            time.sleep(0.7)  # two more stats lines from our endpoint, past t1 + transit
            result["page_after_hold"] = bob.execute_async_script(STATS_JS)
            result["endpoint_after_hold"] = endpoint.get("stats")
            result["media"] = judge_media(args, m0, m1, t0, t1, endpoint)
            if args.media and result["media"]["failures"]:
                raise RuntimeError("media: " + "; ".join(result["media"]["failures"]))
        result["ok"] = True
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {e}".strip()
        try:
            if drivers:
                result["console"] = [m["message"] for m in drivers[0].get_log("browser")
                                     if m["level"] in ("SEVERE", "WARNING")][-10:]
        except Exception:
            pass
        result["server_log"] = tail(os.path.join(work, "server.log"))
        result["endpoint_log"] = tail(os.path.join(work, "endpoint.log"), 30)
        if endpoint:
            result["endpoint_events"] = endpoint.events[-20:]
        if args.relay:
            result["turn_log"] = tail(os.path.join(work, "turnserver.log"))
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if endpoint:
            procs.insert(0, endpoint.proc)
        stop_everything(drivers, procs, result, work, args.keep_logs)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
