"""MIDI clock in: 24 pulses per quarter note, Start / Stop / Continue and Song Position Pointer.

`MidiClockDecoder` turns realtime messages (raw bytes or mido messages, each with its arrival
time) into a tempo: the BPM is a least-squares fit of pulse number against arrival time over the
last `window` pulses, which averages out the jitter of USB MIDI and of the sending laptop, and
it keeps the beat position (pulses / 24) so switches can land on the sender's bars.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable
from typing import Any

PPQN = 24
CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
#: pulses used for the fit: two beats, enough to smooth +-2 ms jitter to well under 0.5 BPM
WINDOW = 48
#: a gap this long (seconds) between pulses means the sender paused: restart the fit
GAP = 1.0

#: called as (beat, bpm or None, running, at) whenever the decoder learns something
Listener = Callable[[float, float | None, bool, float], None]


class MidiClockDecoder:
    """Decodes a MIDI clock stream; read `bpm`, `beat` and `running`, or pass a `listener`."""

    def __init__(self, listener: Listener | None = None, window: int = WINDOW) -> None:
        self.listener = listener
        self.window = int(window)
        self._times: collections.deque[tuple[int, float]] = collections.deque(maxlen=self.window)
        self.pulses = 0  # pulses since the song start (Song Position sets it)
        self.running = False
        self.bpm: float | None = None
        self._spp_pending: bytearray | None = None
        self._hold = False  # the first pulse after Start / Continue is at the position itself

    @property
    def beat(self) -> float:
        return self.pulses / PPQN

    def _notify(self, at: float) -> None:
        if self.listener is not None:
            self.listener(self.beat, self.bpm, self.running, at)

    def _fit(self) -> float | None:
        if len(self._times) < 3:
            return None
        n = len(self._times)
        xs = [t for _, t in self._times]
        ys = [float(p) for p, _ in self._times]
        mx, my = sum(xs) / n, sum(ys) / n
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx <= 0:
            return None
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
        return slope * 60.0 / PPQN if slope > 0 else None

    def clock(self, at: float) -> None:
        """One timing pulse (0xF8) arriving at `at` seconds."""
        if self._times and at - self._times[-1][1] > GAP:
            self._times.clear()
        self._times.append((self._seq(), at))
        if self.running and not self._hold:
            self.pulses += 1
        self._hold = False
        bpm = self._fit()
        if bpm is not None:
            self.bpm = bpm
        self._notify(at)

    def _seq(self) -> int:
        """Pulse sequence number for the fit (counts even while stopped: the tempo still runs)."""
        return self._times[-1][0] + 1 if self._times else 0

    def start(self, at: float) -> None:
        """Start: the song position is 0, and the next pulse is beat 0 (MIDI spec)."""
        self.pulses, self.running, self._hold = 0, True, True
        self._notify(at)

    def stop(self, at: float) -> None:
        self.running = False
        self._notify(at)

    def resume(self, at: float) -> None:
        """Continue: play on from the current (Song Position) pulse, which the next pulse is."""
        self.running, self._hold = True, True
        self._notify(at)

    def song_position(self, sixteenths: int, at: float) -> None:
        """Song Position Pointer: the position in 16th notes (6 pulses each)."""
        self.pulses = int(sixteenths) * (PPQN // 4)
        self._notify(at)

    def feed_byte(self, byte: int, at: float) -> None:
        """One byte of a MIDI stream (other messages are ignored; SPP spans three bytes)."""
        byte &= 0xFF
        if self._spp_pending is not None and byte < 0x80:
            self._spp_pending.append(byte)
            if len(self._spp_pending) == 2:
                lsb, msb = self._spp_pending
                self._spp_pending = None
                self.song_position(lsb | (msb << 7), at)
            return
        if byte >= 0xF8:  # realtime bytes may interleave anything, even an SPP
            {CLOCK: self.clock, START: self.start, CONTINUE: self.resume,
             STOP: self.stop}.get(byte, lambda _at: None)(at)
            return
        self._spp_pending = bytearray() if byte == SONG_POSITION else None

    def feed_bytes(self, data: Iterable[int], at: float) -> None:
        for byte in data:
            self.feed_byte(byte, at)

    def feed_message(self, message: Any, at: float) -> bool:
        """A mido message; True when it was a clock message (so the caller can skip it)."""
        kind = getattr(message, "type", None)
        if kind == "clock":
            self.clock(at)
        elif kind == "start":
            self.start(at)
        elif kind == "stop":
            self.stop(at)
        elif kind == "continue":
            self.resume(at)
        elif kind == "songpos":
            self.song_position(int(message.pos), at)
        else:
            return False
        return True


def tempo_listener(tempo: Any) -> Listener:
    """A listener that drives a `TempoClock` from the decoded clock (beat, BPM, run state)."""

    def listen(beat: float, bpm: float | None, running: bool, at: float) -> None:
        if running != tempo.running:
            tempo.set_running(running, now=at)
        tempo.follow(beat, bpm, now=at)

    return listen
