"""`livedream transforms`: names, docs and parameter ranges; unknown names are errors."""

from __future__ import annotations

import pytest

from livedream.cli import main
from livedream.transforms import get_transform, transform_names


def test_lists_every_transform_with_params(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transforms"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name in transform_names():
        spec = get_transform(name)
        header = next(line for line in lines if line.startswith(name + " "))
        assert spec.doc in header
        for key in spec.params:
            assert any(line.split()[:1] == [key] for line in lines), (name, key)
    assert "[-0.5, 0.5]" in out and "columns | rows | alternate" in out


def test_selected_and_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transforms", "zoom"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("zoom ") and "scale" in out and "blur" not in out
    assert main(["transforms", "zooom"]) == 1
    err = capsys.readouterr().err
    assert "zooom" in err and "zoom" in err and "pixel_sort" in err
