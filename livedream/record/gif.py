"""Animated GIF output (Pillow): forward, reverse or ping-pong order, ImageMagick-style loop count.

Loop count, as ImageMagick 7's `-loop N` writes it (coders/gif.c, 7.1.2): N is the total number
of plays. 0 loops forever (NETSCAPE2.0 value 0); 1 plays once, so no NETSCAPE2.0 block is written;
N >= 2 writes the value N - 1 (the number of *repeats* browsers expect). Pillow's `loop=` writes its
argument verbatim, so we pass N - 1 and omit it for N = 1. (ImageMagick 6 wrote N itself.)

Frame delay: GIF stores centiseconds, so 1/fps is rounded to the nearest 10 ms (at least 10 ms;
30 fps -> 30 ms, 25 fps -> 40 ms). Browsers slow delays under 20 ms down to 100 ms, so fps above
50 is not advised. Pillow merges consecutive identical frames into one longer frame (same playback).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Literal, get_args

import numpy as np

from livedream.errors import LivedreamError, ParamError
from livedream.record.convert import to_uint8_hwc
from livedream.record.mp4 import fps_fraction
from livedream.record.sink import SinkBase

log = logging.getLogger(__name__)

GifMode = Literal["forward", "reverse", "pingpong"]
GIF_MODES: tuple[str, ...] = get_args(GifMode)
MAX_LOOP = 65536  # the NETSCAPE2.0 field is 16 bits and holds N - 1


def gif_frame_duration_ms(fps: float) -> int:
    """Per-frame delay in ms for `fps`, rounded to the GIF's 10 ms resolution (minimum 10 ms)."""
    seconds_per_frame = 1.0 / float(fps_fraction(fps))
    return max(1, round(seconds_per_frame * 100)) * 10


def netscape_loop_value(loop: int) -> int | None:
    """NETSCAPE2.0 loop value ImageMagick 7 writes for `-loop loop`; None means no block."""
    if isinstance(loop, bool) or not isinstance(loop, int) or not 0 <= loop <= MAX_LOOP:
        raise ParamError(f"loop must be an integer in 0..{MAX_LOOP} (0 = forever), got {loop!r}")
    if loop == 0:
        return 0
    if loop == 1:
        return None
    return loop - 1


def play_order(count: int, mode: str) -> list[int]:
    """Frame indices in play order: forward, reverse, or pingpong (0..n-1, n-2..1: no repeats)."""
    if mode not in GIF_MODES:
        raise ParamError(f"unknown GIF mode {mode!r}; valid: {', '.join(GIF_MODES)}")
    forward = list(range(count))
    if mode == "forward":
        return forward
    if mode == "reverse":
        return forward[::-1]
    return forward + forward[-2:0:-1]


class GifWriter(SinkBase):
    """Collects frames (uint8, in memory) and writes the animated GIF on `close()`.

    At most `max_frames` are held (a write beyond raises LivedreamError: a GIF that long would
    be huge anyway; use mp4 or a frames directory). All frames must share one size.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float = 30.0,
        mode: GifMode = "forward",
        loop: int = 0,
        *,
        max_frames: int = 1000,
    ) -> None:
        super().__init__(os.fspath(path))
        self.path = os.fspath(path)
        self.duration_ms = gif_frame_duration_ms(fps)
        play_order(0, mode)  # validates the mode now, not at close
        self.mode = mode
        self.loop = loop
        self._netscape_loop = netscape_loop_value(loop)
        if max_frames < 1:
            raise ParamError(f"max_frames must be >= 1, got {max_frames}")
        self.max_frames = max_frames
        self._frames: list[np.ndarray] = []
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise LivedreamError(f"cannot write {self.path}: directory {parent} does not exist")

    def write(self, frame: Any, at: float | None = None) -> None:
        """Keep a copy of one frame (the caller may reuse its buffer)."""
        self._check_open()
        pixels = to_uint8_hwc(frame)
        if self._frames and pixels.shape != self._frames[0].shape:
            first = self._frames[0].shape
            raise LivedreamError(
                f"{self.path}: frame size changed from {first[1]}x{first[0]} to "
                f"{pixels.shape[1]}x{pixels.shape[0]}; a GIF keeps one size"
            )
        if len(self._frames) >= self.max_frames:
            raise LivedreamError(
                f"{self.path}: more than max_frames={self.max_frames} frames for a GIF; "
                "record fewer frames, raise max_frames, or write .mp4 / a frames directory"
            )
        self._frames.append(pixels.copy())
        self.frames_written += 1

    def close(self) -> None:
        """Write the GIF in the chosen order; idempotent. With no frames nothing is written."""
        if self.closed:
            return
        self.closed = True
        frames, self._frames = self._frames, []
        if not frames:
            log.warning("%s: closed without any frame; no GIF written", self.path)
            return
        from PIL import Image

        images = [Image.fromarray(frames[index]) for index in play_order(
            len(frames), self.mode)]
        options: dict[str, Any] = {
            "save_all": True,
            "append_images": images[1:],
            "duration": self.duration_ms,
            "disposal": 1,  # keep each frame: every one is a full image anyway
        }
        if self._netscape_loop is not None:
            options["loop"] = self._netscape_loop
        try:
            images[0].save(self.path, format="GIF", **options)
        except OSError as exc:
            raise LivedreamError(f"cannot write GIF {self.path}: {exc}") from exc
