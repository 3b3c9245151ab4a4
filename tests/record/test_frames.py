"""FrameDirWriter and open_recorder's choice of writer by path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from livedream.errors import LivedreamError, ParamError
from livedream.record import FrameDirWriter, GifWriter, Mp4Writer, open_recorder, probe_video
from tests.record.helpers import as_tensor, smooth_frame


def test_numbered_pngs_sorted_by_name_with_exact_content(tmp_path: Path) -> None:
    inputs = [smooth_frame(24, 32, t * 7) for t in range(12)]
    with FrameDirWriter(tmp_path / "out") as writer:
        for index, pixels in enumerate(inputs):
            writer.write(as_tensor(pixels) if index % 2 else pixels)
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == [f"frame_{index:05d}.png" for index in range(1, 13)]
    assert [Path(path).name for path in writer.paths] == names  # write order == name order
    for name, original in zip(names, inputs, strict=True):
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / name)), original)


def test_pattern_and_start(tmp_path: Path) -> None:
    with FrameDirWriter(tmp_path, pattern="shot-{:03d}.png", start=0) as writer:
        for level in (10, 20):
            writer.write(np.full((4, 6, 3), level, np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot-000.png", "shot-001.png"]
    assert np.asarray(Image.open(tmp_path / "shot-001.png"))[0, 0, 0] == 20


@pytest.mark.parametrize("pattern", ["frame.png", "frame_{}.jpg", "{:05d}/x.png", "f_{x}.png"])
def test_bad_patterns(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(ParamError, match="pattern"):
        FrameDirWriter(tmp_path, pattern=pattern)


def test_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(LivedreamError, match="not a directory"):
        FrameDirWriter(tmp_path / "taken")


def test_open_recorder_picks_the_writer_by_suffix(tmp_path: Path) -> None:
    for name in ("a.mp4", "a.MOV", "a.mkv"):
        with open_recorder(tmp_path / name, 15, crf=30) as sink:
            assert isinstance(sink, Mp4Writer) and sink.crf == 30 and sink.fps == 15
            sink.write(smooth_frame(16, 16))
        assert probe_video(tmp_path / name).frames == 1
    with open_recorder(tmp_path / "a.gif", 10, gif_mode="pingpong", loop=3) as sink:
        assert isinstance(sink, GifWriter)
        assert (sink.mode, sink.loop, sink.duration_ms) == ("pingpong", 3, 100)
    existing = tmp_path / "existing.dir"
    existing.mkdir()
    for target in (existing, tmp_path / "frames"):
        with open_recorder(target) as sink:
            assert isinstance(sink, FrameDirWriter)
            sink.write(smooth_frame(8, 8))
        assert (target / "frame_00001.png").is_file()


def test_open_recorder_unknown_suffix_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(LivedreamError, match=r"'\.avi'.*\.mp4, \.mov, \.mkv, \.gif"):
        open_recorder(tmp_path / "clip.avi")
