"""GifWriter: frame order (forward / reverse / pingpong), delay, ImageMagick loop semantics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from livedream.errors import LivedreamError, ParamError
from livedream.record import GifWriter, gif_frame_duration_ms, play_order, probe_video
from tests.record.helpers import as_tensor


def level_frame(level: int) -> np.ndarray:
    """A flat 24x32 frame whose grey level identifies it (palette-exact in a GIF)."""
    return np.full((24, 32, 3), level, dtype=np.uint8)


def read_gif(path: Path) -> tuple[list[int], list[int], dict]:
    """Grey level and duration of each frame as Pillow decodes them, plus the file's info."""
    levels, durations = [], []
    with Image.open(path) as image:
        info = dict(image.info)
        for index in range(image.n_frames):
            image.seek(index)
            pixels = np.asarray(image.convert("RGB"))
            assert (pixels == pixels[0, 0]).all()
            levels.append(int(pixels[0, 0, 0]))
            durations.append(image.info["duration"])
    return levels, durations, info


def netscape_loop_field(path: Path) -> int | None:
    """The 16-bit loop value of the NETSCAPE2.0 block, read from the raw bytes (None: no block)."""
    data = path.read_bytes()
    at = data.find(b"NETSCAPE2.0")
    if at < 0:
        return None
    assert data[at + 11 : at + 13] == b"\x03\x01"  # sub-block length 3, id 1
    return int.from_bytes(data[at + 13 : at + 15], "little")


def write_gif(path: Path, count: int, **options: object) -> list[int]:
    levels = [20 * (index + 1) for index in range(count)]
    with GifWriter(path, **options) as writer:  # type: ignore[arg-type]
        for level in levels:
            writer.write(level_frame(level))
    assert writer.frames_written == count
    return levels


@pytest.mark.parametrize(
    ("mode", "order"),
    [
        ("forward", [0, 1, 2, 3, 4]),
        ("reverse", [4, 3, 2, 1, 0]),
        ("pingpong", [0, 1, 2, 3, 4, 3, 2, 1]),
    ],
)
def test_frame_order_and_count(tmp_path: Path, mode: str, order: list[int]) -> None:
    path = tmp_path / f"{mode}.gif"
    levels = write_gif(path, 5, fps=25, mode=mode)
    read_levels, durations, _ = read_gif(path)
    assert read_levels == [levels[index] for index in order]
    assert durations == [40] * len(order)
    info = probe_video(path)  # FFmpeg's GIF decoder agrees
    assert (info.codec, info.frames, info.width, info.height) == ("gif", len(order), 32, 24)


def test_pingpong_has_2n_minus_2_frames_and_short_clips_work() -> None:
    for count in range(1, 8):
        order = play_order(count, "pingpong")
        assert len(order) == max(1, 2 * count - 2)
        assert order[:count] == list(range(count))
    assert play_order(2, "pingpong") == [0, 1]
    assert play_order(3, "reverse") == [2, 1, 0]


@pytest.mark.parametrize(
    ("fps", "ms"), [(30, 30), (25, 40), (10, 100), (12, 80), (1, 1000), (200, 10)]
)
def test_duration_rounds_to_centiseconds(fps: float, ms: int) -> None:
    assert gif_frame_duration_ms(fps) == ms


def test_written_duration_matches(tmp_path: Path) -> None:
    path = tmp_path / "d.gif"
    write_gif(path, 3, fps=12)
    assert read_gif(path)[1] == [80, 80, 80]


@pytest.mark.parametrize(("loop", "field"), [(0, 0), (1, None), (2, 1), (5, 4)])
def test_loop_matches_imagemagick(tmp_path: Path, loop: int, field: int | None) -> None:
    """ImageMagick 7 `-loop N`: 0 forever, 1 no block (play once), N >= 2 writes N - 1."""
    path = tmp_path / f"loop{loop}.gif"
    write_gif(path, 3, loop=loop)
    assert netscape_loop_field(path) == field
    info = read_gif(path)[2]
    assert info.get("loop") == field  # Pillow reports the raw field, absent without a block


def test_tensor_input_and_caller_buffer_reuse(tmp_path: Path) -> None:
    path = tmp_path / "t.gif"
    buffer = level_frame(50)
    with GifWriter(path, fps=10) as writer:
        writer.write(as_tensor(level_frame(200)))
        writer.write(buffer)
        buffer[:] = 90  # the writer kept its own copy of the frame
        writer.write(buffer)
    assert read_gif(path)[0] == [200, 50, 90]


def test_guards_and_errors(tmp_path: Path) -> None:
    with pytest.raises(ParamError, match="forward, reverse, pingpong"):
        GifWriter(tmp_path / "x.gif", mode="bounce")  # type: ignore[arg-type]
    with pytest.raises(ParamError, match="loop"):
        GifWriter(tmp_path / "x.gif", loop=-1)
    with pytest.raises(LivedreamError, match="does not exist"):
        GifWriter(tmp_path / "nowhere" / "x.gif")
    writer = GifWriter(tmp_path / "x.gif", max_frames=2)
    writer.write(level_frame(1))
    with pytest.raises(LivedreamError, match="size changed from 32x24 to 24x24"):
        writer.write(np.zeros((24, 24, 3), np.uint8))
    writer.write(level_frame(2))
    with pytest.raises(LivedreamError, match="max_frames=2"):
        writer.write(level_frame(3))
    writer.close()
    assert read_gif(tmp_path / "x.gif")[0] == [1, 2]


def test_close_without_frames_writes_nothing(tmp_path: Path) -> None:
    GifWriter(tmp_path / "empty.gif").close()
    assert not (tmp_path / "empty.gif").exists()
