"""Apply modulators to a look: (base look, modulators, beat, audio features) -> modulated look.

Pure. Each target parameter's base value is mapped to 0..1 with its own `Param.to_normalized`,
the modulators' `depth * signal` are added, the sum is clamped to 0..1 and mapped back with
`Param.from_normalized` - so a modulated value always lies inside the parameter's range, and
log-scaled parameters swing evenly. The render loop calls this on the (eased) look every frame;
the state keeps the unmodulated base, so a modulator that stops leaves the base untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from livedream.audio.features import AudioFeatures
from livedream.errors import LivedreamError
from livedream.look import Look
from livedream.params import Value
from livedream.state import param_value, resolve_param
from livedream.tempo.modulators import Modulator, signal

log = logging.getLogger(__name__)


def _set(look: Look, index: int | None, key: str, value: Value) -> Look:
    if index is None:
        return replace(look, dream=replace(look.dream, **{key: value}))
    chain = list(look.chain)
    chain[index] = chain[index].with_param(key, value)
    return replace(look, chain=tuple(chain))


def check_targets(look: Look, modulators: Sequence[Modulator]) -> None:
    """Raise LivedreamError when a modulator's target is not a numeric parameter of `look`."""
    for mod in modulators:
        _, _, spec = resolve_param(look, mod.target)
        if spec.lo is None or spec.hi is None or spec.kind not in (int, float):
            raise LivedreamError(
                f"modulator target {mod.target!r} is not a numeric parameter with a range"
            )


def modulate(
    look: Look,
    modulators: Sequence[Modulator],
    beat: float,
    features: AudioFeatures | None = None,
) -> Look:
    """The look with every enabled modulator applied at beat position `beat`.

    A modulator whose target the look does not have (the chain changed under it) is skipped:
    the show goes on, and it comes back to life when its target does.
    """
    offsets: dict[tuple[int | None, str], float] = {}
    specs = {}
    for mod in modulators:
        if not mod.enabled or mod.depth == 0:
            continue
        try:
            index, key, spec = resolve_param(look, mod.target)
        except LivedreamError:
            continue
        if spec.lo is None or spec.hi is None or spec.kind not in (int, float):
            continue
        specs[(index, key)] = (spec, mod.target)
        offsets[(index, key)] = offsets.get((index, key), 0.0) + mod.depth * signal(
            mod, beat, features
        )
    for (index, key), offset in offsets.items():
        spec, name = specs[(index, key)]
        base = param_value(look, name)
        x = spec.to_normalized(base) + offset
        look = _set(look, index, key, spec.from_normalized(min(1.0, max(0.0, x)), name))
    return look
