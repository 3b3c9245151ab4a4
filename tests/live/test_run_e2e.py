"""End to end: `livedream run --headless --record` driven over OSC, and MIDI/keys in-process.

The subprocess test sends, one at a time, a layer change, a parameter change and a transform
change, waits for each echo, then SIGTERMs the show and checks from the recording (the mp4,
probed and decoded, plus the lossless PNG frames recorded alongside) that the output changed
right after each message was applied:

* layer conv4_3 -> conv1_1: the dream's per-frame contribution (frame minus the chain applied to
  the previous frame) loses its fine structure (conv1_1's gradient is a smooth local filter);
* step_size raw 12: that contribution grows several-fold;
* transform posterize: every pixel lands on the 8-level palette.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from livedream.command_queue import CommandQueue
from livedream.control.osc import build_message, parse_datagram
from livedream.look import ChainLink, DreamSettings, Look
from livedream.state import State
from livedream.transforms import apply_chain
from tests.reliability.show import free_udp_port

ROOT = Path(__file__).resolve().parents[2]
ZOOM = (ChainLink("zoom", {"scale": 0.05}),)


def png_frames(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.png"))


def load_png(path: Path) -> torch.Tensor:
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)


def dream_residual(frames: list[torch.Tensor], i: int) -> torch.Tensor:
    """What the dream step added at frame i: frame i minus the zoom chain of frame i-1."""
    return frames[i] - apply_chain(frames[i - 1], ZOOM)


def fine_structure(d: torch.Tensor) -> float:
    """Mean |Laplacian| / mean |d| over the interior: high for fine, pixel-scale patterns."""
    lap = (4 * d[..., 1:-1, 1:-1] - d[..., :-2, 1:-1] - d[..., 2:, 1:-1] - d[..., 1:-1, :-2]
           - d[..., 1:-1, 2:])
    return float(lap.abs().mean() / d[..., 1:-1, 1:-1].abs().mean().clamp_min(1e-9))


def palette_distance(frame: torch.Tensor, levels: int = 8) -> float:
    """Mean distance of the pixels to the nearest of `levels` evenly spaced values."""
    scaled = frame * (levels - 1)
    return float((scaled - scaled.round()).abs().mean() / (levels - 1))


class Show:
    """The `livedream run` subprocess: stderr collected on a thread, frames counted on disk."""

    def __init__(self, args: list[str], frames_dir: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "livedream", "-v", "run", *args],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.frames_dir = frames_dir
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def applied_frame(self, pattern: str) -> int | None:
        """Frame index at which a command matching `pattern` was applied (from the debug log)."""
        for line in list(self.lines):
            match = re.search(r"frame (\d+): applied (.*)", line)
            if match and re.search(pattern, match.group(2)):
                return int(match.group(1))
        return None

    def wait_applied(self, pattern: str, timeout: float = 15) -> int:
        """`applied_frame`, waiting for the log line to come through the pipe."""
        deadline = time.monotonic() + timeout
        while (frame := self.applied_frame(pattern)) is None:
            if time.monotonic() > deadline:
                pytest.fail(f"no 'applied {pattern}' in the log:\n{self.output()[-3000:]}")
            time.sleep(0.05)
        return frame

    def wait_frames(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(png_frames(self.frames_dir)) < count:
            if self.proc.poll() is not None:
                pytest.fail(f"show exited early ({self.proc.returncode}):\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"fewer than {count} frames after {timeout}s:\n{self.output()[-3000:]}")
            time.sleep(0.1)

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._reader.join(5)


def send_and_wait_echo(client: socket.socket, port: int, address: str, args: list,
                       echo_address: str, timeout: float = 30) -> list:
    client.sendto(build_message(address, args), ("127.0.0.1", port))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data, _ = client.recvfrom(65536)
        except TimeoutError:
            break
        for echoed, echoed_args in parse_datagram(data):
            if echoed == echo_address:
                return echoed_args
    pytest.fail(f"no echo on {echo_address} within {timeout}s")


def test_headless_show_over_osc_records_each_change(tmp_path):
    pytest.importorskip("livedream.models.registry")
    from livedream.models.registry import list_models
    from livedream.record import probe_video

    if not any(m.name == "vgg16" and m.installed for m in list_models()):
        pytest.skip("default model vgg16 is not installed")
    port = free_udp_port()
    video, frames_dir = tmp_path / "x.mp4", tmp_path / "frames"
    preset = tmp_path / "plain-zoom.toml"  # conv4_3, one 1.5 step per frame, the chain ZOOM
    preset.write_text('name = "plain-zoom"\nlayers = ["conv4_3"]\n[dream]\nstep_size = 1.5\n'
                      'iterations = 1\n[[chain]]\ntransform = "zoom"\nscale = 0.05\n')
    show = Show(["--headless", "--preset", str(preset), "--size", "160x96", "--record-source",
                 "dream", "--record",
                 str(video), "--record-frames",
                 str(frames_dir), "--osc-port", str(port), "--frames", "400", "--seconds", "240",
                 "--seed", "3", "--target-fps", "0"], frames_dir)  # full-size dream: the
    # residual measures below compare layers, which a governor-chosen dream scale would blur
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    try:
        show.wait_frames(4, timeout=120)
        echo = send_and_wait_echo(client, port, "/livedream/layer", ["conv1_1"],
                                  "/livedream/layer")
        assert echo == ["conv1_1"]
        k_layer = show.wait_applied(r"SetLayer\(layer='conv1_1'\)")
        show.wait_frames(k_layer + 4, timeout=60)
        echo = send_and_wait_echo(client, port, "/livedream/param/step_size/raw", [12.0],
                                  "/livedream/param/step_size/raw")
        assert echo == [pytest.approx(12.0)]
        k_step = show.wait_applied(r"SetParam\(name='step_size'")
        show.wait_frames(k_step + 4, timeout=60)
        echo = send_and_wait_echo(client, port, "/livedream/transform", ["posterize"],
                                  "/livedream/transform")
        assert echo == ["posterize"]
        k_post = show.wait_applied(r"SetTransform\(name='posterize'\)")
        show.wait_frames(k_post + 3, timeout=60)
    finally:
        client.close()
        code = show.stop()
    assert code == 0, show.output()[-3000:]
    assert "recording stopped" in show.output()
    assert 3 <= k_layer < k_step < k_post

    paths = png_frames(frames_dir)
    frames = [load_png(p) for p in paths]
    n = len(frames)
    info = probe_video(video)
    assert info.codec == "h264" and (info.width, info.height) == (160, 96)
    assert info.frames == n  # every dream frame, SIGTERM finalised the file

    # Frame k+1 (index k) is the first produced after a command applied at frame k.
    fine_before = np.mean([fine_structure(dream_residual(frames, i)) for i in range(1, k_layer)])
    fine_after = np.mean([fine_structure(dream_residual(frames, i))
                          for i in range(k_layer, k_step)])
    assert fine_after < 0.7 * fine_before, (fine_before, fine_after)

    step_before = np.mean([dream_residual(frames, i).abs().mean() for i in range(k_layer, k_step)])
    step_after = np.mean([dream_residual(frames, i).abs().mean() for i in range(k_step, k_post)])
    assert step_after > 3 * step_before, (step_before, step_after)

    before = [palette_distance(f) for f in frames[:k_post]]
    after = [palette_distance(f) for f in frames[k_post:]]
    # After: only the 8-bit rounding of k/7 remains (at most 0.5/255 per pixel).
    assert min(before) > 0.01 and max(after) < 0.5 / 255, (before, after)

    # The mp4 holds the same frames (within H.264 loss) and shows the same change.
    import av

    with av.open(str(video)) as container:
        decoded = [torch.from_numpy(f.to_ndarray(format="rgb24").astype(np.float32) / 255)
                   .permute(2, 0, 1).unsqueeze(0) for f in container.decode(video=0)]
    assert len(decoded) == n
    for i, dec in enumerate(decoded):  # yuv420p loses chroma detail on the noisiest frames
        error = float((frames[i] - dec).abs().mean())
        assert error < 10 / 255
        for j in (i - 1, i + 1):  # and each decoded frame is its own PNG, not a neighbour
            if 0 <= j and max(i, j) < k_post:  # (posterizing barely changes a frame)
                assert error < float((frames[j] - dec).abs().mean())


def test_midi_bytes_and_keys_drive_the_loop_in_process():
    """MIDI CC/note bytes and a key press take effect on the next frame, with MIDI echo."""
    from livedream.control.midi import MidiControl, MidiMap
    from livedream.live.clock import FakeClock
    from livedream.live.headless import HeadlessDisplay
    from livedream.live.loop import RenderLoop
    from tests.tiny_model import TinyDreamModel

    midi_map = MidiMap.loads("""
