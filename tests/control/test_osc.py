"""OSC adapter: decode table, strict parsing, echo through the command queue, the UDP server."""

from __future__ import annotations

import json
import logging
import math
import re
import socket
import struct
import time
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from livedream.command_queue import CommandQueue
from livedream.commands import (
    ClearModulator,
    LearnMidi,
    LoadPreset,
    QueryState,
    Quit,
    Reset,
    ResyncTempo,
    SetChain,
    SetEase,
    SetFlag,
    SetLayer,
    SetLayers,
    SetModel,
    SetModulator,
    SetParam,
    SetQuantize,
    SetSourceMix,
    SetTempo,
    SetTransform,
    StepLayer,
    StepPreset,
    TapTempo,
    ToggleTransform,
)
from livedream.control.osc import (
    ADDRESSES,
    MAX_BUNDLE_DEPTH,
    OscControl,
    OscError,
    OscHandler,
    decode,
    parse_datagram,
)
from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.look import DREAM_PARAMS
from livedream.paramnames import param_names
from livedream.transforms import get_transform
from tests.control import PutLog, initial_state, run_frame

ROOT = Path(__file__).resolve().parents[2]
SENDER = ("127.0.0.1", 57120)


def osc(address: str, *args: object, types: str | None = None) -> bytes:
    """Encode with python-osc's builder (an independent encoder); `types` forces type tags."""
    builder = OscMessageBuilder(address)
    for i, arg in enumerate(args):
        builder.add_arg(arg, types[i] if types else None)
    return builder.build().dgram


def bundle(*contents: bytes) -> bytes:
    """An immediate OSC bundle of already-encoded messages or bundles (OSC 1.0 layout)."""
    elements = b"".join(struct.pack(">i", len(c)) + c for c in contents)
    return b"#bundle\x00" + struct.pack(">Q", 1) + elements


# --- decode table -------------------------------------------------------------------------------
DECODE_TABLE = [
    ("/livedream/layer", ["conv2"], SetLayer("conv2")),
    ("/livedream/layers", ["conv1", "conv3"], SetLayers(("conv1", "conv3"))),
    ("/livedream/layer/next", [], StepLayer(1)),
    ("/livedream/layer/next", [1.0], StepLayer(1)),
    ("/livedream/layer/prev", [], StepLayer(-1)),
    ("/livedream/transform", ["sobel"], SetTransform("sobel")),
    ("/livedream/chain", ["zoom", "blur"], SetChain(("zoom", "blur"))),
    ("/livedream/chain", [], SetChain(())),
    ("/livedream/toggle", ["sobel"], ToggleTransform("sobel")),
    ("/livedream/toggle/sobel", [], ToggleTransform("sobel")),
    ("/livedream/toggle/sobel", [True], ToggleTransform("sobel")),
    ("/livedream/param/step_size", [0.5], SetParam("step_size", 0.5, normalized=True)),
    ("/livedream/param/zoom.scale", [1], SetParam("zoom.scale", 1, normalized=True)),
    ("/livedream/param/zoom/scale", [0.25], SetParam("zoom.scale", 0.25, normalized=True)),
    ("/livedream/param/0/scale", [0.25], SetParam("0.scale", 0.25, normalized=True)),
    ("/livedream/param/scale", [0.25], SetParam("scale", 0.25, normalized=True)),
    ("/livedream/param/step_size/raw", [3.0], SetParam("step_size", 3.0)),
    ("/livedream/param/zoom/scale/raw", [-0.1], SetParam("zoom.scale", -0.1)),
    ("/livedream/param/iterations/raw", [2], SetParam("iterations", 2)),
    ("/livedream/param/sobel/mode/raw", ["colour"], SetParam("sobel.mode", "colour")),
    ("/livedream/param/pixel_sort/reverse/raw", [True], SetParam("pixel_sort.reverse", True)),
    ("/livedream/preset", ["calm"], LoadPreset("calm")),
    ("/livedream/preset/next", [], StepPreset(1)),
    ("/livedream/preset/prev", [1], StepPreset(-1)),
    ("/livedream/pause", [], SetFlag("paused", None)),
    ("/livedream/pause", [1], SetFlag("paused", True)),
    ("/livedream/pause", [0.0], SetFlag("paused", False)),
    ("/livedream/record", [1], SetFlag("recording", True)),
    ("/livedream/record", [], SetFlag("recording", None)),
    ("/livedream/overlay", [False], SetFlag("overlay", False)),
    ("/livedream/fullscreen", [], SetFlag("fullscreen", None)),
    ("/livedream/flow", [1], SetFlag("flow", True)),
    ("/livedream/gate", [], SetFlag("gate", None)),
    ("/livedream/source/mix", [0.3], SetSourceMix(0.3)),
    ("/livedream/ease", [2], SetEase(2.0)),
    ("/livedream/model", ["inception_v3"], SetModel("inception_v3")),
    ("/livedream/model", ["vgg16", "vgg16-places.pth"], SetModel("vgg16", "vgg16-places.pth")),
    ("/livedream/reset", [], Reset()),
    ("/livedream/state", [], QueryState()),
    ("/livedream/midi/learn", ["zoom.scale"], LearnMidi("zoom.scale")),
    ("/livedream/midi/learn/cancel", [], LearnMidi(None)),
    ("/livedream/tempo", [128], SetTempo(128.0)),
    ("/livedream/tempo/tap", [], TapTempo()),
    ("/livedream/tempo/resync", [1], ResyncTempo()),
    ("/livedream/tempo/beat", [], QueryState()),
    ("/livedream/quantize", ["bar"], SetQuantize("bar")),
    ("/livedream/mod/0/depth", [0.5], SetModulator(0, "depth", 0.5)),
    ("/livedream/mod/2/source", ["saw"], SetModulator(2, "source", "saw")),
    ("/livedream/mod/1/enabled", [False], SetModulator(1, "enabled", False)),
    ("/livedream/mod/clear", [], ClearModulator(None)),
    ("/livedream/mod/clear", [1], ClearModulator(1)),
    ("/livedream/mod/count", [], QueryState()),
    ("/livedream/speed", [], QueryState()),
]


