"""The Link scenario, run inside a private netns by test_link.py; prints one JSON line.

A peer holds a session at 133 BPM; livedream (TempoClock at 120) joins: how long until it reads
133, what tempi the peer reported after livedream joined, and whether a tempo livedream sets
(a tap) reaches the peer.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from livedream.tempo.clock import TempoClock
from livedream.tempo.link import LinkSource

peer = subprocess.Popen(
    [sys.executable, str(Path(__file__).with_name("link_peer.py")), "133", "8"],
    stdout=subprocess.PIPE, text=True,
)
lines: list[tuple[float, str]] = []
threading.Thread(target=lambda: [lines.append((time.monotonic(), ln)) for ln in peer.stdout],
                 daemon=True).start()
while not any(ln.startswith("ready") for _, ln in lines):
    time.sleep(0.02)
time.sleep(0.5)
tempo = TempoClock(120, source="link")
source = LinkSource(tempo).start()
started = time.monotonic()
followed_after = None
while time.monotonic() - started < 3.0:
    if abs(tempo.bpm - 133.0) < 0.01 and source.peers >= 1:
        followed_after = time.monotonic() - started
        break
    time.sleep(0.01)
time.sleep(1.0)
joined_window = [ln for t, ln in lines if t >= started]
peer_tempi_after_join = sorted(
    {float(ln.split()[1]) for ln in joined_window if ln.startswith("tempo")}
)
tempo.set_bpm(140.0)  # livedream's own change (a tap) is proposed to the session
proposed_at = time.monotonic()
reached_peer = None
while time.monotonic() - proposed_at < 2.0:
    recent = [ln for t, ln in lines if t > proposed_at and ln.startswith("tempo")]
    if recent and abs(float(recent[-1].split()[1]) - 140.0) < 0.01:
        reached_peer = time.monotonic() - proposed_at
        break
    time.sleep(0.02)
source.close()
peer.kill()
print(json.dumps({"followed_after": followed_after, "peer_tempi_after_join": peer_tempi_after_join,
                  "reached_peer": reached_peer, "peers": source.peers}))
