"""A *look*: everything that defines what the show renders (model, layers, dream settings, chain).

Presets are named looks; the live `State` holds one look plus runtime flags. Looks are immutable
so the render loop can swap them atomically between frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from livedream.params import Param, Value, validate_params
from livedream.tempo.modulators import Modulator

#: Dream-step parameters, with ranges, shared by presets, OSC `/livedream/param/<name>` and MIDI.
DREAM_PARAMS: dict[str, Param] = {
    "step_size": Param(1.5, 0.0, 20.0, doc="gradient step in 0..255 pixel units (notebook: 1.5)"),
    "iterations": Param(1, 0, 50, doc="gradient steps per frame (live: 1-2; offline: 10)"),
    "jitter": Param(32, 0, 128, doc="random roll in pixels before each step, rolled back after"),
    "octaves": Param(1, 1, 8, doc="octave pyramid levels (1 = single octave, for live)"),
    "octave_scale": Param(1.4, 1.05, 2.0, doc="scale between octaves"),
    "channel": Param(-1, -1, 4095, doc="dream one feature map of the layer; -1 = all channels"),
    "lap_levels": Param(0, 0, 8, doc="smooth the gradient over this many Laplacian-pyramid "
                        "bands (0 = off; 4 = the TF tutorial's lap_normalize, no live stripes)"),
}


@dataclass(frozen=True)
class ChainLink:
    """One transform of the feedback chain: registry name plus validated parameter overrides."""

    name: str
    params: dict[str, Value] = field(default_factory=dict)
    enabled: bool = True

    def with_param(self, key: str, value: Value) -> ChainLink:
        return replace(self, params={**self.params, key: value})


@dataclass(frozen=True)
class DreamSettings:
    """Validated dream-step parameters (see DREAM_PARAMS for meaning and ranges)."""

    step_size: float = 1.5
    iterations: int = 1
    jitter: int = 32
    octaves: int = 1
    octave_scale: float = 1.4
    channel: int = -1
    lap_levels: int = 0

    @classmethod
    def from_mapping(cls, values: dict[str, Any], where: str = "dream") -> DreamSettings:
        return cls(**validate_params(DREAM_PARAMS, values, where))  # type: ignore[arg-type]

    def with_param(self, key: str, value: Any) -> DreamSettings:
        return replace(self, **validate_params(DREAM_PARAMS, {key: value}, "dream"))


@dataclass(frozen=True)
class Look:
    """What to render: model (built-in name or prototxt path), layers, dream settings, chain."""

    model: str = "vgg16"
    weights: str | None = None
    layers: tuple[str, ...] = ("conv4_3",)
    dream: DreamSettings = DreamSettings()
    chain: tuple[ChainLink, ...] = (ChainLink("zoom", {"scale": 0.05}),)
    guide: str | None = None  # optional guide image path (dream towards its features)
    name: str = "default"
    modulators: tuple[Modulator, ...] = ()  # LFOs / envelopes / audio followers (tempo pkg)
    #: show settings a preset sets when it is loaded ((key, value) pairs, see
    #: `livedream.state.check_show_setting`): flow / gate on or off, source mix, flow.* params
    show: tuple[tuple[str, Any], ...] = ()
