"""The output stream: each output frame composed, quantised and read back ONCE, then fanned out.

`OutputStream` runs at the output rate on its own thread (time from an injectable `Clock`). For
every output tick it asks the `Compositor` for the frame, quantises it to uint8 on the device and
copies it to the host once (on CUDA into pinned memory with a non-blocking copy, from torch's
caching host allocator, waited for on this thread, never on the render loop's). The resulting
read-only HxWx3 array is handed, the same object, to every subscribed sink.

Each sink runs on its own thread behind a small bounded queue (`Subscription`): a sink that cannot
keep up loses (and counts) frames; it never slows the stream, the other sinks or the show. A sink
that raises is reported once, counted, and unsubscribed; the show goes on.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from livedream.errors import LivedreamError
from livedream.live.clock import Clock, SystemClock
from livedream.look import ChainLink
from livedream.outputs.compositor import Compositor
from livedream.record.convert import quantise_hwc

log = logging.getLogger(__name__)

_STOP = object()


#: How the output threads (and the encoder threads they start, which inherit it) share the CPU:
#: "idle" runs them only on CPU time the rest of the machine leaves (Linux SCHED_IDLE), "low" at
#: niceness +OUTPUT_NICENESS, "normal" as any thread; "auto" picks per dream device.
OUTPUT_PRIORITIES = ("auto", "idle", "low", "normal")
OUTPUT_NICENESS = 10


def resolve_priority(priority: str, device: torch.device | str) -> str:
    """`auto`: "idle" when the dream runs on the CPU (the dream and the outputs share the cores,
    and the dream comes first: bench row 11 measured 0.82 of the bare dream rate with niced
    outputs, 0.97 with idle ones), "normal" on a GPU (the CPU is then the outputs' to use)."""
    if priority not in OUTPUT_PRIORITIES:
        raise LivedreamError(f"--output-priority {priority!r}; valid: "
                             f"{', '.join(OUTPUT_PRIORITIES)}")
    if priority != "auto":
        return priority
    return "idle" if torch.device(device).type == "cpu" else "normal"


def yield_to_the_dream(priority: str) -> None:
    """Give this thread the output `priority` (Linux: per thread; elsewhere, or where it is not
    permitted, the thread keeps its priority). Threads it starts (x264's, NDI's) inherit it."""
    me = threading.get_native_id()
    try:
        if priority == "idle":
            os.sched_setscheduler(me, os.SCHED_IDLE, os.sched_param(0))
        elif priority == "low":
            os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me)
                                                    + OUTPUT_NICENESS))
    except (AttributeError, OSError):  # no per-thread scheduling here: keep it
        pass


@dataclass(frozen=True)
class OutputFrame:
    """One output frame as every sink receives it (`pixels` is shared: never write into it)."""

    pixels: np.ndarray  # HxWx3 uint8 RGB, read-only
    index: int  # output frame number, from 0
    at: float  # the stream clock's time this frame is composed for (seconds)
    dream_frames: int  # dream frames pushed so far


class OutputSink(Protocol):
    """Where output frames go (window, NDI, virtual camera, recorder). `send` may block."""

    def send(self, frame: OutputFrame) -> None: ...

    def close(self) -> None: ...


def read_back(frame: Tensor) -> np.ndarray:
    """The single readback: a [1,3,H,W] [0,1] frame -> read-only HxWx3 uint8 host array."""
    device_u8 = quantise_hwc(frame)
    if device_u8.is_cuda:
        host = torch.empty(device_u8.shape, dtype=torch.uint8, pin_memory=True)
        host.copy_(device_u8, non_blocking=True)
        event = torch.cuda.Event()
        event.record(torch.cuda.current_stream(device_u8.device))
        event.synchronize()  # on the output thread: the render loop never waits for it
    else:
        host = device_u8.cpu()
    pixels = host.numpy()  # keeps `host` alive; a fresh buffer per frame, so sharing is safe
    pixels.setflags(write=False)
    return pixels


