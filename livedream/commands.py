"""The command vocabulary: every change a controller, a preset, the tempo or a modulator can ask of
the show, as plain frozen dataclasses, plus the names controllers use for them.

One definition each:
- `FLAGS`: control name -> boolean `State` field (`pause` -> `paused`), used by OSC addresses,
  MIDI note commands and keys;
- `TRIGGERS`: trigger name -> command (`preset/next`, `layer/prev`, `reset`, ...), used alike;
- `coalesce_key(command)`: which target a *value* command sets (the queue keeps only the latest per
  target between two drains); None for *triggers*, which keep their order and their count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


class Command:
    """Base class of all commands (plain frozen dataclasses)."""


@dataclass(frozen=True)
class SetLayer(Command):
    layer: str


@dataclass(frozen=True)
class SetLayers(Command):
    layers: tuple[str, ...]


@dataclass(frozen=True)
class StepLayer(Command):
    delta: int = 1


@dataclass(frozen=True)
class SetTransform(Command):
    """Replace the whole chain with one transform at its default parameters."""

    name: str


@dataclass(frozen=True)
class SetChain(Command):
    names: tuple[str, ...]


@dataclass(frozen=True)
class ToggleTransform(Command):
    """Enable/disable a transform of the chain; append it (enabled) when absent."""

    name: str


@dataclass(frozen=True)
class SetParam(Command):
    """Set a parameter by name (see `livedream.paramnames`); `normalized` maps 0..1 onto its
    range."""

    name: str
    value: Any
    normalized: bool = False


@dataclass(frozen=True)
class LoadPreset(Command):
    name: str


@dataclass(frozen=True)
class StepPreset(Command):
    delta: int = 1


@dataclass(frozen=True)
class SetModel(Command):
    name: str
    weights: str | None = None
    layer: str | None = None


@dataclass(frozen=True)
class SetFlag(Command):
    """Set (True/False) or toggle (None) a boolean flag of the state (see `FLAG_FIELDS`)."""

    flag: str
    value: bool | None = None


@dataclass(frozen=True)
class SetSourceMix(Command):
    value: float


@dataclass(frozen=True)
class SetEase(Command):
    seconds: float


@dataclass(frozen=True)
class Reset(Command):
    pass


@dataclass(frozen=True)
class LearnMidi(Command):
    """Arm MIDI learn for a parameter (the next CC moved is bound to it); None disarms."""

    param: str | None


@dataclass(frozen=True)
class Quit(Command):
    pass


@dataclass(frozen=True)
class QueryState(Command):
    """Change nothing; the reply receives the current state (OSC `/livedream/state` dump)."""


@dataclass(frozen=True)
class SetTempo(Command):
    """Set the show's tempo (BPM); with Ableton Link it is proposed to the session."""

    bpm: float


@dataclass(frozen=True)
class TapTempo(Command):
    """One tap of tap tempo, stamped (monotonic seconds) when the controller sent it."""

    at: float = field(default_factory=time.monotonic, compare=False)  # every tap is "a tap"


@dataclass(frozen=True)
class ResyncTempo(Command):
    """Put the downbeat (beat 1 of a bar) here, now."""


@dataclass(frozen=True)
class SetQuantize(Command):
    """Quantise look switches to `off`, `beat`, `bar`, `2bars` or `4bars`."""

    mode: str


@dataclass(frozen=True)
class SetModulator(Command):
    """Set one field of modulator `index` (appending a new one at index == count)."""

    index: int
    field: str
    value: Any


@dataclass(frozen=True)
class ClearModulator(Command):
    """Remove modulator `index` (None: all of them)."""

    index: int | None = None


# --- controller vocabulary ----------------------------------------------------------------------
#: control name (OSC address, MIDI note command, key) -> the boolean State field it switches
FLAGS: dict[str, str] = {
    "pause": "paused",
    "record": "recording",
    "overlay": "overlay",
    "fullscreen": "fullscreen",
    "flow": "flow",  # livedream.flow: dreams follow the source's optical flow
    "gate": "gate",  # livedream.flow: the motion gate
}

#: the boolean State fields a SetFlag may switch
FLAG_FIELDS: tuple[str, ...] = tuple(FLAGS.values())

#: trigger name -> the command it fires (OSC `/livedream/<name>`, MIDI note `command = "<name>"`)
TRIGGERS: dict[str, Callable[[], Command]] = {
    "preset/next": lambda: StepPreset(1),
    "preset/prev": lambda: StepPreset(-1),
    "layer/next": lambda: StepLayer(1),
    "layer/prev": lambda: StepLayer(-1),
    "reset": Reset,
    "tempo/tap": TapTempo,
    "tempo/resync": ResyncTempo,
}


def flag_command(control_name: str, value: bool | None = None) -> SetFlag:
    """SetFlag for a control name of `FLAGS` (KeyError for other names)."""
    return SetFlag(FLAGS[control_name], value)


# --- coalescing ---------------------------------------------------------------------------------
def coalesce_key(command: Command, origin: str = "") -> Hashable | None:
    """The target a value command sets, or None for a trigger.

    Two value commands with the same key set the same thing, so only the later one matters when
    both wait in the queue. Toggles, steps, resets and quit are triggers: each one counts.
    `QueryState` is keyed per origin (one `/state` reply burst per client per drain).
    """
    match command:
        case SetParam(name=name):
            return ("param", name)
        case SetLayer() | SetLayers():
            return ("layers",)
        case SetTransform() | SetChain():
            return ("chain",)
        case LoadPreset():
            return ("preset",)
        case SetModel():
            return ("model",)
        case SetFlag(flag=flag, value=value) if value is not None:
            return ("flag", flag)
        case SetSourceMix():
            return ("source_mix",)
        case SetEase():
            return ("ease",)
        case LearnMidi():
            return ("midi_learn",)
        case QueryState():
            return ("query", origin)
        case SetTempo():
            return ("tempo",)
        case SetQuantize():
            return ("quantize",)
        case SetModulator(index=index, field=name):
            return ("modulator", index, name)
    return None


def is_switch(command: Command) -> bool:
    """Look switches (preset, transform, chain, layer), which --quantize holds to the beat;
    parameter moves and everything else stay immediate."""
    return isinstance(command, LoadPreset | StepPreset | SetTransform | SetChain
                      | ToggleTransform | SetLayer | SetLayers | StepLayer)
