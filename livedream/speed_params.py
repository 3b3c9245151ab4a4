"""The speed features' show parameters (frame budget, dream scale): one table, registered in
`livedream.paramnames.SHOW_PARAMS` as `speed.*`, so OSC (`/livedream/param/speed/target_fps`),
MIDI and `/livedream/state` reach them. Only imports livedream.params (no cycles)."""

from __future__ import annotations

from dataclasses import dataclass

from livedream.params import Param

#: `--dream-scale`: fraction of the output size the net dreams on (1 = full size).
DREAM_SCALE = Param(1.0, 0.25, 1.0, doc="the net dreams on a frame this fraction of the output "
                    "size; the detail is upsampled back (cost ~ scale^2); the governor's ceiling")

#: `--target-fps`: the frame budget the governor holds (0 = off).
TARGET_FPS = Param(12.0, 0.0, 240.0, doc="frame budget in dream frames per second: iterations "
                   "and then the dream scale adapt to hold it (0 = off)")

SPEED_PARAMS: dict[str, Param] = {"target_fps": TARGET_FPS, "dream_scale": DREAM_SCALE}


@dataclass(frozen=True)
class SpeedReading:
    """What the frame governor chose, kept in `State.speed` for `/livedream/speed` and
    `/livedream/state`: iterations per dream frame, dream scale, smoothed frame time."""

    iterations: int = 0  # 0 until the governor has seen the look
    scale: float = 1.0
    frame_ms: float = 0.0  # 0 before any frame was measured

    def differs(self, other: SpeedReading) -> bool:
        """Worth a state update: another choice, or the frame time moved by 10 % or more."""
        return (self.iterations != other.iterations or self.scale != other.scale
                or abs(self.frame_ms - other.frame_ms) >= 0.1 * max(other.frame_ms, 1e-9))
