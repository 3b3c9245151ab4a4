"""Typed, ranged parameters shared by transforms, dream settings, presets and controllers.

Every live-controllable number has one `Param`: it validates raw values (from a preset, OSC or
MIDI), and maps a controller's normalised 0..1 value onto its range, so every control surface
behaves the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from livedream.errors import ParamError

Value = float | int | bool | str


@dataclass(frozen=True)
class Param:
    """One parameter: default value (its type is the parameter's type), range or choices, doc."""

    default: Value
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] | None = None
    doc: str = ""
    log: bool = False  # normalised mapping is logarithmic (for sigma, step sizes spanning decades)

    @property
    def kind(self) -> type:
        return type(self.default)

    def describe(self) -> str:
        """Allowed values in words, for error messages and help."""
        if self.kind is bool:
            return "true/false (or 0/1)"
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        return f"{self.kind.__name__} in [{self.lo}, {self.hi}]"

    def validate(self, value: Any, name: str = "value") -> Value:
        """Coerce `value` to this parameter's type, or raise ParamError naming what is allowed."""
        kind = self.kind
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
                return bool(value)
            raise ParamError(f"{name}: expected {self.describe()}, got {value!r}")
        if kind is str:
            allowed = self.choices is None or value in self.choices
            if not isinstance(value, str) or not allowed:
                raise ParamError(f"{name}: expected {self.describe()}, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(f"{name}: expected {self.describe()}, got {value!r}")
        if not math.isfinite(value):
            raise ParamError(f"{name}: expected a finite number, got {value!r}")
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ParamError(f"{name}: expected an integer, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ParamError(f"{name}: {value!r} outside allowed range [{self.lo}, {self.hi}]")
        return value

    def from_normalized(self, x: float, name: str = "value") -> Value:
        """Map a controller value in [0, 1] (clamped) onto this parameter's range."""
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            raise ParamError(f"{name}: normalised value must be a finite number, got {x!r}")
        x = min(1.0, max(0.0, float(x)))
        if self.kind is bool:
            return x >= 0.5
        if self.choices is not None:
            return self.choices[min(len(self.choices) - 1, int(x * len(self.choices)))]
        if self.lo is None or self.hi is None:
            raise ParamError(f"{name}: has no range, send a raw value")
        if self.log and self.lo > 0:
            value = self.lo * (self.hi / self.lo) ** x
        else:
            value = self.lo + x * (self.hi - self.lo)
        return int(round(value)) if self.kind is int else float(value)

    def to_normalized(self, value: Value) -> float:
        """Inverse of `from_normalized`, for echoing values back to controllers (LED rings)."""
        if self.kind is bool:
            return 1.0 if value else 0.0
        if self.choices is not None:
            return (self.choices.index(str(value)) + 0.5) / len(self.choices)
        if self.lo is None or self.hi is None or self.hi == self.lo:
            return 0.0
        v = float(value)  # type: ignore[arg-type]
        if self.log and self.lo > 0:
            x = math.log(max(v, min(self.lo, self.hi)) / self.lo) / math.log(self.hi / self.lo)
        else:
            x = (v - self.lo) / (self.hi - self.lo)
        return min(1.0, max(0.0, x))


def validate_params(
    specs: dict[str, Param], values: dict[str, Any], where: str
) -> dict[str, Value]:
    """Validate a mapping of raw values against `specs`; unknown keys are errors naming `where`.

    The ParamError raised carries the failing key in `.key`."""
    out: dict[str, Value] = {}
    for key, raw in values.items():
        try:
            if key not in specs:
                raise ParamError(f"{where}: unknown parameter {key!r}; valid: "
                                 f"{', '.join(sorted(specs)) or '(none)'}")
            out[key] = specs[key].validate(raw, f"{where}.{key}")
        except ParamError as exc:
            exc.key = key
            raise
    return out


SIZE_PATTERN = re.compile(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*")
MIN_SIDE, MAX_SIDE = 16, 8192  # below 16 px no CNN layer survives; above 8K is a typo


def parse_size(
    text: str, option: str = "--size", minimum: int = MIN_SIDE, maximum: int = MAX_SIDE
) -> tuple[int, int]:
    """'640x360' -> (width 640, height 360); ParamError naming `option` and the expected form."""
    match = SIZE_PATTERN.fullmatch(text)
    if not match:
        raise ParamError(f"{option} {text!r}: expected WIDTHxHEIGHT such as 640x360")
    width, height = int(match.group(1)), int(match.group(2))
    if not (minimum <= width <= maximum and minimum <= height <= maximum):
        raise ParamError(
            f"{option} {text!r}: each side must be {minimum} px to {maximum} px"
        )
    return width, height
