"""modulate(): values follow the signal and always stay inside each Param's range."""

import pytest

from livedream.audio.features import AudioFeatures
from livedream.errors import LivedreamError
from livedream.look import DREAM_PARAMS, ChainLink, DreamSettings, Look
from livedream.tempo.modulate import check_targets, modulate
from livedream.tempo.modulators import LFO_SHAPES, Modulator
from livedream.transforms import get_transform

LOOK = Look(model="tiny", layers=("conv2",), dream=DreamSettings(step_size=10.0),
            chain=(ChainLink("zoom", {"scale": 0.05}),))


def test_sine_swings_around_the_base_in_normalised_units() -> None:
    mod = Modulator("step_size", source="sine", rate=4.0, depth=0.25)
    spec = DREAM_PARAMS["step_size"]  # 0..20, linear: base 10 is 0.5
    peak = modulate(LOOK, [mod], beat=1.0)  # quarter cycle: +depth
    trough = modulate(LOOK, [mod], beat=3.0)
    assert peak.dream.step_size == pytest.approx(spec.from_normalized(0.75))
    assert trough.dream.step_size == pytest.approx(spec.from_normalized(0.25))
    assert LOOK.dream.step_size == 10.0  # the base look is untouched


def test_values_never_leave_the_range() -> None:
    zoom = get_transform("zoom").params["scale"]
    for shape in (*LFO_SHAPES, "envelope"):
        mods = [Modulator("step_size", source=shape, depth=1.0, rate=0.5),
                Modulator("zoom.scale", source=shape, depth=-1.0, rate=2.0),
                Modulator("iterations", source=shape, depth=1.0)]
        for i in range(200):
            look = modulate(LOOK, mods, beat=i * 0.037)
            assert 0.0 <= look.dream.step_size <= 20.0
            assert zoom.lo <= look.chain[0].params["scale"] <= zoom.hi
            assert isinstance(look.dream.iterations, int)
            assert DREAM_PARAMS["iterations"].lo <= look.dream.iterations <= 50


def test_modulators_on_one_target_add_up_and_audio_drives_them() -> None:
    kick = Modulator("step_size", source="low", depth=0.3)
    onset = Modulator("step_size", source="onset", depth=0.2)
    feats = AudioFeatures(onset=1.0, bands=(1.0, 0.0, 0.0, 0.0))
    out = modulate(LOOK, [kick, onset], beat=0.0, features=feats)
    assert out.dream.step_size == pytest.approx(DREAM_PARAMS["step_size"].from_normalized(1.0))
    quiet = modulate(LOOK, [kick, onset], beat=0.0, features=AudioFeatures())
    assert quiet.dream.step_size == pytest.approx(10.0)


def test_missing_target_is_skipped_and_disabled_does_nothing() -> None:
    mods = [Modulator("rotate.angle", depth=1.0), Modulator("step_size", depth=1.0,
                                                             enabled=False)]
    assert modulate(LOOK, mods, beat=0.25) == LOOK
    with pytest.raises(LivedreamError):
        check_targets(LOOK, mods[:1])
    check_targets(LOOK, [Modulator("zoom.scale")])
