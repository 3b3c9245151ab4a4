"""`livedream render --audio`: a music video - frames = track length x fps, modulators driven
by the track's analysis, one h264 + one aac stream whose durations agree within one frame."""

from pathlib import Path

import av
import numpy as np
import pytest

from livedream.audio.decode import write_wav
from livedream.cli import main
from livedream.errors import ParamError
from livedream.look import Look
from livedream.presets import load_preset
from livedream.record import probe_video
from livedream.record.mp4 import probe_audio
from livedream.render import offline
from livedream.tempo import modulate as modulate_module
from tests.audio.clicks import click_track
from tests.tiny_model import tiny_load_model

pytest.importorskip("aubio")

PRESET = """
name = "beat-test"
model = "tiny"
layers = ["relu3"]
[dream]
step_size = 2.0
iterations = 1
jitter = 4
[[chain]]
transform = "zoom"
scale = 0.04
[[modulate]]
target = "zoom.scale"
source = "onset"
depth = 0.3
[[modulate]]
target = "step_size"
source = "sine"
rate = 4
depth = 0.2
"""


@pytest.mark.parametrize("fps", [15.0, 24.0])
def test_render_audio_makes_a_synced_music_video(tmp_path: Path, fps: float,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline, "load_look_model", lambda look, device: tiny_load_model())
    seen: list[tuple[float, float]] = []
    real = modulate_module.modulate

    def spy(look, mods, beat, features=None):  # type: ignore[no-untyped-def]
        seen.append((beat, features.onset))
        return real(look, mods, beat, features)

    monkeypatch.setattr(modulate_module, "modulate", spy)
    samples, clicks = click_track(120.0, seconds=3.1)
    track = tmp_path / "track.wav"
    write_wav(track, np.stack([samples, 0.5 * samples]))
    preset = tmp_path / "beat-test.toml"
    preset.write_text(PRESET)
    out = tmp_path / "video.mp4"
    assert main(["render", "--audio", str(track), "--preset", str(preset), "--size", "64x48",
                 "--fps", str(fps), "--out", str(out), "--no-progress"]) == 0

    with av.open(str(out)) as container:
        kinds = sorted((s.type, s.codec_context.name) for s in container.streams)
    assert kinds == [("audio", "aac"), ("video", "h264")]
    video, audio = probe_video(out), probe_audio(out)
    assert video.frames == round(3.1 * fps)
    assert audio.channels == 2 and audio.rate == 44100
    assert abs(video.duration - audio.duration) < 1.0 / fps
    assert abs(audio.duration - 3.1) < 1.0 / fps

    assert len(seen) == video.frames  # one modulation per frame, from the track's analysis
    onset_frames = {round(c * fps) for c in clicks}
    hit = [o for i, (_, o) in enumerate(seen) if i in onset_frames or i - 1 in onset_frames]
    quiet = [o for i, (_, o) in enumerate(seen) if all(abs(i - f) > 3 for f in onset_frames)]
    assert max(hit) > 0.5 and (not quiet or max(quiet) < 0.3)


def test_render_audio_bad_track_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code = main(["render", "--audio", str(tmp_path / "nope.wav"), "--size", "64x48",
                 "--out", str(tmp_path / "x.mp4"), "--no-progress"])
    assert code != 0
    assert "nope.wav" in capsys.readouterr().err


def test_render_without_audio_runs_modulators_at_bpm_and_checks_it(tmp_path: Path,
                                                                   monkeypatch) -> None:
    monkeypatch.setattr(offline, "load_look_model", lambda look, device: tiny_load_model())
    beats: list[float] = []
    real = modulate_module.modulate
    monkeypatch.setattr(modulate_module, "modulate",
                        lambda look, mods, beat, f=None: beats.append(beat) or real(
                            look, mods, beat, f))
    preset = tmp_path / "p.toml"
    preset.write_text(PRESET)
    look = offline_look(preset)
    offline.render(look, frames=4, size=(32, 32), out=[tmp_path / "f"], fps=10, bpm=150,
                   progress=False)
    assert beats == pytest.approx([0.0, 0.25, 0.5, 0.75])  # 150 BPM at 10 fps
    with pytest.raises(ParamError, match="bpm"):
        offline.render(look, frames=1, size=(32, 32), out=[tmp_path / "g"], bpm=0)


def offline_look(path: Path) -> Look:
    return load_preset(path).look
