"""Keyboard control: pyglet key symbol names decoded into commands (pure; no pyglet import).

The window calls `KeyMap.command(pyglet.window.key.symbol_string(symbol))` and queues the result,
so keys go through the same command API as OSC and MIDI.

    SPACE        pause / run          LEFT / RIGHT   previous / next preset
    UP / DOWN    next / previous layer F              fullscreen
    R            record on / off      O              overlay on / off
    1..9         toggle a transform   0              reset the feedback buffer
    T            tap tempo            B              the downbeat is now (tempo resync)
    ESCAPE       quit
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from livedream.commands import TRIGGERS, Command, Quit, ToggleTransform, flag_command
from livedream.errors import LivedreamError

#: Transforms toggled by the number keys 1..9, in order (effects from the 2015 post).
DEFAULT_TRANSFORM_KEYS: tuple[str, ...] = (
    "zoom", "stretch", "rotate", "roll_sine", "roll_random", "sobel", "blur", "hue_shift",
    "pixel_sort",
)

FIXED_KEYS: dict[str, Command] = {
    "SPACE": flag_command("pause"),
    "LEFT": TRIGGERS["preset/prev"](),
    "RIGHT": TRIGGERS["preset/next"](),
    "UP": TRIGGERS["layer/next"](),
    "DOWN": TRIGGERS["layer/prev"](),
    "F": flag_command("fullscreen"),
    "R": flag_command("record"),
    "O": flag_command("overlay"),
    "ESCAPE": Quit(),
    "_0": TRIGGERS["reset"](),
    "NUM_0": TRIGGERS["reset"](),
}

#: keys firing a trigger of the vocabulary (made per press: a tap is stamped when pressed)
TRIGGER_KEYS: dict[str, str] = {"T": "tempo/tap", "B": "tempo/resync"}


@dataclass(frozen=True)
class KeyMap:
    """Key symbol name -> Command; number keys 1..9 toggle `transforms[0..8]`."""

    transforms: Sequence[str] = DEFAULT_TRANSFORM_KEYS

    def __post_init__(self) -> None:
        if len(self.transforms) > 9:
            raise LivedreamError(f"at most 9 transforms can have number keys, got "
                                 f"{len(self.transforms)}: {', '.join(self.transforms)}")

    def command(self, symbol: str) -> Command | None:
        """The command for a key symbol name (as pyglet's `symbol_string` gives), or None."""
        if symbol in FIXED_KEYS:
            return FIXED_KEYS[symbol]
        if symbol in TRIGGER_KEYS:
            return TRIGGERS[TRIGGER_KEYS[symbol]]()
        for prefix in ("_", "NUM_"):
            digit = symbol[len(prefix):] if symbol.startswith(prefix) else ""
            if len(digit) == 1 and "1" <= digit <= "9":
                index = int(digit) - 1
                return ToggleTransform(self.transforms[index]) if index < len(self.transforms) \
                    else None
        return None


def key_command(symbol: str, transforms: Sequence[str] = DEFAULT_TRANSFORM_KEYS) -> Command | None:
    """Shorthand for `KeyMap(transforms).command(symbol)`."""
    return KeyMap(tuple(transforms)).command(symbol)
