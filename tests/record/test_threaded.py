"""ThreadedRecorder: never blocks the caller, counts drops, drains on close, reports errors."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from livedream.errors import LivedreamError
from livedream.record import Mp4Writer, ThreadedRecorder, probe_video
from livedream.record.sink import SinkBase
from tests.record.helpers import smooth_frame


class SlowSink(SinkBase):
    """Keeps each frame's first pixel; a write takes `delay` seconds; may fail at one frame."""

    def __init__(self, delay: float, fail_at: int | None = None) -> None:
        super().__init__("slow sink")
        self.delay, self.fail_at = delay, fail_at
        self.values: list[int] = []
        self.stamps: list[float | None] = []
        self.threads: set[str] = set()

    def write(self, frame: Any, at: float | None = None) -> None:
        self.threads.add(threading.current_thread().name)
        self.stamps.append(at)
        time.sleep(self.delay)
        if self.fail_at is not None and self.frames_written == self.fail_at:
            raise OSError("disk full")
        assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
        self.values.append(int(frame[0, 0, 0]))
        self.frames_written += 1

    def close(self) -> None:
        self.closed = True


def test_slow_sink_drops_frames_but_write_never_blocks() -> None:
    sink = SlowSink(delay=0.2)
    recorder = ThreadedRecorder(sink, max_queue=2)
    frame = torch.zeros(1, 3, 8, 8)
    slowest = 0.0
    for index in range(40):
        frame.fill_(index / 255)  # the caller reuses one tensor for every frame
        started = time.perf_counter()
        recorder.write(frame)
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 0.1  # a sink write takes 0.2 s: write() never waited for one
    assert recorder.dropped >= 30 and recorder.queued <= 2
    recorder.close()
    assert sink.closed and recorder.error is None
    assert recorder.frames_written + recorder.dropped == 40
    assert recorder.frames_written == len(sink.values) >= 2  # the full queue was drained on close
    # every recorded frame holds the value it had when written, in order, despite reuse
    assert sink.values == sorted(sink.values) and len(set(sink.values)) == len(sink.values)
    assert sink.values[0] == 0
    assert sink.threads == {"livedream-recorder"}


def test_fast_sink_loses_nothing_and_write_after_close_is_counted() -> None:
    sink = SlowSink(delay=0.0)
    with ThreadedRecorder(sink, max_queue=64) as recorder:
        for index in range(30):
            recorder.write(np.full((4, 4, 3), index, np.uint8))
    assert sink.values == list(range(30)) and recorder.dropped == 0
    recorder.write(np.zeros((4, 4, 3), np.uint8))
    assert recorder.dropped == 1 and recorder.frames_written == 30


def test_sink_errors_are_captured_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    sink = SlowSink(delay=0.0, fail_at=3)
    with caplog.at_level(logging.ERROR, logger="livedream.record.threaded"):
        recorder = ThreadedRecorder(sink, max_queue=64)
        for index in range(10):
            recorder.write(np.full((4, 4, 3), index, np.uint8))
        recorder.close()  # does not raise either
    assert isinstance(recorder.error, OSError) and "disk full" in str(recorder.error)
    assert sink.values == [0, 1, 2] and recorder.dropped == 7 and sink.closed
    assert "disk full" in caplog.text
    recorder.write(np.zeros((4, 4, 3), np.uint8))  # still harmless
    assert recorder.dropped == 8


def test_close_with_timeout_abandons_the_backlog() -> None:
    sink = SlowSink(delay=0.2)
    recorder = ThreadedRecorder(sink, max_queue=8)
    for index in range(9):
        recorder.write(np.full((4, 4, 3), index, np.uint8))
    started = time.perf_counter()
    recorder.close(timeout=0.1)
    assert time.perf_counter() - started < 1.0  # not 9 x 0.2 s
    assert sink.closed and recorder.frames_written + recorder.dropped == 9
    assert recorder.dropped >= 5


def test_bad_frame_is_the_callers_error_and_bad_queue_size() -> None:
    with ThreadedRecorder(SlowSink(0.0)) as recorder, pytest.raises(LivedreamError):
        recorder.write(torch.zeros(2, 3, 4, 4))
    with pytest.raises(LivedreamError, match="max_queue"):
        ThreadedRecorder(SlowSink(0.0), max_queue=0)


def test_threaded_mp4_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "live.mp4"
    with ThreadedRecorder(Mp4Writer(path, fps=30), max_queue=64) as recorder:
        for t in range(20):
            recorder.write(torch.from_numpy(smooth_frame(48, 64, t)).permute(2, 0, 1) / 255.0)
    assert recorder.dropped == 0 and recorder.error is None
    info = probe_video(path)
    assert (info.codec, info.frames, info.width, info.height) == ("h264", 20, 64, 48)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA for the pinned readback")
def test_cuda_frames_go_through_pinned_buffers() -> None:
    sink = SlowSink(delay=0.0)
    frame = torch.zeros(1, 3, 32, 32, device="cuda")
    with ThreadedRecorder(sink, max_queue=16) as recorder:
        for index in range(30):
            frame.fill_(index / 255)
            recorder.write(frame)
    assert recorder.frames_written + recorder.dropped == 30 and recorder.error is None
    assert sink.values == sorted(set(sink.values))  # each frame kept its value, in order
    if recorder.dropped == 0:
        assert sink.values == list(range(30))


def test_frames_are_stamped_when_queued_not_when_written() -> None:
    sink = SlowSink(delay=0.05)
    recorder = ThreadedRecorder(sink, max_queue=8)
    before = time.monotonic()
    recorder.write(np.zeros((4, 4, 3), np.uint8))
    recorder.write(np.zeros((4, 4, 3), np.uint8), at=123.0)
    after = time.monotonic()
    recorder.close()
    assert before <= sink.stamps[0] <= after  # the caller's time, not the slow writer's
    assert sink.stamps[1] == 123.0
