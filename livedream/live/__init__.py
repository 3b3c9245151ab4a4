"""The live show: render loop, displays (window or headless), shaders and `livedream run`.

Only `livedream.live.display` imports pyglet, and only when a window is opened.
"""

from livedream.live.clock import FakeClock, RateMeter, SystemClock
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import LoopStats, RenderLoop

__all__ = ["FakeClock", "HeadlessDisplay", "LoopStats", "RateMeter", "RenderLoop", "SystemClock"]