class Subscription:
    """One sink behind a bounded queue and its own thread; drops (and counts) when it lags."""

    def __init__(self, sink: OutputSink, name: str, max_queue: int, priority: str) -> None:
        if max_queue < 1:
            raise LivedreamError(f"max_queue must be >= 1, got {max_queue}")
        self.sink = sink
        self.name = name
        self.delivered = 0
        self.dropped = 0
        self.error: BaseException | None = None
        self.priority = priority
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name=f"output-{name}", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        return self.error is None and self._thread.is_alive()

    def offer(self, frame: OutputFrame) -> bool:
        """Queue `frame` for the sink, or drop it (counted) when the sink is behind."""
        if not self.active:
            self.dropped += 1
            return False
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def _run(self) -> None:
        yield_to_the_dream(self.priority)
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, OutputFrame)
            try:
                self.sink.send(item)
                self.delivered += 1
            except Exception as exc:  # reported once; the show goes on without this sink
                self.error = exc
                log.error("output %s failed and was stopped: %s", self.name, exc)
                return

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (up to `timeout`), stop the thread, close the sink."""
        if self._thread.is_alive():
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                log.warning("output %s did not drain within %.1f s", self.name, timeout)
            self._thread.join(timeout)
        try:
            self.sink.close()
        except Exception as exc:
            log.error("closing output %s failed: %s", self.name, exc)


class OutputStream:
    """Composes output frames at `fps` and fans each one, read back once, out to the sinks."""

    def __init__(self, compositor: Compositor, fps: float, clock: Clock | None = None,
                 priority: str = "low") -> None:
        if not 0 < fps <= 1000:
            raise LivedreamError(f"--output-fps must be in (0, 1000], got {fps}")
        if priority not in OUTPUT_PRIORITIES[1:]:
            raise LivedreamError(f"output priority {priority!r}; valid: "
                                 f"{', '.join(OUTPUT_PRIORITIES[1:])} (resolve auto first)")
        self.priority = priority
        self.compositor = compositor
        self.fps = float(fps)
        self.clock: Clock = clock or SystemClock()
        self.subscriptions: list[Subscription] = []
        self.frames = 0  # output frames produced
        self.readbacks = 0  # device->host copies made (one per output frame)
        self.late = 0  # output ticks skipped because the stream fell behind
        #: the show's latest chain (e.g. lambda: dispatcher.state.look.chain), followed by every
        #: output frame; None: the chain arrives with each dream frame
        self.current_chain: Callable[[], Sequence[ChainLink]] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- wiring --------------------------------------------------------------------------------
    def subscribe(self, sink: OutputSink, name: str, max_queue: int = 2) -> Subscription:
        sub = Subscription(sink, name, max_queue, self.priority)
        with self._lock:
            self.subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop offering frames to `sub` (the caller closes it)."""
        with self._lock:
            if sub in self.subscriptions:
                self.subscriptions.remove(sub)

    def push(self, frame: Tensor, chain: Sequence[ChainLink], now: float | None = None) -> None:
        """A new dream frame from the render loop (cheap: keeps a reference)."""
        self.compositor.push(frame, chain, self.clock.now() if now is None else now)

    # --- producing -----------------------------------------------------------------------------
    def produce(self, now: float) -> OutputFrame | None:
        """Compose, read back and fan out the output frame for `now` (None before any dream, or
        while nothing is subscribed: no work for nobody)."""
        with self._lock:
            subs = list(self.subscriptions)
        if not subs:
            return None
        if self.current_chain is not None:
            self.compositor.follow(self.current_chain())
        image = self.compositor.render(now)
        if image is None:
            return None
        return self._fan_out(subs, read_back(image), now)

    def wanted(self) -> bool:
        """Whether anything is subscribed (no subscriber: no output frame to compose or read)."""
        with self._lock:
            return bool(self.subscriptions)

    def publish(self, pixels: np.ndarray, at: float,
                dream_frames: int | None = None) -> OutputFrame | None:
        """Fan out an output frame composed and read back elsewhere: the window's shader
        picture, read back through a PBO (`livedream.live.display`), instead of `produce`."""
        with self._lock:
            subs = list(self.subscriptions)
        if not subs:
            return None
        pixels.setflags(write=False)
        return self._fan_out(subs, pixels, at, dream_frames)

    def _fan_out(self, subs: list[Subscription], pixels: np.ndarray, at: float,
                 dream_frames: int | None = None) -> OutputFrame:
        self.readbacks += 1
        pushed = self.compositor.pushed if dream_frames is None else dream_frames
        frame = OutputFrame(pixels, self.frames, at, pushed)
        self.frames += 1
        for sub in subs:
            sub.offer(frame)
        return frame

    def run(self, max_frames: int | None = None) -> None:
        """Produce frames on the 1/fps grid until `stop()` (or `max_frames` output ticks).

        A tick that is already more than one interval late is skipped (counted in `late`) rather
        than produced in a burst.
        """
        interval = 1.0 / self.fps
        due = self.clock.now()
        ticks = 0
        while not self._stop.is_set():
            if max_frames is not None and ticks >= max_frames:
                return
            now = self.clock.now()
            if now < due:
                self.clock.sleep(min(due - now, interval))
                continue
            if now - due > interval:
                skipped = int((now - due) / interval)
                self.late += skipped
                due += skipped * interval
            try:
                self.produce(due)
            except Exception as exc:  # e.g. a device error: log, keep the show and the stream
                log.error("output frame failed: %r", exc)
            due += interval
            ticks += 1

    def _thread_main(self) -> None:
        # One intra-op thread for this thread's torch work (OpenMP's setting is per thread): on a
        # CPU the compositor then takes at most one core and never contends with the dream's
        # thread pool, which under load cost it several times over.
        torch.set_num_threads(1)
        yield_to_the_dream(self.priority)
        self.run()

    def start(self) -> None:
        """Run the stream on its own thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._thread_main, name="output-stream",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def close(self) -> None:
        """Stop producing, let every sink finish its queue, close the sinks."""
        self.stop()
        with self._lock:
            subs, self.subscriptions = self.subscriptions, []
        for sub in subs:
            sub.close()

    def stats(self) -> dict[str, object]:
        """Counters for the overlay, the bench and the tests."""
        with self._lock:
            subs = list(self.subscriptions)
        return {
            "frames": self.frames,
            "readbacks": self.readbacks,
            "late": self.late,
            "sinks": {s.name: {"delivered": s.delivered, "dropped": s.dropped,
                               "error": None if s.error is None else str(s.error)} for s in subs},
        }


class RecorderSink:
    """A `livedream.record` FrameSink (mp4, GIF, PNG frames) fed with the output stream's pixels,
    stamped with their output time (no second readback: the sink gets the shared uint8 array)."""

    def __init__(self, recorder: object) -> None:
        self.recorder = recorder

    @property
    def frames_written(self) -> int:
        return int(getattr(self.recorder, "frames_written", 0))

    def send(self, frame: OutputFrame) -> None:
        self.recorder.write(frame.pixels, at=frame.at)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.recorder.close()  # type: ignore[attr-defined]
