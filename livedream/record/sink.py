"""The FrameSink protocol every recorder implements, and a base class with the shared parts."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from livedream.errors import LivedreamError


@runtime_checkable
class FrameSink(Protocol):
    """Something frames can be written to: mp4, GIF, a numbered-PNG directory or a threaded wrapper.

    The one recorder protocol: `render` writes its outputs through it and the live loop records
    through it (a ThreadedRecorder, so `write` never blocks the show). `frame` is a float RGB
    tensor [1,3,H,W] / [3,H,W] in [0, 1] on any device, or a uint8 HxWx3 numpy array. `close()`
    finalises the output; using the sink as a context manager closes it.
    """

    #: frames written to the output so far
    frames_written: int
    #: frames given to `write` but not recorded (a lagging writer); 0 for writers that block
    dropped: int

    def write(self, frame: Any, at: float | None = None) -> None:
        """Append one frame; `at` is when it was shown (time.monotonic() seconds), used by
        sinks that keep real time (Mp4Writer(realtime=True)) and ignored by the others."""

    def close(self) -> None:
        """Finish the output so it is complete and playable; idempotent."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ClosesOnExit:
    """`with recorder:` closes it on the way out, whatever happened inside."""

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SinkBase(ClosesOnExit):
    """Shared bookkeeping: frame counter, closed flag, context manager, write-after-close error."""

    def __init__(self, target: str) -> None:
        self.frames_written = 0
        self.dropped = 0  # write() blocks until the frame is written: nothing is ever dropped
        self.closed = False
        self._target = target

    def _check_open(self) -> None:
        if self.closed:
            raise LivedreamError(f"recorder for {self._target} is already closed; open a new one")

    def close(self) -> None:  # pragma: no cover - overridden
        self.closed = True
