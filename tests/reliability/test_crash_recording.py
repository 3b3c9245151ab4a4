"""Crash-safe live recording: `livedream run --headless --record x.mp4` killed with SIGKILL keeps
a playable file holding all but at most the last second of what the show rendered; SIGINT and
SIGTERM finalise the file completely and exit cleanly.

The frame counter comes from the show itself (a `/livedream/reset` probe makes it log
`frame N: ...`), the file's content from decoding every frame (`probe_video`).
"""

from __future__ import annotations

import signal
import time

import pytest

from livedream.record import probe_video
from tests.reliability.show import Show, free_udp_port

SIZE = "96x64"
RUN_SECONDS = 6.0


def start_recording_show(tmp_path, *extra: str) -> tuple[Show, int]:
    port = free_udp_port()
    show = Show("--size", SIZE, "--osc-port", str(port), "--record", str(tmp_path / "x.mp4"),
                "--record-source", "dream",
                *extra, log_path=tmp_path / "show.log")
    show.wait_for(r"show running", timeout=120)
    return show, port


def test_kill_9_leaves_a_playable_file_missing_at_most_the_last_second(tmp_path):
    show, port = start_recording_show(tmp_path)
    with show:
        t0, f0 = time.monotonic(), show.probe_frame(port)
        time.sleep(RUN_SECONDS)
        t1, f1 = time.monotonic(), show.probe_frame(port)
        show.kill()  # SIGKILL right after the probe: no handler, no finaliser runs
    rate = (f1 - f0) / (t1 - t0)  # dream frames per second, as the show reported them
    assert rate > 0.5, f"show rendered too slowly to test ({rate:.2f} fps)"
    info = probe_video(tmp_path / "x.mp4")
    print(f"kill -9: rendered {f1} frames at {rate:.1f} fps; file holds {info.frames}")
    assert (info.width, info.height) == (96, 64)
    # Everything up to one second (+ the frame that crosses it) before the kill is in the file.
    assert info.frames >= f1 - rate * 1.0 - 1, (
        f"file holds {info.frames} frames, show had rendered {f1} at {rate:.1f} fps")
    assert info.frames <= f1 + rate * 1.0 + 2


@pytest.mark.parametrize("sig, codes", [(signal.SIGINT, (0, 130)), (signal.SIGTERM, (0,))])
def test_sigint_and_sigterm_finalise_the_recording(tmp_path, sig, codes):
    show, port = start_recording_show(tmp_path)
    with show:
        show.probe_frame(port)
        time.sleep(2.0)
        code = show.stop(sig)
    assert code in codes, show.text()[-2000:]
    stats = show.final_stats()
    assert stats.frames > 0
    info = probe_video(tmp_path / "x.mp4")
    # Complete: every frame handed to the recorder (less the counted drops) is in the file.
    assert info.frames == stats.recorded - stats.dropped
    assert stats.recorded == stats.frames
    assert "recording stopped" in show.text()


def test_slow_live_frames_still_get_a_keyframe_every_second(tmp_path):
    """Regression: a show dreaming at 3 fps into a 30 fps file cut a fragment only every 30
    frames (10 s of wall time), so kill -9 lost up to 10 s. Keyframes now follow wall time."""
    import av
    import numpy as np

    from livedream.record import Mp4Writer

    path = tmp_path / "slow.mp4"
    pixels = np.zeros((32, 32, 3), np.uint8)
    with Mp4Writer(path, fps=30, max_fragment_seconds=0.2) as writer:
        for i in range(12):
            pixels[:] = i * 20  # flat frames: no scene-cut keyframes from x264 itself
            writer.write(pixels)
            time.sleep(0.1)
    with av.open(str(path)) as container:
        keys = [i for i, p in enumerate(container.demux(video=0)) if p.size and p.is_keyframe]
    assert keys[0] == 0
    gaps = np.diff(keys)
    assert len(keys) >= 4 and gaps.max() <= 3, keys  # 0.2 s at 10 frames/s: every 2-3 frames
