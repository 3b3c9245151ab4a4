"""`livedream layers`: the model as the positional MODEL or as `--model` (like run and render),
with `--weights` applied to a user's Caffe net."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from livedream.cli import main
from tests.models.test_caffe_net import write_pair
from tests.models.test_caffe_oracle import VGG_STYLE


def shapes(out: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\S+)\s+(\[[\d, ]+\])", out, flags=re.M))


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_pair(tmp_path, VGG_STYLE)


def test_model_option_and_positional_list_the_same_layers(pair, capsys) -> None:
    prototxt, _ = pair
    assert main(["layers", str(prototxt), "--size", "36x36"]) == 0
    positional = capsys.readouterr().out
    assert main(["layers", "--model", str(prototxt), "--size", "36x36"]) == 0
    option = capsys.readouterr().out
    assert option == positional
    assert shapes(option)["conv1_1"] == "[1, 16, 36, 36]"
    assert shapes(option)["pool3"] == "[1, 48, 5, 5]"  # Caffe pools round up: 9 -> 5


def test_model_option_with_weights_loads_them(pair, tmp_path: Path, capsys) -> None:
    prototxt, weights = pair
    argv = ["layers", "--model", str(prototxt), "--weights", str(weights), "--size", "36x36"]
    assert main(argv) == 0
    assert shapes(capsys.readouterr().out)["conv2_2"] == "[1, 32, 18, 18]"
    # The weights really are read: a truncated file is an error naming it.
    cut = tmp_path / "cut.caffemodel"
    cut.write_bytes(weights.read_bytes()[:100])
    assert main(["layers", "--model", str(prototxt), "--weights", str(cut)]) == 1
    err = capsys.readouterr().err
    assert "cut.caffemodel" in err and "Traceback" not in err


def test_builtin_by_option(capsys) -> None:
    assert main(["layers", "--model", "vgg16", "--size", "64x64"]) == 0
    assert re.search(r"conv4_3\s+\[1, 512, 8, 8\]\s+\(default\)", capsys.readouterr().out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["layers"], "give the model: `livedream layers MODEL` or `--model MODEL`"),
        (["layers", "vgg16", "--model", "inception_v3"],
         "two models given: 'vgg16' and --model 'inception_v3'"),
        (["layers", "--model", "resnet50"], "valid: vgg16, inception_v3, bvlc_googlenet"),
    ],
)
def test_missing_conflicting_or_unknown_model_is_one_line(argv, message, capsys) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_the_same_model_twice_is_fine(capsys) -> None:
    assert main(["layers", "vgg16", "--model", "vgg16", "--size", "32x32"]) == 0
    assert "conv1_1" in capsys.readouterr().out