@pytest.mark.parametrize(("address", "args", "expected"), DECODE_TABLE)
def test_decode_table(address, args, expected):
    assert decode(address, args) == expected


def test_decode_table_covers_every_documented_address():
    def pattern(documented: str) -> re.Pattern[str]:
        return re.compile(re.escape(documented).replace("<transform>", "[a-z_]+")
                          .replace("<name>", "[a-z_0-9./]+?")
                          .replace("<n>", "[0-9]+").replace("<field>", "[a-z]+") + "$")

    covered = {doc for doc, _, _ in ADDRESSES if doc != "/livedream/quit"
               and any(pattern(doc).match(address) for address, _, _ in DECODE_TABLE)}
    assert covered == {doc for doc, _, _ in ADDRESSES} - {"/livedream/quit"}


def test_quit_only_when_enabled():
    with pytest.raises(OscError, match="disabled") as info:
        decode("/livedream/quit", [])
    assert info.value.kind == "quit disabled"
    assert decode("/livedream/quit", [], allow_quit=True) == Quit()


@pytest.mark.parametrize("address", ["/livedream/layer/next", "/livedream/preset/next",
                                     "/livedream/reset", "/livedream/toggle/sobel"])
def test_trigger_release_does_nothing(address):
    # A TouchOSC push button sends 1 on press and 0 on release: only the press fires.
    assert decode(address, [0.0]) is None and decode(address, [False]) is None
    assert decode(address, [1.0]) is not None


