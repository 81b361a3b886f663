"""An aioice peer for the ICE interop tests (Tests/PeerTests/ICEInteropTests.swift).

JSON lines on stdout/stdin:
  out {"ufrag", "pwd", "candidates": ["candidate:..."]}      after gathering (127.0.0.1 only, no STUN)
  in  {"ufrag", "pwd", "candidates": ["candidate:..."]}      the Swift agent's
  out {"connected": true}                                      once aioice's connect() returns
  in  {"send": "<hex>"}                                        aioice sends that datagram
  out {"received": "<hex>"}                                    each datagram aioice receives
Exits on stdin EOF or SIGTERM.
"""
import argparse
import asyncio
import json
import signal
import sys

import aioice
import aioice.ice


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["controlling", "controlled"], required=True)
    args = parser.parse_args()
    # Stay on loopback: no real interface, no STUN server.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    conn = aioice.Connection(ice_controlling=args.role == "controlling", components=1,
                             use_ipv4=True, use_ipv6=False)
    await conn.gather_candidates()
    emit({"ufrag": conn.local_username, "pwd": conn.local_password,
          "candidates": ["candidate:" + c.to_sdp() for c in conn.local_candidates]})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    remote = json.loads(await reader.readline())
    conn.remote_username = remote["ufrag"]
    conn.remote_password = remote["pwd"]
    for line in remote["candidates"]:
        text = line[len("candidate:"):] if line.startswith("candidate:") else line
        await conn.add_remote_candidate(aioice.Candidate.from_sdp(text))
    await conn.add_remote_candidate(None)
    await asyncio.wait_for(conn.connect(), 20)
    emit({"connected": True})

    async def receiver():
        while True:
            data = await conn.recv()
            emit({"received": data.hex()})

    recv_task = asyncio.create_task(receiver())
    while True:
        line = await reader.readline()
        if not line:
            break
        msg = json.loads(line)
        if "send" in msg:
            await conn.send(bytes.fromhex(msg["send"]))
    recv_task.cancel()
    await conn.close()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(main())
