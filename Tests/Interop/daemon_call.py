#!/usr/bin/env python3
"""Headless Chromium and a real `videophoned` call each other through videophone-server's page.

Run it inside a fresh network namespace so that every packet stays on loopback:

    unshare -n -- .venv/bin/python Tests/Interop/daemon_call.py --server-binary PATH --daemon-binary PATH

It brings `lo` up, starts videophone-server (port 0) and one appliance daemon (synthetic camera and
microphone, headless screen, auto-answer immediate, loopback-only ICE) in room `r`, then:
1. the page joins and clicks Call; the daemon answers by itself;
2. the daemon's screen (a snapshot through its control socket) shows the browser's picture, the page
   decodes the daemon's video and the daemon decodes the page's (--min-frames each); the daemon hangs up;
3. the page reloads with `autoanswer=1`, the daemon presses call, and the same checks pass again.
Prints one JSON line (verdict and both sides' figures) and exits 0 (ok) or 1. Stops all it starts.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from browser_call import (STATS_JS, enter_own_namespace, on_sigterm, start_browser, start_server, tail,  # noqa: E402
                          stop_everything, wait_for)
from selenium.webdriver.common.by import By  # noqa: E402

# The control-socket client is the demo's (scripts/demo.py): one request line, one JSON reply.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from demo import control  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--daemon-binary", required=True)
    ap.add_argument("--min-frames", type=int, default=30)
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()

    result = {"ok": False, "rounds": {}}
    work = tempfile.mkdtemp(prefix="vp-daemon-call-")
    procs, drivers = [], []
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        enter_own_namespace()
        base = start_server(args.server_binary, work, procs)

        sock = os.path.join(work, "appliance.sock")
        config = os.path.join(work, "appliance.toml")
        with open(config, "w") as f:
            f.write(f'signaling.url = "{base}"\nsignaling.room = "r"\nsignaling.name = "appliance"\n'
                    f'call.auto_answer = "immediate"\nice.loopback_only = true\ncontrol.socket = "{sock}"\n'
                    f'state.dir = "{work}/state"\nscreen.snapshot_dir = "{work}/snapshots"\n')
        daemon_log = os.path.join(work, "daemon.log")
        daemon = subprocess.Popen([args.daemon_binary, "--config", config], stdout=subprocess.PIPE,
                                  stderr=open(daemon_log, "w"), stdin=subprocess.DEVNULL, text=True)
        procs.insert(0, daemon)
        ready = json.loads(daemon.stdout.readline() or "{}")
        if ready.get("event") != "ready":
            raise RuntimeError(f"videophoned did not start: {tail(daemon_log)}")
        result["daemon_startup_ms"] = ready.get("startupMs")

        profile = os.path.join(work, "profile-bob")
        os.mkdir(profile)
        drivers.append(start_browser(profile))
        page = drivers[0]

        def check_call(label, started):
            def up():
                p = page.execute_async_script(STATS_JS)
                d = control(sock, "status")
                result["rounds"][label] = {"page": p, "daemon_call": d.get("call"), "daemon_state": d.get("state")}
                return (p.get("connectionState") == "connected"
                        and (p.get("video") or {}).get("framesDecoded", 0) >= args.min_frames
                        and d.get("state") == "inCall"
                        and (d.get("call") or {}).get("framesReceived", 0) >= args.min_frames)
            wait_for(f"{label}: frames decoded on both sides", up, 30)
            r = result["rounds"][label]
            r["call_up_ms"] = round((time.monotonic() - started) * 1000)
            snap = control(sock, "snapshot")
            r["snapshot"] = snap
            if not snap.get("ok") or snap.get("remoteRegionColours", 0) < 3:
                raise RuntimeError(f"{label}: the daemon's screen does not show the browser's picture: {snap}")
            control(sock, "hangup")
            wait_for(f"{label}: daemon idle after hang-up",
                     lambda: control(sock, "status").get("state") == "idle"
                     and not control(sock, "status")["devices"]["open"], 10)

        # 1. The page calls the appliance, which answers on its own.
        page.get(f"{base}?room=r&name=bob&autojoin=1")
        wait_for("the page to join and see the appliance",
                 lambda: page.execute_script("return !!(window.vp && window.vp.state.me)")
                 and page.find_element(By.ID, "callButton").is_enabled(), 15)
        clicked = time.monotonic()
        page.find_element(By.ID, "callButton").click()
        check_call("chromium_calls_daemon", clicked)

        # 2. The appliance calls the page, which answers on its own.
        # Leave first and wait until the appliance has seen bob go: reloading in place raced (the
        # appliance called the old page's socket just before its user:left arrived).
        page.get("about:blank")
        wait_for("the appliance to see the page leave",
                 lambda: "bob" not in control(sock, "status")["members"], 15)
        page.get(f"{base}?room=r&name=bob&autojoin=1&autoanswer=1")
        wait_for("the page to join again and the appliance to see it",
                 lambda: page.execute_script("return !!(window.vp && window.vp.state.me)")
                 and control(sock, "status").get("state") == "idle" and "bob" in control(sock, "status")["members"], 15)
        pressed = time.monotonic()
        reply = control(sock, "press call")
        if not reply.get("ok"):
            raise RuntimeError(f"press call refused: {reply}")
        check_call("daemon_calls_chromium", pressed)
        result["ok"] = True
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {e}".strip()
        result["server_log"] = tail(os.path.join(work, "server.log"))
        result["daemon_log"] = tail(os.path.join(work, "daemon.log"), 30)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_everything(drivers, procs, result, work, args.keep_logs, wait=8)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
