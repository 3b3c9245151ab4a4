"""`livedream run`'s recording setup: the --record targets, checked at startup, and the factory
the render loop calls each time recording is switched on (numbered files, one sink per target)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from livedream.errors import ParamError
from livedream.outputs.show import StreamRecording
from livedream.record import ThreadedRecorder, open_recorder, output_kind
from livedream.record.sink import ClosesOnExit

log = logging.getLogger(__name__)


class NumberedPath:
    """session.mp4, then session-2.mp4, ... each time recording is switched on again."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.count = 0

    def next(self) -> Path:
        self.count += 1
        if self.count == 1:
            return self.path
        return self.path.with_name(f"{self.path.stem}-{self.count}{self.path.suffix}")


class Fanout(ClosesOnExit):
    """Several threaded recorders fed the same frames (e.g. --record and --record-frames)."""

    def __init__(self, recorders: list[Any]) -> None:
        self.recorders = recorders

    def write(self, frame: Any) -> None:
        for recorder in self.recorders:
            recorder.write(frame)

    def close(self) -> None:
        for recorder in self.recorders:
            recorder.close()

    @property
    def dropped(self) -> int:
        return sum(r.dropped for r in self.recorders)

    @property
    def frames_written(self) -> int:
        return min(r.frames_written for r in self.recorders)


def check_record_targets(args: argparse.Namespace) -> None:
    """Refuse an unusable --record path at startup: the loop only logs a failed start, and a VJ
    would find out after the set that nothing was recorded."""
    for flag, value in (("--record", args.record), ("--record-frames", args.record_frames)):
        if not value:
            continue
        path = Path(value)
        if output_kind(path, f"{flag} {value}") == "frames":
            continue  # PNG frames: the directory is created
        if not path.parent.is_dir():
            raise ParamError(f"{flag} {value}: directory {path.parent} does not exist")


def recorder_factory(args: argparse.Namespace, stream: Any = None) -> Any:
    """Recording target: the output stream (`stream`, the default) or the dream frames."""
    targets = [NumberedPath(p) for p in (args.record, args.record_frames) if p]
    if not targets:
        return None
    fps = args.record_fps or (args.output_fps if stream is not None else 30.0)

    def open_sinks() -> list[Any]:
        sinks = []
        for target in targets:
            path = target.next()
            sinks.append(open_recorder(path, fps, realtime=args.record_timing == "realtime"))
            log.info("recording to %s (%s)", path,
                     "output stream" if stream is not None else "dream frames")
        return sinks

    def factory() -> Any:
        if stream is not None:
            return StreamRecording(stream, open_sinks())
        return Fanout([ThreadedRecorder(sink, max_queue=16) for sink in open_sinks()])

    return factory
