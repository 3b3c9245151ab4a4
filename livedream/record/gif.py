"""Animated GIF output: forward, reverse or ping-pong order, ImageMagick-style loop count,
streamed so memory stays flat however long the recording.

Loop count, as ImageMagick 7's `-loop N` writes it (coders/gif.c, 7.1.2): N is the total number
of plays. 0 loops forever (NETSCAPE2.0 value 0); 1 plays once, so no NETSCAPE2.0 block is written;
N >= 2 writes the value N - 1 (the number of *repeats* browsers expect). (ImageMagick 6 wrote N.)

Frame delay: GIF stores centiseconds, so 1/fps is rounded to the nearest 10 ms (at least 10 ms;
30 fps -> 30 ms, 25 fps -> 40 ms). Browsers slow delays under 20 ms down to 100 ms, so fps above
50 is not advised. Consecutive identical frames are merged into one longer frame (same playback).

Each frame is quantised (median cut on a sample, a local colour table per frame) and
LZW-encoded as it arrives. Forward GIFs go straight to the file; reverse and ping-pong GIFs spool
the encoded frames to an unlinked temporary file next to the output and copy them out in play
order on `close()`. Either way RAM holds one frame, never the recording.
"""

from __future__ import annotations

import io
import logging
import math
import os
import struct
import tempfile
from array import array
from collections.abc import Iterator
from typing import IO, Any, Literal, get_args

import numpy as np
from PIL import Image

from livedream.errors import LivedreamError, ParamError
from livedream.record.convert import to_uint8_hwc
from livedream.record.mp4 import fps_fraction
from livedream.record.sink import SinkBase

log = logging.getLogger(__name__)

GifMode = Literal["forward", "reverse", "pingpong"]
GIF_MODES: tuple[str, ...] = get_args(GifMode)
MAX_LOOP = 65536  # the NETSCAPE2.0 field is 16 bits and holds N - 1
MAX_DELAY_CS = 0xFFFF  # a frame's delay field is 16 bits of centiseconds
PALETTE_SAMPLE_PIXELS = 8192  # the palette is chosen on a sample about this big
DISPOSAL_KEEP = 1  # every frame is a full image, so keeping the previous one costs nothing


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


def iter_play_order(count: int, mode: str) -> Iterator[int]:
    """Frame indices in play order, lazily (a long recording's order is never built as a list)."""
    if mode not in GIF_MODES:
        raise ParamError(f"unknown GIF mode {mode!r}; valid: {', '.join(GIF_MODES)}")
    if mode == "forward":
        yield from range(count)
    elif mode == "reverse":
        yield from range(count - 1, -1, -1)
    else:
        yield from range(count)
        yield from range(count - 2, 0, -1)


def play_order(count: int, mode: str) -> list[int]:
    """Frame indices in play order: forward, reverse, or pingpong (0..n-1, n-2..1: no repeats)."""
    return list(iter_play_order(count, mode))


