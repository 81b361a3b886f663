#!/usr/bin/env python3
"""Captures real SDPs from Chromium and aiortc into Tests/PeerTests/Fixtures (run by hand).

    unshare -n -- .venv/bin/python Tests/Interop/capture_sdp.py

Chromium (headless, fake camera and microphone) makes an offer with one audio and one video
track, once as created (it trickles: no candidates) and once after ICE gathering completed;
then it answers aiortc's offer. aiortc makes an offer and answers Chromium's. The files are the
raw SDP text with CRLF line ends, exactly as each stack produced it.
"""
import json
import os
import subprocess
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, os.path.dirname(__file__))
from browser_call import CHROMIUM, CHROMEDRIVER, CHROMIUM_FLAGS  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "PeerTests", "Fixtures")
PY = sys.executable
DRIVER = os.path.join(os.path.dirname(__file__), "aiortc_peer.py")

OFFER_JS = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const pc = new RTCPeerConnection();
  const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  s.getTracks().forEach(t => pc.addTrack(t, s));
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  await new Promise(r => { if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); });
  done({trickle: offer.sdp, gathered: pc.localDescription.sdp});
})().catch(e => done({error: String(e)}));
"""
ANSWER_JS = r"""
const done = arguments[arguments.length - 1];
const offerSdp = arguments[0];
(async () => {
  const pc = new RTCPeerConnection();
  const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  await pc.setRemoteDescription({type: 'offer', sdp: offerSdp});
  s.getTracks().forEach(t => pc.addTrack(t, s));
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  done({answer: answer.sdp});
})().catch(e => done({error: String(e)}));
"""


def save(name, sdp):
    with open(os.path.join(OUT, name), "w", newline="") as f:
        f.write(sdp)
    print("wrote", name, len(sdp), "bytes")


def aiortc(role, offer=None):
    p = subprocess.Popen([PY, DRIVER, "--role", role], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if offer:
            p.stdin.write(json.dumps({"type": "offer", "sdp": offer}) + "\n")
            p.stdin.flush()
        for line in p.stdout:
            m = json.loads(line)
            if m.get("type") in ("offer", "answer"):
                return m["sdp"]
    finally:
        p.kill()
        p.wait()


def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + ["--user-data-dir=/tmp/capture-sdp-profile"]:
        opts.add_argument(flag)
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        d.set_script_timeout(20)
        # getUserMedia needs a secure context: a file:// page is one, a data: URL is not.
        page = "/tmp/capture-sdp.html"
        with open(page, "w") as f:
            f.write("<title>sdp</title>")
        d.get("file://" + page)
        r = d.execute_async_script(OFFER_JS)
        if "error" in r:
            sys.exit(r["error"])
        save("chromium-offer.sdp", r["trickle"])
        save("chromium-offer-gathered.sdp", r["gathered"])
        aiortc_offer = aiortc("offerer")
        save("aiortc-offer.sdp", aiortc_offer)
        r = d.execute_async_script(ANSWER_JS, aiortc_offer)
        if "error" in r:
            sys.exit(r["error"])
        save("chromium-answer.sdp", r["answer"])
        save("aiortc-answer.sdp", aiortc("answerer", offer=open(os.path.join(OUT, "chromium-offer-gathered.sdp"), newline="").read()))
    finally:
        d.quit()


if __name__ == "__main__":
    main()
