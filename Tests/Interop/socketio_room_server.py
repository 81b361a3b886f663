#!/usr/bin/env python3
"""A python-socketio server implementing the seed's room flow (shared/seed/video-chat-workflow.md and
issue #2's wire contract). It is an independent Engine.IO v4 / Socket.IO v5 implementation that the
Swift client's interop tests run against, in websocket-only, polling-only and polling+upgrade modes.

Besides the contract it has test hooks (names start with `test:`) that make the server misbehave on
request: malformed and oversized frames, binary attachments, acknowledgements.

Prints `READY <port>` on stdout once listening.
"""
import argparse
import asyncio
import itertools
import os
import signal
import ssl
import sys
import time

import socketio
from aiohttp import web


def build(args):
    transports = args.transports.split(",")
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        transports=transports,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        max_http_buffer_size=args.max_payload,
        cors_allowed_origins="*",
        logger=False,
        engineio_logger=False,
    )
    rooms = {}        # room -> {sid: name}
    member_of = {}    # sid -> room
    history = {}      # room -> [message]
    ids = itertools.count(1)

    def log(*parts):
        print("fixture:", *parts, file=sys.stderr, flush=True)

    async def relay(sid, event, data, field_in, field_out):
        """Forward to a member of the sender's room only; anything else is refused."""
        if not isinstance(data, dict) or not isinstance(data.get("to"), str):
            log("refused", event, "without 'to'")
            return
        room = member_of.get(sid)
        target = data["to"]
        if room is None or target not in rooms.get(room, {}):
            log("refused", event, "to a non-member")
            return
        payload = {"from": sid}
        if field_in is not None:
            payload[field_out] = data.get(field_in)
        await sio.emit(event, payload, to=target)

    @sio.event
    async def connect(sid, environ, auth=None):
        if isinstance(auth, dict) and auth.get("token") == "reject":
            raise socketio.exceptions.ConnectionRefusedError("bad token")
        log("connect", sid, "auth" if auth else "")

    @sio.on("room:join")
    async def room_join(sid, data):
        room, name = data.get("room"), data.get("userName")
        if not isinstance(room, str) or not room or not isinstance(name, str) or not name:
            log("refused room:join", data)
            return
        members = rooms.setdefault(room, {})
        if sid not in members and len(members) >= args.max_members:
            await sio.emit("room:full", {"room": room}, to=sid)
            return
        await leave(sid)
        members = rooms.setdefault(room, {})
        members[sid] = name
        member_of[sid] = room
        await sio.enter_room(sid, room)
        users = [{"id": k, "name": v} for k, v in members.items()]
        await sio.emit("room:joined", {"room": room, "id": sid, "users": users,
                                       "messages": history.get(room, [])}, to=sid)
        await sio.emit("user:joined", {"id": sid, "name": name}, room=room, skip_sid=sid)

    async def leave(sid):
        room = member_of.pop(sid, None)
        if room is None:
            return
        name = rooms.get(room, {}).pop(sid, "")
        await sio.leave_room(sid, room)
        await sio.emit("user:left", {"id": sid, "name": name}, room=room)
        if not rooms.get(room):
            rooms.pop(room, None)
            history.pop(room, None)

    @sio.on("leave:room")
    async def leave_room(sid, *_):
        await leave(sid)

    @sio.event
    async def disconnect(sid, *_):
        await leave(sid)

    # Relayed events: incoming name -> (outgoing name, payload field carried over, or None).
    relays = {
        "user:call": ("incoming:call", "offer"),
        "call:accepted": ("call:accepted", "ans"),
        "peer:nego:needed": ("peer:nego:needed", "offer"),
        "peer:nego:done": ("peer:nego:final", "ans"),
        "ice:candidate": ("ice:candidate", "candidate"),
        "call:end": ("call:ended", None),
    }
    for incoming, (outgoing, field) in relays.items():
        def make_handler(outgoing=outgoing, field=field):
            async def handler(sid, data):
                await relay(sid, outgoing, data, field, field)
            return handler
        sio.on(incoming, make_handler())

    @sio.on("chat:message")
    async def chat(sid, data):
        room = member_of.get(sid)
        if room is None or not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return
        message = {"id": str(next(ids)), "userName": rooms[room][sid], "senderId": sid,
                   "text": data["text"], "timestamp": int(time.time() * 1000)}
        history.setdefault(room, []).append(message)
        await sio.emit("chat:message", message, room=room)

    # ---- test hooks -------------------------------------------------------------------------
    @sio.on("test:echo")
    async def echo(sid, *data):
        return list(data)  # the acknowledgement carries the arguments back

    @sio.on("test:malformed")
    async def malformed(sid, *_):
        for raw in ['2["unterminated', '9garbage', '2{"not":"an array"}', '3', '2[42]',
                    '2["room:joined",{"users":"not a list"}]', '2["user:joined",{"id":"x"}]',
                    '2["no:such:event",{"a":1}]']:
            # An Engine.IO message with a raw Socket.IO packet inside (addressed by the engine.io sid).
            await sio.eio.send(sio.manager.eio_sid_from_sid(sid, "/"), raw)
        await sio.emit("test:binary", {"blob": b"\x00\x01\x02"}, to=sid)
        await sio.emit("chat:message", {"id": "after", "userName": "fixture", "senderId": "fixture",
                                        "text": "still here", "timestamp": 0}, to=sid)

    @sio.on("test:oversized")
    async def oversized(sid, data):
        await sio.emit("chat:message", {"id": "big", "userName": "fixture", "senderId": "fixture",
                                        "text": "x" * int(data.get("bytes", 2_000_000)), "timestamp": 0}, to=sid)

    @sio.on("test:burst")
    async def burst(sid, data):
        # A stream of events spread over the polling → websocket upgrade window.
        for i in range(int(data.get("count", 100))):
            await sio.emit("chat:message", {"id": f"burst-{i}", "userName": "fixture", "senderId": "fixture",
                                            "text": "burst", "timestamp": 0}, to=sid)
            await asyncio.sleep(float(data.get("gap", 0.001)))

    @sio.on("test:kick")
    async def kick(sid, *_):
        await sio.disconnect(sid)

    return sio


async def main():
    # The test runner may spawn us with signals blocked (the mask is inherited): unblock them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--transports", default="polling,websocket")
    p.add_argument("--ping-interval", type=float, default=25)
    p.add_argument("--ping-timeout", type=float, default=20)
    p.add_argument("--max-members", type=int, default=2)
    p.add_argument("--max-payload", type=int, default=1_000_000)
    p.add_argument("--certfile")
    p.add_argument("--keyfile")
    args = p.parse_args()

    sio = build(args)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.2)
    await runner.setup()
    context = None
    if args.certfile:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.certfile, args.keyfile)
    site = web.TCPSite(runner, args.host, args.port, ssl_context=context, reuse_address=True)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    # Exit at once on SIGTERM, as a crashed or restarted server would: the kernel closes every socket.
    # (A graceful aiohttp shutdown waits seconds for held long-polling and websocket handlers.)
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: os._exit(0))
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
