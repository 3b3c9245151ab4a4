"""DreamModel.layer_shapes at frame sizes a classifier head cannot take."""

from pathlib import Path

from livedream.models.caffe import googlenet_prototxt, load_caffe


def test_googlenet_shapes_at_video_size_stop_before_the_classifier(tmp_path: Path) -> None:
    prototxt = tmp_path / "googlenet.prototxt"
    prototxt.write_text(googlenet_prototxt())
    net = load_caffe(prototxt, None)
    at_224 = net.layer_shapes(224, 224)
    assert at_224["prob"] == (1, 1000)  # the full net runs at its training size
    shapes = net.layer_shapes(180, 320)
    names = net.layer_names()
    # a prefix of the forward order, ending before the fixed-size head
    assert list(shapes) == names[: len(shapes)]
    assert "loss3/classifier" not in shapes and "prob" not in shapes
    # 180 -> conv1 90 -> pool1 45 -> pool2 22 (ceil) -> pool3 11; 320 -> 160 -> 80 -> 40 -> 20
    assert shapes["inception_4c/output"] == (1, 512, 11, 20)
    assert shapes["inception_3b/5x5_reduce"][1] == 32


def test_layers_cli_lists_runnable_layers_and_says_which_cannot_run(
    tmp_path: Path, capsys
) -> None:
    from livedream.cli import main

    prototxt = tmp_path / "googlenet.prototxt"
    prototxt.write_text(googlenet_prototxt())
    assert main(["layers", str(prototxt), "--size", "320x180"]) == 0
    out = capsys.readouterr().out
    assert "inception_4c/output" in out and "[1, 512, 11, 20]" in out
    last = out.splitlines()[-1]
    assert "pool5/7x7_s1 ... prob" in last and "cannot run at this size" in last
    assert "loss3/classifier  " not in out
