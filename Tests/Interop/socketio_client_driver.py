#!/usr/bin/env python3
"""python-socketio clients (an independent Engine.IO v4 / Socket.IO v5 implementation) driving the seed's
room flow against a server under test. Used by Tests/SignalingServerTests.

usage: socketio_client_driver.py URL SCENARIO [--transports polling|websocket|polling,websocket] [--origin O]
Prints one JSON object: {"ok": true/false, "checks": [...], "error": "..."} and exits 0 if ok.
"""
import argparse
import asyncio
import json
import sys

import socketio

checks = []


def check(name, condition, detail=""):
    checks.append({"check": name, "ok": bool(condition), "detail": str(detail)[:300]})
    if not condition:
        raise AssertionError(f"{name}: {detail}")


CAFILE = None  # set by --cafile: trust this CA (and only the system store otherwise) for https/wss


class Member:
    def __init__(self, name, url, transports, origin=None):
        self.name, self.url, self.transports = name, url, transports
        self.origin = origin
        if CAFILE:
            import ssl
            import aiohttp
            context = ssl.create_default_context(cafile=CAFILE)
            self.sio = socketio.AsyncClient(reconnection=False,
                                            http_session=aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)))
        else:
            self.sio = socketio.AsyncClient(reconnection=False)
        self.events = asyncio.Queue()
        self.id = None

        @self.sio.on("*")
        async def any_event(event, data=None):
            await self.events.put((event, data))

    async def connect(self):
        headers = {"Origin": self.origin} if self.origin else {}
        await self.sio.connect(self.url, transports=self.transports, headers=headers, wait_timeout=5)

    async def join(self, room):
        await self.sio.emit("room:join", {"room": room, "userName": self.name})
        event, data = await self.expect({"room:joined", "room:full"})
        if event == "room:joined":
            self.id = data["id"]
        return event, data

    async def expect(self, names, timeout=5):
        names = {names} if isinstance(names, str) else names
        while True:
            event, data = await asyncio.wait_for(self.events.get(), timeout)
            if event in names:
                return event, data

    async def nothing(self, name, within=0.7):
        try:
            while True:
                event, data = await asyncio.wait_for(self.events.get(), within)
                if event == name:
                    return False
        except asyncio.TimeoutError:
            return True


async def room_flow(url, transports, origin):
    a, b, c = (Member(n, url, transports) for n in ("alice", "bob", "carol"))
    for m in (a, b, c):
        await m.connect()
    check("transport", a.sio.transport() == transports[-1], a.sio.transport())
    ev, joined = await a.join("r1")
    check("alice joined", ev == "room:joined" and joined["users"] == [{"id": a.id, "name": "alice"}], joined)
    ev, joined = await b.join("r1")
    check("bob joined with alice listed", ev == "room:joined" and {u["name"] for u in joined["users"]} == {"alice", "bob"}, joined)
    ev, data = await a.expect("user:joined")
    check("alice told bob joined", data == {"id": b.id, "name": "bob"}, data)
    ev, data = await c.join("r1")
    check("carol gets room:full", ev == "room:full" and data == {"room": "r1"}, data)

    offer = {"type": "offer", "sdp": "v=0\r\n"}
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    cand = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
    relays = [
        (a, b, "user:call", {"to": b.id, "offer": offer}, "incoming:call", {"from": a.id, "offer": offer}),
        (b, a, "call:accepted", {"to": a.id, "ans": answer}, "call:accepted", {"from": b.id, "ans": answer}),
        (a, b, "peer:nego:needed", {"to": b.id, "offer": offer}, "peer:nego:needed", {"from": a.id, "offer": offer}),
        (b, a, "peer:nego:done", {"to": a.id, "ans": answer}, "peer:nego:final", {"from": b.id, "ans": answer}),
        (a, b, "ice:candidate", {"to": b.id, "candidate": cand}, "ice:candidate", {"from": a.id, "candidate": cand}),
        (b, a, "ice:candidate", {"to": a.id, "candidate": None}, "ice:candidate", {"from": b.id, "candidate": None}),
        (a, b, "call:end", {"to": b.id}, "call:ended", {"from": a.id}),
    ]
    for sender, receiver, name, payload, expected_name, expected in relays:
        await sender.sio.emit(name, payload)
        _, got = await receiver.expect(expected_name)
        check(f"relay {name}", got == expected, got)

    # A relay aimed at a socket in another room is refused.
    d = Member("dave", url, transports)
    await d.connect()
    await d.join("r2")
    await d.sio.emit("user:call", {"to": a.id, "offer": offer})
    check("cross-room relay refused", await a.nothing("incoming:call"))

    await a.sio.emit("chat:message", {"text": "hello"})
    for m in (a, b):
        _, msg = await m.expect("chat:message")
        check(f"chat reaches {m.name}", msg["text"] == "hello" and msg["senderId"] == a.id and msg["userName"] == "alice", msg)

    await b.sio.emit("leave:room")
    _, left = await a.expect("user:left")
    check("user:left on leave", left == {"id": b.id, "name": "bob"}, left)
    await b.join("r1")
    await a.expect("user:joined")
    await b.sio.disconnect()
    _, left = await a.expect("user:left")
    check("user:left on disconnect", left["name"] == "bob", left)
    for m in (a, c, d):
        await m.sio.disconnect()


