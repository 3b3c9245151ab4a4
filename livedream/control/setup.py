"""`livedream run`'s control setup: OSCQuery (port rule, server, optional zeroconf) and the MIDI
ports (map, learn target, MIDI clock into the tempo)."""

from __future__ import annotations

import argparse
import logging
from contextlib import ExitStack
from typing import Any

from livedream.control.midi import MidiControl, MidiMap, open_midi
from livedream.control.oscquery_http import OscQueryServer
from livedream.errors import LivedreamError, ParamError
from livedream.tempo.setup import midi_clock_callback

log = logging.getLogger(__name__)


def oscquery_port(args: argparse.Namespace) -> int | None:
    """The OSCQuery port: --oscquery-port, else the OSC port + 1; None when off (or no OSC)."""
    if not args.osc_port or args.oscquery_port == 0:
        return None
    port = args.osc_port + 1 if args.oscquery_port is None else args.oscquery_port
    if not 0 < port <= 65535:
        given = f"{port}" if args.oscquery_port is not None else f"OSC port + 1 = {port}"
        raise ParamError(f"--oscquery-port must be 0..65535, got {given}")
    return port


def serve_oscquery(args: argparse.Namespace, port: int, osc_port: int, loop: Any,
                    stack: ExitStack) -> None:
    """Describe the show over OSCQuery; a taken default port only warns (the show goes on)."""
    try:
        server = OscQueryServer(lambda: loop.state, osc_port, args.osc_host, port,
                                env=lambda: loop.dispatcher.env)
    except LivedreamError as exc:
        if args.oscquery_port is not None:
            raise
        log.warning("no OSCQuery: %s", exc)
        return
    stack.callback(server.close)
    if args.oscquery_zeroconf:
        from livedream.control.oscquery_zeroconf import Announcement

        announcement = Announcement(server.port, osc_port, args.osc_host)
        stack.callback(announcement.close)


def open_midi_control(args: argparse.Namespace, queue: Any, stack: ExitStack,
               tempo: Any = None) -> MidiControl:
    """Open the MIDI ports; MIDI learn (`/livedream/midi/learn`) saves into --midi-map; with
    `--tempo midi` the input's clock messages drive the tempo."""
    midi_map = MidiMap.load(args.midi_map) if args.midi_map else None
    output = open_midi(args.midi_out, output=True) if args.midi_out else None
    if output is not None:
        stack.callback(output.close)
    control = MidiControl(queue, midi_map, output)
    control.learn_path = args.midi_map or "midi-map.toml"
    if args.midi_in:
        handle = midi_clock_callback(tempo, control.handle) if tempo is not None else \
            control.handle
        port = open_midi(args.midi_in, callback=handle)
        stack.callback(port.close)
    return control
