#!/usr/bin/env python3
"""Two headless Chromium browsers call each other through videophone-server's own page.

Run it inside a fresh network namespace so that every packet stays on loopback (it refuses to run
where other interfaces are visible):

    unshare -n -- .venv/bin/python Tests/Interop/browser_call.py --server-binary PATH [--relay]

It brings `lo` up, starts videophone-server on 127.0.0.1 (port 0), with --relay also coturn
(relay-only ICE, credentials from /api/ice-servers), opens the page as alice (autoanswer) and
bob, has bob click Call, and waits until both pages report connectionState 'connected' and
inbound video framesDecoded > 0 in getStats() (relay: the selected pair's local candidate is
of type 'relay' on both sides). Then it checks chat: live messages and the history a rejoining
page receives. Prints one JSON line and exits 0 (ok) or 1. Everything it starts is stopped in
`finally`, whatever happened.
"""
import argparse
import json
import os
import re
import secrets
import signal
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/lib/chromium/chromium"      # the real binary; /usr/bin/chromium is a wrapper script
CHROMEDRIVER = "/usr/bin/chromedriver"       # given explicitly so Selenium Manager never goes online
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # In a namespace with only `lo`, Chromium gathers no ICE candidates without this.
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-extensions", "--mute-audio",
]
CALL_TIMEOUT = 30.0

# Collects what the test needs from one page: call state, its milestones and getStats().
STATS_JS = r"""
const done = arguments[arguments.length - 1];
const vp = window.vp, pc = vp && vp.pc;
const out = { call: vp ? vp.state.call : null, error: vp ? vp.state.error : 'no window.vp',
              times: vp ? vp.state.times : {}, chat: [...document.querySelectorAll('#chatLog li')].map(li => li.textContent) };
if (!pc) { done(out); return; }
out.connectionState = pc.connectionState;
out.iceConnectionState = pc.iceConnectionState;
pc.getStats().then((stats) => {
  let pairId = null;
  const codecs = {};
  stats.forEach((r) => { if (r.type === 'codec') codecs[r.id] = r.mimeType; });
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') out.video = {
      framesDecoded: r.framesDecoded || 0, frameWidth: r.frameWidth, frameHeight: r.frameHeight,
      framesPerSecond: r.framesPerSecond, bytesReceived: r.bytesReceived, codec: codecs[r.codecId] };
    if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audio = {
      packetsReceived: r.packetsReceived, bytesReceived: r.bytesReceived, codec: codecs[r.codecId] };
    if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
  });
  const pair = pairId && stats.get(pairId);
  if (pair) {
    const cand = (id) => { const c = stats.get(id) || {};
      return { type: c.candidateType, protocol: c.protocol, address: c.address, port: c.port, relayProtocol: c.relayProtocol }; };
    out.pair = { state: pair.state, rtt_ms: pair.currentRoundTripTime != null ? Math.round(pair.currentRoundTripTime * 1000) : null,
                 local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId) };
  }
  done(out);
}).catch((e) => { out.error = String(e); done(out); });
"""


def start_browser(profile_dir):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile_dir}"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_script_timeout(10)
    return driver


def wait_for(what, predicate, timeout):
    """Polls `predicate` (returns a truthy value when done) every 50 ms; raises on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def wait_for_line(path, pattern, proc, timeout):
    """Waits until the log file `path` has a line matching `pattern`; fails early if `proc` exits."""
    regex = re.compile(pattern)

    def check():
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}: {tail(path)}")
        with open(path, errors="replace") as f:
            for line in f:
                m = regex.search(line)
                if m:
                    return m
        return None
    return wait_for(pattern, check, timeout)


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def stun_binding_ok(port):
    """One STUN Binding request to 127.0.0.1:port; True when a Binding success response comes back."""
    txid = secrets.token_bytes(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        s.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid, ("127.0.0.1", port))
        try:
            data, _ = s.recvfrom(2048)
        except OSError:
            return False
    return len(data) >= 20 and struct.unpack("!H", data[:2])[0] == 0x0101 and data[8:20] == txid


def enter_own_namespace(allow_shared=False):
    """Refuses to run outside a network namespace of its own (only `lo`), then brings `lo` up. Anywhere
    else Chromium and our endpoint would gather (and try) this machine's real addresses too."""
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    names = [line.split(":")[1].strip() for line in links.splitlines()]
    if names != ["lo"] and not allow_shared:
        raise RuntimeError(f"not in a network namespace of its own (interfaces {names}): run under `unshare -n`")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def start_coturn(work, procs):
    """coturn on 127.0.0.1:3478 with TURN REST credentials (the command line from LAB.md; without
    --allow-loopback-peers CreatePermission gets 403). Returns the file holding its secret."""
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
    return secret_file


