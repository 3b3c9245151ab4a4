"""`livedream run`'s output wiring: what the flags build (the stream, its threads' priority)."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from livedream.cli import build_parser
from livedream.errors import ParamError
from livedream.outputs.setup import output_stream


def _args(*flags: str):
    return build_parser().parse_args(["run", "--headless", "--output-fps", "30", *flags])


def test_no_consumer_no_stream():
    with ExitStack() as stack:
        assert output_stream(_args(), (32, 18), stack, "cpu") is None


@pytest.mark.parametrize(("flags", "device", "priority"), [
    ((), "cpu", "idle"),  # auto on a CPU dream: outputs take only the CPU the dream leaves
    ((), "cuda", "normal"),
    (("--output-priority", "low"), "cpu", "low"),
    (("--output-priority", "normal"), "cpu", "normal"),
])
def test_output_priority_flag_reaches_the_stream(tmp_path, flags, device, priority):
    args = _args("--record", str(tmp_path / "x.mp4"), *flags)
    with ExitStack() as stack:
        stream = output_stream(args, (32, 18), stack, device)
        assert stream is not None and stream.priority == priority


def test_uyvy_needs_an_even_width(tmp_path):
    args = _args("--ndi-out", "T", "--ndi-format", "UYVY")
    pytest.importorskip("cyndilib")
    with ExitStack() as stack, pytest.raises(ParamError, match="even width"):
        output_stream(args, (33, 18), stack, "cpu")
