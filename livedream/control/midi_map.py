"""MIDI control: CC knobs scaled onto parameters, notes as triggers, MIDI learn, LED-ring echo.

A `MidiMap` is loaded from TOML (see controllers/midi-map.toml):

    [[cc]]                 # a knob or fader
    channel = 1            # 1..16 as printed on controllers; omit for any channel
    control = 21           # CC number 0..127
    param = "step_size"    # any name /livedream/param/<name> accepts (zoom.scale, 0.scale, scale)
    min = 0.5              # optional, in the parameter's own units (default: its full range)
    max = 6.0
    curve = "linear"       # linear | square (fine control low) | log (needs min, max > 0)

    [[note]]               # a pad or key (note-on with velocity > 0 fires)
    note = 36
    command = "toggle"     # see NOTE_COMMANDS
    transform = "sobel"    # for toggle / transform; preset = "name" for preset

The bindings and the TOML file format; `livedream.control.midi` is the adapter that uses them.
"""

from __future__ import annotations

import logging
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livedream.commands import (
    FLAGS,
    TRIGGERS,
    Command,
    LoadPreset,
    SetParam,
    SetTransform,
    ToggleTransform,
    flag_command,
)
from livedream.errors import LivedreamError
from livedream.paramnames import param_spec, param_value, resolve_param
from livedream.params import Param
from livedream.state import State
from livedream.transforms.registry import get_transform

log = logging.getLogger("livedream.midi")

CURVES = ("linear", "square", "log")
#: what a pad can do: every trigger and flag of the vocabulary, plus three that take a name
NOTE_COMMANDS = (*TRIGGERS, "toggle", "transform", "preset", *FLAGS)
_CC_KEYS = ("channel", "control", "param", "min", "max", "curve")
_NOTE_KEYS = ("channel", "note", "command", "transform", "preset")


class MidiMapError(LivedreamError):
    """A MIDI map file (or a learn request) is invalid; the message names the file and key."""


@dataclass(frozen=True)
class CcBinding:
    """One control change bound to a parameter, scaled from 0..127 onto [min, max]."""

    control: int
    param: str
    channel: int | None = None  # 1..16; None = any
    min: float | int | None = None
    max: float | int | None = None
    curve: str = "linear"

    def matches(self, channel0: int, control: int) -> bool:
        return control == self.control and self.channel in (None, channel0 + 1)

    @property
    def range(self) -> Param | None:
        """The knob's own [min, max] range as a Param (its mapping, log or linear, is the one
        every control surface uses); None when the binding spans the parameter's whole range."""
        if self.min is None or self.max is None:
            return None
        return Param(self.min, self.min, self.max, log=self.curve == "log")

    def command(self, value: int) -> SetParam:
        """SetParam for a CC value: 0 gives min, 127 gives max (or the param's whole range)."""
        x = min(1.0, max(0.0, value / 127.0))
        x = x * x if self.curve == "square" else x
        knob = self.range
        if knob is None:
            return SetParam(self.param, x, normalized=True)
        return SetParam(self.param, knob.from_normalized(x, self.param))

    def cc_value(self, state: State) -> int:
        """Inverse of `command`: the CC value showing the parameter's current value (LED rings)."""
        value = param_value(state.look, self.param, state.settings)
        knob = self.range or resolve_param(state.look, self.param)[2]
        x = knob.to_normalized(value)
        x = math.sqrt(x) if self.curve == "square" else x
        return int(round(min(1.0, max(0.0, x)) * 127))


@dataclass(frozen=True)
class NoteBinding:
    """One note bound to a trigger command."""

    note: int
    command: str
    channel: int | None = None
    transform: str | None = None
    preset: str | None = None

    def matches(self, channel0: int, note: int) -> bool:
        return note == self.note and self.channel in (None, channel0 + 1)

    def to_command(self) -> Command:
        match self.command:
            case "toggle":
                return ToggleTransform(str(self.transform))
            case "transform":
                return SetTransform(str(self.transform))
            case "preset":
                return LoadPreset(str(self.preset))
        if self.command in TRIGGERS:
            return TRIGGERS[self.command]()
        return flag_command(self.command)

    def lit(self, state: State) -> bool | None:
        """Whether the pad's LED should be on after the command; None for plain triggers."""
        if self.command in FLAGS:
            return bool(getattr(state, FLAGS[self.command]))
        if self.command == "toggle":
            return any(k.name == self.transform and k.enabled for k in state.look.chain)
        return None


