"""Live recording off the render thread: a bounded queue, a writer thread, and drop counting.

The show must never wait for the encoder. `ThreadedRecorder.write` converts the frame to host
uint8 in the caller's thread (so the caller may reuse its tensor at once) and hands it to a writer
thread through a bounded queue; when the queue is full the frame is dropped and counted instead.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import torch

from livedream.errors import LivedreamError
from livedream.record.convert import PinnedReadback, to_uint8_hwc
from livedream.record.sink import ClosesOnExit, FrameSink

log = logging.getLogger(__name__)

_STOP = object()


class ThreadedRecorder(ClosesOnExit):
    """Wraps a FrameSink so `write()` never blocks: frames queue up for a writer thread.

    - `dropped`: frames not recorded because the queue (or the pinned-buffer pool) was full, the
      writer failed, or the recorder was already closed.
    - `error`: the first exception raised by the sink in the writer thread (also logged); after it
      the writer discards frames, and the caller is never interrupted.
    - CUDA frames are quantised on the GPU and copied with `non_blocking=True` into pinned host
      buffers (`pinned=True`, the default); the writer thread waits for the copy to land.
    """

    def __init__(self, sink: FrameSink, max_queue: int = 8, *, pinned: bool = True) -> None:
        if max_queue < 1:
            raise LivedreamError(f"max_queue must be >= 1, got {max_queue}")
        self.sink = sink
        self.max_queue = max_queue
        self.dropped = 0
        self._dropped_lock = threading.Lock()  # both threads count drops
        self._discard = False  # set by close(timeout) when the backlog is abandoned
        self.error: BaseException | None = None
        self.closed = False
        self._pinned = pinned
        # queue slots + the frame being written + the frame being read back
        self._readback = PinnedReadback(max_queue + 2)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._drain, name="livedream-recorder", daemon=True)
        self._thread.start()

    @property
    def frames_written(self) -> int:
        """Frames the sink has written so far."""
        return self.sink.frames_written

    @property
    def queued(self) -> int:
        """Frames waiting in the queue right now."""
        return self._queue.qsize()

    def _drop(self) -> None:
        with self._dropped_lock:
            self.dropped += 1

    def write(self, frame: Any, at: float | None = None) -> None:
        """Read `frame` back to the host and queue it; drop and count it if the writer lags.

        The frame is stamped with `at` (default: now) here, not when the writer thread gets to
        it, so a real-time recording keeps the show's timing even when the encoder lags.
        """
        at = time.monotonic() if at is None else at
        if self.closed or self.error is not None:
            self._drop()
            return
        if self._queue.full():  # skip the readback for a frame that cannot be queued
            self._drop()
            return
        if self._pinned and isinstance(frame, torch.Tensor) and frame.is_cuda:
            handle = self._readback.acquire(frame)
            if handle is None:
                self._drop()
                return
            item: tuple[str, Any, float] = ("pinned", handle, at)
        else:
            item = ("host", to_uint8_hwc(frame), at)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._release(item)
            self._drop()

    def _release(self, item: tuple[str, Any, float]) -> None:
        if item[0] == "pinned":
            self._readback.release(item[1])

    def _drain(self) -> None:
        """Writer thread: write queued frames until the stop marker; failures go to `error`."""
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                if self.error is None and not self._discard:
                    kind, payload, at = item
                    pixels = PinnedReadback.wait(payload) if kind == "pinned" else payload
                    self.sink.write(pixels, at=at)
                else:
                    self._drop()
            except BaseException as exc:  # reported through .error, never raised in the caller
                self.error = exc
                self._drop()
                log.error("recording failed, further frames are discarded: %s", exc)
            finally:
                self._release(item)

    def close(self, timeout: float | None = None) -> None:
        """Write every queued frame, stop the thread and close the sink; idempotent, never raises.

        `timeout` bounds the wait for the queue to drain (None waits for all of it).
        """
        if self.closed:
            return
        self.closed = True
        deadline = None if timeout is None else time.monotonic() + timeout

        def check_deadline() -> None:
            if deadline is not None and time.monotonic() > deadline and not self._discard:
                log.error("recorder backlog not written within %.1f s; discarding it", timeout)
                self._discard = True  # the writer now empties the queue without writing

        while True:
            try:
                self._queue.put(_STOP, timeout=0.05)
                break
            except queue.Full:
                check_deadline()
        while self._thread.is_alive():
            self._thread.join(0.05)
            check_deadline()
        try:
            self.sink.close()
        except Exception as exc:
            if self.error is None:
                self.error = exc
            log.error("closing the recording failed: %s", exc)
