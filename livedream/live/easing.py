"""Easing: numeric parameter changes glide over `State.ease_seconds` instead of jumping.

`interpolate_look` is the pure blend of two looks; `Easing` remembers the glide in progress and
answers, for any time, which look the dream uses.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from livedream.look import ChainLink, Look
from livedream.transforms.registry import get_transform

#: Dream settings that glide (the channel index does not: a half-way channel means nothing).
EASED_DREAM = ("step_size", "iterations", "jitter", "octaves", "octave_scale")


def lerp_value(a: Any, b: Any, u: float) -> Any:
    """Interpolate numbers (ints rounded); anything else (bool, str) takes the target value."""
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (a, b)):
        return b
    value = a + (b - a) * u
    return int(round(value)) if isinstance(b, int) else float(value)


def interpolate_look(start: Look, target: Look, u: float) -> Look:
    """The look a fraction `u` (0..1) of the way from `start` to `target`.

    Structure (model, layers, chain order, enabled flags) is the target's; numeric dream settings
    and the numeric parameters of chain links that are the same transform at the same position
    glide. u >= 1 returns `target` itself.
    """
    if u >= 1.0:
        return target
    u = max(0.0, u)
    dream = replace(target.dream, **{
        k: lerp_value(getattr(start.dream, k), getattr(target.dream, k), u) for k in EASED_DREAM
        if hasattr(start.dream, k)})
    chain: list[ChainLink] = []
    for i, link in enumerate(target.chain):
        old = start.chain[i] if i < len(start.chain) else None
        if old is None or old.name != link.name:
            chain.append(link)
            continue
        defaults = get_transform(link.name).defaults()
        keys = set(link.params) | set(old.params)
        params = {k: lerp_value(old.params.get(k, defaults.get(k)),
                                link.params.get(k, defaults.get(k)), u) for k in keys}
        chain.append(replace(link, params=params))
    return replace(target, dream=dream, chain=tuple(chain))


class Easing:
    """The glide in progress (if any) from one look to the state's look."""

    def __init__(self) -> None:
        self._glide: tuple[Look, Look, float, float] | None = None  # start, target, t0, seconds

    def start(self, old: Look, new: Look, now: float, seconds: float) -> None:
        """A new target look: glide from wherever the eased look is now (or jump if seconds=0)."""
        if seconds <= 0:
            self._glide = None
            return
        self._glide = (self.look(now, old), new, now, seconds)

    def look(self, now: float, target: Look) -> Look:
        """The look the dream uses at `now` for the state's look `target`."""
        if self._glide is None:
            return target
        start, glide_target, t0, seconds = self._glide
        if glide_target is not target:
            return target
        u = (now - t0) / seconds
        if u >= 1.0:
            self._glide = None
            return target
        return interpolate_look(start, target, u)
