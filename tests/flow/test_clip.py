"""The synthetic moving-square clip: geometry on disk, wrap-around, the CLI."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from livedream.flow.clip import MovingSquare, frame_rgb, main, texture, write_moving_video


def test_clip_frames_on_disk_show_the_square_where_it_should_be(tmp_path: Path) -> None:
    clip = MovingSquare(size=(96, 64), side=16, x0=8, y0=24, step=5, frames=4)
    path = write_moving_video(tmp_path / "m.mp4", clip)
    capture = cv2.VideoCapture(str(path))
    for i in range(clip.frames):
        ok, bgr = capture.read()
        assert ok
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(float)
        x = clip.x(i)
        square = rgb[clip.y0 : clip.y0 + 16, x : x + 16]
        assert np.abs(square - texture(16)).mean() < 20  # mp4v is lossy
    capture.release()
    wrapped = frame_rgb(MovingSquare(size=(64, 48), side=16, x0=56, y0=0, step=0), 0)
    np.testing.assert_array_equal(wrapped[:16, :8], texture(16)[:, 8:])


def test_cli_writes_a_clip_and_rejects_bad_arguments(tmp_path: Path) -> None:
    out = tmp_path / "demo.mp4"
    assert main([str(out), "64x48"]) == 0
    capture = cv2.VideoCapture(str(out))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 300
    capture.release()
    assert main([]) == 2
    assert main([str(tmp_path / "no-such-dir" / "x.mp4")]) == 1  # a message, not a traceback
