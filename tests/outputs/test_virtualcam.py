"""Virtual camera sink: a fake camera for the sink logic, the real pyvirtualcam for the error."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from livedream.outputs import virtualcam
from livedream.outputs.stream import OutputFrame


class FakeCamera:
    opened: list = []

    def __init__(self, width, height, fps, device=None):
        self.width, self.height, self.fps, self.device = width, height, fps, device or "/dev/fake"
        self.frames = []
        self.closed = False
        FakeCamera.opened.append(self)

    def send(self, frame):
        assert frame.shape == (self.height, self.width, 3) and frame.dtype == np.uint8
        self.frames.append(frame)

    def close(self):
        self.closed = True


def _frame(i, w=16, h=8):
    return OutputFrame(np.full((h, w, 3), i, np.uint8), i, i / 30, i)


def test_sink_sends_every_frame_and_reopens_on_a_new_size():
    FakeCamera.opened = []
    sink = virtualcam.open_virtual_cam(30.0, (16, 8), camera_factory=FakeCamera)
    for i in range(3):
        sink.send(_frame(i))
    sink.send(_frame(9, 20, 10))
    sink.close()
    first, second = FakeCamera.opened
    assert [int(f[0, 0, 0]) for f in first.frames] == [0, 1, 2] and first.closed
    assert (second.width, second.height, second.fps) == (20, 10, 30.0) and second.closed
    assert sink.sent == 4


def test_no_driver_is_a_clear_message_and_the_show_goes_on(caplog):
    pytest.importorskip("pyvirtualcam")
    with caplog.at_level(logging.ERROR):
        sink = virtualcam.open_virtual_cam(30.0, (64, 36))  # no v4l2loopback on this machine
    if sink is not None:  # a machine with a loopback device: the real camera works
        sink.close()
        pytest.skip("a virtual camera device exists here")
    assert "v4l2loopback" in caplog.text and "livedream[virtualcam]" in caplog.text


def test_missing_package_names_the_extra(monkeypatch):
    def missing(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(virtualcam, "import_module", missing)
    with pytest.raises(virtualcam.VirtualCamUnavailableError, match=r"livedream\[virtualcam\]"):
        virtualcam.VirtualCamSink(30.0)
    assert virtualcam.open_virtual_cam(30.0, (8, 8)) is None
