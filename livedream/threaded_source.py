"""A live source read on its own thread into a latest-frame slot; optical flow computed there too.

The render thread calls `latest()` (or `read()`), which never waits for the source: it takes
whatever frame the thread last decoded (decoded, but not resized: the uint8 picture goes to the
device and is cover-resized there). With flow on, the thread also estimates the backward flow
from the frame the renderer took last to the new one (`livedream.flow.estimate`), so the warp
always matches the two frames the buffer actually saw.

Modes: *demand* (video files, default) decodes one frame ahead and waits until it is taken, so
a file plays one frame per dream frame as the unthreaded source did; *free-running* (webcams,
or files with `realtime`) keeps reading, paced at `fps` when given, and the slot keeps the newest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from livedream.errors import LivedreamError
from livedream.flow.estimate import FlowEstimator, flow_grey, flow_to_tensor
from livedream.sources import (
    CaptureSource,
    Size,
    Source,
    SourceError,
    StillSource,
    open_source,
    rgb_to_device,
)

log = logging.getLogger(__name__)

RgbReader = Callable[[], np.ndarray]
RETRY_SECONDS = 0.2  # pause after a failed read before trying again


@dataclass(frozen=True)
class SourceSample:
    """What the renderer gets: the frame, and the flow since the frame it took before."""

    frame: Tensor  # [1, 3, H, W] float32 on the device, at the source's size
    flow: Tensor | None  # [1, 2, h, w] backward flow (pixels of its grid); None: no new frame/flow
    index: int  # sequence number of the decoded frame (0 = the first)
    fresh: bool  # a frame the renderer had not taken before


@dataclass
class _Slot:
    rgb: np.ndarray
    seq: int
    grey: np.ndarray | None = None
    flow: np.ndarray | None = None
    ref_seq: int = -1  # the taken frame the flow is relative to


class ThreadedSource:
    """Run `reader` (HxWx3 uint8 RGB per call) on a daemon thread; `latest()` never blocks."""

    def __init__(
        self,
        reader: RgbReader,
        name: str,
        size: Size | None,
        device: torch.device | str | None = None,
        *,
        demand: bool = True,
        fps: float | None = None,
        flow: bool = False,
        flow_scale: float = 0.5,
        on_close: Callable[[], None] | None = None,
        first_frame_timeout: float = 10.0,
    ) -> None:
        self.name, self.size, self.device = name, size, device
        self.demand, self.interval = demand, (1.0 / fps if fps else 0.0)
        self.flow_on, self.flow_scale = flow, flow_scale
        self._reader, self._on_close = reader, on_close
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._slot: _Slot | None = None
        self._taken_seq = -1  # seq of the frame the renderer took last
        self._taken_grey: np.ndarray | None = None
        self._cached: tuple[int, Tensor] | None = None
        self._error: LivedreamError | None = None
        self.reads = 0  # frames decoded by the thread
        self.flow_seconds = 0.0  # time spent estimating flow (for the bench)
        self.flows = 0
        self._thread = threading.Thread(target=self._run, name=f"source {name}", daemon=True)
        self._thread.start()
        with self._cond:  # the first frame is awaited here, at open, never in the render loop
            self._cond.wait_for(lambda: self._slot is not None or self._error is not None
                                or self._stop.is_set(), timeout=first_frame_timeout)
            if self._slot is None:
                error = self._error or SourceError(f"{name}: no frame within "
                                                   f"{first_frame_timeout:g} s")
                self.close()
                raise error

    # --- the source thread ---------------------------------------------------------------------
    def _run(self) -> None:
        estimator: FlowEstimator | None = None
        seq = 0
        while not self._stop.is_set():
            if self.demand:
                with self._cond:
                    self._cond.wait_for(lambda: self._stop.is_set() or self._slot is None
                                        or self._slot.seq <= self._taken_seq, timeout=0.5)
                    if self._stop.is_set():
                        return
                    if self._slot is not None and self._slot.seq > self._taken_seq:
                        continue
            started = time.perf_counter()
            try:
                rgb = self._reader()
            except LivedreamError as exc:
                self._fail(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - a decoder crash must not kill the show
                self._fail(SourceError(f"{self.name}: read failed: {exc!r}"))
                continue
            slot = _Slot(rgb=rgb, seq=seq)
            seq += 1
            self.reads += 1
            if self.flow_on:
                estimator = estimator or FlowEstimator()
                self._estimate(estimator, slot)
            with self._cond:
                self._slot = slot
                self._cond.notify_all()
            if self.interval:
                self._stop.wait(max(0.0, self.interval - (time.perf_counter() - started)))

    def _estimate(self, estimator: FlowEstimator, slot: _Slot) -> None:
        t0 = time.perf_counter()
        try:
            slot.grey = flow_grey(slot.rgb, self.size, self.flow_scale)
            with self._cond:
                ref, ref_seq = self._taken_grey, self._taken_seq
            if ref is not None and ref.shape == slot.grey.shape:
                slot.flow, slot.ref_seq = estimator.backward(ref, slot.grey), ref_seq
        except LivedreamError as exc:
            self._fail(exc)
        self.flow_seconds += time.perf_counter() - t0
        self.flows += 1

    def _fail(self, exc: LivedreamError) -> None:
        with self._cond:
            self._error = exc
            self._cond.notify_all()
        self._stop.wait(RETRY_SECONDS)

    # --- the render thread ---------------------------------------------------------------------
    def configure(self, flow: bool | None = None, scale: float | None = None) -> None:
        """Turn flow estimation on/off and set its scale (taken by the thread's next frame)."""
        if flow is not None:
            self.flow_on = bool(flow)
        if scale is not None:
            self.flow_scale = float(scale)

    def latest(self, wait: float = 0.0) -> SourceSample:
        """The newest frame (and its flow when fresh). `wait` > 0 waits up to that many seconds
        for a frame not yet taken (offline use and tests); the render loop passes 0 and never
        waits. A read error from the thread is raised once (SourceError naming the source)."""
        with self._cond:
            if wait > 0:
                self._cond.wait_for(lambda: self._stop.is_set() or (
                    self._slot is not None and self._slot.seq > self._taken_seq), timeout=wait)
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self._stop.is_set():
                raise SourceError(f"{self.name} is closed")
            slot = self._slot
            assert slot is not None  # primed in __init__
            fresh = slot.seq > self._taken_seq
            flow = slot.flow if fresh and slot.ref_seq == self._taken_seq else None
            if fresh:
                self._taken_seq = slot.seq
                self._taken_grey = slot.grey
                self._cond.notify_all()  # demand mode: decode the next one
        if self._cached is None or self._cached[0] != slot.seq:
            self._cached = (slot.seq, rgb_to_device(slot.rgb, self.size, self.device))
        frame = self._cached[1].clone()
        field = flow_to_tensor(flow, frame.device) if flow is not None else None
        return SourceSample(frame=frame, flow=field, index=slot.seq, fresh=fresh)

    def read(self) -> Tensor:
        """The newest frame [1, 3, H, W] (the `Source` protocol); never waits for the source."""
        return self.latest().frame

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        if self._thread.is_alive():  # stuck in a read: releasing under it could crash the decoder
            log.warning("%s: source thread still reading; leaving it to exit", self.name)
            return
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()

    def __enter__(self) -> ThreadedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_threaded(
    spec: str,
    size: Size | None,
    device: torch.device | str | None = None,
    *,
    realtime: bool = False,
    flow: bool = False,
    flow_scale: float = 0.5,
) -> Source | ThreadedSource:
    """`open_source`, with captures (video files, webcams) moved onto their own thread.

    Stills stay a `StillSource` (nothing to read ahead, no motion). Webcams run free; files run
    on demand (one frame per taken frame) unless `realtime`, which plays them at their fps.
    """
    from livedream.outputs.ndi import NdiSource  # a cycle: outputs -> live -> loop -> here

    source = open_source(spec, size, device)
    if isinstance(source, NdiSource):  # free-running at the sender's frame rate
        return ThreadedSource(source.read_rgb, source.name, size, device, demand=False,
                              flow=flow, flow_scale=flow_scale, on_close=source.close)
    if isinstance(source, StillSource) or not isinstance(source, CaptureSource):
        return source
    demand = source.loops and not realtime
    fps = source.fps() if source.loops and realtime else None
    return ThreadedSource(source.read_rgb, source.name, size, device, demand=demand, fps=fps,
                          flow=flow, flow_scale=flow_scale, on_close=source.close)


def take_sample(source: Source | ThreadedSource, device: torch.device | str,
                flow: bool = False, flow_scale: float = 0.5) -> SourceSample:
    """One frame from any source for the render loop, as a `SourceSample` on `device`.

    A `ThreadedSource` is (re)configured for flow and gives its latest frame and flow without
    waiting; any other source's `read()` is one fresh frame without flow.
    """
    if isinstance(source, ThreadedSource):
        source.configure(flow=flow, scale=flow_scale)
        sample = source.latest()
    else:
        sample = SourceSample(frame=source.read(), flow=None, index=-1, fresh=True)
    frame = sample.frame.to(device=device, dtype=torch.float32)
    return sample if frame is sample.frame else replace(sample, frame=frame)
