#!/usr/bin/env python3
"""A bare Engine.IO v4 server (aiohttp) that answers a websocket upgrade probe the way some servers
and slow links do: it releases the held polling GET with a noop at once (as python-engineio does,
once) but its pong reaches the client 0.5 s later, and any GET that arrives in between is held
until the upgrade completes. A client that polls again before it reads the pong deadlocks its own
upgrade; a correct one holds its next GET while the probe is out. Also answers socket.io CONNECT.

usage: engineio_slow_pong_server.py [--port 0]   prints "READY <port>", serves until killed.
"""
import argparse
import asyncio
import json
import secrets

from aiohttp import WSMsgType, web


class Session:
    def __init__(self):
        self.queue = []
        self.wakeup = asyncio.Event()
        self.probing = False

    def push(self, packet):
        self.queue.append(packet)
        self.wakeup.set()


sessions = {}
stray_gets = 0


async def engine(request):
    global stray_gets
    query = request.query
    if query.get("EIO") != "4":
        return web.Response(status=400, text="EIO=4 only")
    sid = query.get("sid")
    if query.get("transport") == "websocket":
        return await websocket(request, sessions.get(sid))
    if sid is None and request.method == "GET":
        sid = secrets.token_urlsafe(12)
        sessions[sid] = Session()
        return web.Response(text="0" + json.dumps({"sid": sid, "upgrades": ["websocket"], "pingInterval": 25000,
                                                   "pingTimeout": 20000, "maxPayload": 1000000}))
    session = sessions.get(sid)
    if session is None:
        return web.Response(status=400, text="unknown sid")
    if request.method == "POST":
        for packet in (await request.text()).split("\x1e"):
            if packet == "40" or packet.startswith("40{"):
                session.push("40" + json.dumps({"sid": secrets.token_urlsafe(8)}))
        return web.Response(text="ok")
    if session.probing:
        stray_gets += 1  # held until the upgrade packet: this is what stalls a racing client
    while not session.queue:
        session.wakeup.clear()
        await session.wakeup.wait()
    payload = "\x1e".join(session.queue)
    session.queue.clear()
    return web.Response(text=payload)


async def websocket(request, session):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    if session is None:
        await ws.close()
        return ws
    async for message in ws:
        if message.type != WSMsgType.TEXT:
            break
        if message.data == "2probe":
            session.probing = True
            session.push("6")          # the held GET goes back at once...
            await asyncio.sleep(0.5)   # ...the pong only later
            await ws.send_str("3probe")
        elif message.data == "5":
            session.probing = False
            session.push("6")          # releases a GET the client should not have sent
    return ws


async def stats(request):
    return web.json_response({"strayGets": stray_gets})


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_route("*", "/socket.io/", engine)
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
