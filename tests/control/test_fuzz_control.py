"""Fuzz the control adapters: random and mutated OSC datagrams, random MIDI byte streams.

Invariants: nothing escapes `handle_datagram` / `feed` (and nothing is swallowed as an internal
error either), every command produced either applies or raises a LivedreamError, the state
never holds an invalid value, echoes never fail, each rejection kind is logged once (clock
frozen), and a valid message afterwards still works.
"""

from __future__ import annotations

import logging
import math
import struct
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder

from livedream.command_queue import CommandQueue
from livedream.commands import SetParam, StepPreset
from livedream.control.midi import MidiControl, MidiMap
from livedream.control.osc import ADDRESSES, OscHandler
from tests.control import assert_state_valid, initial_state, run_frame
from tests.control.test_midi import EXAMPLE, NOTES, Recorder
from tests.control.test_osc import SENDER, Capture, bundle, osc

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _concrete(address: str) -> list[str]:
    """Documented address patterns made concrete (several parameter spellings)."""
    if "<transform>" in address:
        return [address.replace("<transform>", n) for n in ("sobel", "zoom", "nope")]
    if "<name>" in address:
        return [address.replace("<name>", n) for n in
                ("step_size", "zoom/scale", "zoom.scale", "0/scale", "scale", "pixel_sort/axis",
                 "pixel_sort/reverse", "iterations", "lo", "nope", "2/hi")]
    return [address]


#: every documented address (made concrete), plus addresses no route knows
ADDRESS_POOL = [a for documented, _, _ in ADDRESSES for a in _concrete(documented)] + [
    "/livedream/nope", "/livedream/param/", "/livedream/toggle/a.b", "/elsewhere/layer"]
ARG = st.one_of(
    st.tuples(st.just("i"), st.integers(-2**31, 2**31 - 1)),
    st.tuples(st.just("i"), st.sampled_from([0, 1, 2, 3, 127, -1])),
    st.tuples(st.just("f"), st.floats(width=32, allow_nan=True, allow_infinity=True)),
    st.tuples(st.just("f"), st.floats(-0.5, 1.5, width=32)),
    st.tuples(st.just("d"), st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0])),
    st.tuples(st.just("s"), st.sampled_from(["conv1", "conv2", "sobel", "zoom", "calm", "wild",
                                             "grey", "colour", "rows", "vgg16", "..", "a/b",
                                             "x.prototxt", "", "é" * 3])),
    st.tuples(st.just("s"), st.text(max_size=12).filter(lambda s: "\0" not in s)),
    st.tuples(st.just("b"), st.binary(min_size=1, max_size=8)),
    st.tuples(st.sampled_from("TFN"), st.none()),
)


def _message(address: str, args: list[tuple[str, object]]) -> bytes:
    builder = OscMessageBuilder(address)
    for tag, value in args:
        builder.add_arg({"T": True, "F": False}.get(tag, value), tag)
    return builder.build().dgram