async def history(url, transports, origin):
    """Joins room `history` and prints the messages it got; posts one more."""
    a = Member("keeper", url, transports)
    await a.connect()
    _, joined = await a.join("history")
    await a.sio.emit("chat:message", {"text": f"message {len(joined['messages']) + 1}"})
    await a.expect("chat:message")
    checks.append({"check": "history", "ok": True, "detail": json.dumps([m["text"] for m in joined["messages"]])})
    await a.sio.disconnect()


async def origin_check(url, transports, origin):
    a = Member("web", url, transports, origin=origin)
    try:
        await a.connect()
        checks.append({"check": "connected", "ok": True, "detail": origin})
        await a.sio.disconnect()
    except socketio.exceptions.ConnectionError as e:
        checks.append({"check": "refused", "ok": True, "detail": str(e)})


async def abuse(url, transports, origin):
    """Bad input from one client must not hurt a bystander (run the server with --max-payload 65536)."""
    bystander = Member("bystander", url, transports)
    await bystander.connect()
    await bystander.join("calm")

    async def bystander_ok(label):
        reply = await bystander.sio.call("ice:servers", {}, timeout=5)
        check(f"bystander served after {label}", isinstance(reply, dict) and "iceServers" in reply, reply)

    # Malformed Socket.IO packets and unknown events: dropped, the sender's connection survives.
    bad = Member("garbage", url, transports)
    await bad.connect()
    await bad.join("bad")
    for raw in ['2["unterminated', "9nonsense", '2{"not":"array"}', "3", '2["room:join",42]', '2["user:call",{}]']:
        await bad.sio.eio.send(raw)
    await bad.sio.emit("no:such:event", {"x": 1})
    await bad.sio.emit("chat:message", {"text": ""})
    await bad.sio.emit("room:join", {"room": "bad room with spaces!", "userName": "x"})
    reply = await bad.sio.call("ice:servers", {}, timeout=5)
    check("malformed input survived", isinstance(reply, dict), reply)
    await bystander_ok("malformed input")

    # Oversized message: the session is closed; others carry on.
    big = Member("big", url, transports)
    await big.connect()
    await big.join("big")
    try:
        await big.sio.emit("chat:message", {"text": "x" * 200_000})
    except Exception:
        pass
    for _ in range(50):
        if not big.sio.connected:
            break
        await asyncio.sleep(0.1)
    check("oversized sender disconnected", not big.sio.connected)
    await bystander_ok("oversized message")

    # Flood beyond the rate limit: most messages dropped, the flooder cut off, others served.
    flood = Member("flood", url, transports)
    await flood.connect()
    await flood.join("flood")
    start = asyncio.get_running_loop().time()
    for i in range(400):
        if not flood.sio.connected:
            break
        try:
            await flood.sio.emit("chat:message", {"text": f"spam {i}"})
        except Exception:
            break
    delivered = 0
    try:
        while True:
            event, _ = await asyncio.wait_for(flood.events.get(), 1.0)
            delivered += event == "chat:message"
    except asyncio.TimeoutError:
        pass
    elapsed = asyncio.get_running_loop().time() - start
    check("flood mostly dropped", delivered < 150, f"{delivered} of 400 delivered in {elapsed:.1f}s")
    for _ in range(50):
        if not flood.sio.connected:
            break
        await asyncio.sleep(0.1)
    check("flooder disconnected", not flood.sio.connected)
    await bystander_ok("flood")
    for m in (bystander, bad, big, flood):
        if m.sio.connected:
            await m.sio.disconnect()


