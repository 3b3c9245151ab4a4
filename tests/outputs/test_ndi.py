"""NDI sink and source: colour conversion, the missing-extra error, and a netns round trip."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from livedream.errors import LivedreamError
from livedream.outputs import ndi
from tests.outputs.ndi_peer import pattern
from tests.outputs.netns import PYTHON, require_netns, run_in_netns

REPO = str(__import__("pathlib").Path(__file__).resolve().parents[2])


def test_uyvy_round_trip_is_within_chroma_subsampling_error():
    rgb = pattern(3, 64, 36)
    uyvy = ndi.rgb_to_uyvy(rgb)
    assert uyvy.shape == (36, 64, 2) and uyvy.dtype == np.uint8
    back = ndi.uyvy_to_rgb(uyvy)
    assert np.abs(back.astype(int) - rgb).mean() < 2.0
    grey = np.full((2, 4, 3), 128, np.uint8)
    assert ndi.rgb_to_uyvy(grey)[..., 0].tolist() == [[128, 128, 128, 128]] * 2  # U and V neutral
    assert ndi.rgb_to_uyvy(np.zeros((1, 2, 3), np.uint8)).tolist() == [[[128, 16], [128, 16]]]
    with pytest.raises(LivedreamError, match="even width"):
        ndi.rgb_to_uyvy(np.zeros((2, 3, 3), np.uint8))


def test_rgba_and_frame_rates():
    rgba = ndi.rgb_to_rgba(pattern(1, 8, 4))
    assert rgba.shape == (4, 8, 4) and (rgba[..., 3] == 255).all()
    assert ndi.frame_rate(60) == Fraction(60) and ndi.frame_rate(29.97) == Fraction(30000, 1001)
    assert ndi.frame_rate(59.94) == Fraction(60000, 1001)
    assert ndi.frame_rate(12.5) == Fraction(25, 2)


def test_missing_extra_is_a_clear_error(monkeypatch):
    def no_cyndilib(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(ndi, "import_module", no_cyndilib)
    with pytest.raises(ndi.NdiUnavailableError, match=r"livedream\[ndi\]"):
        ndi.NdiSender("x", 30.0)
    from livedream.sources import SourceError

    with pytest.raises(SourceError, match=r"ndi:cam.*livedream\[ndi\]"):
        ndi.NdiSource("cam", (32, 18))


def test_bad_sender_arguments():
    with pytest.raises(LivedreamError, match="name"):
        ndi.NdiSender(" ", 30.0)
    with pytest.raises(LivedreamError, match="RGBA, UYVY"):
        ndi.NdiSender("x", 30.0, "NV12")


@pytest.mark.parametrize("fmt, tolerance", [("RGBA", 6.0), ("UYVY", 7.0)])
def test_round_trip_between_two_processes_in_a_private_netns(tmp_path, fmt, tolerance):
    require_netns()
    n, w, h = 45, 96, 54
    out = tmp_path / "got.npz"
    peer = [PYTHON, "-m", "tests.outputs.ndi_peer"]
    result = run_in_netns([peer + ["send", "T", str(n), fmt, str(w), str(h)],
                           peer + ["receive", "T", "40", str(out)]], tmp_path, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    frames = np.load(out)["frames"]
    assert frames.shape[1:] == (h, w, 3)
    sent = np.stack([pattern(i, w, h) for i in range(n + 1)]).astype(np.float32)
    matched = []
    for got in frames.astype(np.float32):
        errors = np.abs(sent - got).mean(axis=(1, 2, 3))
        best = int(errors.argmin())
        assert errors[best] < tolerance, f"a received frame matches none sent ({errors[best]})"
        matched.append(best)
    distinct = set(matched) - {0}
    assert len(distinct) >= 0.8 * n, f"received {len(distinct)} of {n} frames"
