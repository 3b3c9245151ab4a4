"""Recording on/off for the live show: opens a recorder from its factory, feeds it, finalises it.

A recorder that cannot start, or fails while writing, is logged and switched off; the show goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.record.sink import FrameSink

log = logging.getLogger(__name__)

RecorderFactory = Callable[[], FrameSink]


class RecordingControl:
    """The live recorder (at most one at a time) and its counters."""

    def __init__(self, factory: RecorderFactory | None, limiter: RateLimitedLog) -> None:
        self.factory = factory
        self.limiter = limiter
        self.recorder: Any = None
        self.recorded = 0  # frames handed to recorders
        self._dropped_closed = 0  # dropped counts of recorders already closed

    @property
    def active(self) -> bool:
        return self.recorder is not None

    @property
    def dropped(self) -> int:
        return self._dropped_closed + int(getattr(self.recorder, "dropped", 0) or 0)

    def start(self) -> bool:
        """Open a recorder; False (logged) when there is no target or it cannot be opened."""
        if self.recorder is not None:
            return True
        if self.factory is None:
            self.limiter.log("record:no-target",  # a controller may repeat it
                             "recording requested but no recording target was configured "
                             "(start with --record FILE or --record-frames DIR)", logging.ERROR)
            return False
        try:
            self.recorder = self.factory()
        except (LivedreamError, OSError, ValueError) as exc:
            log.error("cannot start recording: %s", exc)
            return False
        log.info("recording started")
        return True

    def stop(self) -> None:
        """Finalise the recorder (if any); never raises."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        try:
            recorder.close()
        except Exception as exc:  # finalising must never take the show down
            log.error("closing the recording failed: %r", exc)
        dropped = int(getattr(recorder, "dropped", 0) or 0)
        self._dropped_closed += dropped
        log.info("recording stopped (%d frames written, %d dropped)",
                 int(getattr(recorder, "frames_written", self.recorded) or 0), dropped)

    def write(self, frame: Any) -> bool:
        """Hand one frame to the recorder; False (recorder stopped) when writing failed."""
        if self.recorder is None:
            return True
        try:
            self.recorder.write(frame)
            self.recorded += 1
            return True
        except Exception as exc:
            log.error("recording failed, stopping it: %r", exc)
            self.stop()
            return False
