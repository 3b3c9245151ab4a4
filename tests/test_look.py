"""`livedream.look`: DreamSettings validation and with_param, ChainLink.with_param, Look
defaults."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields

import pytest

from livedream.errors import ParamError
from livedream.look import DREAM_PARAMS, ChainLink, DreamSettings, Look


def test_dream_settings_defaults_are_the_param_defaults() -> None:
    settings = DreamSettings()
    assert [f.name for f in fields(DreamSettings)] == list(DREAM_PARAMS)
    for name, spec in DREAM_PARAMS.items():
        value = getattr(settings, name)
        assert value == spec.default and type(value) is spec.kind, name


def test_from_mapping_coerces_to_each_params_type() -> None:
    settings = DreamSettings.from_mapping({"step_size": 2, "iterations": 3.0, "channel": 7})
    assert settings == DreamSettings(step_size=2.0, iterations=3, channel=7)
    assert type(settings.step_size) is float and type(settings.iterations) is int
    assert DreamSettings.from_mapping({}) == DreamSettings()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"step_size": 21.0},
         r"look\.dream\.step_size: 21\.0 outside allowed range \[0\.0, 20\.0\]"),
        ({"iterations": 1.5}, r"look\.dream\.iterations: expected an integer, got 1\.5"),
        ({"octaves": 0}, r"look\.dream\.octaves: 0 outside allowed range \[1, 8\]"),
        ({"jitter": True}, r"look\.dream\.jitter: expected int in \[0, 128\], got True"),
        ({"octave_scale": float("inf")}, r"look\.dream\.octave_scale: expected a finite number"),
        ({"warp": 1}, r"look\.dream: unknown parameter 'warp'; valid: channel, iterations"),
    ],
)
def test_from_mapping_rejects_naming_where_and_key(values: dict, message: str) -> None:
    with pytest.raises(ParamError, match=message) as info:
        DreamSettings.from_mapping(values, "look.dream")
    assert info.value.key == next(iter(values))  # callers (presets) can name the key


def test_with_param_validates_and_leaves_the_original() -> None:
    base = DreamSettings()
    changed = base.with_param("octaves", 3)
    assert changed.octaves == 3 and base.octaves == 1
    assert changed == DreamSettings(octaves=3)
    with pytest.raises(ParamError, match=r"dream\.octaves: 9 outside allowed range"):
        base.with_param("octaves", 9)
    with pytest.raises(ParamError, match="unknown parameter 'speed'"):
        base.with_param("speed", 1)
    with pytest.raises(FrozenInstanceError):
        base.octaves = 2  # type: ignore[misc]


def test_chain_link_with_param_copies_and_keeps_the_rest() -> None:
    link = ChainLink("stretch", {"scale": 0.1}, enabled=False)
    changed = link.with_param("axis", "horizontal")
    assert changed == ChainLink("stretch", {"scale": 0.1, "axis": "horizontal"}, enabled=False)
    assert link.params == {"scale": 0.1}  # the original's dict is not shared or mutated
    assert changed.with_param("scale", 0.2).params == {"scale": 0.2, "axis": "horizontal"}
    assert ChainLink("zoom").params == {} and ChainLink("zoom").enabled is True
    assert ChainLink("a").params is not ChainLink("b").params


def test_look_defaults() -> None:
    look = Look()
    assert (look.model, look.weights, look.layers, look.guide, look.name) == (
        "vgg16", None, ("conv4_3",), None, "default")
    assert look.dream == DreamSettings()
    assert look.chain == (ChainLink("zoom", {"scale": 0.05}),)
    assert Look() == Look() and hash(Look(chain=())) == hash(Look(chain=()))
