#!/usr/bin/env python3
"""The main job: two appliances call each other on this machine.

Starts a local `videophone-server` and two `videophoned` appliances on 127.0.0.1 (synthetic camera
and microphone, headless screens): "kitchen" presses call, "grandma" answers by herself after 2 s
(with a beep), they talk for a few seconds with pictures flowing both ways, chat, take PNG snapshots
of both screens, hang up, and a summary is printed. Everything is driven through the appliances'
control sockets, as a home-automation script would. Stops everything it starts.

usage: demo.py BIN_DIR [--seconds N] [--out DIR]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def control(sock_path, line):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(sock_path)
        s.sendall((line + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data.decode())


def wait_for(sock_path, what, predicate, seconds=20):
    deadline = time.time() + seconds
    status = {}
    while time.time() < deadline:
        status = control(sock_path, "status")
        if predicate(status):
            return status
        time.sleep(0.1)
    raise SystemExit(f"demo: timed out waiting for {what}; last status: {json.dumps(status)}")


def line_for(name, s):
    call = s.get("call", {})
    parts = [f"{name:8s} {s.get('state', '?'):10s}"]
    if call:
        parts.append(f"fps in/out {call.get('fpsIn', 0):4.1f}/{call.get('fpsOut', 0):4.1f}")
        parts.append(f"video in/out {call.get('bitrateIn', 0) / 1000:5.0f}/{call.get('bitrateOut', 0) / 1000:5.0f} kbit/s")
        if "rttMs" in call:
            parts.append(f"RTT {call['rttMs']:.0f} ms")
        if "latencyMs" in call:
            parts.append(f"latency {call['latencyMs']:.0f} ms")
        if "avSyncMs" in call:
            parts.append(f"A/V sync {call['avSyncMs']:+.0f} ms")
    parts.append(f"\"{s.get('status', '')}\"")
    return "  ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--out", default=os.path.join(ROOT, "demo-output"))
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="vp-demo-")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    procs = []
    began = time.time()
    try:
        server = subprocess.Popen([f"{args.bindir}/videophone-server", "--port", "0", "--state-dir", f"{work}/server"],
                                  stdout=subprocess.PIPE, stderr=open(f"{work}/server.log", "w"), text=True)
        procs.append(server)
        port = int(server.stdout.readline().split(":")[-1].split()[0])
        url = f"http://127.0.0.1:{port}"
        print(f"demo: videophone-server on {url} (its call page: {url}/ , room 'kitchen')")

        phones = {"kitchen": {"call.auto_answer": '"off"'},
                  "grandma": {"call.auto_answer": '"after"', "call.auto_answer_delay": "2.0"}}
        socks, launched = {}, {}
        for name, extra in phones.items():
            values = {"signaling.url": f'"{url}"', "signaling.room": '"kitchen"', "signaling.name": f'"{name}"',
                      "control.socket": f'"{work}/{name}.sock"', "state.dir": f'"{work}/{name}-state"',
                      "screen.snapshot_dir": f'"{out}"', "ice.loopback_only": "true"}
            values.update(extra)
            with open(f"{work}/{name}.toml", "w") as f:
                f.write("".join(f"{k} = {v}\n" for k, v in sorted(values.items())))
            launched[name] = time.time()
            p = subprocess.Popen([f"{args.bindir}/videophoned", "--config", f"{work}/{name}.toml"],
                                 stdout=subprocess.PIPE, stderr=open(f"{out}/{name}.log", "w"), text=True)
            procs.append(p)
            ready = json.loads(p.stdout.readline() or '{"event":"exited"}')
            if ready.get("event") != "ready":
                raise SystemExit(f"demo: {name} did not start; see {out}/{name}.log")
            socks[name] = f"{work}/{name}.sock"
            print(f"demo: appliance '{name}' ready in {ready['startupMs']} ms "
                  f"(synthetic camera and microphone, headless screen, auto-answer {extra['call.auto_answer'].strip(chr(34))})")
        for name, sock in socks.items():
            wait_for(sock, f"{name} idle in the room", lambda s: s["state"] == "idle" and len(s["members"]) >= 1)
            s = control(sock, "status")
            print(f"demo: {name}: idle in room '{s['room']}' {1000 * (time.time() - launched[name]):.0f} ms after start, "
                  f"with {', '.join(s['members'])}; "
                  f"camera and microphone open: {s['devices']['open']}")

        print("demo: kitchen presses CALL")
        pressed = time.time()
        control(socks["kitchen"], "press call")
        s = wait_for(socks["grandma"], "grandma ringing", lambda s: s["state"] in ("autoAnswerPending", "ringing", "inCall"))
        print(f"demo: grandma's screen: \"{s['status']}\"")
        wait_for(socks["grandma"], "grandma answering", lambda s: s["state"] == "inCall")
        print(f"demo: grandma answered by herself after {time.time() - pressed:.1f} s "
              f"(beeps: {control(socks['grandma'], 'status')['speaker']['beeps']})")
        for name in socks:
            wait_for(socks[name], f"{name} receiving pictures", lambda s: s.get("call", {}).get("framesReceived", 0) > 0)
        first = control(socks["kitchen"], "status")["call"].get("firstRemoteFrameMs")
        print(f"demo: in a call; kitchen saw grandma's first picture {first} ms after pressing call")

        end = time.time() + args.seconds
        chatted = False
        while time.time() < end:
            time.sleep(1)
            for name, sock in socks.items():
                print("  " + line_for(name, control(sock, "status")))
            if not chatted:
                control(socks["kitchen"], "chat Hello grandma! Can you see me?")
                control(socks["grandma"], "chat Yes, loud and clear.")
                chatted = True

        snaps = {}
        for name, sock in socks.items():
            r = control(sock, "snapshot")
            snaps[name] = r
        stats = {name: control(sock, "status") for name, sock in socks.items()}
        rss = {}
        for name, p in zip(socks, procs[1:]):
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    rss[name] = next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmRSS:"))
            except (OSError, StopIteration):
                rss[name] = None

        print("demo: kitchen presses END")
        control(socks["kitchen"], "hangup")
        for name, sock in socks.items():
            wait_for(sock, f"{name} idle", lambda s: s["state"] == "idle" and not s["devices"]["open"])
        after = {name: control(sock, "status") for name, sock in socks.items()}

        print()
        print("summary")
        for name in socks:
            st, call = stats[name], stats[name].get("call", {})
            print(f"  {name}: {call.get('framesSent', 0)} frames sent, {call.get('framesReceived', 0)} received, "
                  f"{st['speaker']['remoteAudioFrames']} audio frames played; from {'pressing call' if name == 'kitchen' else 'answering'}: "
                  f"connected {call.get('setupMs')} ms, first remote picture {call.get('firstRemoteFrameMs')} ms; daemon RSS in the call {rss.get(name)} MiB")
            print(f"    screen snapshot: {snaps[name].get('path')} "
                  f"(remote picture colours {snaps[name].get('remoteRegionColours')}, status text pixels {snaps[name].get('statusInk')})")
            print(f"    chat on screen: {st['screen']['chat']}")
            print(f"    after hang-up: {after[name]['state']}, camera/microphone open: {after[name]['devices']['open']} "
                  f"(opened {after[name]['devices']['opens']}x, released {after[name]['devices']['closes']}x)")
        ok = all(s.get("remoteRegionColours", 0) >= 5 for s in snaps.values()) and \
            all(stats[n].get("call", {}).get("framesReceived", 0) > 0 for n in socks)
        print(f"  logs: {out}/kitchen.log, {out}/grandma.log")
        print(f"demo: {'OK' if ok else 'FAILED'} in {time.time() - began:.1f} s")
        return 0 if ok else 1
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=8)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