# --- validation ---------------------------------------------------------------------------------
def _int(where: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise MidiMapError(f"{where}: expected an integer in {lo}..{hi}, got {value!r}")
    return value


def _number(where: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MidiMapError(f"{where}: expected a finite number, got {value!r}")
    return value


def _check_keys(
    where: str, table: Any, allowed: tuple[str, ...], required: tuple[str, ...]
) -> None:
    if not isinstance(table, dict):
        raise MidiMapError(f"{where}: expected a table, got {table!r}")
    for key in table:
        if key not in allowed:
            raise MidiMapError(f"{where}: unknown key {key!r}; valid: {', '.join(allowed)}")
    for key in required:
        if key not in table:
            raise MidiMapError(f"{where}: missing key {key!r}")


def make_cc(
    where: str,
    control: Any,
    param: Any,
    channel: Any = None,
    min: Any = None,
    max: Any = None,
    curve: Any = "linear",
) -> CcBinding:
    """A validated CcBinding; errors name `where` (file and key)."""
    control = _int(f"{where}.control", control, 0, 127)
    channel = None if channel is None else _int(f"{where}.channel", channel, 1, 16)
    if not isinstance(param, str) or not param:
        raise MidiMapError(f"{where}.param: expected a parameter name, got {param!r}")
    try:
        spec = param_spec(param)
    except LivedreamError as exc:
        raise MidiMapError(f"{where}.param: {exc}") from None
    if curve not in CURVES:
        raise MidiMapError(f"{where}.curve: expected one of {', '.join(CURVES)}, got {curve!r}")
    if (min is None) != (max is None):
        raise MidiMapError(f"{where}: give both min and max, or neither (the full range)")
    if min is not None:
        lo, hi = _number(f"{where}.min", min), _number(f"{where}.max", max)
        if spec is not None:
            if spec.kind not in (int, float) or spec.choices is not None:
                raise MidiMapError(f"{where}: min/max only apply to numeric parameters; "
                                   f"{param} is {spec.describe()}")
            for key, v in (("min", lo), ("max", hi)):
                try:
                    spec.validate(v, f"{where}.{key}")
                except LivedreamError as exc:
                    raise MidiMapError(str(exc)) from None
            if spec.kind is int:
                lo, hi = int(lo), int(hi)
        if curve == "log" and not (lo > 0 and hi > 0):
            raise MidiMapError(f"{where}.curve: 'log' needs min and max > 0")
        min, max = lo, hi
    elif curve == "log":
        raise MidiMapError(f"{where}.curve: 'log' needs min and max (both > 0)")
    return CcBinding(control, param, channel, min, max, curve)


def make_note(
    where: str,
    note: Any,
    command: Any,
    channel: Any = None,
    transform: Any = None,
    preset: Any = None,
) -> NoteBinding:
    """A validated NoteBinding; errors name `where` (file and key)."""
    note = _int(f"{where}.note", note, 0, 127)
    channel = None if channel is None else _int(f"{where}.channel", channel, 1, 16)
    if command not in NOTE_COMMANDS:
        raise MidiMapError(f"{where}.command: expected one of {', '.join(NOTE_COMMANDS)}, "
                           f"got {command!r}")
    needs = {"toggle": "transform", "transform": "transform", "preset": "preset"}.get(command)
    for key, value in (("transform", transform), ("preset", preset)):
        if key == needs:
            if not isinstance(value, str) or not value:
                raise MidiMapError(f"{where}.{key}: command {command!r} needs a {key} name")
        elif value is not None:
            raise MidiMapError(f"{where}.{key}: not used by command {command!r}")
    if needs == "transform":
        try:
            get_transform(transform)
        except LivedreamError as exc:
            raise MidiMapError(f"{where}.transform: {exc}") from None
    return NoteBinding(note, command, channel, transform, preset)


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'
    return repr(value)


@dataclass
class MidiMap:
    """CC and note bindings; `load`/`save` read and write the TOML format above."""

    cc: list[CcBinding] = field(default_factory=list)
    notes: list[NoteBinding] = field(default_factory=list)

    @classmethod
    def loads(cls, text: str, where: str = "<midi map>") -> MidiMap:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MidiMapError(f"{where}: not valid TOML: {exc}") from None
        for key in data:
            if key not in ("cc", "note"):
                raise MidiMapError(f"{where}: unknown key {key!r}; valid: cc, note")
        tables: dict[str, list[Any]] = {}
        for key in ("cc", "note"):
            value = data.get(key, [])
            if not isinstance(value, list):
                raise MidiMapError(f"{where}: {key} must be an array of tables ([[{key}]])")
            tables[key] = value
        cc = []
        for i, table in enumerate(tables["cc"]):
            at = f"{where}: cc[{i}]"
            _check_keys(at, table, _CC_KEYS, ("control", "param"))
            cc.append(make_cc(at, **table))
        notes = []
        for i, table in enumerate(tables["note"]):
            at = f"{where}: note[{i}]"
            _check_keys(at, table, _NOTE_KEYS, ("note", "command"))
            notes.append(make_note(at, **table))
        return cls(cc, notes)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MidiMap:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MidiMapError(f"{path}: cannot read MIDI map: {exc}") from None
        return cls.loads(text, str(path))

    def dumps(self) -> str:
        """The map as TOML (what `loads` reads back)."""
        lines = ["# livedream MIDI map (channels 1..16; min/max in the parameter's units)"]
        for binding in self.cc:
            lines += ["", "[[cc]]"]
            for key in _CC_KEYS:
                value = getattr(binding, key)
                if value is not None and not (key == "curve" and value == "linear"):
                    lines.append(f"{key} = {_toml_value(value)}")
        for note in self.notes:
            lines += ["", "[[note]]"]
            for key in _NOTE_KEYS:
                value = getattr(note, key)
                if value is not None:
                    lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the map atomically (a crash mid-write leaves the old file)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(self.dumps(), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise MidiMapError(f"{path}: cannot write MIDI map: {exc}") from None
