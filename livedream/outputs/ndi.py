"""NDI out (`--ndi-out NAME`) and in (`--source ndi:NAME`) through cyndilib (optional extra).

`NdiSender` is an output-stream sink: it publishes each output frame as RGBA (or UYVY, BT.709
limited range, half the bandwidth) with the output rate as the NDI frame rate, so Resolume,
TouchDesigner, OBS or vMix on the network list it as `HOST (NAME)`. `NdiReceiver` connects to a
named source and hands out its latest frame (NDI's frame-sync does the buffering); `NdiSource` is
the live-input wrapper the loop reads like a webcam.

cyndilib bundles libndi; it is imported only when NDI is asked for, and a missing install is a
clear error naming the extra (`pip install 'livedream[ndi]'`).
"""

from __future__ import annotations

import time
from fractions import Fraction
from importlib import import_module
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import Tensor

from livedream.errors import LivedreamError
from livedream.outputs.stream import OutputFrame

PIXEL_FORMATS = ("RGBA", "UYVY")
EXTRA_HINT = "install the NDI extra: pip install 'livedream[ndi]' (cyndilib, which bundles libndi)"


class NdiUnavailableError(LivedreamError):
    """cyndilib (the `ndi` extra) is not installed or libndi cannot be loaded."""


def require_ndi() -> ModuleType:
    """The cyndilib package, or NdiUnavailableError naming the extra."""
    try:
        return import_module("cyndilib")
    except ImportError as exc:  # also a libndi that fails to load
        raise NdiUnavailableError(f"NDI is not available ({exc}); {EXTRA_HINT}") from None


