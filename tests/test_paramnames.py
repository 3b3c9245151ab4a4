"""The parameter-name grammar (`livedream.paramnames`): dream and transform parameter names,
`<transform>.<param>`, `<index>.<param>`, a bare unique name, and ambiguity, as the reducer uses
them."""

from __future__ import annotations

import pytest

from livedream.commands import SetParam
from livedream.errors import ParamError, UnknownNameError
from livedream.look import DREAM_PARAMS, ChainLink, DreamSettings, Look
from livedream.paramnames import SHOW_PARAMS, param_names, param_value, resolve_param
from livedream.params import Param
from livedream.state import Env, State, apply
from livedream.transforms.registry import get_transform

LOOK = Look(layers=("conv1",), chain=(ChainLink("zoom", {"scale": 0.1}), ChainLink("sobel")))
ENV = Env(layer_names=("conv1",))


TWO_SCALES = Look(chain=(ChainLink("zoom"), ChainLink("stretch"), ChainLink("zoom"),
                         ChainLink("blur")))


def test_param_names_are_dream_then_show_then_transform_params() -> None:
    names = param_names(LOOK)
    fixed = len(DREAM_PARAMS) + len(SHOW_PARAMS)
    assert names[:fixed] == list(DREAM_PARAMS) + list(SHOW_PARAMS)
    assert names[fixed:] == ["zoom.scale", "sobel.mode", "sobel.gain"]


def test_resolution_rules() -> None:
    spec = get_transform("zoom").params["scale"]
    assert resolve_param(TWO_SCALES, "octaves") == (None, "octaves", DREAM_PARAMS["octaves"])
    assert resolve_param(TWO_SCALES, "zoom.scale") == (0, "scale", spec)  # the first zoom
    assert resolve_param(TWO_SCALES, "2.scale") == (2, "scale", spec)  # by chain position
    assert resolve_param(TWO_SCALES, "stretch.axis")[:2] == (1, "axis")
    assert resolve_param(TWO_SCALES, "sigma")[:2] == (3, "sigma")  # bare and unique
    look = apply(State(look=TWO_SCALES), SetParam("2.scale", 0.3), ENV).look
    assert [link.params for link in look.chain] == [{}, {}, {"scale": 0.3}, {}]


def test_ambiguous_bare_name_lists_the_qualified_ones() -> None:
    with pytest.raises(ParamError, match=r"'scale' is ambiguous; use one of: zoom\.scale, "
                                         r"stretch\.scale, zoom\.scale"):
        resolve_param(TWO_SCALES, "scale")
    with pytest.raises(ParamError, match="ambiguous"):
        apply(State(look=TWO_SCALES), SetParam("scale", 0.1), ENV)


@pytest.mark.parametrize("name", ["warp", "zoom.sigma", "5.scale", "blur.scale", "sobel.mode"])
def test_unknown_names_list_every_valid_one(name: str) -> None:
    with pytest.raises(UnknownNameError) as info:
        resolve_param(TWO_SCALES, name)
    assert info.value.valid == param_names(TWO_SCALES)


def test_param_value_includes_defaults() -> None:
    assert param_value(LOOK, "zoom.scale") == 0.1
    assert param_value(LOOK, "sobel.gain") == get_transform("sobel").params["gain"].default
    assert param_value(LOOK, "jitter") == DreamSettings().jitter


def test_show_params_live_in_state_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SHOW_PARAMS, "flow.strength", Param(0.5, 0.0, 1.0))
    assert resolve_param(LOOK, "flow.strength") == (None, "flow.strength",
                                                    SHOW_PARAMS["flow.strength"])
    assert "flow.strength" in param_names(LOOK)
    state = apply(State(look=LOOK), SetParam("flow.strength", 0.25), ENV)
    assert state.settings == {"flow.strength": 0.25} and state.look == LOOK
    assert param_value(state.look, "flow.strength", state.settings) == 0.25
    assert param_value(LOOK, "flow.strength") == 0.5  # the default until set
    with pytest.raises(ParamError, match=r"flow\.strength: 2\.0 outside allowed range"):
        apply(state, SetParam("flow.strength", 2.0), ENV)
