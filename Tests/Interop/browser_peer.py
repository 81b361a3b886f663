#!/usr/bin/env python3
"""Headless Chromium calls our own endpoint through videophone-server, the way the seed's app does.

Run it inside a fresh network namespace so that every packet stays on loopback:

    unshare -n -- .venv/bin/python Tests/Interop/browser_peer.py --server-binary PATH \
        --endpoint-binary PATH [--relay] [--min-packets 100] [--min-frames 0]

It brings `lo` up, starts videophone-server on 127.0.0.1 (port 0) and, with --relay, coturn; then our
endpoint (`videophone peer --server URL --room r --name appliance`, relay-only ICE with --relay),
which joins and answers incoming calls; then one browser page "bob" that joins the same room and
clicks Call. It waits until the page reports connectionState 'connected' and our endpoint reports
DTLS connected and at least --min-packets SRTP packets decrypted from each SSRC the browser's offer
announced for audio and video, plus RTCP. With --min-frames it also waits until our endpoint has
decoded that many video frames and the page's inbound video framesDecoded reaches the same.
Prints one JSON line (verdict, timings, both sides' figures) and exits 0 (ok) or 1. Everything it
starts is stopped in `finally`.
"""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from browser_call import (STATS_JS, on_sigterm, start_browser, stun_binding_ok,  # noqa: E402
                          tail, wait_for, wait_for_line)
from selenium.webdriver.common.by import By  # noqa: E402

CALL_TIMEOUT = 30.0
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
                if msg.get("event") != "stats":
                    self.events.append(msg)

    def get(self, name):
        with self.lock:
            return self.latest.get(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--endpoint-binary", required=True, help="the `videophone` executable")
    ap.add_argument("--relay", action="store_true", help="our side relay-only through a local coturn")
    ap.add_argument("--min-packets", type=int, default=100)
    ap.add_argument("--min-frames", type=int, default=0)
    ap.add_argument("--hold", type=float, default=0.0, help="seconds to keep the call up once it passed")
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()

    result = {"ok": False, "mode": "relay" if args.relay else "direct"}
    work = tempfile.mkdtemp(prefix="vp-browser-peer-")
    procs, drivers, endpoint = [], [], None
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
        names = [line.split(":")[1].strip() for line in links.splitlines()]
        if names != ["lo"]:
            raise RuntimeError(f"not in a network namespace of its own (interfaces {names}): run under `unshare -n`")
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

        server_args = [args.server_binary, "--host", "127.0.0.1", "--port", "0", "--store", "memory",
                       "--log-level", "warning"]
        if args.relay:
            secret = secrets.token_hex(16)
            secret_file = os.path.join(work, "turn-secret")
            with open(os.open(secret_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(secret + "\n")
            turn_log = os.path.join(work, "turnserver.log")
            turn = subprocess.Popen(
                ["turnserver", "-n", "--no-cli", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                 "--listening-port=3478", "--min-port=49152", "--max-port=49300", "--use-auth-secret",
                 f"--static-auth-secret={secret}", "--realm=videophone", "--no-tls", "--no-dtls",
                 "--fingerprint", "--allow-loopback-peers", "--log-file=stdout", "--simple-log"],
                stdout=open(turn_log, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            procs.append(turn)

            def turn_ready():
                if turn.poll() is not None:
                    raise RuntimeError(f"turnserver exited with {turn.returncode}: {tail(turn_log)}")
                return stun_binding_ok(3478)
            wait_for("coturn to answer STUN", turn_ready, 10)
            server_args += ["--turn-url", "turn:127.0.0.1:3478?transport=udp", "--turn-secret-file", secret_file]

        server_log = os.path.join(work, "server.log")
        server = subprocess.Popen(server_args, stdout=open(server_log, "w"), stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        procs.append(server)
        port = int(wait_for_line(server_log, r"listening on 127\.0\.0\.1:(\d+)", server, 15).group(1))
        base = f"http://127.0.0.1:{port}/"

        endpoint_argv = [args.endpoint_binary, "peer", "--server", base, "--room", "r", "--name", "appliance",
                         "--stats-interval", "0.5", "--loopback-only"]
        if args.relay:
            endpoint_argv.append("--relay-only")
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
        if args.hold:
            time.sleep(args.hold)
            result["page_after_hold"] = bob.execute_async_script(STATS_JS)
            result["endpoint_after_hold"] = endpoint.get("stats")
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
        for d in drivers:
            try:
                d.quit()
            except Exception:
                pass
        if endpoint:
            procs.insert(0, endpoint.proc)
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                result.setdefault("killed", []).append(os.path.basename(p.args[0]))
                p.kill()
                p.wait()
        if args.keep_logs:
            result["work_dir"] = work
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