def rgb_to_rgba(pixels: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 -> HxWx4 uint8 with opaque alpha."""
    h, w, _ = pixels.shape
    out = np.empty((h, w, 4), dtype=np.uint8)
    out[..., :3] = pixels
    out[..., 3] = 255
    return out


# BT.709, limited ("video") range: Y in 16..235, U/V in 16..240.
_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB


def rgb_to_uyvy(pixels: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 (even width) -> HxWx2 uint8 UYVY 4:2:2 (U0 Y0 V0 Y1 per pixel pair)."""
    h, w, _ = pixels.shape
    if w % 2:
        raise LivedreamError(f"UYVY needs an even width, got {w}; use RGBA or an even --size")
    rgb = pixels.astype(np.float32) / 255.0
    y = _KR * rgb[..., 0] + _KG * rgb[..., 1] + _KB * rgb[..., 2]
    u = (rgb[..., 2] - y) / (2 * (1 - _KB))
    v = (rgb[..., 0] - y) / (2 * (1 - _KR))
    u = (u[:, 0::2] + u[:, 1::2]) / 2  # chroma shared by each horizontal pair
    v = (v[:, 0::2] + v[:, 1::2]) / 2
    out = np.empty((h, w // 2, 4), dtype=np.float32)
    out[..., 0] = 128 + 224 * u
    out[..., 1] = 16 + 219 * y[:, 0::2]
    out[..., 2] = 128 + 224 * v
    out[..., 3] = 16 + 219 * y[:, 1::2]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(h, w, 2)


def uyvy_to_rgb(uyvy: np.ndarray) -> np.ndarray:
    """Inverse of `rgb_to_uyvy` (chroma repeated over each pair), for tests and receivers."""
    h, w, _ = uyvy.shape
    q = uyvy.reshape(h, w // 2, 4).astype(np.float32)
    u = np.repeat((q[..., 0] - 128) / 224, 2, axis=1)
    v = np.repeat((q[..., 2] - 128) / 224, 2, axis=1)
    y = np.empty((h, w), dtype=np.float32)
    y[:, 0::2], y[:, 1::2] = (q[..., 1] - 16) / 219, (q[..., 3] - 16) / 219
    r = y + 2 * (1 - _KR) * v
    b = y + 2 * (1 - _KB) * u
    g = (y - _KR * r - _KB * b) / _KG
    return np.clip(np.stack((r, g, b), -1) * 255 + 0.5, 0, 255).astype(np.uint8)


def frame_rate(fps: float) -> Fraction:
    """The NDI frame rate for `fps` (29.97 -> 30000/1001, 60 -> 60/1)."""
    if abs(fps * 1001 / 1000 - round(fps * 1001 / 1000)) < 1e-3 and abs(fps - round(fps)) > 1e-3:
        return Fraction(round(fps * 1001 / 1000) * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


class NdiSender:
    """Output-stream sink publishing frames as the NDI source `name` (see module docstring)."""

    def __init__(self, name: str, fps: float, pixel_format: str = "RGBA") -> None:
        if not name or not name.strip():
            raise LivedreamError("--ndi-out needs a source name, e.g. --ndi-out livedream")
        fmt = pixel_format.upper()
        if fmt not in PIXEL_FORMATS:
            raise LivedreamError(f"NDI pixel format {pixel_format!r}; valid: "
                                 f"{', '.join(PIXEL_FORMATS)}")
        self._cy = require_ndi()
        self.name = name
        self.fps = float(fps)
        self.pixel_format = fmt
        self.sent = 0
        self._sender: Any = None
        self._size: tuple[int, int] | None = None

    def _open(self, width: int, height: int) -> None:
        """(Re)create the sender for a frame size (NDI frames carry size, format and rate)."""
        self.close()
        cy = self._cy
        frame = cy.VideoSendFrame()
        frame.set_resolution(width, height)
        frame.set_frame_rate(frame_rate(self.fps))
        frame.set_fourcc(cy.FourCC.RGBA if self.pixel_format == "RGBA" else cy.FourCC.UYVY)
        # The output stream paces the frames; NDI's own clocking would pace them a second time.
        sender = cy.Sender(self.name, clock_video=False)
        sender.set_video_frame(frame)
        sender.open()
        self._sender, self._size = sender, (width, height)

    def send(self, frame: OutputFrame) -> None:
        pixels = frame.pixels
        h, w = pixels.shape[:2]
        if self._size != (w, h):
            self._open(w, h)
        data = rgb_to_rgba(pixels) if self.pixel_format == "RGBA" else rgb_to_uyvy(pixels)
        if not self._sender.write_video(data.reshape(-1)):
            raise LivedreamError(f"NDI sender {self.name!r} refused a {w}x{h} frame")
        self.sent += 1

    def connections(self, timeout: float = 0.0) -> int:
        """Receivers connected right now."""
        return 0 if self._sender is None else int(self._sender.get_num_connections(timeout))

    def close(self) -> None:
        sender, self._sender, self._size = self._sender, None, None
        if sender is not None:
            sender.close()


class NdiReceiver:
    """Connects to the NDI source `name` (its full `HOST (NAME)` or just `NAME`) and returns its
    latest frame as HxWx3 uint8 RGB with NDI's timestamp."""

    def __init__(self, name: str, timeout: float = 10.0) -> None:
        cy = require_ndi()
        from cyndilib.wrapper.ndi_recv import RecvBandwidth, RecvColorFormat

        self.name = name
        self._finder = cy.Finder()
        self._finder.open()
        source = self._find(name, timeout)
        self._receiver = cy.Receiver(color_format=RecvColorFormat.RGBX_RGBA,
                                     bandwidth=RecvBandwidth.highest)
        self._video = cy.VideoFrameSync()
        self._receiver.frame_sync.set_video_frame(self._video)
        self._receiver.set_source(source)

    def _find(self, name: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self._finder.wait_for_sources(min(0.5, max(0.0, deadline - time.monotonic())))
            for source in self._finder:
                if name in (source.name, source.stream_name):
                    return source
            if time.monotonic() >= deadline:
                names = self._finder.get_source_names()
                self.close()
                raise LivedreamError(f"no NDI source named {name!r} found within {timeout:g} s "
                                     f"(seen: {', '.join(names) or 'none'})")

    def latest(self) -> tuple[np.ndarray, float] | None:
        """(pixels, NDI timestamp in posix seconds) of the newest frame, None before the first."""
        self._receiver.frame_sync.capture_video()
        video = self._video
        width, height = video.get_resolution()
        if width <= 0 or height <= 0 or video.get_data_size() <= 0:
            return None
        stride = video.get_line_stride() or width * 4
        data = video.get_array()
        rows = data[: stride * height].reshape(height, stride)[:, : width * 4]
        return rows.reshape(height, width, 4)[..., :3].copy(), video.get_timestamp_posix()

    def wait_frame(self, timeout: float) -> tuple[np.ndarray, float]:
        """The first frame, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.latest()
            if got is not None:
                return got
            if time.monotonic() >= deadline:
                raise LivedreamError(f"NDI source {self.name!r} sent no video within "
                                     f"{timeout:g} s")
            time.sleep(0.01)

    def next_frame(self, after: float | None, timeout: float = 1.0) -> tuple[np.ndarray, float]:
        """The first frame whose timestamp is not `after` (waits up to `timeout`, then returns
        the latest even if unchanged: a stalled sender must not stall the reader)."""
        deadline = time.monotonic() + timeout
        got = self.wait_frame(timeout)
        while got[1] == after and time.monotonic() < deadline:
            time.sleep(0.003)
            got = self.latest() or got
        return got

    def close(self) -> None:
        receiver = getattr(self, "_receiver", None)
        if receiver is not None:
            receiver.disconnect()
            self._receiver = None
        if self._finder is not None:
            self._finder.close()
            self._finder = None


class NdiSource:
    """`--source ndi:NAME`: the NDI source's latest frame, cover-resized to the dream size."""

    def __init__(
        self, name: str, size: tuple[int, int] | None, device: torch.device | str | None = None,
        timeout: float = 10.0,
    ) -> None:
        from livedream.sources import SourceError

        try:
            self._receiver = NdiReceiver(name, timeout)
            first, _ = self._receiver.wait_frame(timeout)
        except LivedreamError as exc:
            if getattr(self, "_receiver", None) is not None:
                self._receiver.close()
            raise SourceError(f"source ndi:{name}: {exc}") from None
        self.name = f"ndi:{name}"
        self.size, self.device = size, device
        self._last = self._convert(first)
        self._stamp: float | None = None

    def _convert(self, pixels: np.ndarray) -> Tensor:
        from livedream.sources import fit_cover, to_tensor  # sources opens this module

        return to_tensor(fit_cover(pixels, self.size), self.device)

    def read_rgb(self) -> np.ndarray:
        """The sender's next frame, HxWx3 uint8 as sent (for `ThreadedSource`, which resizes it
        on the device and can estimate flow between frames)."""
        pixels, self._stamp = self._receiver.next_frame(self._stamp)
        return pixels

    def read(self) -> Tensor:
        got = self._receiver.latest()
        if got is not None:
            self._last = self._convert(got[0])
        return self._last

    def close(self) -> None:
        self._receiver.close()

    def __enter__(self) -> NdiSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
