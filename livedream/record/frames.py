"""Numbered PNG frames in a directory (`frame_00001.png`, ...), for ffmpeg or an editor."""

from __future__ import annotations

import os
from typing import Any

from livedream.errors import LivedreamError, ParamError
from livedream.record.convert import to_uint8_hwc
from livedream.record.sink import SinkBase


class FrameDirWriter(SinkBase):
    """Writes each frame to `directory/pattern.format(index)` as PNG, indices from `start`.

    The directory is created if needed. Each file is written to a temporary name and renamed, so a
    crash never leaves a half-written PNG under a frame name. Existing files with the same names
    are overwritten; other files are left alone.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        pattern: str = "frame_{:05d}.png",
        start: int = 1,
        *,
        compress_level: int = 1,
    ) -> None:
        super().__init__(os.fspath(directory))
        self.directory = os.fspath(directory)
        try:
            names = {pattern.format(start), pattern.format(start + 1)}
        except (IndexError, KeyError, ValueError) as exc:
            raise ParamError(
                f"frame name pattern {pattern!r} must take one integer, like 'frame_{{:05d}}.png'"
            ) from exc
        if len(names) != 2 or any(os.sep in name for name in names):
            raise ParamError(
                f"frame name pattern {pattern!r} must give a distinct file name per index "
                "(like 'frame_{:05d}.png') and no directory part"
            )
        if not pattern.lower().endswith(".png"):
            raise ParamError(f"frame name pattern {pattern!r} must end in .png")
        self.pattern = pattern
        self.start = start
        self.compress_level = compress_level
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise LivedreamError(f"{self.directory} exists and is not a directory")
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as exc:
            raise LivedreamError(f"cannot create frames directory {self.directory}: {exc}") from exc

    def path_of(self, index: int) -> str:
        """The file of the `index`-th frame written (0-based)."""
        return os.path.join(self.directory, self.pattern.format(self.start + index))

    @property
    def paths(self) -> list[str]:
        """Every file written so far, in order (computed: nothing per frame is kept in RAM)."""
        return [self.path_of(index) for index in range(self.frames_written)]

    def write(self, frame: Any, at: float | None = None) -> None:
        """Write the next numbered PNG."""
        self._check_open()
        from PIL import Image

        pixels = to_uint8_hwc(frame)
        path = self.path_of(self.frames_written)
        partial = path + ".partial"
        try:
            Image.fromarray(pixels).save(
                partial, format="PNG", compress_level=self.compress_level
            )
            os.replace(partial, path)
        except OSError as exc:
            raise LivedreamError(f"cannot write frame {path}: {exc}") from exc
        self.frames_written += 1

    def close(self) -> None:
        """Nothing is buffered; marks the writer closed."""
        self.closed = True