@pytest.mark.parametrize(("address", "args", "kind", "words"), [
    ("/livedream/nope", [], "unknown address", "unknown address"),
    ("/other/layer", ["conv1"], "unknown address", "not under /livedream/"),
    ("/livedream/param/zoom/scale/extra", [0.5], "unknown address", "bad parameter name"),
    ("/livedream/param/", [0.5], "unknown address", "bad parameter name"),
    ("/livedream/param/a b", [0.5], "unknown address", "bad parameter name"),
    ("/livedream/toggle/a.b", [], "unknown address", "bad transform name"),
    ("/livedream/layer", [], "wrong argument count", "expected 1 argument"),
    ("/livedream/layer", ["a", "b"], "wrong argument count", "got 2"),
    ("/livedream/param/step_size", [], "wrong argument count", "expected 1"),
    ("/livedream/pause", [1, 1], "wrong argument count", "0 to 1"),
    ("/livedream/model", [], "wrong argument count", "1 to 2"),
    ("/livedream/chain", ["zoom"] * 33, "wrong argument count", "0 to 32"),
    ("/livedream/layer", [3], "wrong argument type", "layer name"),
    ("/livedream/param/step_size", ["big"], "wrong argument type", "number"),
    ("/livedream/param/step_size", [True], "wrong argument type", "number"),
    ("/livedream/param/step_size/raw", [None], "wrong argument type", "number"),
    ("/livedream/param/step_size/raw", [b"\x00\x01"], "wrong argument type", "number"),
    ("/livedream/source/mix", ["half"], "wrong argument type", "number"),
    ("/livedream/pause", ["yes"], "wrong argument type", "number"),
    ("/livedream/param/step_size", [math.nan], "non-finite number", "finite"),
    ("/livedream/param/step_size/raw", [math.inf], "non-finite number", "finite"),
    ("/livedream/ease", [-math.inf], "non-finite number", "finite"),
    ("/livedream/pause", [math.nan], "non-finite number", "finite"),
    ("/livedream/layer", [""], "bad value", "1..200"),
    ("/livedream/preset", ["x" * 201], "bad value", "1..200"),
    ("/livedream/model", ["../../etc/passwd"], "bad value", "plain name"),
    ("/livedream/model", ["/tmp/evil.prototxt"], "bad value", "plain name"),
    ("/livedream/model", ["evil.prototxt"], "bad value", "plain name"),
    ("/livedream/model", ["vgg16", "../weights.pth"], "bad value", "plain name"),
])
def test_decode_rejects(address, args, kind, words):
    with pytest.raises(OscError, match=re.escape(words)) as info:
        decode(address, args)
    assert info.value.kind == kind and address in str(info.value)  # names the address


# --- parsing ------------------------------------------------------------------------------------
def test_parse_matches_python_osc_on_every_type():
    data = osc("/livedream/x", 7, 2**40, 0.5, 1e300, "héllo", b"\x01\x02\x03", True, False, None,
               types="ihfdsbTFN")
    address, args = parse_datagram(data)[0]
    assert address == "/livedream/x"
    assert args == [7, 2**40, 0.5, 1e300, "héllo", b"\x01\x02\x03", True, False, None]
    assert args == OscMessage(data).params


def test_parse_message_without_type_tags():
    assert parse_datagram(b"/livedream/reset\x00\x00\x00\x00") == [("/livedream/reset", [])]


def test_parse_nested_bundles_in_order():
    inner = bundle(osc("/livedream/layer", "conv2"), osc("/livedream/pause", 1))
    outer = bundle(osc("/livedream/reset"), inner, osc("/livedream/ease", 1.5))
    assert parse_datagram(outer) == [("/livedream/reset", []), ("/livedream/layer", ["conv2"]),
                                     ("/livedream/pause", [1]), ("/livedream/ease", [1.5])]


def _nested(depth: int) -> bytes:
    data = osc("/livedream/reset")
    for _ in range(depth):
        data = bundle(data)
    return data


def test_bundle_depth_is_bounded():
    assert parse_datagram(_nested(MAX_BUNDLE_DEPTH)) == [("/livedream/reset", [])]
    with pytest.raises(OscError, match="nested deeper") as info:
        parse_datagram(_nested(MAX_BUNDLE_DEPTH + 1))
    assert info.value.kind == "bad bundle"


GOOD = osc("/livedream/param/step_size", 0.5)
BAD_PACKETS = [
    (b"", "malformed packet"),
    (b"hello world!", "malformed packet"),
    (b"/livedream/reset", "malformed packet"),  # unterminated address
    (GOOD[:-2], "malformed packet"),  # truncated float
    (GOOD[:-4], "malformed packet"),  # type tag says f, no data
    (GOOD + b"\x00\x00\x00\x00", "malformed packet"),  # trailing bytes
    (b"/livedream/pause\x00\x00\x00\x00i\x00\x00\x00\x00\x00\x00\x01", "malformed packet"),
    (b"/livedream/x\x00\x00\x00\x00,\xff\x00\x00", "malformed packet"),  # non-UTF-8 tags
    (osc("/livedream/x", 1, types="i").replace(b",i", b",Q"), "unsupported type tag"),
    (b"/livedream/x\x00\x00\x00\x00,[]\x00", "unsupported type tag"),
    (b"/livedream/x\x00\x00\x00\x00,b\x00\x00\x7f\xff\xff\xff", "malformed packet"),  # blob size
    (b"/livedream/x\x00\x00\x00\x00,b\x00\x00\xff\xff\xff\xf0", "malformed packet"),  # negative
    (b"#bundle\x00\x00\x00", "bad bundle"),
    (b"#bundle\x00" + bytes(8) + b"\x00\x00\x00\x40" + GOOD, "bad bundle"),  # size overruns
    (b"#bundle\x00" + bytes(8) + b"\xff\xff\xff\xfc" + GOOD, "bad bundle"),  # negative size
    (b"#bundle\x00" + bytes(8) + b"\x00\x00\x00\x03abc", "bad bundle"),  # size not 4-aligned
    (b"#bundle\x00" + bytes(8) + struct.pack(">i", 8) + b"junkjunk", "bad bundle"),
    (b"#bundle\x00" + bytes(8) + struct.pack(">i", len(GOOD)) + GOOD + b"\x00\x00", "bad bundle"),
    (bundle(GOOD, GOOD[:-4] + b"\x00\x00\x00\x00")[:-4], "bad bundle"),
    (b"/" + bytes(70000), "oversize packet"),
]


