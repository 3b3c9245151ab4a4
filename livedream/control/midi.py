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

`MidiControl` turns mido messages (from a port callback, or raw bytes through `feed`) into
commands on the CommandQueue. It never raises: bad input is logged, rate-limited.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import mido

from livedream.command_queue import CommandQueue
from livedream.commands import (
    Command,
    LearnMidi,
    LoadPreset,
    Reset,
    SetFlag,
    SetParam,
    SetTransform,
    StepLayer,
    StepPreset,
    ToggleTransform,
)
from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError, UnknownNameError
from livedream.look import DREAM_PARAMS
from livedream.paramnames import param_value, resolve_param
from livedream.params import Param
from livedream.state import State

log = logging.getLogger("livedream.midi")

CURVES = ("linear", "square", "log")
NOTE_COMMANDS = ("preset/next", "preset/prev", "layer/next", "layer/prev", "toggle", "transform",
                 "preset", "pause", "record", "overlay", "fullscreen", "reset")
_FLAG_OF_COMMAND = {"pause": "paused", "record": "recording", "overlay": "overlay",
                    "fullscreen": "fullscreen"}
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

    def _shape(self, x: float) -> float:
        return x * x if self.curve == "square" else x

    def command(self, value: int) -> SetParam:
        """SetParam for a CC value: 0 gives min, 127 gives max (or the param's whole range)."""
        x = min(1.0, max(0.0, value / 127.0))
        if self.min is None or self.max is None:
            return SetParam(self.param, self._shape(x), normalized=True)
        if self.curve == "log":
            raw = self.min * (self.max / self.min) ** x
        else:
            raw = self.min + self._shape(x) * (self.max - self.min)
        if isinstance(self.min, int) and isinstance(self.max, int):
            raw = int(round(raw))
        return SetParam(self.param, raw)

    def cc_value(self, state: State) -> int:
        """Inverse of `command`: the CC value showing the parameter's current value (LED rings)."""
        value = param_value(state.look, self.param)
        if self.min is None or self.max is None:
            _, _, spec = resolve_param(state.look, self.param)
            x = spec.to_normalized(value)
            x = math.sqrt(x) if self.curve == "square" else x
        elif self.max == self.min:
            x = 0.0
        elif self.curve == "log":
            v = max(float(value), min(self.min, self.max))  # type: ignore[arg-type]
            x = math.log(v / self.min) / math.log(self.max / self.min)
        else:
            x = (float(value) - self.min) / (self.max - self.min)  # type: ignore[arg-type]
            x = math.sqrt(max(0.0, x)) if self.curve == "square" else x
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
            case "preset/next" | "preset/prev":
                return StepPreset(1 if self.command.endswith("next") else -1)
            case "layer/next" | "layer/prev":
                return StepLayer(1 if self.command.endswith("next") else -1)
            case "toggle":
                return ToggleTransform(str(self.transform))
            case "transform":
                return SetTransform(str(self.transform))
            case "preset":
                return LoadPreset(str(self.preset))
            case "reset":
                return Reset()
        return SetFlag(_FLAG_OF_COMMAND[self.command])

    def lit(self, state: State) -> bool | None:
        """Whether the pad's LED should be on after the command; None for plain triggers."""
        if self.command in _FLAG_OF_COMMAND:
            return bool(getattr(state, _FLAG_OF_COMMAND[self.command]))
        if self.command == "toggle":
            return any(k.name == self.transform and k.enabled for k in state.look.chain)
        return None


# --- validation ---------------------------------------------------------------------------------
def param_spec(name: str) -> Param | None:
    """The Param a name refers to when that is knowable without a look (None if chain-dependent).

    Raises UnknownNameError when no transform or dream parameter could ever match the name.
    """
    from livedream.transforms import get_transform, transform_names

    if name in DREAM_PARAMS:
        return DREAM_PARAMS[name]
    head, _, key = name.rpartition(".")
    if head and not head.isdigit():
        params = get_transform(head).params
        if key not in params:
            raise UnknownNameError(f"parameter of transform {head!r}", key, sorted(params))
        return params[key]
    specs = [get_transform(t).params[key] for t in transform_names()
             if key in get_transform(t).params]
    if not specs:
        valid = list(DREAM_PARAMS) + sorted({f"{t}.{p}" for t in transform_names()
                                             for p in get_transform(t).params})
        raise UnknownNameError("parameter", name, valid)
    return specs[0] if len(specs) == 1 and not head else None


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
        from livedream.transforms import get_transform

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


