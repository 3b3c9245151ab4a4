"""MIDI clock from raw bytes and mido messages: BPM within 0.5 under jitter, transport, SPP."""

import random

import mido
import pytest

from livedream.live.clock import FakeClock
from livedream.tempo.clock import TempoClock
from livedream.tempo.midiclock import MidiClockDecoder, tempo_listener


def _pulse_times(bpm: float, beats: int, jitter: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    period = 60.0 / bpm / 24
    return [i * period + rng.uniform(-jitter, jitter) for i in range(beats * 24)]


@pytest.mark.parametrize("bpm", [120.0, 128.0])
def test_bpm_from_jittery_bytes(bpm: float) -> None:
    decoder = MidiClockDecoder()
    decoder.feed_bytes(b"\xfa", 0.0)  # Start
    for t in _pulse_times(bpm, beats=8, jitter=0.002, seed=int(bpm)):
        decoder.feed_bytes(b"\xf8", t)
    assert decoder.bpm == pytest.approx(bpm, abs=0.5)
    assert decoder.beat == pytest.approx(191 / 24)  # the first pulse after Start is beat 0
    assert decoder.running


def test_transport_and_song_position_from_bytes() -> None:
    decoder = MidiClockDecoder()
    decoder.feed_bytes(bytes([0xFA] + [0xF8] * 13), 0.0)
    assert decoder.beat == pytest.approx(0.5)
    decoder.feed_bytes(b"\xfc\xf8\xf8", 1.0)  # Stop: pulses no longer move the position
    assert not decoder.running and decoder.beat == pytest.approx(0.5)
    decoder.feed_bytes(bytes([0xF2, 0x10, 0x01]), 1.1)  # SPP = 16 + 128 = 144 sixteenths
    assert decoder.beat == pytest.approx(36.0)
    decoder.feed_bytes(bytes([0xF2, 0x05, 0xF8, 0x00]), 1.2)  # a pulse inside an SPP is fine
    assert decoder.beat == pytest.approx(5 / 4)
    decoder.feed_bytes(b"\xfb\xf8", 1.3)  # Continue: the first pulse is the position itself
    assert decoder.running and decoder.beat == pytest.approx(5 / 4)
    decoder.feed_bytes(b"\xf8", 1.31)
    assert decoder.beat == pytest.approx(5 / 4 + 1 / 24)
    decoder.feed_bytes(bytes([0x90, 60, 100, 0xF2]), 1.4)  # notes ignored; truncated SPP too
    assert decoder.beat == pytest.approx(5 / 4 + 1 / 24)


def test_mido_messages_drive_a_tempo_clock() -> None:
    clock = FakeClock()
    tempo = TempoClock(90, clock=clock, source="midi")
    decoder = MidiClockDecoder(tempo_listener(tempo))
    assert not decoder.feed_message(mido.Message("note_on", note=1), 0.0)
    decoder.feed_message(mido.Message("start"), 0.0)
    for t in _pulse_times(128.0, beats=4, jitter=0.001, seed=3):
        clock.advance(t - clock.now())
        decoder.feed_message(mido.Message("clock"), clock.now())
    assert tempo.bpm == pytest.approx(128.0, abs=0.5)
    assert tempo.beat() == pytest.approx(95 / 24, abs=0.05)
    decoder.feed_message(mido.Message("stop"), clock.now())
    assert not tempo.running
    decoder.feed_message(mido.Message("songpos", pos=32), clock.now())
    assert tempo.beat() == pytest.approx(8.0)
