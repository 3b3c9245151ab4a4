"""`livedream.record.output_kind`: the one decision of which output a path means, by its suffix,
shared by `render --out`, `run --record` and `open_recorder`."""

from __future__ import annotations

from pathlib import Path

import pytest

from livedream.errors import ParamError
from livedream.record import FrameDirWriter, GifWriter, Mp4Writer, open_recorder, output_kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.mp4", "video"), ("a.MOV", "video"), ("clip.mkv", "video"), ("loop.GIF", "gif"),
     ("frames", "frames"), ("frames/", "frames"), ("out/take.2/frames", "frames")],
)
def test_kind_by_suffix(tmp_path: Path, name: str, kind: str) -> None:
    assert output_kind(tmp_path / name) == kind
    assert output_kind(f"{tmp_path}/{name}") == kind  # str and PathLike alike


def test_an_existing_directory_is_frames_whatever_its_name(tmp_path: Path) -> None:
    odd = tmp_path / "looks-like.mp4"
    odd.mkdir()
    assert output_kind(odd) == "frames"
    with open_recorder(odd) as sink:  # open_recorder follows the same decision
        assert isinstance(sink, FrameDirWriter)


def test_open_recorder_writer_matches_the_kind(tmp_path: Path) -> None:
    writers = {"video": Mp4Writer, "gif": GifWriter, "frames": FrameDirWriter}
    for name in ("a.mp4", "a.gif", "pngs"):
        with open_recorder(tmp_path / name, 10) as sink:
            assert isinstance(sink, writers[output_kind(tmp_path / name)])


def test_unknown_suffix_names_the_context_and_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ParamError, match=r"^--record x\.avi: unknown suffix '\.avi'; "
                                         r"use \.mp4, \.mov, \.mkv, \.gif, or a directory"):
        output_kind(tmp_path / "x.avi", "--record x.avi")
    with pytest.raises(ParamError, match=r"x\.webm'?: unknown suffix '\.webm'"):
        output_kind(tmp_path / "x.webm")  # without a context the path itself is named