MESSAGES = st.builds(_message, st.sampled_from(ADDRESS_POOL), st.lists(ARG, max_size=3))
VALID = [osc("/livedream/param/zoom/scale", 0.5), osc("/livedream/layer", "conv2"),
         osc("/livedream/chain", "zoom", "blur"), osc("/livedream/pause", 1),
         osc("/livedream/param/pixel_sort/axis/raw", "columns"), osc("/livedream/state"),
         osc("/livedream/source/mix", 0.25), osc("/livedream/reset"),
         bundle(osc("/livedream/preset/next"), bundle(osc("/livedream/toggle", "sobel")))]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid packet with a few bytes flipped, inserted, deleted, a type tag swapped, cut short."""
    data = bytearray(draw(st.sampled_from(VALID) | MESSAGES))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "tag", "size"]))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and data:
            del data[i]
        elif op == "truncate":
            del data[i:]
        elif op == "tag" and b"," in data:
            j = data.index(b",") + 1
            if j < len(data):
                data[j] = ord(draw(st.sampled_from("ihfdsbSTFNIcrmt[]XZ\0")))
        elif op == "size" and data.startswith(b"#bundle"):
            data[16:20] = struct.pack(">i", draw(st.integers(-2**31, 2**31 - 1)))
    return bytes(data)


RANDOM_BUNDLES = st.recursive(
    MESSAGES, lambda inner: st.lists(inner, min_size=1, max_size=3).map(lambda c: bundle(*c)),
    max_leaves=6)
PACKETS = st.lists(st.one_of(st.binary(max_size=64), mutated(), MESSAGES, RANDOM_BUNDLES,
                             st.sampled_from(VALID),  # good traffic interleaved with the bad
                             st.integers(65537, 70000).map(lambda n: b"/" + bytes(n))),
                  min_size=1, max_size=5)


def test_osc_fuzz():
    queue, capture = CommandQueue(), Capture()
    handler = OscHandler(queue, send=capture, clock=lambda: 0.0)  # frozen: one log per kind
    records = Records()
    logger = logging.getLogger("livedream.osc")
    logger.addHandler(records)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    applied_kinds: Counter[str] = Counter()
    try:
        @SETTINGS
        @given(PACKETS)
        def check(packets: list[bytes]) -> None:
            for data in packets:
                handler.handle_datagram(data, SENDER)
            state, applied, _ = run_frame(queue, initial_state())  # raises on non-Livedream errors
            applied_kinds.update(type(c).__name__ for c in applied)
            assert_state_valid(state)

        check()
    finally:
        logger.removeHandler(records)
        logger.setLevel(old_level)
    assert handler.log.total["internal error"] == 0 and handler.log.total["echo failed"] == 0
    kinds = Counter(r.args[0] for r in records.records)
    assert kinds == Counter(set(handler.log.total))  # each kind logged exactly once
    assert {"malformed packet", "bad bundle", "unknown address", "wrong argument type",
            "oversize packet"} <= set(kinds)
    assert applied_kinds["SetParam"] > 0 and len(applied_kinds) >= 8  # fuzz reached the reducer
    handler.handle_datagram(osc("/livedream/param/step_size/raw", 4.0), SENDER)
    state, applied, errors = run_frame(queue, initial_state())
    assert applied == [SetParam("step_size", 4.0)] and state.look.dream.step_size == 4.0


MAPPED = [0, 1, 2, 3, 4, 16, 17, 18, 19, 36, 37, 38, 39, 40, 41, 42, 43, 44, 64, 127]
DATA = st.sampled_from(MAPPED) | st.integers(0, 127)
MIDI_BYTES = st.one_of(
    st.binary(max_size=200),
    st.lists(st.integers(0x80, 0xFF) | DATA, max_size=200).map(bytes),
    st.lists(st.tuples(st.sampled_from([0x90, 0xB0, 0xB9, 0x99, 0x80, 0xF0, 0xF7, 0xF8]),
                       st.lists(DATA, max_size=4)),
             max_size=40).map(lambda ms: bytes(b for s, d in ms for b in [s, *d])),
)


def test_midi_fuzz():
    midi_map = MidiMap.load(EXAMPLE)
    midi_map.notes += MidiMap.loads(NOTES).notes
    port = Recorder()
    control = MidiControl(CommandQueue(), midi_map, output=port)
    produced: Counter[str] = Counter()

    @SETTINGS
    @given(st.lists(MIDI_BYTES, min_size=1, max_size=4))
    def check(chunks: list[bytes]) -> None:
        for chunk in chunks:
            control.feed(chunk)
        state, applied, _ = run_frame(control.queue, initial_state())
        produced.update(type(c).__name__ for c in applied)
        assert_state_valid(state)

    check()
    assert control.log.total["internal error"] == 0 and control.log.total["bad midi bytes"] == 0
    assert control.log.total["echo failed"] == 0
    assert produced["SetParam"] > 0 and produced["StepPreset"] > 0
    assert all(msg.type in ("control_change", "note_on") for msg in port.sent)
    control.feed(bytes([0x90, 36, 64]))  # a valid message afterwards still works
    # note 36 is bound twice: preset/prev in the example map, preset/next in NOTES
    assert [e.command for e in control.queue.drain()] == [StepPreset(-1), StepPreset(1)]