async def shutdown(url, transports, origin):
    """Joins, says READY on stderr, then waits to be told the server is going away."""
    a = Member("stayer", url, transports)
    await a.connect()
    await a.join("stay")
    gone = asyncio.Event()
    a.sio.on("disconnect", lambda *args: gone.set())
    print("READY", file=sys.stderr, flush=True)
    await asyncio.wait_for(gone.wait(), 10)
    check("told to disconnect", True)


async def device(url, transports, origin, admin_token):
    """Remote configuration through the device channel, with the admin API driven over HTTP."""
    import aiohttp
    import base64
    auth = {"Authorization": f"Bearer {admin_token}"}

    def signed(version):
        document = json.dumps({"version": version, "settings": {"autoanswer": "immediate"}})
        return {"deviceId": "kitchen-1", "version": version, "document": document,
                "signature": base64.b64encode(bytes(64)).decode(), "keyId": "admin-1"}

    async with aiohttp.ClientSession() as http:
        async def post(version, headers=auth):
            async with http.post(f"{url}/api/devices/kitchen-1/config", json=signed(version), headers=headers) as r:
                return r.status, await r.json()

        status, body = await post(1)
        check("stored while offline", status == 202 and body == {"stored": True, "delivered": False}, (status, body))
        status, _ = await post(2, {"Authorization": "Bearer wrong"})
        check("wrong token refused", status == 401, status)

        dev = Member("kitchen", url, transports)
        await dev.connect()
        ack = await dev.sio.call("device:hello", {"deviceId": "kitchen-1", "configVersion": 0}, timeout=5)
        check("hello acknowledged", ack == {"ok": True, "latestVersion": 1}, ack)
        _, config = await dev.expect("device:config")
        check("pending config delivered on hello", config == signed(1), config)
        await dev.sio.emit("device:config:result", {"version": 1, "ok": True, "errors": []})

        status, body = await post(2)
        check("stored and delivered while online", status == 202 and body["delivered"] is True, (status, body))
        _, config = await dev.expect("device:config")
        check("new config pushed", config["version"] == 2 and config["document"] == signed(2)["document"], config)
        status, body = await post(2)
        check("replayed version refused", status == 409, (status, body))

        bad = Member("not-a-device", url, transports)
        await bad.connect()
        ack = await bad.sio.call("device:hello", {"deviceId": "bad id!", "configVersion": 0}, timeout=5)
        check("bad hello refused", ack.get("ok") is False and "deviceId" in ack.get("error", ""), ack)
        await bad.sio.emit("device:config:result", {"version": 9, "ok": True, "errors": []})  # not a device: ignored

        await asyncio.sleep(0.3)
        async with http.get(f"{url}/api/devices", headers=auth) as r:
            listing = await r.json()
        check("device listed with status", r.status == 200 and len(listing) == 1 and listing[0]["online"] is True
              and listing[0]["latestVersion"] == 2 and listing[0]["reportedVersion"] == 0
              and listing[0]["lastResult"] == {"version": 1, "ok": True, "errors": []}, listing)
        await dev.sio.disconnect()
        await bad.sio.disconnect()
        await asyncio.sleep(0.3)
        async with http.get(f"{url}/api/devices", headers=auth) as r:
            listing = await r.json()
        check("device offline after disconnect", listing[0]["online"] is False, listing)

