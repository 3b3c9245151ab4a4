"""`livedream render` end to end: every shipped preset to mp4 + PNGs; GIF order/loop/delay; Ctrl-C.

The shipped presets render on the real VGG16 when its weights are installed (the registry caches
the model, so it loads once); otherwise on the tiny random model with `--layer relu3`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from livedream.cli import build_parser, main
from livedream.errors import LivedreamError, ParamError, UnknownNameError
from livedream.look import ChainLink, DreamSettings, Look
from livedream.presets import default_presets_dir, list_presets, load_preset
from livedream.record import probe_video
from livedream.render import offline
from livedream.render.offline import render
from tests.record.helpers import frame_times
from tests.tiny_model import TinyDreamModel, tiny_load_model

SHIPPED = sorted(list_presets([default_presets_dir()]))
TINY_LOOK = Look(
    model="tiny", layers=("relu3",), dream=DreamSettings(step_size=3.0, iterations=2, jitter=8),
    chain=(ChainLink("zoom", {"scale": 0.05}),), name="tiny-zoom",
)


def _vgg16_available() -> bool:
    try:
        from livedream.models.registry import load_model

        load_model("vgg16", device="cpu")
    except (ImportError, LivedreamError):
        return False
    return True


VGG16 = _vgg16_available()


@pytest.fixture
def model_args(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Extra CLI args: none with the real VGG16, else the tiny model and its layer."""
    if VGG16:
        return ["--device", "cpu"]
    monkeypatch.setattr(offline, "load_look_model", lambda look, device: tiny_load_model())
    return ["--layer", "relu3"]


def read_frames(directory: Path) -> list[np.ndarray]:
    files = sorted(directory.glob("*.png"))
    return [np.asarray(Image.open(f).convert("RGB"), dtype=np.float64) for f in files]


def gif_frames(path: Path) -> tuple[list[np.ndarray], list[int], dict]:
    with Image.open(path) as gif:
        frames, durations = [], []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB"), dtype=np.float64))
            durations.append(gif.info["duration"])
        return frames, durations, dict(gif.info)


def assert_lively(frames: list[np.ndarray]) -> None:
    """Frames change over time, are not NaN and not saturated to one colour."""
    for pixels in frames:
        assert np.isfinite(pixels).all()
        assert pixels.std() > 4.0, "frame is (nearly) one flat colour"
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 64
    assert np.abs(frames[-1] - frames[0]).mean() > 1.0, "animation does not move"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_preset_renders_end_to_end(name: str, tmp_path: Path, model_args: list[str]) -> None:
    mp4, frames_dir = tmp_path / f"{name}.mp4", tmp_path / "frames"
    argv = [
        "render", "--preset", name, "--frames", "4", "--size", "320x180", "--iterations", "1",
        "--octaves", "1", "--seed", "1", "--no-progress", "--out", str(mp4),
        "--frames-dir", str(frames_dir), *model_args,
    ]
    assert main(argv) == 0
    info = probe_video(mp4)
    assert (info.codec, info.frames, info.width, info.height) == ("h264", 4, 320, 180)
    assert info.fps == pytest.approx(15.0)
    names = sorted(p.name for p in frames_dir.iterdir())
    assert names == [f"frame_{i:05d}.png" for i in range(1, 5)]
    frames = read_frames(frames_dir)
    assert frames[0].shape == (180, 320, 3)
    assert_lively(frames)


def test_octave_pyramid_render_on_the_preset_model(tmp_path: Path, model_args: list[str]) -> None:
    mp4 = tmp_path / "octaves.mp4"
    argv = ["render", "--preset", "vertical-stretch", "--frames", "2", "--size", "320x180",
            "--iterations", "1", "--octaves", "2", "--no-progress", "--out", str(mp4), *model_args]
    assert main(argv) == 0
    assert probe_video(mp4).frames == 2


def nearest(frames: list[np.ndarray], references: list[np.ndarray]) -> list[int]:
    """For each frame, the index of the closest reference (GIF palettes are lossy)."""
    return [int(np.argmin([np.abs(f - r).mean() for r in references])) for f in frames]


