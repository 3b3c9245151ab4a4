"""`livedream run` with the output stream: NDI out and in, end to end in a private netns; a
windowed show's recording under Xvfb."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from tests.outputs.ndi_peer import pattern
from tests.outputs.netns import PYTHON, require_netns, run_in_netns

REPO = str(Path(__file__).resolve().parents[2])
TINY_PRESET = ('name = "tiny-zoom"\nlayers = ["conv2"]\n[dream]\nstep_size = 1.5\n'
               'iterations = 2\n[[chain]]\ntransform = "zoom"\nscale = 0.05\n')
# ~10 dream frames a second at most (2 forward passes of >= 0.05 s), like a real net on a GPU
SHOW = ["env", "SHOW_PEER_DELAY=0.05", PYTHON, "-m", "tests.outputs.show_peer", "run",
        "--headless", "--osc-port", "0", "--seed", "1"]
PEER = [PYTHON, "-m", "tests.outputs.ndi_peer"]


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_ndi_out_carries_the_recorded_output_stream(tmp_path):
    require_netns()
    n, w, h = 40, 96, 54
    preset = tmp_path / "tiny.toml"
    preset.write_text(TINY_PRESET)
    video, got = tmp_path / "show.mp4", tmp_path / "got.npz"
    show = SHOW + ["--preset", str(preset), "--size", f"{w}x{h}", "--frames", str(n),
                   "--ndi-out", "T", "--record", str(video)]
    result = run_in_netns([show, PEER + ["receive", "T", "60", str(got)]], tmp_path, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    received = np.load(got)["frames"].astype(np.float32)
    recorded = decode(video).astype(np.float32)
    assert received.shape[1:] == (h, w, 3) and recorded.shape[1:] == (h, w, 3)
    matched, errors = set(), []
    for frame in received:
        err = np.abs(recorded - frame).mean(axis=(1, 2, 3))
        best = int(err.argmin())
        errors.append(float(err[best]))
        matched.add(best)
    print(f"NDI: {len(received)} frames received, {len(matched)} distinct recorded frames "
          f"matched, of {len(recorded)} recorded; mean abs error {np.mean(errors):.2f}/255, "
          f"worst {max(errors):.2f}/255")
    # two lossy codecs (NDI's SpeedHQ, H.264 crf 18) on a detailed 96x54 dream: measured
    # 6.1/255 mean, 7.1/255 worst
    assert max(errors) < 10.0, "a received frame matches no recorded frame within codec error"
    assert len(matched) >= 0.8 * n


def test_ndi_source_feeds_the_dream(tmp_path):
    """A sender's still picture, blended in fully, replaces the dream buffer each frame (read
    on the source thread, with optical flow on: a still picture does not move the buffer)."""
    require_netns()
    w, h = 64, 36
    preset = tmp_path / "tiny.toml"
    preset.write_text(TINY_PRESET)
    frames_dir = tmp_path / "frames"
    show = SHOW + ["--preset", str(preset), "--size", f"{w}x{h}", "--frames", "6",
                   "--source", "ndi:T2", "--source-mix", "1.0", "--record-source", "dream",
                   "--record-frames", str(frames_dir), "--flow"]
    result = run_in_netns([PEER + ["hold", "T2", "RGBA", str(w), str(h), "40"], show],
                          tmp_path, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    import torch
    from PIL import Image

    from livedream.look import ChainLink
    from livedream.transforms import apply_chain

    last = sorted(frames_dir.glob("*.png"))[-1]
    shown = np.asarray(Image.open(last).convert("RGB"), dtype=np.float32)
    inner = (slice(3, h - 3), slice(3, w - 3))

    def error_to(picture: int) -> float:
        source = torch.from_numpy(pattern(picture, w, h).astype(np.float32) / 255)
        expected = apply_chain(source.permute(2, 0, 1)[None], (ChainLink("zoom", {"scale": 0.05}),))
        return float(np.abs(shown - expected[0].permute(1, 2, 0).numpy() * 255)[inner].mean())

    error = error_to(7)
    assert error < 6.0, f"dream frame is not the NDI source's picture (error {error:.1f}/255)"
    assert error_to(20) > 4 * error  # another picture does not match: it is the sender's


def test_ndi_out_without_the_extra_stops_at_startup_naming_it(monkeypatch, capsys):
    import livedream.models.registry as registry
    from livedream.cli import main
    from livedream.outputs import ndi
    from tests.outputs.show_peer import tiny_model

    def missing(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(registry, "load_model", tiny_model)
    monkeypatch.setattr(ndi, "import_module", missing)
    argv = ["run", "--headless", "--frames", "2", "--osc-port", "0", "--size", "32x18",
            "--layer", "conv2"]
    assert main([*argv, "--ndi-out", "X"]) == 1
    assert "livedream[ndi]" in capsys.readouterr().err
    assert main([*argv, "--source", "ndi:Y"]) == 1
    assert "livedream[ndi]" in capsys.readouterr().err
    odd = ["run", "--headless", "--frames", "2", "--osc-port", "0", "--size", "33x18",
           "--layer", "conv2", "--ndi-out", "X", "--ndi-format", "UYVY"]
    assert main(odd) == 1
    assert "even width" in capsys.readouterr().err


def test_virtual_cam_without_a_driver_logs_and_the_show_goes_on(monkeypatch, caplog, tmp_path):
    import logging

    import livedream.models.registry as registry
    from livedream.cli import main
    from livedream.record import probe_video
    from tests.outputs.show_peer import tiny_model

    monkeypatch.setattr(registry, "load_model", tiny_model)
    video = tmp_path / "v.mp4"
    with caplog.at_level(logging.ERROR):
        code = main(["run", "--headless", "--frames", "3", "--osc-port", "0", "--size", "32x18",
                     "--layer", "conv2",
                     "--virtual-cam", "--record", str(video)])
    assert code == 0
    assert "--virtual-cam" in caplog.text and "v4l2loopback" in caplog.text
    assert probe_video(video).frames >= 1  # the rest of the show ran and recorded


@pytest.mark.display
def test_a_windowed_show_records_the_window_picture(xvfb_display, tmp_path):
    """`livedream run` with a window: the window's shader composes each output frame and the
    recording gets it (read back through a PBO), at the output rate, moving between dream
    frames, and the run ends with a finalised mp4."""
    preset = tmp_path / "tiny.toml"
    preset.write_text(TINY_PRESET)
    video = tmp_path / "show.mp4"
    command = [arg for arg in SHOW if arg != "--headless"] + [
        "--preset", str(preset), "--size", "64x48", "--seconds", "3", "--output-fps", "30",
        "--record", str(video)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO,
                            env={**os.environ, "DISPLAY": xvfb_display})
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(t for t in result.stderr.splitlines()
                if t.startswith("livedream run: output stream"))
    frames = decode(video)
    print(line, f"; {len(frames)} recorded")
    assert frames.shape[1:] == (48, 64, 3)
    assert len(frames) >= 30  # 3 s at 30 fps, the first second or so spent starting up
    steps = np.abs(np.diff(frames.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))
    assert (steps > 0.3).mean() > 0.8, "consecutive window pictures must differ (motion)"
