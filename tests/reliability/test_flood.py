"""Under load the controller's last word wins: a 50,000-message flood from another process into a
running show leaves the state at every address's last value, with bounded echo and memory."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from livedream.command_queue import CommandQueue
from livedream.commands import QueryState, ToggleTransform
from livedream.control.osc import OscControl, OscHandler, build_message
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import RenderLoop
from livedream.look import ChainLink, Look
from livedream.paramnames import param_value
from livedream.state import State
from tests.reliability.flood_client import ADDRESSES
from tests.tiny_model import TinyDreamModel

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 50_000


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def heavy_step(model, frame, layers, settings, generator=None, guide=None):
    """A dream step that, like a real net's, spends its 40 ms outside the GIL."""
    time.sleep(0.04)
    return frame


def test_flood_of_values_last_word_wins_echo_and_memory_bounded():
    look = Look(model="tiny", layers=("conv2",), chain=(ChainLink("zoom", {"scale": 0.05}),
                                                       ChainLink("rotate", {"degrees": 1.0})))
    queue = CommandQueue()
    loop = RenderLoop(State(look=look, overlay=False), queue, HeadlessDisplay(),
                      model=TinyDreamModel(), size=(64, 48), dream_fn=heavy_step)
    osc = OscControl(queue, port=0)
    loop.dispatcher.start()
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, kwargs={"stop": stop}, daemon=True)
    thread.start()
    try:
        while loop.frame_index < 3:
            time.sleep(0.01)
        frames_before, rss_before = loop.frame_index, rss_kib()
        result = subprocess.run(
            [sys.executable, "-m", "tests.reliability.flood_client", str(osc.address[1]),
             str(MESSAGES)], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        deadline = time.monotonic() + 10
        while (osc.received < MESSAGES or len(queue)) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)
        state = loop.state
        names = {"/livedream/param/step_size/raw": "step_size",
                 "/livedream/param/jitter/raw": "jitter",
                 "/livedream/param/zoom/scale/raw": "zoom.scale",
                 "/livedream/param/rotate/degrees/raw": "rotate.degrees"}
        assert set(names) | {"/livedream/source/mix"} == set(ADDRESSES)
        for address, name in names.items():
            assert param_value(state.look, name) == pytest.approx(report["last"][address],
                                                                  abs=1e-6), address
        assert state.source_mix == pytest.approx(report["last"]["/livedream/source/mix"])
        assert osc.received == MESSAGES  # nothing lost in the socket: it is read in batches
        assert loop.frame_index > frames_before  # the show kept rendering through the flood
        assert queue.dropped == 0 and queue.coalesced + osc.superseded > 0
        # One echo per target per drain: far fewer echoes than messages.
        print(f"flood: {MESSAGES} messages in {report['send_seconds']:.2f} s, "
              f"{report['echoes']} echoes, {osc.superseded} superseded in the socket batches, "
              f"{queue.coalesced} coalesced in the queue, "
              f"{loop.dispatcher.stats.drains} drains")
        assert 0 < report["echoes"] <= MESSAGES // 10
        assert rss_kib() - rss_before < 30 * 1024  # the queue is bounded by targets
    finally:
        stop.set()
        thread.join(timeout=10)
        osc.close()
        loop.dispatcher.close()
        loop.close()


class Capture:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple]] = []

    def __call__(self, data: bytes, address: tuple) -> None:
        self.sent.append((data, address))


def test_triggers_keep_order_up_to_their_bound_then_are_counted_and_logged(caplog):
    queue = CommandQueue(max_triggers=100)
    handler = OscHandler(queue, Capture())
    names = ["zoom", "sobel", "blur", "rotate"]
    for i in range(130):
        handler.handle_datagram(build_message(f"/livedream/toggle/{names[i % 4]}", []),
                                ("127.0.0.1", 5000))
        handler.handle_datagram(build_message("/livedream/param/step_size/raw", [float(i % 9)]),
                                ("127.0.0.1", 5000))
    envelopes = queue.drain()
    toggles = [e.command for e in envelopes if isinstance(e.command, ToggleTransform)]
    assert toggles == [ToggleTransform(names[i % 4]) for i in range(100)]  # in order, none lost
    assert queue.dropped == 30 and handler.log.total["queue full"] == 30
    values = [e.command for e in envelopes if not isinstance(e.command, ToggleTransform)]
    assert len(values) == 1 and values[0].value == float(129 % 9)  # the latest value only
    assert "queue full" in caplog.text


def test_one_state_reply_burst_per_client_per_drain():
    queue = CommandQueue()
    for port in (5000, 5001):
        handler = OscHandler(queue, Capture())
        for _ in range(50):
            handler.handle_datagram(build_message("/livedream/state", []), ("127.0.0.1", port))
    queries = [e for e in queue.drain() if isinstance(e.command, QueryState)]
    assert len(queries) == 2 and {e.origin for e in queries} == {
        "osc /livedream/state from 127.0.0.1:5000", "osc /livedream/state from 127.0.0.1:5001"}
