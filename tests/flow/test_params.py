"""The flow parameter table and FlowSettings built from it."""

from __future__ import annotations

from dataclasses import fields

import pytest

from livedream.errors import ParamError
from livedream.flow.params import FLOW_FLAGS, FLOW_PARAMS, FlowSettings, field_name


def test_settings_fields_are_the_table() -> None:
    names = [f.name for f in fields(FlowSettings)]
    assert names == [*FLOW_FLAGS, *(field_name(n) for n in FLOW_PARAMS)]
    defaults = FlowSettings()
    assert defaults.as_mapping() == {name: p.default for name, p in FLOW_PARAMS.items()}
    assert not defaults.flow and not defaults.needs_flow


def test_with_param_validates_and_from_mapping_names_unknown_keys() -> None:
    s = FlowSettings(gate=True).with_param("flow.strength", 0.5)
    assert s.flow_strength == 0.5 and s.needs_flow and s.active
    assert s.get("flow.strength") == 0.5
    with pytest.raises(ParamError, match=r"flow.strength.*outside"):
        s.with_param("flow.strength", 5)
    with pytest.raises(ParamError, match="source.key"):
        s.with_param("source.key", "purple")
    with pytest.raises(ParamError, match="unknown parameter 'flow.speed'"):
        FlowSettings.from_mapping({"flow.speed": 1})
    with pytest.raises(ParamError, match="unknown parameter 'flow'"):
        FlowSettings.from_mapping({"flow": True})  # a State flag, not a parameter
    assert FlowSettings(source_key="luma").active
    s = FlowSettings.from_mapping({"gate.decay": 0.5}, flow=True)
    assert s.flow and s.gate_decay == 0.5 and s.flow_scale == FLOW_PARAMS["flow.scale"].default
    # A controller's 0..1 reaches the threshold's log range.
    assert FLOW_PARAMS["gate.threshold"].from_normalized(1.0) == pytest.approx(20.0)
