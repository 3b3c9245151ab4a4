"""Mp4Writer and probe_video: real files encoded, decoded back with PyAV and compared."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from livedream.errors import LivedreamError, ParamError
from livedream.record import Mp4Writer, probe_video
from livedream.record.mp4 import fps_fraction, x264_threads
from tests.record.helpers import as_tensor, frame_times, psnr, smooth_frame

REPO_ROOT = Path(__file__).resolve().parents[2]


def decode_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def write_clip(path: Path, fps: int, frames: int, shape: tuple[int, int]) -> Path:
    """`frames` smooth frames of `shape` (height, width) recorded at `fps`; the path."""
    with Mp4Writer(path, fps=fps) as writer:
        for t in range(frames):
            writer.write(smooth_frame(*shape, t))
    return path


def test_frames_round_trip_as_h264_with_high_psnr(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    inputs = [smooth_frame(48, 64, t) for t in range(12)]
    with Mp4Writer(path, fps=24, crf=18) as writer:
        for index, pixels in enumerate(inputs):
            writer.write(as_tensor(pixels) if index % 2 else pixels)  # both input kinds
    assert writer.frames_written == 12

    info = probe_video(path)
    assert (info.codec, info.frames, info.width, info.height) == ("h264", 12, 64, 48)
    assert info.fps == pytest.approx(24.0)
    assert info.duration == pytest.approx(12 / 24)
    decoded = decode_rgb(path)
    assert len(decoded) == 12
    for original, back in zip(inputs, decoded, strict=True):
        assert psnr(original, back) > 30
    # frames stay in order: each decoded frame is closest to its own input
    for index, back in enumerate(decoded):
        assert int(np.argmax([psnr(original, back) for original in inputs])) == index


def test_small_frames_encode_on_one_thread(tmp_path: Path) -> None:
    """x264 writes its settings into the stream (an SEI): small frames say threads=1."""
    settings = write_clip(tmp_path / "small.mp4", 30, 3, (180, 320)).read_bytes()
    assert b" threads=1 " in settings and b"sliced_threads=0" in settings
    assert x264_threads(320, 180) == 1 and x264_threads(640, 360) == 1
    assert x264_threads(1280, 720) == 0  # x264's own choice (slice threads) for large frames


def test_file_is_fragmented_with_a_keyframe_every_second(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "frag.mp4", 10, 35, (32, 32))
    data = path.read_bytes()
    assert b"moof" in data and data.count(b"moof") >= 4  # 35 frames at 10 fps: >= 4 fragments
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size and p.is_keyframe]
        keyframes = {round(p.pts * p.time_base * 10) for p in packets}  # frame index at 10 fps
    assert {0, 10, 20, 30} <= keyframes


def test_odd_size_is_padded_by_repeating_the_edge(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    original = smooth_frame(47, 63)
    with Mp4Writer(path, fps=30) as writer:
        for _ in range(3):
            writer.write(original)
    info = probe_video(path)
    assert (info.width, info.height, info.frames) == (64, 48, 3)
    back = decode_rgb(path)[0]
    assert psnr(original, back[:47, :63]) > 30
    assert psnr(original[:, -1:], back[:47, 63:]) > 30  # padded column repeats the last one


def test_size_change_mid_stream_is_a_clear_error(tmp_path: Path) -> None:
    with Mp4Writer(tmp_path / "x.mp4") as writer:
        writer.write(smooth_frame(32, 32))
        with pytest.raises(LivedreamError, match="32x32 to 48x32"):
            writer.write(smooth_frame(32, 48))
    assert probe_video(tmp_path / "x.mp4").frames == 1


def test_mkv_and_write_after_close(tmp_path: Path) -> None:
    writer = Mp4Writer(tmp_path / "clip.mkv", fps=12.5)
    for t in range(5):
        writer.write(smooth_frame(16, 16, t))
    writer.close()
    writer.close()  # idempotent
    with pytest.raises(LivedreamError, match="closed"):
        writer.write(smooth_frame(16, 16))
    info = probe_video(tmp_path / "clip.mkv")
    assert (info.codec, info.frames) == ("h264", 5)
    assert info.fps == pytest.approx(12.5)


def test_close_without_frames_leaves_no_file(tmp_path: Path) -> None:
    Mp4Writer(tmp_path / "empty.mp4").close()
    assert not (tmp_path / "empty.mp4").exists()


@pytest.mark.parametrize("fps", [0, -1, float("nan"), float("inf"), "30", True])
def test_bad_fps_rejected(fps: object) -> None:
    with pytest.raises(ParamError, match="fps"):
        fps_fraction(fps)  # type: ignore[arg-type]


def test_fps_fraction_is_exact() -> None:
    assert fps_fraction(30) == 30 and fps_fraction(12.5) * 2 == 25
    assert fps_fraction(30000 / 1001).denominator == 1001


@pytest.mark.parametrize("crf", [-1, 52, 1.5])
def test_bad_crf_rejected(tmp_path: Path, crf: object) -> None:
    with pytest.raises(ParamError, match="crf"):
        Mp4Writer(tmp_path / "x.mp4", crf=crf)  # type: ignore[arg-type]


def test_unwritable_path_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(LivedreamError, match="cannot open"):
        Mp4Writer(tmp_path / "missing-dir" / "x.mp4")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(2000))
    with pytest.raises(LivedreamError, match="garbage.mp4"):
        probe_video(garbage)
    with pytest.raises(LivedreamError, match="nope.mp4"):
        probe_video(tmp_path / "nope.mp4")


# A child process that records smooth 48x64 frames at 30 fps until it is stopped. It prints the
# number of frames written after each one, and "closed N" once a SIGTERM made it close the file.
RECORDER_SCRIPT = """
import signal, sys, time
from livedream.record import Mp4Writer
from tests.record.helpers import smooth_frame

