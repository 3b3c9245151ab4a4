"""LFO shapes and the beat envelope, against closed-form expectations; modulator parsing."""

import math

import pytest

from livedream.audio.features import AudioFeatures
from livedream.errors import ParamError
from livedream.tempo.modulators import (
    LFO_SHAPES,
    Modulator,
    envelope,
    lfo,
    parse_modulator,
    signal,
)


@pytest.mark.parametrize(
    ("shape", "points"),
    [
        ("sine", {0.0: 0.0, 0.25: 1.0, 0.5: 0.0, 0.75: -1.0}),
        ("triangle", {0.0: 0.0, 0.25: 1.0, 0.5: 0.0, 0.75: -1.0, 0.125: 0.5}),
        ("saw", {0.0: -1.0, 0.5: 0.0, 0.75: 0.5}),
        ("square", {0.0: 1.0, 0.49: 1.0, 0.5: -1.0, 0.99: -1.0}),
    ],
)
def test_lfo_shapes(shape: str, points: dict[float, float]) -> None:
    for x, want in points.items():
        assert lfo(shape, x) == pytest.approx(want, abs=1e-9)
        assert lfo(shape, x + 3) == pytest.approx(want, abs=1e-9)  # periodic


def test_every_shape_stays_in_range() -> None:
    for shape in LFO_SHAPES:
        values = [lfo(shape, i / 97, seed=5) for i in range(2000)]
        assert min(values) >= -1.0 and max(values) <= 1.0
        assert max(values) - min(values) > 1.0  # it really moves


def test_sample_and_hold_holds_within_a_cycle_and_is_seeded() -> None:
    first = [lfo("sample_hold", 2 + i / 10, seed=1) for i in range(10)]
    assert len(set(first)) == 1
    levels = {lfo("sample_hold", c + 0.5, seed=1) for c in range(16)}
    assert len(levels) > 10
    assert lfo("sample_hold", 4.5, seed=1) == lfo("sample_hold", 4.2, seed=1)
    assert lfo("sample_hold", 4.5, seed=1) != lfo("sample_hold", 4.5, seed=2)


def test_rate_is_in_beats() -> None:
    mod = Modulator("step_size", source="sine", rate=4.0)
    assert signal(mod, 1.0) == pytest.approx(1.0)  # a quarter of a 4-beat cycle
    assert signal(Modulator("x", source="sine", rate=0.25), 1 / 16) == pytest.approx(1.0)


def test_envelope_attack_and_decay() -> None:
    assert envelope(0.0, 0.1, 0.5) == 0.0
    assert envelope(0.05, 0.1, 0.5) == pytest.approx(0.5)
    assert envelope(0.1, 0.1, 0.5) == pytest.approx(1.0)
    assert envelope(0.6, 0.1, 0.5) == pytest.approx(math.exp(-1))
    mod = Modulator("x", source="envelope", rate=1.0, attack=0.0, decay=0.25)
    assert signal(mod, 3.0) == pytest.approx(1.0)  # restarts on every beat
    assert signal(mod, 3.5) == pytest.approx(math.exp(-2))


def test_audio_sources_read_the_features() -> None:
    feats = AudioFeatures(rms=0.4, onset=1.0, bands=(0.9, 0.1, 0.2, 0.3))
    assert signal(Modulator("x", source="low"), 0.0, feats) == pytest.approx(0.9)
    assert signal(Modulator("x", source="onset"), 0.0, feats) == 1.0
    assert signal(Modulator("x", source="rms"), 0.0, None) == 0.0  # no analyser: no motion


def test_parse_modulator_validates_every_field() -> None:
    mod = parse_modulator({"target": "zoom.scale", "source": "triangle", "rate": 8, "depth": -0.5})
    assert (mod.target, mod.source, mod.rate, mod.depth) == ("zoom.scale", "triangle", 8.0, -0.5)
    for bad in ({"source": "sine"}, {"target": "x", "rate": 32}, {"target": "x", "depth": 2},
                {"target": "x", "source": "wobble"}, {"target": "x", "speed": 1}):
        with pytest.raises(ParamError):
            parse_modulator(bad)
    with pytest.raises(ParamError, match="rate"):
        mod.with_field("rate", 0.1)
