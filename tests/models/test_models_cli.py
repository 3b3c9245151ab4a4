"""`livedream models [fetch NAME]` and `livedream layers MODEL`, run through livedream.cli.main."""

from __future__ import annotations

import hashlib
import re

import pytest

from livedream.cli import main
from livedream.models import fetch


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEDREAM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _row(text: str, name: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.split()[:1] == [name])
    return re.split(r"\s{2,}", line.strip())


def test_models_table(cache, capsys) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert re.split(r"\s{2,}", out.splitlines()[0]) == [
        "name", "installed", "default layer", "description"]
    assert _row(out, "vgg16")[:3] == ["vgg16 *", "yes", "conv4_3"]
    assert _row(out, "inception_v3")[1] == "yes"
    assert _row(out, "bvlc_googlenet")[1:3] == ["no", "inception_4c/output"]
    assert "livedream models fetch bvlc_googlenet" in out
    assert str(cache) in out


def test_layers_vgg16_prints_shapes(capsys) -> None:
    assert main(["layers", "vgg16", "--size", "320x180"]) == 0
    out = capsys.readouterr().out
    shapes = dict(re.findall(r"^\s+(\S+)\s+(\[[\d, ]+\])", out, flags=re.M))
    assert len(shapes) == 31
    assert shapes["conv1_1"] == "[1, 64, 180, 320]"
    assert shapes["conv4_3"] == "[1, 512, 22, 40]"  # 180 -> 90 -> 45 -> 22
    assert shapes["pool5"] == "[1, 512, 5, 10]"
    assert re.search(r"conv4_3\s+\[1, 512, 22, 40\]\s+\(default\)", out)


def test_layers_inception_v3(capsys) -> None:
    assert main(["layers", "inception_v3", "--size", "128x96"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"mixed_5b\s+\[1, 256, 9, 13\]", out)
    assert re.search(r"mixed_7c\s+\[1, 2048, 1, 2\]", out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["layers", "vgg16", "--size", "320by180"], "WIDTHxHEIGHT"),
        (["layers", "inception_v3", "--size", "40x40"], "too small"),
        (["layers", "resnet50"], "valid: vgg16, inception_v3, bvlc_googlenet"),
    ],
)
def test_layers_errors_are_one_line_messages(argv, message, capsys) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_models_fetch_offline(cache, capsys) -> None:
    url = (cache.parent / "nowhere.caffemodel").as_uri()
    assert main(["models", "fetch", "bvlc_googlenet", "--url", url]) == 1
    err = capsys.readouterr().err
    assert "sha1sum" in err and str(cache / "bvlc_googlenet.caffemodel") in err


def test_models_fetch_installs_then_lists_installed(cache, capsys, monkeypatch) -> None:
    payload = b"weights" * 100
    real = fetch.REMOTE_FILES["bvlc_googlenet"]
    entry = fetch.RemoteFile(real.url, real.filename, hashlib.sha1(payload).hexdigest())
    monkeypatch.setitem(fetch.REMOTE_FILES, "bvlc_googlenet", entry)
    source = cache.parent / "mirror.caffemodel"
    source.write_bytes(payload)
    assert main(["models", "fetch", "bvlc_googlenet", "--url", source.as_uri()]) == 0
    assert (cache / "bvlc_googlenet.caffemodel").read_bytes() == payload
    assert "installed at" in capsys.readouterr().out
    assert main(["models", "fetch", "bvlc_googlenet"]) == 0  # already there: no download
    assert "already installed" in capsys.readouterr().out
    assert main(["models"]) == 0
    assert _row(capsys.readouterr().out, "bvlc_googlenet")[1] == "yes"


def test_models_fetch_unknown_name(cache, capsys) -> None:
    assert main(["models", "fetch", "vgg19"]) == 1
    assert "bvlc_googlenet" in capsys.readouterr().err