# --- raw bytes ----------------------------------------------------------------------------------
_DATA_BYTES = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}


class RunningStatus:
    """Re-insert omitted status bytes (MIDI running status), which mido's parser does not do."""

    def __init__(self) -> None:
        self.status = 0
        self.have = 0
        self.in_sysex = False

    def expand(self, data: Iterable[int]) -> bytearray:
        out = bytearray()
        for byte in data:
            if byte >= 0xF8:  # real-time: may appear anywhere, changes nothing
                out.append(byte)
            elif byte >= 0x80:
                self.in_sysex = byte == 0xF0
                self.status = byte if byte < 0xF0 else 0  # system common cancels running status
                self.have = 0
                out.append(byte)
            elif self.status and not self.in_sysex:
                if self.have == _DATA_BYTES[self.status >> 4]:
                    out.append(self.status)
                    self.have = 0
                out.append(byte)
                self.have += 1
            else:
                out.append(byte)
        return out


# --- the adapter --------------------------------------------------------------------------------
class MidiControl:
    """MIDI messages in, commands queued, LED/fader values echoed to `output`; never raises."""

    def __init__(
        self,
        queue: CommandQueue,
        midi_map: MidiMap | None = None,
        output: Any = None,
        log_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.map = midi_map if midi_map is not None else MidiMap()
        self.output = output
        self.log = RateLimitedLog(log, log_interval, clock)
        self.accepted = 0
        self._armed: CcBinding | None = None
        self._lock = threading.Lock()
        self._parser = mido.Parser()
        self._running = RunningStatus()
        self.learn_path: str | os.PathLike[str] | None = None  # where learned maps are saved

    def on_state(self, old: State, new: State) -> None:
        """Render-loop observer: follow `State.midi_learn` (armed over OSC or any controller)."""
        if new.midi_learn == old.midi_learn or new.midi_learn == self.armed:
            return
        if new.midi_learn is None:
            self.disarm()
        else:
            self.arm(new.midi_learn)

    # learn
    def arm(self, param: str, min: float | None = None, max: float | None = None,
            curve: str = "linear") -> None:
        """MIDI learn: the next CC moved is bound to `param` (replacing that knob's old binding)."""
        self._armed = make_cc(f"learn {param}", 0, param, None, min, max, curve)
        log.info("MIDI learn: move a control to bind it to %s", param)

    def disarm(self) -> None:
        self._armed = None

    @property
    def armed(self) -> str | None:
        return self._armed.param if self._armed is not None else None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the current map (learned bindings included) as TOML."""
        with self._lock:
            midi_map = MidiMap(list(self.map.cc), list(self.map.notes))
        midi_map.save(path)

    # input
    def feed(self, data: bytes) -> None:
        """Raw MIDI bytes (running status, sysex and garbage allowed) through mido's parser."""
        try:
            self._parser.feed(self._running.expand(bytes(data)))
            for msg in self._parser:
                self.handle(msg)
        except Exception as exc:
            self.log.log("bad midi bytes", f"{type(exc).__name__}: {exc}")

    def handle(self, msg: mido.Message) -> None:
        """One mido message (e.g. a port callback)."""
        try:
            if msg.type == "control_change":
                self._control_change(msg)
            elif msg.type == "note_on" and msg.velocity > 0:
                self._note_on(msg)
        except Exception as exc:  # the show must go on whatever arrives
            self.log.log("internal error", f"{msg!r}: {type(exc).__name__}: {exc}", logging.ERROR)

    def _learned(self) -> None:
        """A binding was learned: save the map (when a path is set) and disarm the show state."""
        if self.learn_path is not None:
            midi_map = MidiMap(list(self.map.cc), list(self.map.notes))
            midi_map.save(self.learn_path)
            log.info("MIDI learn: map saved to %s", self.learn_path)
        self.queue.put(LearnMidi(None), origin="midi learn")

    def _control_change(self, msg: mido.Message) -> None:
        with self._lock:
            if self._armed is not None:
                learned = replace(self._armed, channel=msg.channel + 1, control=msg.control)
                self.map.cc = [b for b in self.map.cc
                               if not b.matches(msg.channel, msg.control)] + [learned]
                self._armed = None
                log.info("MIDI learn: channel %d CC %d -> %s", msg.channel + 1, msg.control,
                         learned.param)
                self._learned()
            bindings = [b for b in self.map.cc if b.matches(msg.channel, msg.control)]
        if not bindings:
            self.log.log("unmapped control", f"channel {msg.channel + 1} CC {msg.control}",
                         logging.DEBUG)
        for binding in bindings:
            reply = self._echo_cc(binding, msg.channel) if self.output is not None else None
            self._put(binding.command(msg.value), reply, f"midi cc {msg.control}")

    def _note_on(self, msg: mido.Message) -> None:
        with self._lock:
            bindings = [b for b in self.map.notes if b.matches(msg.channel, msg.note)]
        if not bindings:
            self.log.log("unmapped note", f"channel {msg.channel + 1} note {msg.note}",
                         logging.DEBUG)
        for binding in bindings:
            reply = self._echo_note(binding, msg.channel) if self.output is not None else None
            self._put(binding.to_command(), reply, f"midi note {msg.note}")

    def _put(self, command: Command, reply: Callable[[State], None] | None, origin: str) -> None:
        if self.queue.put(command, reply=reply, origin=origin):
            self.accepted += 1
        else:
            self.log.log("queue full", f"dropped {origin} (render loop is behind)")

    # echo
    def _send(self, msg: mido.Message) -> None:
        try:
            self.output.send(msg)
        except Exception as exc:  # an unplugged controller must not disturb the render loop
            self.log.log("echo failed", f"{type(exc).__name__}: {exc}")

    def _echo_cc(self, binding: CcBinding, channel0: int) -> Callable[[State], None]:
        def reply(state: State) -> None:
            try:
                value = binding.cc_value(state)
            except LivedreamError as exc:
                self.log.log("echo failed", str(exc))
                return
            self._send(mido.Message("control_change", channel=channel0,
                                    control=binding.control, value=value))

        return reply

    def _echo_note(self, binding: NoteBinding, channel0: int) -> Callable[[State], None]:
        def reply(state: State) -> None:
            lit = binding.lit(state)
            if lit is not None:
                self._send(mido.Message("note_on", channel=channel0, note=binding.note,
                                        velocity=127 if lit else 0))

        return reply

    def sync(self, state: State) -> None:
        """Send every bound value to `output` (e.g. at start, so LED rings show the state)."""
        if self.output is None:
            return
        with self._lock:
            cc, notes = list(self.map.cc), list(self.map.notes)
        for binding in cc:
            self._echo_cc(binding, (binding.channel or 1) - 1)(state)
        for note in notes:
            self._echo_note(note, (note.channel or 1) - 1)(state)


def open_midi(name_or_index: str | int, output: bool = False,
              callback: Callable[[mido.Message], None] | None = None) -> Any:
    """Open a MIDI input (with `callback`) or output port by name, unique name prefix or index.

    Raises LivedreamError listing the available ports when none exist or the name is absent.
    """
    kind = "output" if output else "input"
    try:
        names = list(mido.get_output_names() if output else mido.get_input_names())
    except Exception as exc:
        raise LivedreamError(f"MIDI is unavailable ({type(exc).__name__}: {exc})") from None
    if not names:
        raise LivedreamError(f"no MIDI {kind} ports found; connect a controller, or use OSC")
    key = str(name_or_index)
    if key.isdigit():
        if int(key) >= len(names):
            raise UnknownNameError(f"MIDI {kind} port index", key,
                                   [f"{i}: {n}" for i, n in enumerate(names)])
        name = names[int(key)]
    elif key in names:
        name = key
    else:
        found = [n for n in names if n.startswith(key)] or [n for n in names if key in n]
        if len(found) != 1:
            raise UnknownNameError(f"MIDI {kind} port", key,
                                   [f"{i}: {n}" for i, n in enumerate(names)])
        name = found[0]
    try:
        return mido.open_output(name) if output else mido.open_input(name, callback=callback)
    except Exception as exc:
        raise LivedreamError(f"cannot open MIDI {kind} {name!r}: {exc}") from None
