"""MIDI control: CC knobs scaled onto parameters, notes as triggers, MIDI learn, LED-ring echo.

`MidiControl` turns mido messages (from a port callback, or raw bytes through `feed`) into
commands on the CommandQueue through a `MidiMap` (bindings and TOML format:
`livedream.control.midi_map`). It never raises: bad input is logged, rate-limited.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import mido

from livedream.command_queue import CommandQueue
from livedream.commands import Command, LearnMidi
from livedream.control.midi_map import (
    CURVES,
    NOTE_COMMANDS,
    CcBinding,
    MidiMap,
    MidiMapError,
    NoteBinding,
    make_cc,
    make_note,
)
from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError, UnknownNameError
from livedream.state import State

log = logging.getLogger("livedream.midi")

__all__ = ["CURVES", "NOTE_COMMANDS", "CcBinding", "MidiControl", "MidiMap", "MidiMapError",
           "NoteBinding", "RunningStatus", "make_cc", "make_note", "open_midi"]


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
