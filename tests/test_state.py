"""The reducer `apply(state, command, env)`: every command kind, rejections that leave the state
as it was, and the flags. (How parameter names resolve: tests/test_paramnames.py.)"""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from livedream import commands as cmd
from livedream.errors import LivedreamError, ParamError, UnknownNameError
from livedream.look import DREAM_PARAMS, ChainLink, Look
from livedream.state import Env, State, apply

LAYERS = ("conv1", "conv2", "conv3")
LOOK = Look(layers=("conv1",), chain=(ChainLink("zoom", {"scale": 0.1}), ChainLink("sobel")))
CALM = Look(name="calm", layers=("conv2",), chain=(ChainLink("blur", {"sigma": 2.0}),))
WILD = Look(name="wild", layers=("conv3",), chain=(ChainLink("rotate"),))
ENV = Env(layer_names=LAYERS, presets={"calm": CALM, "wild": WILD})
STATE = State(look=LOOK)


def test_layers() -> None:
    assert apply(STATE, cmd.SetLayer("conv3"), ENV).look.layers == ("conv3",)
    assert apply(STATE, cmd.SetLayers(("conv2", "conv3")), ENV).look.layers == ("conv2", "conv3")
    assert apply(STATE, cmd.StepLayer(1), ENV).look.layers == ("conv2",)
    assert apply(STATE, cmd.StepLayer(-1), ENV).look.layers == ("conv3",)  # wraps around
    assert apply(STATE, cmd.StepLayer(4), ENV).look.layers == ("conv2",)
    # Without known layer names (no model yet) any name is taken; checked when the model loads.
    assert apply(STATE, cmd.SetLayer("anything"), Env()).look.layers == ("anything",)


def test_transforms_and_chain() -> None:
    chain = apply(STATE, cmd.SetTransform("blur"), ENV).look.chain
    assert chain == (ChainLink("blur", {}),)
    chain = apply(STATE, cmd.SetChain(("invert", "zoom")), ENV).look.chain
    assert [link.name for link in chain] == ["invert", "zoom"] and chain[1].params == {}
    toggled = apply(STATE, cmd.ToggleTransform("sobel"), ENV).look.chain
    assert [(link.name, link.enabled) for link in toggled] == [("zoom", True), ("sobel", False)]
    assert apply(apply(STATE, cmd.ToggleTransform("sobel"), ENV), cmd.ToggleTransform("sobel"),
                 ENV).look.chain == LOOK.chain
    appended = apply(STATE, cmd.ToggleTransform("invert"), ENV).look.chain
    assert appended[-1] == ChainLink("invert") and appended[:2] == LOOK.chain


def test_set_param_raw_and_normalized() -> None:
    look = apply(STATE, cmd.SetParam("step_size", 3), ENV).look
    assert look.dream.step_size == 3.0 and isinstance(look.dream.step_size, float)
    assert look.chain == LOOK.chain
    look = apply(STATE, cmd.SetParam("zoom.scale", -0.2), ENV).look
    assert look.chain[0].params == {"scale": -0.2} and look.dream == LOOK.dream
    look = apply(STATE, cmd.SetParam("iterations", 1.0, normalized=True), ENV).look
    assert look.dream.iterations == DREAM_PARAMS["iterations"].hi
    look = apply(STATE, cmd.SetParam("sobel.mode", 0.9, normalized=True), ENV).look
    assert look.chain[1].params == {"mode": "colour"}
    # A controller overshooting its range is clamped, not rejected.
    look = apply(STATE, cmd.SetParam("zoom.scale", 2.0, normalized=True), ENV).look
    assert look.chain[0].params == {"scale": 0.5}


def test_presets() -> None:
    loaded = apply(STATE, cmd.LoadPreset("wild"), ENV)
    assert (loaded.look, loaded.preset) == (WILD, "wild")
    assert apply(STATE, cmd.StepPreset(1), ENV).preset == "calm"  # no preset yet: the first
    assert apply(STATE, cmd.StepPreset(-1), ENV).preset == "wild"  # ... or the last
    assert apply(loaded, cmd.StepPreset(1), ENV).look == CALM  # wraps around


def test_model() -> None:
    new = apply(STATE, cmd.SetModel("inception_v3", layer="mixed_5b"), ENV).look
    assert (new.model, new.weights, new.layers) == ("inception_v3", None, ("mixed_5b",))
    new = apply(STATE, cmd.SetModel("net.prototxt", weights="w.caffemodel"), ENV).look
    assert (new.model, new.weights, new.layers) == ("net.prototxt", "w.caffemodel", ("conv1",))


