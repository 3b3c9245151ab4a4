"""Modulators: what moves a parameter by itself - LFOs on the beat, a beat envelope, the music.

A `Modulator` names a target parameter (any name `resolve_param` accepts: `step_size`,
`zoom.scale`, `0.angle`), a source and a depth in *normalised* units of the target's range:

- LFOs `sine`, `triangle`, `saw`, `square`, `sample_hold`: bipolar (-1..1), one cycle every
  `rate` beats (1/4 .. 16), offset by `phase` cycles; sample-and-hold jumps to a new seeded
  random level each cycle.
- `envelope`: unipolar (0..1) attack / decay (in beats) restarting every `rate` beats.
- audio features `rms`, `onset`, `beat`, `low`, `lowmid`, `highmid`, `high`: unipolar (0..1).

`signal(mod, beat, features)` is pure; `livedream.tempo.modulate` applies signals to a look.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, fields, replace
from typing import Any

from livedream.audio.features import FEATURE_NAMES, AudioFeatures
from livedream.errors import LivedreamError, ParamError
from livedream.params import Param

LFO_SHAPES = ("sine", "triangle", "saw", "square", "sample_hold")
MOD_SOURCES = (*LFO_SHAPES, "envelope", *FEATURE_NAMES)
MAX_MODULATORS = 16
MOD_INDEX = Param(0, 0, MAX_MODULATORS - 1, doc="a modulator's position in the look's list")

#: the fields of a modulator besides `target`, as presets, OSC /livedream/mod/<n>/<field> see them
MOD_PARAMS: dict[str, Param] = {
    "source": Param("sine", choices=MOD_SOURCES, doc="LFO shape, envelope or audio feature"),
    "rate": Param(1.0, 0.25, 16.0, log=True, doc="beats per LFO cycle / envelope restart"),
    "depth": Param(0.25, -1.0, 1.0, doc="swing in normalised units of the target's range"),
    "phase": Param(0.0, 0.0, 1.0, doc="LFO phase offset in cycles"),
    "attack": Param(0.05, 0.0, 4.0, doc="envelope rise time in beats"),
    "decay": Param(0.5, 0.01, 16.0, log=True, doc="envelope fall time in beats"),
    "seed": Param(0, 0, 2**31 - 1, doc="sample-and-hold random sequence"),
    "enabled": Param(True, doc="off = the modulator is kept but does nothing"),
}
MOD_KEYS = ("target", *MOD_PARAMS)


@dataclass(frozen=True)
class Modulator:
    """One modulation: target parameter name plus the MOD_PARAMS fields (validated)."""

    target: str
    source: str = "sine"
    rate: float = 1.0
    depth: float = 0.25
    phase: float = 0.0
    attack: float = 0.05
    decay: float = 0.5
    seed: int = 0
    enabled: bool = True

    @property
    def bipolar(self) -> bool:
        return self.source in LFO_SHAPES

    def with_field(self, key: str, value: Any) -> Modulator:
        """A copy with one field changed (validated), for live edits over OSC."""
        if key == "target":
            if not isinstance(value, str) or not value.strip():
                raise ParamError(f"modulator target: expected a parameter name, got {value!r}")
            return replace(self, target=value)
        if key not in MOD_PARAMS:
            raise ParamError(f"modulator: unknown field {key!r}; valid: {', '.join(MOD_KEYS)}")
        return replace(self, **{key: MOD_PARAMS[key].validate(value, f"modulator {key}")})


def parse_modulator(data: dict[str, Any], where: str = "modulate") -> Modulator:
    """Validate a mapping (a preset's [[modulate]] table) into a Modulator; ParamError names
    `where` and the key. The target's existence is checked against a look by the caller."""
    if not isinstance(data, dict):
        raise ParamError(f"{where}: expected a table, got {data!r}")
    if "target" not in data:
        raise ParamError(f"{where}.target: missing (the parameter to modulate, e.g. step_size)")
    mod = Modulator(target="")
    for key in data:
        if key not in MOD_KEYS:
            raise ParamError(f"{where}.{key}: unknown key; valid: {', '.join(MOD_KEYS)}")
    for key, raw in data.items():
        try:
            mod = mod.with_field(key, raw)
        except LivedreamError as exc:
            raise ParamError(f"{where}.{key}: {exc}") from None
    return mod


def modulator_fields(mod: Modulator) -> dict[str, Any]:
    """The modulator as a plain mapping (state dumps, echo)."""
    return {f.name: getattr(mod, f.name) for f in fields(mod)}


def _held(seed: int, cycle: int) -> float:
    """A repeatable pseudo-random level in -1..1 for one sample-and-hold cycle."""
    h = zlib.crc32(f"{seed}:{cycle}".encode())
    return h / 0xFFFFFFFF * 2.0 - 1.0


def lfo(shape: str, cycles: float, seed: int = 0) -> float:
    """An LFO's value (-1..1) after `cycles` cycles (the fractional part is the phase)."""
    x = cycles - math.floor(cycles)
    if shape == "sine":
        return math.sin(2.0 * math.pi * x)
    if shape == "triangle":  # starts at 0 rising, like the sine
        return 1.0 - abs(4.0 * ((x + 0.25) % 1.0) - 2.0)
    if shape == "saw":
        return 2.0 * x - 1.0
    if shape == "square":
        return 1.0 if x < 0.5 else -1.0
    if shape == "sample_hold":
        return _held(seed, math.floor(cycles))
    raise ParamError(f"unknown LFO shape {shape!r}; valid: {', '.join(LFO_SHAPES)}")


def envelope(beats_since: float, attack: float, decay: float) -> float:
    """Attack / decay envelope (0..1) `beats_since` beats after its trigger: linear rise over
    `attack` beats, exponential fall with time constant `decay` beats."""
    if beats_since < 0:
        return 0.0
    if beats_since < attack:
        return beats_since / attack
    return math.exp(-(beats_since - attack) / decay)


def signal(mod: Modulator, beat: float, features: AudioFeatures | None = None) -> float:
    """The modulator's raw signal at beat position `beat`: -1..1 for LFOs, 0..1 otherwise."""
    if mod.source in LFO_SHAPES:
        return lfo(mod.source, beat / mod.rate + mod.phase, mod.seed)
    if mod.source == "envelope":
        return envelope(beat % mod.rate, mod.attack, mod.decay)
    if features is None:
        return 0.0
    return min(1.0, max(0.0, features.value(mod.source)))
