"""OSC fuzz across processes: a separate client process (fuzz_client.py) throws 10,000 hostile
packets at a running headless show on loopback. The show must keep rendering, log each kind of
rejection rate-limited (no flood), never take an invalid state value, and still answer a valid
message afterwards.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections import Counter

import pytest

from livedream.commands import FLAGS
from livedream.errors import ParamError
from livedream.look import DREAM_PARAMS
from livedream.paramnames import SHOW_PARAMS
from livedream.params import Param
from livedream.presets import list_presets
from livedream.speed_params import DREAM_SCALE
from livedream.state import EASE, SOURCE_MIX
from livedream.tempo.modulators import MAX_MODULATORS, MOD_KEYS, MOD_PARAMS
from livedream.tempo.quantize import QUANTIZE_MODES
from livedream.tempo.reading import BPM, SOURCES
from livedream.transforms import get_transform, transform_names
from tests.reliability.show import REPO, Show, free_udp_port

PACKETS = 10000
LOG_INTERVAL = 5.0  # livedream.control.osc.OscControl's default rate-limit interval


def close_enough(spec: Param, value: object, what: str) -> None:
    """`spec.validate(value)`, allowing float32 rounding at the range ends (OSC 'f' is 32-bit)."""
    try:
        spec.validate(value, what)
    except ParamError:
        if isinstance(value, float) and math.isfinite(value) and spec.lo is not None:
            slack = 1e-6 * max(1.0, abs(spec.lo), abs(spec.hi or 0.0))
            if spec.lo - slack <= value <= spec.hi + slack:
                return
        raise


def validate_dump(dump: list[tuple[str, list]]) -> dict[str, list]:
    """Every value of a `/livedream/state` reply is legal for its parameter spec."""
    from livedream.models.vgg16 import LAYERS

    values = {address: args for address, args in dump}
    for required in ("/livedream/model", "/livedream/layer", "/livedream/chain",
                     "/livedream/param/step_size/raw", "/livedream/fullscreen"):
        assert required in values, f"state dump lacks {required}: {sorted(values)}"
    chain = values["/livedream/chain"]
    layer_names = [name for name, _ in LAYERS]
    for address, args in dump:
        path = address.removeprefix("/livedream/")
        if path == "model":
            assert args == ["vgg16"], args  # the fuzz never names another installed model
        elif path == "layer":
            assert len(args) == 1 and args[0] in layer_names, args
        elif path == "layers":
            assert args and all(a in layer_names for a in args), args
        elif path == "chain":
            assert all(a in transform_names() for a in args), args
        elif path == "preset":
            assert args == [""] or args[0] in list_presets(), args
        elif path == "source/mix":
            close_enough(SOURCE_MIX, args[0], path)
        elif path == "ease":
            close_enough(EASE, args[0], path)
        elif path in FLAGS or path.startswith("toggle/"):
            assert args in ([0], [1]), (address, args)
            if path.startswith("toggle/"):
                assert path.removeprefix("toggle/") in chain
        elif path == "midi/learn":  # the parameter armed for MIDI learn, "" when none
            known = set(DREAM_PARAMS) | {k for n in transform_names()
                                         for k in get_transform(n).params}
            assert args == [""] or re.split(r"[./]", args[0])[-1] in known, args
        elif path == "reset":
            assert isinstance(args[0], int) and args[0] >= 0
        elif path.startswith("param/"):
            parts = path.removeprefix("param/").split("/")
            raw = parts[-1] == "raw"
            parts = parts[:-1] if raw else parts
            if len(parts) == 1:
                spec = DREAM_PARAMS[parts[0]]
            elif ".".join(parts) in SHOW_PARAMS:  # show parameters (flow.strength, ...)
                spec = SHOW_PARAMS[".".join(parts)]
            else:
                head, key = parts
                name = chain[int(head)] if head.isdigit() else head
                assert name in chain, (address, chain)
                spec = get_transform(name).params[key]
            assert len(args) == 1
            if raw:
                close_enough(spec, args[0], address)
            else:
                assert isinstance(args[0], float) and 0.0 <= args[0] <= 1.0, (address, args)
        elif path == "tempo":
            close_enough(BPM, args[0], path)
        elif path == "tempo/beat":  # bar, beat in bar, beats per bar, source, running
            bar, beat, per_bar, source, running = args
            assert bar >= 1 and 1 <= beat <= per_bar and source in SOURCES and running in (0, 1)
        elif path == "quantize":
            assert args[0] in QUANTIZE_MODES, args
        elif path == "speed":  # the governor's choice: iterations, dream scale, frame ms
            iterations, scale, frame_ms = args
            assert iterations >= 0 and frame_ms >= 0, args
            assert DREAM_SCALE.lo - 1e-6 <= scale <= DREAM_SCALE.hi + 1e-6, args
        elif path == "mod/count":
            assert 0 <= args[0] <= MAX_MODULATORS, args
        elif path.startswith("mod/"):
            _, index, key = path.split("/")
            assert int(index) < MAX_MODULATORS and key in MOD_KEYS, address
            if key != "target":
                close_enough(MOD_PARAMS[key], args[0], address)
        else:
            pytest.fail(f"unexpected address in the state dump: {address} {args}")
    return values


def test_ten_thousand_hostile_packets_from_another_process(tmp_path):
    port = free_udp_port()
    with Show("--size", "64x48", "--osc-port", str(port), log_path=tmp_path / "show.log") as show:
        show.wait_for(r"show running", timeout=120)
        first = show.probe_frame(port)
        report_path = tmp_path / "fuzz.json"
        client = subprocess.run(
            [sys.executable, "-m", "tests.reliability.fuzz_client", "--port", str(port),
             "--count", str(PACKETS), "--seed", "6", "--report", str(report_path)],
            cwd=REPO, capture_output=True, text=True, timeout=240)
        assert client.returncode == 0, client.stderr[-3000:]
        report = json.loads(report_path.read_text())
        assert show.proc.poll() is None, "the show died under fuzz:\n" + show.text()[-3000:]
        # The show kept rendering: frame counter at the probes during and after the storm.
        frames = show.reset_frames()
        assert len(frames) >= 3
        assert frames[-1] > frames[-2] > first, frames  # after the fuzz: still advancing
        # A valid message afterwards works and is echoed; the resets count on.
        assert report["echo"] == [2.5], report["echo"]
        (r1,), (r2,) = report["resets_after"]
        assert r2 == r1 + 1
        assert report["unparsable_replies"] == 0
        values = validate_dump([(a, p) for a, p in report["dump"]])
        assert values["/livedream/pause"] == [0]
        code = show.stop()
    log = show.text()
    assert code == 0, log[-3000:]
    stats = show.final_stats()
    assert stats.rejected > 0
    assert "Traceback" not in log
    assert "internal error" not in log, "an exception escaped the OSC decoder"

    # Rejections logged once per kind per interval: count lines, no flood.
    seconds = report["fuzz_seconds"] + 10.0  # storm + drain/probe phase
    per_kind_limit = math.ceil(seconds / LOG_INTERVAL) + 2  # + the first line + flush at close
    osc_kinds = Counter(re.findall(r"WARNING livedream\.osc: ([a-z -]+?): ", log))
    for kind in ("malformed packet", "unknown address", "non-finite number",
                 "wrong argument type", "wrong argument count", "bad bundle",
                 "unsupported type tag", "bad value", "quit disabled"):
        assert osc_kinds[kind] >= 1, f"no {kind!r} rejection was logged: {osc_kinds}"
    for kind, count in osc_kinds.items():
        assert count <= per_kind_limit, f"{kind!r} logged {count} times in {seconds:.0f} s"
    loop_kinds = Counter(re.findall(r"livedream\.live\.loop: ignored (\w+)\(", log))
    for kind, count in loop_kinds.items():
        assert count <= per_kind_limit, f"loop rejection {kind} logged {count} times"
    # Any warning or error, whoever logs it: the same message (digits aside) is rate-limited too.
    repeated = Counter(re.sub(r"\d+", "N", m)[:60] for m in re.findall(
        r"(?:WARNING|ERROR) (livedream[^\n]*)", log))
    for text, count in repeated.items():
        assert count <= per_kind_limit, f"{count} log lines start {text!r}: not rate-limited"
    lines = log.count("\n")
    assert lines < 0.05 * PACKETS, f"{lines} log lines for {PACKETS} packets: a flood"