[[cc]]
control = 21
param = "step_size"
min = 0.0
max = 10.0

[[note]]
note = 36
command = "transform"
transform = "posterize"

[[note]]
note = 38
command = "layer/next"
""")

    class Output:
        def __init__(self) -> None:
            self.sent: list = []

        def send(self, msg) -> None:
            self.sent.append(msg)

    queue, output = CommandQueue(), Output()
    midi = MidiControl(queue, midi_map, output)
    display = HeadlessDisplay(queue, keep=50)
    state = State(look=Look(model="tiny", layers=("conv2",), chain=ZOOM,
                            dream=DreamSettings(step_size=1.0, jitter=2)))
    loop = RenderLoop(state, queue, display, model=TinyDreamModel(), clock=FakeClock(),
                      size=(64, 48), seed=1)
    loop.run(max_frames=3)

    midi.feed(bytes([0xB0, 21, 127]))  # CC 21 full: step_size -> 10
    loop.tick()
    assert loop.state.look.dream.step_size == pytest.approx(10.0)
    assert [(m.type, m.control, m.value) for m in output.sent] == [("control_change", 21, 127)]

    midi.feed(bytes([0x90, 38, 100]))  # note 38: next layer
    loop.tick()
    assert loop.state.look.layers == ("relu2",) and loop.stats().layers == ("relu2",)

    before = palette_distance(torch.from_numpy(display.kept[-1] / 255.0).float())
    midi.feed(bytes([0x90, 36, 100]))  # note 36: the chain becomes posterize
    loop.tick()
    assert [link.name for link in loop.state.look.chain] == ["posterize"]
    after = palette_distance(torch.from_numpy(display.kept[-1] / 255.0).float())
    assert before > 0.01 and after < 1e-3

    frames_before = loop.frame_index
    display.press("SPACE")  # pause from the keyboard
    loop.tick()
    loop.tick()
    assert loop.state.paused and loop.frame_index == frames_before
    display.press("ESCAPE")
    assert loop.run(max_frames=100).frames == frames_before and not loop.running
