"""The flow / gate / key parameters: ONE table, and the validated settings built from it.

Names are dotted (`flow.strength`); a controller address is the name with dots as slashes
(`/livedream/param/flow/strength`). Each `FlowSettings` field is the name with dots as
underscores, and takes its default from the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from livedream.params import Param, Value, validate_params

KEY_MODES = ("off", "luma", "chroma")

#: Show-level parameters of live input that moves (flags, numbers, the key mode).
FLOW_PARAMS: dict[str, Param] = {
    "flow": Param(False, doc="warp the feedback buffer by the live source's optical flow, so "
                  "dreamed features move with the scene"),
    "flow.strength": Param(1.0, 0.0, 2.0, doc="multiplier of the flow displacement "
                           "(1 = follow the scene exactly, 0 = no warp)"),
    "flow.scale": Param(0.5, 0.1, 1.0, doc="resolution of the flow estimate relative to the frame "
                        "(lower is cheaper and smoother)"),
    "gate": Param(False, doc="motion gate: where the scene moves the source shows through, where "
                  "it is still the dream takes over"),
    "gate.threshold": Param(1.0, 0.05, 20.0, log=True, doc="flow magnitude (frame pixels per "
                            "source frame) at which the source fully shows through"),
    "gate.decay": Param(0.9, 0.0, 0.999, doc="per-frame retention of the motion mask (0 = the "
                        "mask follows motion instantly; near 1 = motion trails linger)"),
    "source.key": Param("off", choices=KEY_MODES, doc="key mix of the source: 'luma' lets "
                        "bright source pixels through, 'chroma' dreams on green-screen pixels"),
    "source.key_level": Param(0.5, 0.0, 1.0, doc="key threshold: luma above it shows the "
                              "source; for chroma, greenness above it is dreamed on"),
}


def field_name(name: str) -> str:
    """'gate.threshold' -> 'gate_threshold' (the FlowSettings attribute)."""
    return name.replace(".", "_")


@dataclass(frozen=True)
class FlowSettings:
    """Validated values of FLOW_PARAMS (see the table for meaning and ranges)."""

    flow: bool = FLOW_PARAMS["flow"].default  # type: ignore[assignment]
    flow_strength: float = FLOW_PARAMS["flow.strength"].default  # type: ignore[assignment]
    flow_scale: float = FLOW_PARAMS["flow.scale"].default  # type: ignore[assignment]
    gate: bool = FLOW_PARAMS["gate"].default  # type: ignore[assignment]
    gate_threshold: float = FLOW_PARAMS["gate.threshold"].default  # type: ignore[assignment]
    gate_decay: float = FLOW_PARAMS["gate.decay"].default  # type: ignore[assignment]
    source_key: str = FLOW_PARAMS["source.key"].default  # type: ignore[assignment]
    source_key_level: float = FLOW_PARAMS["source.key_level"].default  # type: ignore[assignment]

    @classmethod
    def from_mapping(cls, values: dict[str, Any], where: str = "flow") -> FlowSettings:
        """Settings from dotted names (`{"flow.strength": 0.8}`), validated against the table."""
        checked = validate_params(FLOW_PARAMS, values, where)
        return cls(**{field_name(k): v for k, v in checked.items()})

    def with_param(self, name: str, value: Any) -> FlowSettings:
        """A copy with one dotted parameter set (validated; ParamError names the allowed range)."""
        checked = validate_params(FLOW_PARAMS, {name: value}, "flow")
        return replace(self, **{field_name(name): checked[name]})

    def get(self, name: str) -> Value:
        """The value of a dotted parameter name."""
        if name not in FLOW_PARAMS:
            raise KeyError(name)
        return getattr(self, field_name(name))

    def as_mapping(self) -> dict[str, Value]:
        """Dotted name -> value for every parameter (for state dumps and presets)."""
        return {name: getattr(self, field_name(name)) for name in FLOW_PARAMS}

    @property
    def needs_flow(self) -> bool:
        """Whether the source thread must estimate flow (the warp or the motion gate uses it)."""
        return bool(self.flow or self.gate)