def test_flags_are_the_boolean_fields_of_the_state() -> None:
    booleans = {f.name for f in fields(State) if f.type == "bool"} - {"quit"}
    assert set(cmd.FLAG_FIELDS) == booleans == set(cmd.FLAGS.values())
    assert cmd.flag_command("pause") == cmd.SetFlag("paused")
    assert cmd.flag_command("record", True) == cmd.SetFlag("recording", True)
    for flag in cmd.FLAG_FIELDS:
        before = getattr(STATE, flag)
        toggled = apply(STATE, cmd.SetFlag(flag), ENV)
        assert getattr(toggled, flag) is (not before)
        assert replace(toggled, **{flag: before}) == STATE  # nothing else changed
        assert getattr(apply(STATE, cmd.SetFlag(flag, True), ENV), flag) is True
        assert getattr(apply(toggled, cmd.SetFlag(flag, False), ENV), flag) is False


def test_source_mix_ease_reset_learn_quit_query() -> None:
    assert apply(STATE, cmd.SetSourceMix(0.25), ENV).source_mix == 0.25
    assert apply(STATE, cmd.SetEase(2), ENV).ease_seconds == 2.0
    once = apply(STATE, cmd.Reset(), ENV)
    assert (once.reset_count, apply(once, cmd.Reset(), ENV).reset_count) == (1, 2)
    armed = apply(STATE, cmd.LearnMidi("zoom.scale"), ENV)
    assert armed.midi_learn == "zoom.scale"
    assert apply(armed, cmd.LearnMidi(None), ENV).midi_learn is None
    assert apply(STATE, cmd.Quit(), ENV).quit is True
    assert apply(STATE, cmd.QueryState(), ENV) is STATE


class Unknown(cmd.Command):
    pass


@pytest.mark.parametrize(
    ("command", "error", "message"),
    [
        (cmd.SetLayer("conv9"), UnknownNameError,
         "unknown layer of model 'vgg16' 'conv9'; valid: conv1"),
        (cmd.SetLayers(("conv2", "conv9")), UnknownNameError, "'conv9'"),
        (cmd.SetLayers(()), ParamError, "at least one layer"),
        (cmd.SetTransform("zooom"), UnknownNameError, "unknown transform 'zooom'"),
        (cmd.SetChain(("zoom", "nope")), UnknownNameError, "unknown transform 'nope'"),
        (cmd.ToggleTransform("nope"), UnknownNameError, "unknown transform 'nope'"),
        (cmd.SetParam("step_size", 99), ParamError, r"step_size: 99.0 outside allowed range"),
        (cmd.SetParam("step_size", "big"), ParamError, "expected float in"),
        (cmd.SetParam("warp", 1), UnknownNameError, "unknown parameter 'warp'"),
        (cmd.SetParam("step_size", float("nan"), normalized=True), ParamError, "finite"),
        (cmd.LoadPreset("nope"), UnknownNameError, "unknown preset 'nope'; valid: calm, wild"),
        (cmd.SetFlag("muted"), UnknownNameError, "unknown flag 'muted'; valid: paused, recording"),
        (cmd.SetSourceMix(1.5), ParamError, r"source_mix: 1.5 outside allowed range \[0.0, 1.0\]"),
        (cmd.SetEase(-1), ParamError, "ease: -1.0 outside allowed range"),
        (cmd.LearnMidi("warp"), UnknownNameError, "unknown parameter 'warp'"),
        (Unknown(), ParamError, "unknown command"),
    ],
)
def test_rejected_commands_raise_and_leave_the_state_unchanged(
    command: cmd.Command, error: type[LivedreamError], message: str
) -> None:
    state = apply(STATE, cmd.SetParam("zoom.scale", 0.2), ENV)
    before = replace(state)
    with pytest.raises(error, match=message):
        apply(state, command, ENV)
    assert state == before


def test_stepping_through_nothing_is_an_error() -> None:
    with pytest.raises(ParamError, match="nothing to step through"):
        apply(STATE, cmd.StepLayer(1), Env())
    with pytest.raises(ParamError, match="nothing to step through"):
        apply(STATE, cmd.StepPreset(1), Env())


def test_loading_a_preset_applies_its_show_settings_and_keeps_the_rest() -> None:
    camera = replace(CALM, name="camera", show=(("flow", True), ("source_mix", 0.15),
                                                ("flow.strength", 0.4)))
    env = replace(ENV, presets={"calm": CALM, "camera": camera})
    start = replace(STATE, gate=True, settings={"gate.threshold": 0.3})
    loaded = apply(start, cmd.LoadPreset("camera"), env)
    assert (loaded.flow, loaded.gate, loaded.source_mix) == (True, True, 0.15)
    assert loaded.settings == {"gate.threshold": 0.3, "flow.strength": 0.4}
    back = apply(loaded, cmd.StepPreset(-1), env)  # calm names no show settings: all stay
    assert back.preset == "calm" and (back.flow, back.source_mix) == (True, 0.15)