def test_gif_frames_delay_loop_and_order(tmp_path: Path) -> None:
    model = TinyDreamModel()
    common = dict(frames=5, size=(64, 48), fps=10.0, seed=2, model=model, progress=False)
    render(TINY_LOOK, out=[tmp_path / "fwd.gif", tmp_path / "pngs"], loop=0, **common)
    pngs = read_frames(tmp_path / "pngs")
    assert len(pngs) == 5
    fwd, durations, info = gif_frames(tmp_path / "fwd.gif")
    assert len(fwd) == 5 and set(durations) == {100} and info["loop"] == 0
    # GIF frames are the rendered frames (up to palette quantisation), in order.
    assert nearest(fwd, pngs) == [0, 1, 2, 3, 4]
    assert max(np.abs(g - p).mean() for g, p in zip(fwd, pngs, strict=True)) < 12.0

    render(TINY_LOOK, out=[tmp_path / "rev.gif"], gif_mode="reverse", loop=1, **common)
    rev, _, info = gif_frames(tmp_path / "rev.gif")
    assert "loop" not in info  # ImageMagick -loop 1: play once, so no loop block
    assert nearest(rev, pngs) == [4, 3, 2, 1, 0]

    render(TINY_LOOK, out=[tmp_path / "pp.gif"], gif_mode="pingpong", loop=3, **common)
    pp, _, info = gif_frames(tmp_path / "pp.gif")
    assert info["loop"] == 2  # 3 plays = 2 repeats in the NETSCAPE block
    assert nearest(pp, pngs) == [0, 1, 2, 3, 4, 3, 2, 1]


def test_cli_gif_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline, "load_look_model", lambda look, device: tiny_load_model())
    gif = tmp_path / "out.gif"
    argv = ["render", "--preset", "zoom", "--layer", "relu3", "--frames", "3", "--size", "64x48",
            "--iterations", "1", "--fps", "20", "--pingpong", "--loop", "2", "--no-progress",
            "--out", str(gif)]
    assert main(argv) == 0
    frames, durations, info = gif_frames(gif)
    assert len(frames) == 4 and set(durations) == {50} and info["loop"] == 1


