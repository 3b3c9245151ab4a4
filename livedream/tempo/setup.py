"""`livedream run`'s tempo and sound options: parse them, open the sources, hand back a TempoShow.

    --tempo link|midi|tap|audio|fixed:BPM   --beats-per-bar N   --quantize MODE
    --quantize-lookahead MS   --audio FILE   --audio-in DEVICE

A source that cannot start (no PortAudio, no such sound device, an unreadable track) is logged
as a clear error and the show goes on without it (the tempo falls back to a fixed BPM).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from livedream.errors import LivedreamError, ParamError
from livedream.live.clock import Clock
from livedream.tempo.clock import DEFAULT_TEMPO, TempoClock, parse_tempo
from livedream.tempo.midiclock import MidiClockDecoder, tempo_listener
from livedream.tempo.quantize import QUANTIZE_MODES, check_lookahead_ms
from livedream.tempo.show import TempoShow

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--tempo", default=DEFAULT_TEMPO, metavar="SOURCE",
        help="where the beat comes from: link (Ableton Link), midi (MIDI clock on --midi-in), "
        "tap, audio (beats of --audio/--audio-in) or fixed:BPM (default fixed:120)")
    add("--beats-per-bar", type=int, default=4, help="beats in a bar (default 4, i.e. 4/4)")
    add("--quantize", default="off", choices=QUANTIZE_MODES,
        help="preset / transform / chain / layer switches wait for the next beat or bar")
    add("--quantize-lookahead", type=float, default=0.0, metavar="MS",
        help="apply quantised switches this many ms early, to cover the dream + display latency")
    add("--audio", metavar="FILE", help="analyse this track in real time (audio-reactive "
        "modulators; --tempo audio follows its beat)")
    add("--audio-in", metavar="DEVICE", help="analyse a sound-card input (PortAudio name or index)")


def check(args: argparse.Namespace) -> tuple[str, float | None]:
    """Validate the options before anything opens; (source, fixed BPM or None)."""
    source, bpm = parse_tempo(args.tempo)
    check_lookahead_ms(args.quantize_lookahead)
    if source == "midi" and not args.midi_in:
        raise ParamError("--tempo midi needs --midi-in PORT (the port the clock arrives on)")
    if source == "audio" and not (args.audio or args.audio_in):
        raise ParamError("--tempo audio needs --audio FILE or --audio-in DEVICE")
    if args.audio and args.audio_in:
        raise ParamError("give --audio FILE or --audio-in DEVICE, not both")
    return source, bpm


def open_tempo(args: argparse.Namespace, clock: Clock, stack: ExitStack) -> TempoShow:
    """The show's tempo clock with its source started, and the audio input if asked for."""
    from livedream.audio.live import open_audio

    source, bpm = check(args)
    tempo = TempoClock(bpm or 120.0, args.beats_per_bar, clock, source)
    if source == "link":
        from livedream.tempo.link import LinkSource

        link = LinkSource(tempo).start()
        stack.callback(link.close)
    audio = None
    try:
        audio = open_audio(args.audio, args.audio_in, clock,
                           tempo if source == "audio" else None)
    except LivedreamError as exc:
        log.error("%s - the show goes on without audio", exc)
        if source == "audio":
            tempo.source = "fixed"
    if audio is not None:
        stack.callback(audio.close)
    return TempoShow(tempo, audio, lookahead=args.quantize_lookahead / 1000.0)


def midi_clock_callback(show: TempoShow, handle: Callable[[Any], None]) -> Callable[[Any], None]:
    """A MIDI port callback: clock / transport messages drive the tempo (with `--tempo midi`),
    everything else goes on to the controller mapping `handle`."""
    if show.tempo.source != "midi":
        return handle
    decoder = MidiClockDecoder(tempo_listener(show.tempo))
    clock = show.tempo.clock

    def callback(message: Any) -> None:
        if not decoder.feed_message(message, clock.now()):
            handle(message)

    return callback
