#!/usr/bin/env python3
"""The main job until the appliance daemon exists.

Starts a local Socket.IO signaling server (the python-socketio room fixture: an independent
implementation of the seed's room flow) and two `videophone signal` clients on 127.0.0.1:
alice (playing the appliance, answering automatically) and bob, who joins, calls her, chats and
hangs up. Every line shown is a real event as the Swift client received it. Stops everything it starts.
"""
import json
import queue
import subprocess
import sys
import threading
import time

ROOT = __file__.rsplit("/scripts/", 1)[0]


def reader(name, proc, q):
    for line in proc.stdout:
        q.put((name, json.loads(line)))


def main():
    binary = sys.argv[1]
    server = subprocess.Popen([sys.executable, f"{ROOT}/Tests/Interop/socketio_room_server.py", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs = [server]
    try:
        port = int(server.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}"
        print(f"demo: signaling server on {url}; alice (the appliance) waits in room 'kitchen', bob calls her")
        events = queue.Queue()
        clients = {}
        for name in ("alice", "bob"):
            p = subprocess.Popen([binary, "signal", "--server", url, "--room", "kitchen", "--name", name],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            procs.append(p)
            clients[name] = p
            threading.Thread(target=reader, args=(name, p, events), daemon=True).start()
            time.sleep(0.7)

        def send(name, event, data):
            clients[name].stdin.write(json.dumps({"event": event, "data": data}) + "\n")
            clients[name].stdin.flush()

        ids = {}
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                name, msg = events.get(timeout=5)
            except queue.Empty:
                break
            shown = json.dumps(msg)
            print(f"  {name:5} <- {shown[:150]}{'…' if len(shown) > 150 else ''}")
            event, data = msg.get("event"), msg.get("data") or {}
            if event == "room:joined":
                ids[name] = data["id"]
                if name == "bob":
                    alice = next(u["id"] for u in data["users"] if u["name"] == "alice")
                    send("bob", "user:call", {"to": alice, "offer": {"type": "offer", "sdp": "v=0\r\n"}})
            elif event == "incoming:call" and name == "alice":
                send("alice", "call:accepted", {"to": data["from"], "ans": {"type": "answer", "sdp": "v=0\r\n"}})
                send("alice", "chat:message", {"text": "Hello Bob, I answered automatically."})
            elif event == "chat:message" and name == "bob":
                send("bob", "call:end", {"to": ids["alice"]})
            elif event == "call:ended" and name == "alice":
                print("demo: call placed, answered, chatted and ended through the Swift Socket.IO client")
                return 0
        print("demo: did not finish in time", file=sys.stderr)
        return 1
    finally:
        for p in procs[1:]:
            if p.stdin:
                p.stdin.close()
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
