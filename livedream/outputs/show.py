"""Wiring the output stream into `livedream run`: the headless loop's feed and the recording.

`StreamFeed` is what a headless render loop sees (a Display: `show` hands each dream frame to
the stream's torch compositor). With a window, the window itself composes (its shader) and
publishes each picture to the stream (`livedream.live.display`). `StreamRecording` is the
recorder the loop switches on and off: while it is open it records the output stream (what was
shown), not the dream frames.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from torch import Tensor

from livedream.outputs.stream import OutputStream, RecorderSink, Subscription

log = logging.getLogger(__name__)

#: --output-fps defaults: the monitor's rate with a window, a video rate headless.
DEFAULT_FPS_WINDOW = 60.0
DEFAULT_FPS_HEADLESS = 30.0


def default_output_fps(headless: bool) -> float:
    return DEFAULT_FPS_HEADLESS if headless else DEFAULT_FPS_WINDOW


class StreamFeed:
    """The headless render loop's display: each dream frame goes to the output stream's
    compositor (no readback here)."""

    def __init__(self, stream: OutputStream) -> None:
        self.stream = stream
        self.state: Any = None
        self.stats: Any = None
        self.fullscreen = False

    def show(self, frame: Tensor, state: Any, stats: Any = None) -> None:
        self.state, self.stats = state, stats
        self.stream.push(frame, state.look.chain)

    def set_fullscreen(self, on: bool) -> None:
        self.fullscreen = bool(on)  # no window: remembered for the state only

    def display_fps(self) -> float | None:
        return None


class StreamRecording:
    """A live recording of the output stream: `recorders` (FrameSinks) subscribed while open.

    The loop calls `write(dream_frame)` for each dream frame; that is ignored here, since the
    frames recorded are the stream's. `close()` writes what is queued and finalises the files.
    """

    def __init__(self, stream: OutputStream, recorders: Sequence[Any], max_queue: int = 16) -> None:
        self.stream = stream
        self._subs: list[Subscription] = [
            stream.subscribe(RecorderSink(r), f"record-{i}", max_queue)
            for i, r in enumerate(recorders)
        ]
        self.closed = False

    def write(self, frame: Any) -> None:
        """A dream frame: not recorded (the output stream's frames are)."""

    @property
    def frames_written(self) -> int:
        return min((int(getattr(s.sink, "frames_written", 0)) for s in self._subs), default=0)

    @property
    def dropped(self) -> int:
        return sum(s.dropped for s in self._subs)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:  # the picture on screen now is the show's last: record it (short shows included)
            self.stream.produce(self.stream.clock.now())
        except Exception as exc:  # the recording is still finalised below
            log.error("last output frame failed: %r", exc)
        for sub in self._subs:
            self.stream.unsubscribe(sub)
            sub.close(timeout=30.0)
            if sub.error is not None:
                log.error("recording failed: %s", sub.error)