stop_requested = []  # the handler only flags: a frame is never cut in half
signal.signal(signal.SIGTERM, lambda signum, frame: stop_requested.append(signum))
start = time.monotonic()
with Mp4Writer(sys.argv[1], fps=30) as writer:
    while not stop_requested:
        writer.write(smooth_frame(48, 64, writer.frames_written))
        print(writer.frames_written, flush=True)
        time.sleep(max(0.0, start + writer.frames_written / 30 - time.monotonic()))
print("closed", writer.frames_written, flush=True)
"""


def start_recorder(path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", RECORDER_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )


def wait_for_frames(child: subprocess.Popen[str], count: int, seconds: float) -> None:
    """Read the child's progress until it wrote `count` frames, `seconds` after its first one."""
    assert child.stdout is not None
    first_frame_at = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        assert line, f"recorder exited early with code {child.wait()}"
        first_frame_at = first_frame_at or time.monotonic()
        if int(line) >= count and time.monotonic() - first_frame_at >= seconds:
            return
    pytest.fail("recorder did not make progress")


def test_kill_9_leaves_a_playable_file_up_to_the_last_second(tmp_path: Path) -> None:
    path = tmp_path / "crash.mp4"
    child = start_recorder(path)
    try:
        wait_for_frames(child, count=75, seconds=2.5)
        child.send_signal(signal.SIGKILL)
        remaining = child.communicate(timeout=10)[0]
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL and "closed" not in remaining
    info = probe_video(path)
    assert info.codec == "h264" and (info.width, info.height) == (64, 48)
    assert info.frames >= 45 and info.duration >= 1.5  # >= 1.5 s of the ~2.5 s recorded
    first = decode_rgb(path)[0]
    assert psnr(smooth_frame(48, 64, 0), first) > 30


def test_sigterm_closes_the_file_completely(tmp_path: Path) -> None:
    path = tmp_path / "term.mp4"
    child = start_recorder(path)
    try:
        wait_for_frames(child, count=20, seconds=0.6)
        child.send_signal(signal.SIGTERM)
        remaining = child.communicate(timeout=20)[0]
    finally:
        child.kill()
    assert child.returncode == 0
    written = int(remaining.split("closed")[1])
    info = probe_video(path)
    assert written >= 20 and info.frames == written
    decoded = decode_rgb(path)
    assert psnr(smooth_frame(48, 64, written - 1), decoded[-1]) > 30  # the last frame made it


def test_realtime_mp4_plays_at_the_speed_frames_were_shown(tmp_path: Path) -> None:
    """A live show dreaming 2 frames/s, recorded in real time on a 30 fps grid."""
    path = tmp_path / "live.mp4"
    shown_at = [100.0, 100.5, 101.0, 101.5, 101.5]  # the last one repeats a stalled clock
    with Mp4Writer(path, fps=30, realtime=True) as writer:
        for i, at in enumerate(shown_at):
            writer.write(np.full((32, 48, 3), 40 * i, np.uint8), at=at)
    assert frame_times(path) == pytest.approx([0.0, 0.5, 1.0, 1.5, 1.5 + 1 / 30], abs=1e-3)
    frame_based = tmp_path / "frames.mp4"
    with Mp4Writer(frame_based, fps=30) as writer:
        for i, at in enumerate(shown_at):
            writer.write(np.full((32, 48, 3), 40 * i, np.uint8), at=at)  # `at` ignored
    assert frame_times(frame_based) == pytest.approx([i / 30 for i in range(5)], abs=1e-3)