def gif_header(width: int, height: int, netscape_loop: int | None) -> bytes:
    """GIF89a header and logical screen (no global colour table), plus the loop block if any."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
    if netscape_loop is not None:
        header += b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", netscape_loop) + b"\x00"
    return header


def quantize(pixels: np.ndarray) -> Image.Image:
    """An RGB frame as a 256-colour palette image, fast enough for a live recording.

    Median cut (Pillow's default GIF palette) on the whole frame costs 0.2-0.4 s of CPU at
    320x180 and above; on a box-filtered sample of at most ~8k pixels about 20 ms, for under 1 dB
    PSNR. Every pixel is then mapped to its nearest palette colour (no dithering).
    """
    image = Image.fromarray(pixels)  # uint8 HxWx3 -> RGB
    factor = max(1, math.ceil(math.sqrt(image.width * image.height / PALETTE_SAMPLE_PIXELS)))
    sample = image.reduce(factor) if factor > 1 else image
    palette = sample.quantize(256, method=Image.Quantize.MEDIANCUT)
    return image.quantize(palette=palette, dither=Image.Dither.NONE)


def encode_frame(pixels: np.ndarray) -> bytes:
    """One RGB frame as a GIF image block: descriptor, local palette, LZW data (no delay yet).

    Pillow writes it as a one-frame GIF (its public API); the block is cut out of that file:
    after the header, the global colour table and any extensions, up to the trailer.
    """
    buffer = io.BytesIO()
    # optimize=False: Pillow's palette "optimisation" remaps a 255-colour frame lossily (mean
    # error 5 -> 14 on a 64x48 dream frame); the palette is already the frame's own.
    quantize(pixels).save(buffer, format="GIF", include_color_table=True, interlace=False,
                          optimize=False)
    data = buffer.getvalue()
    at = 13
    if data[10] & 0x80:  # global colour table of 2^(n+1) RGB entries
        at += 3 << ((data[10] & 0x07) + 1)
    while data[at] == 0x21:  # extension: introducer, label, then sub-blocks up to a 0 length
        at += 2
        while data[at]:
            at += data[at] + 1
        at += 1
    if data[at] != 0x2C or data[-1] != 0x3B or not data[at + 9] & 0x80:
        raise LivedreamError("unexpected GIF layout from Pillow; cannot stream this frame")
    return data[at:-1]


def control_block(delay_cs: int) -> bytes:
    """Graphic control extension: the frame's delay in centiseconds, disposal 'keep'."""
    return b"!\xf9\x04" + bytes([DISPOSAL_KEEP << 2]) + struct.pack("<H", delay_cs) + b"\x00\x00"


class _GifFile:
    """The output file: header on open, frames as they come (identical neighbours merged)."""

    def __init__(self, path: str, size: tuple[int, int], netscape_loop: int | None,
                 delay_cs: int) -> None:
        self.path = path
        self.delay_cs = delay_cs
        self._pending: bytes | None = None
        self._pending_cs = 0
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._file.write(gif_header(size[0], size[1], netscape_loop))

    def add(self, block: bytes) -> None:
        """Append one frame; a repeat of the previous one lengthens it instead (up to 655 s)."""
        if block == self._pending and self._pending_cs + self.delay_cs <= MAX_DELAY_CS:
            self._pending_cs += self.delay_cs
            return
        self._flush()
        self._pending, self._pending_cs = block, self.delay_cs

    def _flush(self) -> None:
        if self._pending is not None:
            self._file.write(control_block(self._pending_cs))
            self._file.write(self._pending)
            self._file.flush()  # a crash leaves a GIF that plays up to here
            self._pending = None

    def close(self) -> None:
        """Write the last frame and the trailer, then close the file."""
        try:
            self._flush()
            self._file.write(b";")
        finally:
            self._file.close()

    def release(self) -> None:
        """Close the file handle without finishing the GIF (after a failure); idempotent."""
        self._file.close()


class _Spool:
    """Encoded frames in an unlinked temporary file, read back in any order (8 bytes RAM each)."""

    def __init__(self, directory: str) -> None:
        self._file = tempfile.TemporaryFile(dir=directory, prefix=".livedream-gif-")
        self._offsets = array("Q", [0])

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def append(self, block: bytes) -> None:
        self._file.seek(self._offsets[-1])
        self._file.write(block)
        self._offsets.append(self._offsets[-1] + len(block))

    def read(self, index: int) -> bytes:
        self._file.seek(self._offsets[index])
        return self._file.read(self._offsets[index + 1] - self._offsets[index])

    def close(self) -> None:
        self._file.close()


class GifWriter(SinkBase):
    """Encodes each frame as it is written; forward GIFs stream to `path`, reverse / ping-pong
    ones spool to a temporary file and are written in play order on `close()`.

    All frames must share one size. `max_frames` (default: no limit) refuses longer recordings
    with a LivedreamError; memory does not grow with the frame count either way.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float = 30.0,
        mode: GifMode = "forward",
        loop: int = 0,
        *,
        max_frames: int | None = None,
    ) -> None:
        super().__init__(os.fspath(path))
        self.path = os.fspath(path)
        self.duration_ms = gif_frame_duration_ms(fps)
        play_order(0, mode)  # validates the mode now, not at close
        self.mode = mode
        self.loop = loop
        self._netscape_loop = netscape_loop_value(loop)
        if max_frames is not None and max_frames < 1:
            raise ParamError(f"max_frames must be >= 1 (or None: no limit), got {max_frames}")
        self.max_frames = max_frames
        self._shape: tuple[int, ...] | None = None
        self._out: _GifFile | None = None  # forward: opened on the first frame
        self._spool: _Spool | None = None  # reverse / pingpong: opened on the first frame
        self._parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(self._parent):
            raise LivedreamError(
                f"cannot write {self.path}: directory {self._parent} does not exist"
            )

    def _open_output(self) -> _GifFile:
        assert self._shape is not None
        try:
            return _GifFile(self.path, (self._shape[1], self._shape[0]), self._netscape_loop,
                            self.duration_ms // 10)
        except OSError as exc:
            raise LivedreamError(f"cannot write GIF {self.path}: {exc}") from exc

    def write(self, frame: Any, at: float | None = None) -> None:
        """Quantise and encode one frame now (the caller may reuse its buffer at once)."""
        self._check_open()
        pixels = to_uint8_hwc(frame)
        if self._shape is not None and pixels.shape != self._shape:
            first = self._shape
            raise LivedreamError(
                f"{self.path}: frame size changed from {first[1]}x{first[0]} to "
                f"{pixels.shape[1]}x{pixels.shape[0]}; a GIF keeps one size"
            )
        if self.max_frames is not None and self.frames_written >= self.max_frames:
            raise LivedreamError(
                f"{self.path}: more than max_frames={self.max_frames} frames for a GIF; "
                "record fewer frames, raise max_frames, or write .mp4 / a frames directory"
            )
        self._shape = pixels.shape
        block = encode_frame(pixels)
        try:
            if self.mode == "forward":
                if self._out is None:
                    self._out = self._open_output()
                self._out.add(block)
            else:
                if self._spool is None:
                    self._spool = _Spool(self._parent)
                self._spool.append(block)
        except OSError as exc:
            raise LivedreamError(f"cannot write GIF {self.path}: {exc}") from exc
        self.frames_written += 1

    def close(self) -> None:
        """Finish the GIF (spooled frames in play order); idempotent. No frames: no file."""
        if self.closed:
            return
        self.closed = True
        out, spool, self._out, self._spool = self._out, self._spool, None, None
        try:
            if spool is not None and len(spool):
                out = self._open_output()
                for index in iter_play_order(len(spool), self.mode):
                    out.add(spool.read(index))
            if out is None:
                log.warning("%s: closed without any frame; no GIF written", self.path)
                return
            out.close()
        except OSError as exc:
            raise LivedreamError(f"cannot write GIF {self.path}: {exc}") from exc
        finally:
            if out is not None:
                out.release()
            if spool is not None:
                spool.close()
