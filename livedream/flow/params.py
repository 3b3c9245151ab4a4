"""The flow / gate / key parameters: ONE table, and the validated settings built from it.

Names are `group.param` (`flow.strength`); `livedream.paramnames.SHOW_PARAMS` registers this
table, so a controller addresses them as `/livedream/param/flow/strength` or a MIDI CC
`param = "flow.strength"`, and the show keeps their values in `State.settings`. The two on/off
switches, `flow` and `gate`, are State flags (`livedream.commands.FLAGS`). Each `FlowSettings`
field is a parameter name with the dot as an underscore and takes its default from the table.

This module imports only `livedream.params` (paramnames imports it at start-up).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from livedream.params import Param, Value, validate_params

KEY_MODES = ("off", "luma", "chroma")

#: Show-level parameters of live input that moves.
FLOW_PARAMS: dict[str, Param] = {
    "flow.strength": Param(1.0, 0.0, 2.0, doc="multiplier of the flow displacement "
                           "(1 = dreamed features follow the scene exactly, 0 = no warp)"),
    "flow.scale": Param(0.5, 0.1, 1.0, doc="resolution of the flow estimate relative to the frame "
                        "(lower is cheaper and smoother)"),
    "gate.threshold": Param(1.0, 0.05, 20.0, log=True, doc="flow magnitude (frame pixels per "
                            "source frame) at which the source fully shows through"),
    "gate.decay": Param(0.9, 0.0, 0.999, doc="per-frame retention of the motion mask (0 = the "
                        "mask follows motion instantly; near 1 = motion trails linger)"),
    "source.key": Param("off", choices=KEY_MODES, doc="key mix of the source: 'luma' lets "
                        "bright source pixels through, 'chroma' dreams on green-screen pixels"),
    "source.key_level": Param(0.5, 0.0, 1.0, doc="key threshold: luma above it shows the "
                              "source; for chroma, greenness above it is dreamed on"),
}

#: The on/off switches (State flags of the same names; control names in commands.FLAGS).
FLOW_FLAGS: dict[str, str] = {
    "flow": "warp the feedback buffer by the live source's optical flow (dreams follow motion)",
    "gate": "motion gate: the source shows where the scene moves, the dream grows where it is "
            "still",
}


def field_name(name: str) -> str:
    """'gate.threshold' -> 'gate_threshold' (the FlowSettings attribute)."""
    return name.replace(".", "_")


def _default(name: str) -> Any:
    return FLOW_PARAMS[name].default


@dataclass(frozen=True)
class FlowSettings:
    """The two switches and validated values of FLOW_PARAMS (see the table for meaning)."""

    flow: bool = False
    gate: bool = False
    flow_strength: float = _default("flow.strength")
    flow_scale: float = _default("flow.scale")
    gate_threshold: float = _default("gate.threshold")
    gate_decay: float = _default("gate.decay")
    source_key: str = _default("source.key")
    source_key_level: float = _default("source.key_level")

    @classmethod
    def from_mapping(cls, values: dict[str, Any], where: str = "flow", *, flow: bool = False,
                     gate: bool = False) -> FlowSettings:
        """Settings from parameter names (`{"flow.strength": 0.8}`), validated by the table."""
        checked = validate_params(FLOW_PARAMS, values, where)
        return cls(flow=flow, gate=gate, **{field_name(k): v for k, v in checked.items()})

    def with_param(self, name: str, value: Any) -> FlowSettings:
        """A copy with one parameter set (validated; ParamError names the allowed range)."""
        checked = validate_params(FLOW_PARAMS, {name: value}, "flow")
        return replace(self, **{field_name(name): checked[name]})

    def get(self, name: str) -> Value:
        """The value of a parameter by name (KeyError for names not in FLOW_PARAMS)."""
        if name not in FLOW_PARAMS:
            raise KeyError(name)
        return getattr(self, field_name(name))

    def as_mapping(self) -> dict[str, Value]:
        """Parameter name -> value for every entry of the table."""
        return {name: getattr(self, field_name(name)) for name in FLOW_PARAMS}

    @property
    def needs_flow(self) -> bool:
        """Whether the source thread must estimate flow (the warp or the motion gate uses it)."""
        return bool(self.flow or self.gate)

    @property
    def active(self) -> bool:
        """Whether anything here changes the frame (then the source is read every frame)."""
        return self.needs_flow or self.source_key != "off"
