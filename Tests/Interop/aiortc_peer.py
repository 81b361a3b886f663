#!/usr/bin/env python3
"""aiortc (an independent WebRTC stack) as the other end of a call with our Peer endpoint.

Speaks JSON lines: commands on stdin, events on stdout (one object per line, flushed).

    --role offerer    prints {"type":"offer","sdp":...}, then expects {"type":"answer","sdp":...}
    --role answerer   expects {"type":"offer","sdp":...}, prints {"type":"answer","sdp":...}

Either way it also accepts {"type":"candidate","candidate":"candidate:...","sdpMid":"0"}
(trickled candidates from our side; aiortc itself does not trickle: its SDP carries all of its
candidates), and {"type":"stats"} (prints {"event":"stats",...} at once) and {"type":"close"}.
It sends a 440 Hz tone (Opus) and a moving test pattern (VP8, 320x240 @ 15 fps) unless
--no-media (or, with --video-file, raw I420 frames of --width x --height looped at --fps: the same
pictures our benchmark sends; --bitrate pins aiortc's VP8 bitrate), and counts what it receives: RTP packets per kind from getStats(), and decoded
audio/video frames from the remote tracks. Events: iceConnectionState, connectionState, track,
stats (every --stats-interval seconds and at the end), error.

Everything stays on 127.0.0.1: host-address enumeration is limited to loopback and no STUN
server is configured, so aiortc never contacts the outside world. Exits 0 after "close" or EOF.
"""
import argparse
import asyncio
import fractions
import json
import math
import signal
import sys
import time

import logging
import os

import aioice.ice
import numpy
from av import AudioFrame, VideoFrame
from aiortc import (MediaStreamTrack, RTCConfiguration, RTCPeerConnection,
                    RTCSessionDescription)
from aiortc.sdp import candidate_from_sdp

# Keep every ICE candidate on loopback (aioice skips 127.0.0.1 by default).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class ToneTrack(MediaStreamTrack):
    """20 ms frames of a 440 Hz sine at 48 kHz mono, paced in real time."""
    kind = "audio"

    def __init__(self):
        super().__init__()
        self.samples = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.samples / 48000
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        n = 960
        t = (numpy.arange(n) + self.samples) / 48000
        pcm = (numpy.sin(2 * math.pi * 440 * t) * 8000).astype(numpy.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, 48000)
        self.samples += n
        return frame


class PatternTrack(MediaStreamTrack):
    """A moving bar on a grey background, 320x240 at 15 fps."""
    kind = "video"

    def __init__(self):
        super().__init__()
        self.count = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.count / 15
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        img = numpy.full((240, 320, 3), 96, dtype=numpy.uint8)
        x = (self.count * 8) % 320
        img[:, x:x + 16, :] = (240, 40, 40)
        frame = VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = self.count * 6000
        frame.time_base = fractions.Fraction(1, 90000)
        self.count += 1
        return frame


