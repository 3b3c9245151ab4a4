"""bench.memory's render case on the tiny model: an offline render's peak memory does not grow
with its length (GIF ping-pong + mp4, as `livedream render --pingpong --out x.gif --out x.mp4`).

Each length runs in its own process (peak RSS never goes down within one), through the same
`render_peak` the bench row uses.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.memory import flatness, render_peak

CHILD = (
    "import json, sys\n"
    "from bench.memory import render_peak\n"
    "from tests.tiny_model import TinyDreamModel\n"
    "print(json.dumps(render_peak(TinyDreamModel(), 'relu3', (64, 48), int(sys.argv[1]))))\n"
)


def peak_of_render(frames: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(frames)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_render_memory_is_flat_from_100_to_1000_frames() -> None:
    short, long = peak_of_render(100), peak_of_render(1000)
    metrics = flatness(short, long)
    assert metrics["ratio"] <= 1.1, metrics
    # The old recorders held ~0.75 MB per frame at 320x180, ~40 KiB per frame at 64x48 (RGB
    # copies, then 2 PIL images per frame for ping-pong): 35 MiB over 900 extra frames.
    assert metrics["kib_per_frame"] < 8.0, metrics
    assert long["gif_mb"] > 5 * short["gif_mb"]  # the long render really wrote its frames


def test_render_peak_reports_this_render(tmp_path) -> None:  # noqa: ANN001 - pytest fixture
    """In-process: the numbers are there and sane (the peak is at least the RSS before)."""
    from tests.tiny_model import TinyDreamModel

    data = render_peak(TinyDreamModel(), "relu3", (64, 48), 3)
    assert data["frames"] == 3 and data["gif_mb"] > 0
    assert data["peak_rss_mb"] >= data["before_mb"] > 0
