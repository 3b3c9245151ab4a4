"""Recording: crash-safe H.264 mp4, animated GIF, numbered PNG frames, and a threaded live recorder.

`open_recorder(path)` picks the writer from the path; every writer is a `FrameSink` taking float
RGB tensors in [0, 1] (any device) or uint8 HxWx3 arrays. `probe_video` checks what a file holds.
"""

from __future__ import annotations

import os
from typing import Literal

from livedream.errors import ParamError
from livedream.record.convert import PinnedReadback, to_uint8_hwc
from livedream.record.frames import FrameDirWriter
from livedream.record.gif import GIF_MODES, GifMode, GifWriter, gif_frame_duration_ms, play_order
from livedream.record.mp4 import MP4_SUFFIXES, Mp4Writer, VideoInfo, pad_to_even, probe_video
from livedream.record.sink import FrameSink
from livedream.record.threaded import ThreadedRecorder

GIF_SUFFIXES = (".gif",)
RECORD_SUFFIXES = MP4_SUFFIXES + GIF_SUFFIXES

OutputKind = Literal["video", "gif", "frames"]

__all__ = [
    "FrameDirWriter",
    "FrameSink",
    "GIF_MODES",
    "GifMode",
    "GifWriter",
    "Mp4Writer",
    "OutputKind",
    "PinnedReadback",
    "RECORD_SUFFIXES",
    "ThreadedRecorder",
    "VideoInfo",
    "gif_frame_duration_ms",
    "open_recorder",
    "output_kind",
    "pad_to_even",
    "play_order",
    "probe_video",
    "to_uint8_hwc",
]


def open_recorder(
    path: str | os.PathLike[str],
    fps: float = 30.0,
    *,
    gif_mode: GifMode = "forward",
    loop: int = 0,
    crf: int = 18,
    realtime: bool = False,
) -> FrameSink:
    """Open the writer `path` asks for: .mp4/.mov/.mkv -> Mp4Writer, .gif -> GifWriter, an
    existing directory or a path without suffix -> FrameDirWriter (frame_00001.png, ...).

    `gif_mode` and `loop` apply to GIFs only, `crf` and `realtime` (frames stamped with the time
    they were shown, see Mp4Writer) to videos only.
    """
    target = os.fspath(path)
    kind = output_kind(target, f"cannot record to {target}")
    if kind == "video":
        return Mp4Writer(target, fps, crf, realtime=realtime)
    if kind == "gif":
        return GifWriter(target, fps, gif_mode, loop)
    return FrameDirWriter(target)


def output_kind(path: str | os.PathLike[str], what: str | None = None) -> OutputKind:
    """Which output `path` means, by its suffix: .mp4/.mov/.mkv 'video', .gif 'gif', an existing
    directory or a path without suffix 'frames' (numbered PNGs).

    The one place that decides it, for `render --out`, `run --record` and `open_recorder`. Any
    other suffix is a ParamError starting with `what` (default: the path) and naming the valid
    ones.
    """
    target = os.fspath(path)
    suffix = os.path.splitext(target.rstrip(os.sep))[1].lower()
    if os.path.isdir(target) or not suffix:
        return "frames"
    if suffix in MP4_SUFFIXES:
        return "video"
    if suffix in GIF_SUFFIXES:
        return "gif"
    raise ParamError(
        f"{what or repr(target)}: unknown suffix {suffix!r}; use {', '.join(RECORD_SUFFIXES)}, "
        "or a directory / a path without suffix for PNG frames"
    )
