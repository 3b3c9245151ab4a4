"""Test peer run in a private net namespace: an NDI sender or receiver built on livedream.outputs.

    python -m tests.outputs.ndi_peer send NAME N FORMAT WIDTH HEIGHT
    python -m tests.outputs.ndi_peer receive NAME SECONDS OUT.npz
    python -m tests.outputs.ndi_peer hold NAME FORMAT WIDTH HEIGHT SECONDS  (picture 7, 30 fps)
"""

from __future__ import annotations

import sys
import time

import numpy as np

from livedream.outputs.ndi import NdiReceiver, NdiSender
from livedream.outputs.stream import OutputFrame


def pattern(i: int, width: int, height: int) -> np.ndarray:
    """Smooth, moving test picture number `i` (distinct for every i)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 128 + 100 * np.sin(x / 9 + i * 0.31)
    g = 128 + 100 * np.cos(y / 7 - i * 0.23)
    b = 128 + 80 * np.sin((x + y) / 13 + i * 0.47)
    return np.stack((r, g, b), -1).astype(np.uint8)


def send(name: str, n: int, fmt: str, width: int, height: int) -> None:
    sender = NdiSender(name, 30.0, fmt)
    sender.send(OutputFrame(pattern(0, width, height), 0, 0.0, 0))  # opens the source
    deadline = time.monotonic() + 20
    while sender.connections(0.1) == 0 and time.monotonic() < deadline:
        sender.send(OutputFrame(pattern(0, width, height), 0, 0.0, 0))
    time.sleep(0.5)  # let the receiver's frame-sync settle
    t0 = time.monotonic()
    for i in range(1, n + 1):
        sender.send(OutputFrame(pattern(i, width, height), i, i / 30, i))
        time.sleep(max(0.0, t0 + i / 30 - time.monotonic()))
    time.sleep(1.0)
    sender.close()


def hold(name: str, fmt: str, width: int, height: int, seconds: float) -> None:
    """Send the still picture `pattern(7)` for `seconds` (or until nobody listens any more)."""
    sender = NdiSender(name, 30.0, fmt)
    picture = pattern(7, width, height)
    t0 = time.monotonic()
    seen = False
    i = 0
    while time.monotonic() - t0 < seconds:
        sender.send(OutputFrame(picture, i, i / 30, i))
        i += 1
        connected = sender.connections(0) > 0
        if seen and not connected:
            break  # the show has finished
        seen = seen or connected
        time.sleep(1 / 30)
    sender.close()


def receive(name: str, seconds: float, out: str) -> None:
    receiver = NdiReceiver(name, timeout=20)
    frames, stamps = [], []
    deadline = time.monotonic() + seconds
    last_new = None
    while time.monotonic() < deadline:
        got = receiver.latest()
        if got is not None and (not stamps or got[1] != stamps[-1]):
            frames.append(got[0])
            stamps.append(got[1])
            last_new = time.monotonic()
        if last_new is not None and time.monotonic() - last_new > 2.0:
            break
        time.sleep(0.004)
    receiver.close()
    np.savez(out, frames=np.array(frames), stamps=np.array(stamps))


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "send":
        send(args[0], int(args[1]), args[2], int(args[3]), int(args[4]))
    elif mode == "hold":
        hold(args[0], args[1], int(args[2]), int(args[3]), float(args[4]))
    else:
        receive(args[0], float(args[1]), args[2])