def start_server(binary, work, procs, turn_secret_file=None):
    """videophone-server on 127.0.0.1 (port 0, in-memory store); with a TURN secret it hands out
    credentials for the local coturn. Returns its base URL."""
    args = [binary, "--host", "127.0.0.1", "--port", "0", "--store", "memory", "--log-level", "warning"]
    if turn_secret_file:
        args += ["--turn-url", "turn:127.0.0.1:3478?transport=udp", "--turn-secret-file", turn_secret_file]
    server_log = os.path.join(work, "server.log")
    server = subprocess.Popen(args, stdout=open(server_log, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(server)
    port = int(wait_for_line(server_log, r"listening on 127\.0\.0\.1:(\d+)", server, 15).group(1))
    return f"http://127.0.0.1:{port}/"


def stop_everything(drivers, procs, result, work, keep_logs, wait=5):
    """Quits the browsers, stops every process (SIGTERM, SIGKILL after `wait` s, noted in
    result["killed"]) and removes the work directory unless the logs are to be kept."""
    for d in drivers:
        try:
            d.quit()
        except Exception:
            pass
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            result.setdefault("killed", []).append(os.path.basename(p.args[0]))
            p.kill()
            p.wait()
    if keep_logs:
        result["work_dir"] = work
    else:
        shutil.rmtree(work, ignore_errors=True)


class Terminated(Exception):
    pass


def on_sigterm(signum, frame):
    # A watchdog's SIGTERM becomes an exception, so `finally` still stops the browsers and servers.
    raise Terminated("terminated by SIGTERM (watchdog)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--relay", action="store_true", help="relay-only ICE through a local coturn")
    ap.add_argument("--keep-logs", action="store_true", help="do not delete the temporary directory")
    ap.add_argument("--shared-network", action="store_true",
                    help="run even outside a network namespace of its own (not for tests)")
    args = ap.parse_args()

    result = {"ok": False, "mode": "relay" if args.relay else "direct"}
    work = tempfile.mkdtemp(prefix="vp-browser-call-")
    procs, drivers = [], []
    # A Swift test starts us (via Foundation's Process) with almost every signal blocked and SIGTERM
    # ignored, inherited from the test runner; children would inherit that too, and coturn would then
    # shrug off SIGTERM. Unblock everything first, then handle SIGTERM ourselves.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        enter_own_namespace(args.shared_network)
        secret_file = start_coturn(work, procs) if args.relay else None
        base = start_server(args.server_binary, work, procs, secret_file)
        with urllib.request.urlopen(base + "api/ice-servers?name=probe", timeout=5) as r:
            ice = json.load(r)
        # What the page will use; the credential itself is not worth printing.
        result["ice_servers"] = [{"urls": s["urls"], "username": s.get("username")} for s in ice["iceServers"]]
        if args.relay and not any(s.get("credential") for s in ice["iceServers"]):
            raise RuntimeError(f"/api/ice-servers gave no TURN credential: {ice}")

        t0 = time.monotonic()
        for name in ("alice", "bob"):
            profile = os.path.join(work, f"profile-{name}")
            os.mkdir(profile)
            drivers.append(start_browser(profile))
        alice, bob = drivers
        result["browser_start_ms"] = round((time.monotonic() - t0) * 1000)
        query = "&relay=1" if args.relay else ""

        def joined(d):
            return d.execute_script("return !!(window.vp && window.vp.state.me)")

        alice.get(f"{base}?room=r&name=alice&autojoin=1&autoanswer=1{query}")
        wait_for("alice to join", lambda: joined(alice), 10)
        bob.get(f"{base}?room=r&name=bob&autojoin=1{query}")
        wait_for("bob to join and see alice", lambda: joined(bob) and bob.find_element(By.ID, "callButton").is_enabled(), 10)
        bob.find_element(By.ID, "callButton").click()
        clicked = time.monotonic()

        def stats(d):
            return d.execute_async_script(STATS_JS)

        def call_up():
            a, b = stats(alice), stats(bob)
            result["alice"], result["bob"] = a, b

            def up(s):
                ok = s.get("connectionState") == "connected" and s.get("video", {}).get("framesDecoded", 0) > 0
                if args.relay:
                    ok = ok and s.get("pair", {}).get("local", {}).get("type") == "relay"
                return ok
            return up(a) and up(b)
        wait_for("both pages connected with decoded video", call_up, CALL_TIMEOUT)
        seen = time.monotonic()

        # Milestones are Date.now() stamps from the pages (same machine clock), measured from the moment
        # bob's page sent user:call; "from_join" measures from bob's room:join like LAB.md's figures.
        ta, tb = result["alice"]["times"], result["bob"]["times"]
        timings = {"test_saw_call_up_ms": round((seen - clicked) * 1000)}
        connected = max(ta.get("connected", 0), tb.get("connected", 0))
        first_frame = max(ta.get("firstFrame", 0), tb.get("firstFrame", 0)) if ta.get("firstFrame") and tb.get("firstFrame") else None
        timings["connected_ms"] = connected - tb["call"]
        timings["first_frame_ms"] = first_frame - tb["call"] if first_frame else None
        timings["from_join"] = {"connected_ms": connected - tb["join"],
                                "first_frame_ms": first_frame - tb["join"] if first_frame else None}
        result["timings"] = timings

        # Chat from the pages: live delivery to both, then the history a rejoining page gets.
        def say(d, text):
            d.find_element(By.ID, "chatInput").send_keys(text)
            d.find_element(By.CSS_SELECTOR, "#chatForm button").click()

        def chat_has(d, *texts):
            lines = d.execute_script("return [...document.querySelectorAll('#chatLog li')].map(li => li.textContent)")
            return all(any(t in line for line in lines) for t in texts)
        say(alice, "hello from alice")
        say(bob, "hi alice")
        wait_for("chat on both pages", lambda: chat_has(alice, "alice:hello from alice", "bob:hi alice")
                 and chat_has(bob, "alice:hello from alice", "bob:hi alice"), 10)
        bob.refresh()   # bob leaves (alice sees user:left and ends the call) and joins again
        wait_for("bob back with chat history", lambda: joined(bob) and chat_has(bob, "hello from alice", "hi alice"), 10)
        wait_for("alice's call ended by bob leaving", lambda: alice.execute_script("return window.vp.state.call") == "idle", 10)
        result["chat"] = "live and history ok"
        result["ok"] = True
    except Exception as e:   # the verdict is the JSON line, never a traceback
        result["error"] = f"{type(e).__name__}: {e}".strip()
        for name, d in zip(("alice", "bob"), drivers):
            try:
                result.setdefault("status", {})[name] = d.execute_script(
                    "return document.getElementById('status').textContent + ' | ' + document.getElementById('error').textContent")
                result.setdefault("console", {})[name] = [m["message"] for m in d.get_log("browser")
                                                          if m["level"] in ("SEVERE", "WARNING")][-10:]
            except Exception:
                pass
        result["server_log"] = tail(os.path.join(work, "server.log"))
        if args.relay:
            result["turn_log"] = tail(os.path.join(work, "turnserver.log"))
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)   # cleanup must not be interrupted
        cleanup_start = time.monotonic()
        stop_everything(drivers, procs, result, work, args.keep_logs)
        result["cleanup_ms"] = round((time.monotonic() - cleanup_start) * 1000)
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
