"""`livedream.files`: reading a user's file gives its bytes / text, or one error naming the file
and the reason (missing, a directory, too large, not UTF-8) in the caller's error class."""

from __future__ import annotations

from pathlib import Path

import pytest

from livedream.errors import LivedreamError, ModelFormatError, PresetError
from livedream.files import read_bytes, read_text


def test_reads_bytes_and_text(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_bytes("name = \"ü\"\n".encode())
    assert read_bytes(path, "preset") == "name = \"ü\"\n".encode()
    assert read_text(str(path), "preset", limit=100) == "name = \"ü\"\n"


def test_unreadable_files_name_what_and_where(tmp_path: Path) -> None:
    missing = tmp_path / "absent.caffemodel"
    with pytest.raises(ModelFormatError, match=rf"^{missing}: cannot read caffemodel: No such"):
        read_bytes(missing, "caffemodel", ModelFormatError)
    with pytest.raises(LivedreamError, match=rf"^{tmp_path}: cannot read prototxt: Is a directory"):
        read_text(tmp_path, "prototxt")


def test_limit_bounds_the_read(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"x" * 11)
    assert read_bytes(path, "preset", limit=11) == b"x" * 11
    with pytest.raises(PresetError, match=r"big\.toml: cannot read preset: larger than 10 bytes"):
        read_bytes(path, "preset", PresetError, limit=10)


def test_text_must_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe name")
    assert read_bytes(path, "preset") == b"\xff\xfe name"
    with pytest.raises(PresetError, match=r"bin\.toml: cannot read preset: not UTF-8 text "
                                          r"\(invalid start byte\)"):
        read_text(path, "preset", PresetError)