async def upgrade_race(url, transports, origin):
    """Raw engine.io (aiohttp): a client that sends its next polling GET before it has read the probe's
    pong, as a busy or slow client does. The server must answer that GET too (noop) until the upgrade
    packet arrives; holding it for a ping interval stalls the whole upgrade."""
    import aiohttp
    base = url.rstrip("/") + "/socket.io/?EIO=4"
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "&transport=polling") as r:
            opening = await r.text()
        check("handshake", opening.startswith("0"), opening[:80])
        sid = json.loads(opening[1:].split("\x1e")[0])["sid"]
        poll = base + f"&transport=polling&sid={sid}"
        first = asyncio.create_task(http.get(poll))
        await asyncio.sleep(0.3)  # the GET is held by now
        ws = await http.ws_connect(base.replace("http", "ws", 1) + f"&transport=websocket&sid={sid}")
        await ws.send_str("2probe")
        released = await asyncio.wait_for(first, 5)
        check("held GET released by the probe", (await released.text()) == "6")
        second = asyncio.create_task(http.get(poll))  # before reading the pong
        await asyncio.sleep(0.3)
        pong = await asyncio.wait_for(ws.receive(), 5)
        check("pong probe", pong.data == "3probe", pong.data)
        try:
            answered = await asyncio.wait_for(second, 5)
            check("GET sent during the upgrade answered at once", (await answered.text()) == "6")
        except asyncio.TimeoutError:
            check("GET sent during the upgrade answered at once", False, "held (the server waits for the next ping)")
        await ws.send_str("5")
        await ws.send_str("40")
        reply = await asyncio.wait_for(ws.receive(), 5)
        check("socket.io connect over the upgraded websocket", str(reply.data).startswith("40"), reply.data)
        await ws.close()


async def heartbeat(url, transports, origin):
    """Run against a server started with a 1 s ping interval and 1 s ping timeout. A raw websocket
    client answers every ping at once and times them: each must follow the previous pong by about
    one interval, as the reference server sends them. A client gives up after interval + timeout
    without a ping; a python-socketio client, connected alongside, must still be there at the end."""
    member = Member("steady", url, transports, origin)
    await member.connect()
    try:
        await heartbeat_timing(url, member)
    finally:
        await member.sio.disconnect()


async def heartbeat_timing(url, member):
    import time
    import aiohttp
    sid = member.sio.get_sid()
    base = url.rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(base.replace("http", "ws", 1))
        opening = (await asyncio.wait_for(ws.receive(), 5)).data
        check("handshake", str(opening).startswith("0"), opening)
        hs = json.loads(opening[1:])
        interval, timeout = hs["pingInterval"] / 1000, hs["pingTimeout"] / 1000
        check("server runs a 1 s ping interval and timeout for this test", (interval, timeout) == (1, 1), hs)
        gaps, last_pong = [], time.monotonic()
        while len(gaps) < 5:
            packet = await asyncio.wait_for(ws.receive(), interval + timeout + 1)
            if packet.data == "2":
                now = time.monotonic()
                gaps.append(now - last_pong)
                await ws.send_str("3")
                last_pong = time.monotonic()
        await ws.close()
    check("each ping one interval after the previous pong (not interval + timeout)",
          all(g < interval + 0.5 for g in gaps), [round(g, 3) for g in gaps])
    check("the python-socketio client stayed connected, same session",
          member.sio.connected and member.sio.get_sid() == sid, f"connected={member.sio.connected}")


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("scenario", choices=["room_flow", "history", "origin", "abuse", "shutdown", "device", "upgrade_race",
                                             "heartbeat"])
    p.add_argument("--admin-token")
    p.add_argument("--transports", default="polling,websocket")
    p.add_argument("--origin")
    p.add_argument("--cafile")
    args = p.parse_args()
    global CAFILE
    CAFILE = args.cafile
    scenario = {"room_flow": room_flow, "history": history, "origin": origin_check, "abuse": abuse,
                "shutdown": shutdown, "device": device, "upgrade_race": upgrade_race, "heartbeat": heartbeat}[args.scenario]
    extra = [args.admin_token] if args.scenario == "device" else []
    try:
        await asyncio.wait_for(scenario(args.url, args.transports.split(","), args.origin, *extra), 30)
        print(json.dumps({"ok": True, "checks": checks}))
        return 0
    except Exception as e:  # report, never hang
        print(json.dumps({"ok": False, "checks": checks, "error": f"{type(e).__name__}: {e}"}))
        return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
