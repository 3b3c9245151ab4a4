"""Frame sources: start images and live inputs (image file, looping video file, webcam, built-in).

Every source yields float32 RGB tensors [1, 3, H, W] in [0, 1] at the requested size (w, h).
Pictures of another aspect ratio are scaled to cover the size and centre-cropped (never
stretched). Files are decoded with Pillow (images) and OpenCV (video, webcam). The live show
reads captures on their own thread (`livedream.threaded_source`) and resizes on the device
(`rgb_to_device`, `cover_resize`); `cover_geometry` is the one cover-and-crop rule for both.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from livedream.errors import LivedreamError

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
)
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv"}
)
SPEC_FORMS = "'generated', 'webcam:N', 'ndi:NAME', an image file or a video file"


class SourceError(LivedreamError):
    """A source cannot be opened or read (message names the file, camera or spec)."""


Size = tuple[int, int]  # (width, height)


def _check_size(size: Size | None) -> Size | None:
    if size is None:
        return None
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise SourceError(f"size must be (width, height), got {size!r}") from None
    if w < 1 or h < 1:
        raise SourceError(f"size must be positive (width, height), got {size!r}")
    return w, h


def cover_geometry(src: Size, size: Size) -> tuple[int, int, int, int]:
    """Scale-to-cover-then-centre-crop of a `src` = (w, h) picture into `size` = (w, h):
    the scaled size (new_w, new_h) and the crop origin (x0, y0). One definition for the cv2 and
    the torch resize."""
    w, h = size
    src_w, src_h = src
    scale = max(w / src_w, h / src_h)
    new_w, new_h = max(w, math.ceil(src_w * scale - 1e-6)), max(h, math.ceil(src_h * scale - 1e-6))
    return new_w, new_h, (new_w - w) // 2, (new_h - h) // 2


def fit_cover(rgb: np.ndarray, size: Size | None) -> np.ndarray:
    """Scale an HxWx3 uint8 picture to cover `size` = (w, h) and centre-crop it to exactly that."""
    import cv2

    if size is None or (rgb.shape[1], rgb.shape[0]) == tuple(size):
        return rgb
    w, h = size
    new_w, new_h, x0, y0 = cover_geometry((rgb.shape[1], rgb.shape[0]), size)
    interp = cv2.INTER_AREA if new_w < rgb.shape[1] else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=interp)
    return resized[y0 : y0 + h, x0 : x0 + w]


def cover_resize(frame: Tensor, size: Size | None) -> Tensor:
    """`fit_cover` on the device: a [B, C, H, W] frame scaled to cover `size` and centre-cropped
    (bilinear, antialiased when shrinking)."""
    if size is None or (frame.shape[-1], frame.shape[-2]) == tuple(size):
        return frame
    w, h = size
    new_w, new_h, x0, y0 = cover_geometry((frame.shape[-1], frame.shape[-2]), size)
    shrinking = new_w < frame.shape[-1]
    resized = torch.nn.functional.interpolate(
        frame, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=shrinking
    )
    return resized[..., y0 : y0 + h, x0 : x0 + w].clamp(0.0, 1.0)


def rgb_to_device(
    rgb: np.ndarray, size: Size | None, device: torch.device | str | None = None
) -> Tensor:
    """HxWx3 uint8 RGB -> [1, 3, h, w] float32 at `size` on `device`: the uint8 picture moves to
    the device first (4x less to copy) and is converted and cover-resized there."""
    frame = torch.from_numpy(np.ascontiguousarray(rgb)).to(device=device or "cpu")
    frame = frame.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)
    return cover_resize(frame, size)


def to_tensor(rgb: np.ndarray, device: torch.device | str | None = None) -> Tensor:
    """HxWx3 uint8 RGB -> float32 [1, 3, H, W] in [0, 1] on `device`."""
    frame = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).unsqueeze(0)
    return frame.to(device=device or "cpu").float().div_(255.0)


def _read_rgb(path: Path) -> np.ndarray:
    """Decode an image file (first frame) to HxWx3 uint8 RGB, or raise SourceError naming it."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise SourceError(f"image file {str(path)!r} does not exist")
    try:
        with Image.open(path) as image:
            return np.array(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError) as exc:  # a header claiming billions of pixels
        raise SourceError(f"cannot read image {str(path)!r}: {exc}") from None


def load_image(
    path: str | Path, size: Size | None = None, device: torch.device | str | None = None
) -> Tensor:
    """Image file -> [1, 3, H, W] float32 in [0, 1], cover-resized to `size` = (w, h) if given."""
    return to_tensor(fit_cover(_read_rgb(Path(path)), _check_size(size)), device)


def generated_image(size: Size, seed: int = 0, device: torch.device | str | None = None) -> Tensor:
    """Built-in start picture [1, 3, H, W]: colour gradients, soft blobs and rings, light noise.

    Deterministic for a seed. It gives the network edges and colour to dream on when no input is
    given (a flat image would dream very slowly).
    """
    checked = _check_size(size)
    if checked is None:
        raise SourceError("the generated image needs a size (width, height)")
    w, h = checked
    gen = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0.0, 1.0, h).view(h, 1)
    xs = torch.linspace(0.0, 1.0, w).view(1, w)
    phases = torch.rand(3, generator=gen) * 2 * math.pi
    image = torch.stack(
        [
            0.5 + 0.3 * torch.sin(2.2 * xs + 1.7 * ys + phases[0]),
            0.5 + 0.3 * torch.sin(1.3 * xs - 2.6 * ys + phases[1]),
            0.5 + 0.3 * torch.cos(2.9 * ys + 0.8 * xs + phases[2]),
        ]
    )
    aspect = w / max(h, 1)
    for _ in range(7):  # soft coloured blobs and rings
        cy, cx, radius = torch.rand(3, generator=gen).tolist()
        radius = 0.08 + 0.22 * radius
        colour = torch.rand(3, 1, 1, generator=gen)
        dist = torch.sqrt(((xs - cx) * aspect) ** 2 + (ys - cy) ** 2)
        if torch.rand(1, generator=gen).item() < 0.5:
            weight = torch.exp(-((dist / radius) ** 2))
        else:
            weight = torch.exp(-(((dist - radius) / (0.2 * radius)) ** 2))
        image = image + 0.6 * weight * (colour - image)
    image = image + 0.03 * torch.randn(3, h, w, generator=gen)
    return image.clamp(0.0, 1.0).unsqueeze(0).to(device=device or "cpu")


