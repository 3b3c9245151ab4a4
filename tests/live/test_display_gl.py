"""The window's GL helpers that need no GL: where the output picture lands in the window."""

from __future__ import annotations

import pytest

from livedream.live.display.gl import fit_rect


@pytest.mark.parametrize(("frame", "window", "rect"), [
    ((320, 180), (320, 180), (0, 0, 320, 180)),  # same size: a 1:1 copy
    ((320, 180), (1920, 1080), (0, 0, 1920, 1080)),  # same aspect, scaled up
    ((320, 180), (1024, 768), (0, 96, 1024, 672)),  # 16:9 on 4:3: bars above and below
    ((640, 480), (1920, 1080), (240, 0, 1680, 1080)),  # 4:3 on 16:9: bars left and right
])
def test_the_picture_fills_the_window_with_its_aspect_kept(frame, window, rect):
    assert fit_rect(frame, window) == rect