class FileTrack(MediaStreamTrack):
    """Raw I420 frames from a file (codec-bench --dump), looped and paced at `fps`."""
    kind = "video"

    def __init__(self, path, width, height, fps):
        super().__init__()
        self.file = open(path, "rb")
        self.width, self.height, self.fps = width, height, fps
        self.size = width * height * 3 // 2
        self.frames = os.path.getsize(path) // self.size
        self.count = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.count / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self.file.seek((self.count % self.frames) * self.size)
        data = numpy.frombuffer(self.file.read(self.size), dtype=numpy.uint8)
        frame = VideoFrame.from_ndarray(data.reshape(self.height * 3 // 2, self.width), format="yuv420p")
        frame.pts = self.count * 90000 // self.fps
        frame.time_base = fractions.Fraction(1, 90000)
        self.count += 1
        return frame


class Peer:
    def __init__(self, args):
        self.args = args
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.decoded = {"audio": 0, "video": 0}
        self.audio_peak = 0
        self.video_size = None
        self.done = asyncio.Event()

        @self.pc.on("iceconnectionstatechange")
        def _ice():
            emit({"event": "iceConnectionState", "state": self.pc.iceConnectionState,
                  "t": round(time.monotonic(), 3)})

        @self.pc.on("connectionstatechange")
        def _conn():
            emit({"event": "connectionState", "state": self.pc.connectionState,
                  "t": round(time.monotonic(), 3)})

        @self.pc.on("track")
        def _track(track):
            emit({"event": "track", "kind": track.kind})
            asyncio.ensure_future(self.consume(track))

        if not args.no_media:
            self.pc.addTrack(ToneTrack())
            if args.video_file:
                self.pc.addTrack(FileTrack(args.video_file, args.width, args.height, args.fps))
            else:
                self.pc.addTrack(PatternTrack())
        else:
            # Still negotiate both kinds so the other side may send to us.
            self.pc.addTransceiver("audio", direction="recvonly")
            self.pc.addTransceiver("video", direction="recvonly")

    async def consume(self, track):
        try:
            while True:
                frame = await track.recv()
                self.decoded[track.kind] += 1
                if track.kind == "audio":
                    pcm = frame.to_ndarray()
                    self.audio_peak = max(self.audio_peak, int(numpy.abs(pcm).max()) if pcm.size else 0)
                else:
                    self.video_size = [frame.width, frame.height]
        except Exception:
            pass  # track ended

    async def stats(self):
        report = await self.pc.getStats()
        rtp = {}
        for s in report.values():
            if s.type == "inbound-rtp":
                rtp[s.kind] = {"packetsReceived": s.packetsReceived, "ssrc": s.ssrc}
            elif s.type == "outbound-rtp":
                rtp["out_" + s.kind] = {"packetsSent": s.packetsSent, "bytesSent": s.bytesSent, "ssrc": s.ssrc}
        emit({"event": "stats", "rtp": rtp, "decoded": self.decoded, "audio_peak": self.audio_peak,
              "video_size": self.video_size, "iceConnectionState": self.pc.iceConnectionState,
              "connectionState": self.pc.connectionState})

    async def handle(self, msg):
        kind = msg.get("type")
        if kind in ("offer", "answer"):
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type=kind))
            if kind == "offer":
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                emit({"type": "answer", "sdp": self.pc.localDescription.sdp})
        elif kind == "candidate":
            text = msg.get("candidate") or ""
            if text:
                cand = candidate_from_sdp(text.split(":", 1)[1] if text.startswith("candidate:") else text)
                cand.sdpMid = msg.get("sdpMid")
                cand.sdpMLineIndex = msg.get("sdpMLineIndex")
                await self.pc.addIceCandidate(cand)
        elif kind == "stats":
            await self.stats()
        elif kind == "close":
            self.done.set()
        else:
            emit({"event": "error", "message": f"unknown command {kind!r}"})

    async def run(self):
        if self.args.role == "offerer":
            await self.pc.setLocalDescription(await self.pc.createOffer())
            emit({"type": "offer", "sdp": self.pc.localDescription.sdp})
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

        async def read_commands():
            while True:
                line = await reader.readline()
                if not line:
                    self.done.set()
                    return
                line = line.strip()
                if not line:
                    continue
                try:
                    await self.handle(json.loads(line))
                except Exception as exc:  # a bad command is reported, never fatal
                    emit({"event": "error", "message": f"{type(exc).__name__}: {exc}"})

        async def periodic_stats():
            while True:
                await asyncio.sleep(self.args.stats_interval)
                await self.stats()

        tasks = [asyncio.ensure_future(read_commands()), asyncio.ensure_future(periodic_stats())]
        await self.done.wait()
        await self.stats()
        for t in tasks:
            t.cancel()
        await self.pc.close()


def main():
    if os.environ.get("AIORTC_DEBUG"):
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--role", choices=["offerer", "answerer"], required=True)
    ap.add_argument("--no-media", action="store_true", help="receive only")
    ap.add_argument("--stats-interval", type=float, default=1.0)
    ap.add_argument("--video-file", help="raw I420 frames to send instead of the pattern")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--bitrate", type=int, help="pin aiortc's VP8 bitrate (bits per second)")
    args = ap.parse_args()
    if args.bitrate:
        import aiortc.codecs.vpx as vpx
        vpx.DEFAULT_BITRATE = vpx.MIN_BITRATE = vpx.MAX_BITRATE = args.bitrate
    # Started from a Swift test, we inherit a blocked signal mask: unblock so SIGTERM stops us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    emit({"event": "ready", "aiortc": __import__("aiortc").__version__})

    async def run():
        # The peer connection must be created inside the running loop (its senders bind to it).
        await Peer(args).run()

    asyncio.run(run())


if __name__ == "__main__":
    main()