class Source(Protocol):
    """A live input: `read()` returns the next frame [1, 3, H, W]; `close()` releases it.

    The one source protocol: the live loop only calls `read()`; whoever opened the source
    (`open_source`, the run CLI) closes it.
    """

    def read(self) -> Tensor: ...

    def close(self) -> None: ...

    def __enter__(self) -> Source: ...

    def __exit__(self, *exc: object) -> None: ...


class StillSource:
    """A fixed picture (image file or the generated image); every read returns a fresh copy."""

    def __init__(self, frame: Tensor, name: str) -> None:
        self.frame, self.name = frame, name

    def read(self) -> Tensor:
        return self.frame.clone()

    def close(self) -> None:
        pass

    def __enter__(self) -> StillSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CaptureSource:
    """OpenCV capture of a video file (loops at its end) or a webcam (repeats its last frame on a
    dropped read). Each read advances one frame."""

    def __init__(
        self, target: str | int, name: str, size: Size | None, device: torch.device | str | None
    ) -> None:
        import cv2

        self.name, self.size, self.device = name, size, device
        self.target = target
        self.loops = isinstance(target, str)
        self.capture = cv2.VideoCapture(target)
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(f"cannot open {name}")
        try:
            self.last: np.ndarray = self._grab()
        except SourceError:
            self.capture.release()
            raise
        self.pending = True  # the first read returns the probe frame

    def _grab(self) -> np.ndarray:
        import cv2

        ok, bgr = self.capture.read()
        if (not ok or bgr is None) and self.loops:
            # End of the file: reopen it (seeking to frame 0 is unreliable for some codecs).
            self.capture.release()
            self.capture = cv2.VideoCapture(self.target)
            ok, bgr = self.capture.read()
        if not ok or bgr is None:
            raise SourceError(f"cannot read a frame from {self.name}")
        if bgr.ndim == 2:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
        return cv2.cvtColor(bgr[..., :3], cv2.COLOR_BGR2RGB)

    def read_rgb(self) -> np.ndarray:
        """The next frame as decoded (HxWx3 uint8 RGB, native size): what a source thread reads."""
        if self.capture is None:
            raise SourceError(f"{self.name} is closed")
        if self.pending:
            self.pending = False
            return self.last
        try:
            self.last = self._grab()
        except SourceError:
            if self.loops:
                raise
            return self.last  # a webcam hiccup: keep showing the last frame
        return self.last

    def fps(self) -> float | None:
        """The file's frame rate (None for a webcam or when the container does not say)."""
        import cv2

        if self.capture is None or not self.loops:
            return None
        fps = float(self.capture.get(cv2.CAP_PROP_FPS) or 0.0)
        return fps if 0.5 <= fps <= 1000 else None

    def read(self) -> Tensor:
        return to_tensor(fit_cover(self.read_rgb(), self.size), self.device)

    def close(self) -> None:
        if self.capture is not None:
            self.capture.release()
            self.capture = None

    def __enter__(self) -> CaptureSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(spec: str, size: Size | None, device: torch.device | str | None = None) -> Source:
    """Open a source from its spec: 'generated' (or 'generated:SEED'), 'webcam:N', 'ndi:NAME'
    (an NDI source's 'HOST (NAME)' or NAME, needs the ndi extra), an image file or a video file.
    Frames come out at `size` = (w, h) on `device`."""
    size = _check_size(size)
    spec = str(spec).strip()
    kind, _, arg = spec.partition(":")
    if kind == "generated":
        try:
            seed = int(arg) if arg else 0
        except ValueError:
            raise SourceError(f"bad source {spec!r}: seed must be an integer") from None
        return StillSource(generated_image(size, seed, device), spec)
    if kind == "webcam":
        if not arg.isdigit():
            raise SourceError(f"bad source {spec!r}: camera index must be a number, e.g. webcam:0")
        return CaptureSource(int(arg), f"webcam {arg}", size, device)
    if kind == "ndi":
        if not arg.strip():
            raise SourceError(f"bad source {spec!r}: name the NDI source, e.g. ndi:resolume")
        from livedream.outputs.ndi import NdiSource  # it imports this module

        return NdiSource(arg, size, device)
    path = Path(spec)
    if not path.is_file():
        raise SourceError(f"source {spec!r} is not a file; use {SPEC_FORMS}")
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return CaptureSource(str(path), f"video file {spec!r}", size, device)
    if suffix in IMAGE_SUFFIXES:
        return StillSource(load_image(path, size, device), spec)
    try:  # unknown extension: an image if Pillow can read it, else try it as a video
        return StillSource(load_image(path, size, device), spec)
    except SourceError:
        return CaptureSource(str(path), f"video file {spec!r}", size, device)