@pytest.mark.parametrize(("data", "kind"), BAD_PACKETS)
def test_parse_rejects_malformed(data, kind):
    with pytest.raises(OscError) as info:
        parse_datagram(data)
    assert info.value.kind == kind


# --- the handler: queue, echo, logging ----------------------------------------------------------
class Capture:
    """Stands in for socket.sendto; decodes what was sent with python-osc's parser."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[object], tuple]] = []

    def __call__(self, data: bytes, target: tuple) -> None:
        message = OscMessage(data)
        self.sent.append((message.address, message.params, target))

    def messages(self) -> list[tuple[str, list[object]]]:
        return [(a, p) for a, p, _ in self.sent]


def make_handler(**kwargs) -> tuple[OscHandler, CommandQueue, Capture]:
    queue, capture = CommandQueue(), Capture()
    return OscHandler(queue, send=capture, **kwargs), queue, capture


def roundtrip(handler, queue, capture, *datagrams, state=None):
    state = state or initial_state()
    for data in datagrams:
        handler.handle_datagram(data, SENDER)
    state, applied, errors = run_frame(queue, state)
    return state, applied, errors, capture.messages()


def test_param_echo_normalised_and_raw():
    handler, queue, capture = make_handler()
    spec = get_transform("zoom").params["scale"]
    state, applied, errors, sent = roundtrip(
        handler, queue, capture, osc("/livedream/param/zoom/scale", 0.75))
    assert errors == [] and state.look.chain[0].params["scale"] == pytest.approx(
        spec.lo + 0.75 * (spec.hi - spec.lo))
    assert [a for a, _ in sent] == ["/livedream/param/zoom/scale"]
    assert sent[0][1][0] == pytest.approx(0.75, abs=1e-6)
    state, _, errors, sent = roundtrip(
        handler, queue, capture, osc("/livedream/param/zoom/scale/raw", -0.2), state=state)
    assert errors == [] and state.look.chain[0].params["scale"] == pytest.approx(-0.2)
    assert sent[-1][0] == "/livedream/param/zoom/scale/raw"
    assert sent[-1][1][0] == pytest.approx(-0.2)
    # Out-of-range raw values are refused by the reducer: no echo, state unchanged.
    new, _, errors, sent2 = roundtrip(
        handler, queue, capture, osc("/livedream/param/zoom/scale/raw", 7.0), state=state)
    assert len(errors) == 1 and "outside allowed range" in str(errors[0])
    assert new == state and len(sent2) == len(sent)


def test_echo_after_state_changes_carries_new_values():
    handler, queue, capture = make_handler()
    state, applied, errors, sent = roundtrip(
        handler, queue, capture,
        osc("/livedream/layer/next"), osc("/livedream/toggle", "sobel"), osc("/livedream/pause"),
        osc("/livedream/preset/next"), osc("/livedream/source/mix", 0.25),
        osc("/livedream/param/iterations/raw", 3), osc("/livedream/reset", 1))
    assert errors == [] and len(applied) == 7
    assert sent == [
        ("/livedream/layer", ["conv2"]),
        ("/livedream/toggle", ["sobel", 0]),
        ("/livedream/pause", [1]),
        ("/livedream/preset", ["calm"]),
        ("/livedream/source/mix", [0.25]),
        ("/livedream/param/iterations/raw", [3]),
        ("/livedream/reset", [1]),
    ]
    assert state.paused and state.preset == "calm" and state.look.dream.iterations == 3
    assert capture.sent[0][2] == SENDER


def test_state_dump_one_message_per_value():
    handler, queue, capture = make_handler()
    state, _, errors, sent = roundtrip(handler, queue, capture, osc("/livedream/state"))
    got = dict(sent)
    assert errors == [] and len(got) == len(sent)  # no address twice
    assert got["/livedream/layer"] == ["conv1"] and got["/livedream/pause"] == [0]
    assert got["/livedream/chain"] == ["zoom", "sobel", "pixel_sort"]
    assert got["/livedream/overlay"] == [1] and got["/livedream/toggle/sobel"] == [1]
    for name in param_names(state.look):
        address = "/livedream/param/" + name.replace(".", "/")
        assert address in got and address + "/raw" in got, name
    assert got["/livedream/param/step_size/raw"][0] == pytest.approx(DREAM_PARAMS["step_size"]
                                                                      .default)
    assert got["/livedream/param/sobel/mode/raw"] == ["grey"]
    # Every dumped address decodes back into a command setting the same value.
    for address, args in sent:
        if address.startswith("/livedream/param/"):
            assert isinstance(decode(address, args), SetParam)


def test_reply_port_and_no_sender():
    handler, queue, capture = make_handler(reply_port=9001)
    roundtrip(handler, queue, capture, osc("/livedream/pause", 1))
    assert capture.sent[-1][2] == ("127.0.0.1", 9001)
    handler.handle_datagram(osc("/livedream/pause", 0), None)
    _, applied, _ = run_frame(queue, initial_state())
    assert applied == [SetFlag("paused", False)] and len(capture.sent) == 1


def test_allowlist(caplog):
    handler, queue, capture = make_handler(allow={"10.0.0.5"})
    with caplog.at_level(logging.WARNING, "livedream.osc"):
        handler.handle_datagram(osc("/livedream/reset"), SENDER)
        handler.handle_datagram(osc("/livedream/reset"), ("10.0.0.5", 1234))
    assert [e.command for e in queue.drain()] == [Reset()]
    assert handler.log.total["sender not allowed"] == 1 and "not allowed" in caplog.text


def test_echo_failure_is_contained(caplog):
    def broken(data, target):
        raise OSError("network unreachable")

    queue = CommandQueue()
    handler = OscHandler(queue, send=broken)
    handler.handle_datagram(osc("/livedream/pause", 1), SENDER)
    with caplog.at_level(logging.WARNING, "livedream.osc"):
        state, applied, errors = run_frame(queue, initial_state())
    assert state.paused and handler.log.total["echo failed"] == 1
    assert "network unreachable" in caplog.text


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bad_input_never_raises_and_logs_once_per_kind(caplog):
    clock = FakeClock()
    handler, queue, _ = make_handler(clock=clock, log_interval=5.0)
    bad = [data for data, _ in BAD_PACKETS] + [
        osc("/livedream/nope", 1), osc("/livedream/layer"), osc("/livedream/layer", 3),
        osc("/livedream/param/step_size", math.nan, types="f"),
        osc("/livedream/param/step_size", math.inf, types="d"), osc("/livedream/quit"),
    ]
    with caplog.at_level(logging.DEBUG, "livedream.osc"):
        for _ in range(50):
            for data in bad:
                handler.handle_datagram(data, SENDER)
    kinds = set(handler.log.total)
    assert kinds == {"malformed packet", "unsupported type tag", "bad bundle", "oversize packet",
                     "unknown address", "wrong argument count", "wrong argument type",
                     "non-finite number", "quit disabled"}
    records = [r for r in caplog.records if r.name == "livedream.osc"]
    assert sorted(r.args[0] for r in records) == sorted(kinds)  # one line per kind, not 50
    assert queue.drain() == []
    # After the interval the next rejection logs again and says how many were swallowed.
    clock.now += 5.0
    with caplog.at_level(logging.DEBUG, "livedream.osc"):
        handler.handle_datagram(osc("/livedream/nope"), SENDER)
    last = caplog.records[-1].getMessage()
    unknown_total = handler.log.total["unknown address"]
    assert f"+{unknown_total - 2} more unknown address suppressed" in last
    # A valid message afterwards still works.
    handler.handle_datagram(osc("/livedream/layer", "conv3"), SENDER)
    state, applied, errors = run_frame(queue, initial_state())
    assert state.look.layers == ("conv3",)


def test_rate_limited_log_flush(caplog):
    clock = FakeClock()
    limited = RateLimitedLog(logging.getLogger("livedream.test"), 1.0, clock)
    with caplog.at_level(logging.WARNING, "livedream.test"):
        assert limited.log("a", "first") is True
        assert [limited.log("a", "again") for _ in range(3)] == [False] * 3
        assert limited.log("b", "other") is True
        limited.flush()
        limited.flush()  # nothing pending the second time
    assert [r.getMessage() for r in caplog.records] == [
        "a: first", "b: other", "a: 3 more suppressed"]
    assert limited.total == {"a": 4, "b": 1}


# --- the real UDP server ------------------------------------------------------------------------
def _default_rcvbuf() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        return probe.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def test_loopback_burst_echo_and_prompt_close(caplog):
    queue = CommandQueue()
    with caplog.at_level(logging.INFO, "livedream.osc"):
        server = OscControl(queue, port=0)
    try:
        assert server.rcvbuf > _default_rcvbuf()  # SO_RCVBUF actually raised
        assert f"receive buffer {server.rcvbuf // 1024} KiB" in caplog.text
        host, port = server.address[:2]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5.0)
            for i in range(1000):
                client.sendto(osc("/livedream/param/step_size/raw", float(i % 20)), (host, port))
            deadline = time.monotonic() + 10.0
            while server.received < 1000 and time.monotonic() < deadline:
                time.sleep(0.01)
            envelopes = queue.drain()
            # Every datagram arrived; only the fader's last value is left to apply (superseded
            # in the socket's read batches or coalesced in the queue).
            assert server.received == 1000 and len(envelopes) == 1
            assert envelopes[0].command.value == float(999 % 20)
            assert server.superseded + queue.coalesced == 999
            # Echo through the real socket back to the client's port.
            client.sendto(osc("/livedream/pause", 1), (host, port))
            deadline = time.monotonic() + 5.0
            while server.received < 1001 and time.monotonic() < deadline:
                time.sleep(0.01)
            state, applied, errors = run_frame(queue, initial_state())
            assert applied == [SetFlag("paused", True)]
            reply = OscMessage(client.recvfrom(65536)[0])
            assert (reply.address, reply.params) == ("/livedream/pause", [1])
    finally:
        started = time.monotonic()
        server.close()
        assert time.monotonic() - started < 1.0 and not server._thread.is_alive()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:  # the port is released
        again.bind((host, port))


def test_port_in_use_is_a_clear_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(LivedreamError, match=f"cannot listen for OSC on 127.0.0.1:{port}"):
            OscControl(CommandQueue(), port=port)


# --- documentation and layout -------------------------------------------------------------------
def test_docs_list_every_address():
    text = (ROOT / "docs" / "osc.md").read_text()
    for address, _, _ in ADDRESSES:
        assert f"`{address}`" in text, address


def _widgets(node):
    if isinstance(node, dict):
        if "address" in node:
            yield node
        for value in node.values():
            yield from _widgets(value)
    elif isinstance(node, list):
        for value in node:
            yield from _widgets(value)


def test_open_stage_control_layout_addresses_decode():
    from livedream.paramnames import param_spec

    session = json.loads((ROOT / "controllers" / "livedream.json").read_text())
    widgets = list(_widgets(session))
    assert len(widgets) >= 20
    sample = {"fader": 0.5, "knob": 0.5, "input": "vgg16"}
    for widget in widgets:
        value = widget["on"] if widget["type"] == "button" else sample[widget["type"]]
        command = decode(widget["address"], [*widget["preArgs"], value])
        assert command is not None, widget["address"]
        if isinstance(command, SetParam):
            param_spec(command.name)  # raises unless a shipped transform has that parameter
        if isinstance(command, ToggleTransform):
            get_transform(command.name)


def test_batch_skips_superseded_values_before_parsing_but_keeps_triggers_and_order():
    queue, capture = PutLog(), Capture()
    handler = OscHandler(queue, send=capture)
    first = [osc("/livedream/param/step_size/raw", 1.0), osc("/livedream/toggle/sobel")]
    handler.handle_batch([(d, SENDER) for d in first])  # teaches which messages set values
    assert queue.take() == [SetParam("step_size", 1.0), ToggleTransform("sobel")]
    other = ("127.0.0.1", 5001)
    batch = [(osc("/livedream/param/step_size/raw", 2.0), SENDER),
             (osc("/livedream/toggle/sobel"), SENDER),
             (osc("/livedream/param/step_size/raw", 3.0), other),
             (osc("/livedream/param/step_size/raw", 4.0), SENDER),
             (osc("/livedream/toggle/sobel"), SENDER)]
    handler.handle_batch(batch)
    assert queue.take() == [ToggleTransform("sobel"), SetParam("step_size", 3.0),
                            SetParam("step_size", 4.0), ToggleTransform("sobel")]
    assert handler.received == 7 and handler.superseded == 1