def test_input_image_is_the_first_frame_before_any_transform(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    Image.fromarray(picture).save(tmp_path / "in.png")
    look = Look(model="tiny", layers=("relu3",), dream=DreamSettings(iterations=0),
                chain=(ChainLink("roll_linear", {"slope": 1.0}),))
    result = render(look, input=tmp_path / "in.png", frames=2, size=(64, 48),
                    out=[tmp_path / "pngs"], model=TinyDreamModel(), progress=False)
    assert result.frames == 2 and not result.interrupted
    first, second = read_frames(tmp_path / "pngs")
    np.testing.assert_array_equal(first, picture)  # saved after the (empty) dream, untransformed
    # Then the chain ran on it: column n rolled down by n pixels.
    expected = np.stack([np.roll(picture[:, n], n, axis=0) for n in range(64)], axis=1)
    np.testing.assert_array_equal(second, expected)


def test_keyboard_interrupt_finalises_playable_outputs(tmp_path: Path) -> None:
    def stop_after_five(t: int, frame: torch.Tensor) -> None:
        assert torch.isfinite(frame).all()
        if t == 4:
            raise KeyboardInterrupt

    mp4, gif = tmp_path / "cut.mp4", tmp_path / "cut.gif"
    result = render(TINY_LOOK, frames=50, size=(64, 48), out=[mp4, gif], model=TinyDreamModel(),
                    progress=False, on_frame=stop_after_five)
    assert result.interrupted and result.frames == 5
    info = probe_video(mp4)
    assert (info.codec, info.frames) == ("h264", 5)
    assert len(gif_frames(gif)[0]) == 5


def test_cli_ctrl_c_returns_130_with_playable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import livedream.transforms.registry as registry

    real_chain = registry.apply_chain

    def chain_then_ctrl_c(frame, chain, t=0, seed=0):  # noqa: ANN001 - same as apply_chain
        if t == 2:
            raise KeyboardInterrupt
        return real_chain(frame, chain, t=t, seed=seed)

    monkeypatch.setattr(offline, "load_look_model", lambda look, device: tiny_load_model())
    monkeypatch.setattr(registry, "apply_chain", chain_then_ctrl_c)
    mp4 = tmp_path / "cut.mp4"
    argv = ["render", "--preset", "shimmer", "--layer", "relu3", "--frames", "40", "--size",
            "64x48", "--iterations", "1", "--no-progress", "--out", str(mp4)]
    assert main(argv) == 130
    assert "interrupted: finalised 3 frames" in capsys.readouterr().err
    assert probe_video(mp4).frames == 3


def test_bad_arguments_are_clear_errors_before_any_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(offline, "load_look_model", lambda look, device: tiny_load_model())
    mp4 = str(tmp_path / "x.mp4")
    cases = [
        (["--size", "640by360"], "expected WIDTHxHEIGHT such as 640x360"),
        (["--size", "8x8"], "size: expected (width, height) integers in [16, 8192]"),
        (["--frames", "0"], "frames: expected an integer in [1,"),
        (["--preset", "nope"], "unknown preset 'nope'; valid: alternating-roll"),
        (["--preset", "../zoom"], "is not allowed"),
        (["--layer", "conv9"], "unknown layer of model 'tiny' 'conv9'; valid: conv1"),
        (["--iterations", "99"], "iterations: 99 outside allowed range [0, 50]"),
        (["--loop", "-1"], "loop: expected an integer >= 0"),
        (["--out", str(tmp_path / "x.avi")], "unknown suffix '.avi'; use .mp4"),
    ]
    for extra, message in cases:
        # Later options override earlier ones; --layer and --out accumulate.
        argv = ["render", "--preset", "zoom", "--layer", "relu3", "--out", mp4, "--no-progress"]
        assert main([*argv, *extra]) == 1, extra
        assert message in capsys.readouterr().err, extra
    assert not list(tmp_path.iterdir()), "a failed start must not leave outputs behind"


def test_render_api_errors() -> None:
    model = TinyDreamModel()
    with pytest.raises(ParamError, match="at least one output"):
        render(TINY_LOOK, frames=1, size=(64, 48), out=[], model=model)
    with pytest.raises(ParamError, match="gif_mode: expected one of forward, reverse, pingpong"):
        render(TINY_LOOK, frames=1, size=(64, 48), out=["a.gif"], gif_mode="sideways", model=model)
    with pytest.raises(UnknownNameError, match="relu9"):
        render(Look(layers=("relu9",)), frames=1, size=(64, 48), out=["a.mp4"], model=model)


def test_model_override_without_layer_uses_its_default_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = pytest.importorskip("livedream.models.registry")
    seen: list[Look] = []

    def fake_load(look: Look, device: object) -> TinyDreamModel:
        seen.append(look)
        return tiny_load_model()

    monkeypatch.setattr(offline, "load_look_model", fake_load)
    monkeypatch.setattr(registry, "default_layer", lambda name: "relu2")
    argv = ["render", "--preset", "zoom", "--model", "inception_v3", "--frames", "1", "--size",
            "64x48", "--iterations", "1", "--no-progress", "--out", str(tmp_path / "m.mp4")]
    assert main(argv) == 0
    assert seen[0].model == "inception_v3" and seen[0].layers == ("relu2",)
    assert seen[0].chain == load_preset(default_presets_dir() / "zoom.toml").look.chain


def test_demo_without_display_records_the_live_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not VGG16:
        pytest.skip("demo runs the real VGG16 preset layers; weights not installed")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    argv = ["demo", "--frames", "2", "--out-dir", str(tmp_path), "--device", "cpu"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    mp4 = tmp_path / "demo.mp4"
    assert str(mp4.resolve()) in out
    info = probe_video(mp4)
    # The demo records what the audience saw: output frames on the 30 fps output grid (late
    # ticks skipped, real time kept), for as long as the two dream frames were on screen.
    assert (info.codec, info.width, info.height) == ("h264", 320, 180)
    times = frame_times(mp4)
    assert len(times) >= 2 and all(abs(t * 30 - round(t * 30)) < 1e-3 for t in times)


def test_demo_with_display_opens_fullscreen_show(monkeypatch: pytest.MonkeyPatch) -> None:
    from livedream import demo

    monkeypatch.setenv("DISPLAY", ":99")
    args = build_parser().parse_args(["demo", "--device", "cpu"])
    argv = demo.show_argv(args)
    assert argv[:3] == ["run", "--preset", demo.demo_preset(torch.device("cpu"))]
    assert "--fullscreen" in argv and "--headless" not in argv and "--record" not in argv


def test_demo_look_follows_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a CPU the demo shows the Inception v3 zoom (full-size dream within the frame budget)
    when those weights are installed; on a GPU, or without them, the default VGG16 look."""
    from dataclasses import replace as dc_replace

    from livedream import demo
    from livedream.models import registry
    from livedream.presets import DEFAULT_PRESET

    inception = registry.BUILTINS["inception_v3"]
    monkeypatch.setitem(registry.BUILTINS, "inception_v3",
                        dc_replace(inception, is_installed=lambda: True))
    assert demo.demo_preset(torch.device("cpu")) == demo.CPU_DEMO_PRESET == "inception-zoom"
    assert demo.demo_preset(torch.device("cuda")) == DEFAULT_PRESET
    monkeypatch.setitem(registry.BUILTINS, "inception_v3",
                        dc_replace(inception, is_installed=lambda: False))
    assert demo.demo_preset(torch.device("cpu")) == DEFAULT_PRESET
    args = build_parser().parse_args(["demo", "--device", "cpu", "--preset", "zoom"])
    assert demo.show_argv(args)[:3] == ["run", "--preset", "zoom"]
