"""A synthetic clip: a textured square moving right by `step` px per frame on a still, softly
textured background (written with OpenCV, mp4v). The tests' and the bench's moving input, and a
video file to try `--flow` on without a camera: `python -m livedream.flow.clip moving.mp4`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livedream.errors import LivedreamError


@dataclass(frozen=True)
class MovingSquare:
    """Geometry of the clip: frame size (w, h), square side, start x, y and px per frame."""

    size: tuple[int, int] = (128, 96)
    side: int = 32
    x0: int = 16
    y0: int = 32
    step: int = 3
    frames: int = 16

    def x(self, frame: int) -> int:
        """Left edge of the square in `frame`."""
        return self.x0 + self.step * frame


def background(size: tuple[int, int]) -> np.ndarray:
    """A still background: smooth colour gradients (HxWx3 uint8 RGB)."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([0.4 + 0.2 * np.sin(xs / 23.0), 0.45 + 0.15 * np.cos(ys / 17.0),
                    0.5 + 0.1 * np.sin((xs + ys) / 31.0)], axis=-1)
    return (rgb * 255).astype(np.uint8)


def texture(side: int, seed: int = 0) -> np.ndarray:
    """A high-contrast blocky texture (4 px blocks), side x side x 3 uint8 RGB."""
    blocks = np.random.default_rng(seed).integers(0, 256, (side // 4, side // 4, 3))
    return np.kron(blocks, np.ones((4, 4, 1))).astype(np.uint8)


def frame_rgb(clip: MovingSquare, index: int) -> np.ndarray:
    """Frame `index` of the clip (HxWx3 uint8 RGB); the square wraps around at the right edge."""
    rgb = background(clip.size).copy()
    x, s = clip.x(index) % clip.size[0], clip.side
    columns = (np.arange(s) + x) % clip.size[0]
    rgb[clip.y0 : clip.y0 + s, columns] = texture(s)
    return rgb


def write_moving_video(path: Path, clip: MovingSquare = MovingSquare(), fps: float = 10) -> Path:
    """Write the clip to `path` (mp4v) and return the path."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, clip.size)
    if not writer.isOpened():
        raise LivedreamError(f"OpenCV cannot write an mp4v video to {str(path)!r}")
    for i in range(clip.frames):
        writer.write(cv2.cvtColor(frame_rgb(clip, i), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m livedream.flow.clip OUT.mp4 [WxH]`: write a 10 s moving-square clip."""
    from livedream.params import parse_size

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or len(args) > 2:
        print("usage: python -m livedream.flow.clip OUT.mp4 [WIDTHxHEIGHT]", file=sys.stderr)
        return 2
    size = parse_size(args[1], "size") if len(args) > 1 else (640, 360)
    side = min(size) // 3 // 4 * 4
    clip = MovingSquare(size=size, side=side, x0=0, y0=(size[1] - side) // 2, step=4,
                        frames=300)
    try:
        write_moving_video(Path(args[0]), clip, fps=30)
    except LivedreamError as exc:
        print(f"livedream: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args[0]}: {clip.frames} frames at {size[0]}x{size[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
